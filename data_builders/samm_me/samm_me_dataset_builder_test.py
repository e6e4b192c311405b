"""Builds `samm_me` (and its `5class`, `3class` configs) from the dummy release.

As the other builder tests, by hand (`tfds.testing.DatasetBuilderTestCase`
needs TensorFlow). The expected clips are written by hand from the rows of
`dummy_data/SAMM_Micro_FACS_Codes_v2.xlsx` (header on row 14, data from
row 15) and the frame files of `dummy_data/SAMM/` (`SAMM_ME_ROWS` and
`SAMM_ME_DISK` in `make_dummy_releases.py`), policies applied by hand.
"""
import os

import pytest
import tensorflow_datasets as tfds

from mespot_jax.builders.samm_me import samm_me_dataset_builder
from mespot_jax.data import spotting_builder
from mespot_jax.data.clips import ClipSource

DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")
# (subject, clip, first frame, frames, onset, apex, offset, apex annotated,
#  emotion), in dataset order.
CLIPS = [
    # Row 15 (6, 006_1_2, 5562/5564/5566, Happiness): frames 5562..5566.
    ("006", "006_1_2", 5562, 5, 5562, 5564, 5566, True, "Happiness"),
    # Row 16 (6, 006_1_5, 6099/6100.5/6103, Anger): apex rounded half up to
    # 6101; the folder starts at 6098, before the onset (kept as is).
    ("006", "006_1_5", 6098, 6, 6099, 6101, 6103, True, "Anger"),
    # Row 17 (7, 007_3_1, 998/1001/1003, Contempt): no policy.
    ("007", "007_3_1", 998, 6, 998, 1001, 1003, True, "Contempt"),
    # Row 18 (7, 007_6_1, 4470/-1/4474, Surprise): apex -1 -> middle 4472.
    ("007", "007_6_1", 4470, 5, 4470, 4472, 4474, False, "Surprise"),
    # Row 19 (9, 009_2_3, 300/302/304, Other).
    ("009", "009_2_3", 300, 5, 300, 302, 304, True, "Other"),
    # Row 20 (9, 009_3_1, 1200/1202/1204, Disgust).
    ("009", "009_3_1", 1200, 5, 1200, 1202, 1204, True, "Disgust"),
]
# Row 21 (11, 011_2_4) has no folder: dropped.
LABELS = {  # config -> (clip, label name) kept, in order.
    "112_grey": [("006_1_2", "positive"), ("006_1_5", "negative"),
                 ("007_3_1", "negative"), ("007_6_1", "surprise"),
                 ("009_2_3", ""), ("009_3_1", "negative")],
    "3class": [("006_1_2", "positive"), ("006_1_5", "negative"),
               ("007_3_1", "negative"), ("007_6_1", "surprise"),
               ("009_3_1", "negative")],
    "5class": [("006_1_2", "happiness"), ("006_1_5", "anger"),
               ("007_3_1", "contempt"), ("007_6_1", "surprise"),
               ("009_2_3", "other")],
}
SHARED = {"preamble_rows_skipped": 13, "fractional_frame_rounded": 1,
          "apex_missing_used_middle": 1, "clip_folder_missing_dropped": 1}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


def _build(data_root, config):
  builder = samm_me_dataset_builder.Builder(data_dir=data_root, config=config,
                                            workers=1)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=DUMMY))
  return ClipSource.open("samm_me", data_root, config)


@pytest.fixture(scope="module")
def default(data_root):
  return _build(data_root, "112_grey")


def test_default_config_keeps_every_clip(default):
  got = [(c.source_subject, c.clip, c.first_frame, c.num_frames, c.onset,
          c.apex, c.offset, c.apex_annotated, c.emotion)
         for c in default.clips]
  assert got == CLIPS
  assert all(c.source == "samm" and c.fps == 200.0 for c in default.clips)
  assert [(c.clip, c.label_name) for c in default.clips] == LABELS["112_grey"]
  assert default.labels().tolist() == [1, 0, 0, 2, -1, 0]
  assert {k: v for k, v in default.policies.items() if v} == {
      **SHARED, "emotion_unmapped_kept": 1}
  assert len(default.builder.as_data_source()["frames"]) == 32
  assert default.frames(1, [6098, 6103]).shape == (2, 112, 112, 1)


@pytest.mark.parametrize("config,classes,dropped", [
    ("3class", ("negative", "positive", "surprise"), 1),
    ("5class", ("happiness", "other", "anger", "contempt", "surprise"), 1)])
def test_subsets_of_the_convlstm_paper(default, data_root, monkeypatch,
                                       config, classes, dropped):
  del default  # built first: its aligned clips are reused, not redone
  def no_align(*args):
    raise AssertionError(f"clip aligned again: {args[2]}")
  monkeypatch.setattr(spotting_builder, "align_to_cache", no_align)
  source = _build(data_root, config)
  assert source.classes == classes
  assert [(c.clip, c.label_name) for c in source.clips] == LABELS[config]
  assert [classes[c.label] for c in source.clips] == [
      n for _, n in LABELS[config]]
  assert {k: v for k, v in source.policies.items() if v} == {
      **SHARED, "emotion_unmapped_dropped": dropped}
  assert source.metadata["label_set"] == (
      "samm_5class" if config == "5class" else "3class")


def test_config_label_set_maps_the_stored_emotions_at_read_time(default,
                                                                data_root):
  """`dataset.label_set` reads the `3class` build as SAMM's 5 classes:
  the emotions of the rows above, Disgust outside them (-1)."""
  from mespot_jax import config as config_lib  # pylint: disable=g-import-not-at-top
  from mespot_jax.data import datasets  # pylint: disable=g-import-not-at-top
  del default  # built
  c = config_lib.load("samm_convlstm")
  c.dataset.data_dir, c.dataset.config = data_root, "112_grey"
  c.dataset.prepare = False
  assert datasets.open_recognition(c).label_set == "3class"
  c.dataset.label_set = "samm_5class"
  source = datasets.open_recognition(c)
  assert source.classes == (
      "happiness", "other", "anger", "contempt", "surprise")
  assert [(c.clip, c.label_name) for c in source.clips] == [
      ("006_1_2", "happiness"), ("006_1_5", "anger"), ("007_3_1", "contempt"),
      ("007_6_1", "surprise"), ("009_2_3", "other"), ("009_3_1", "")]
  assert source.labels().tolist() == [0, 2, 3, 4, 1, -1]
