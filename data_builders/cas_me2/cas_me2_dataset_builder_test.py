"""Builds `cas_me2` from its dummy release and checks what was stored.

`tfds.testing.DatasetBuilderTestCase` needs TensorFlow (its base is
`tf.test.TestCase`), which this project does not install, so this test does
what it does by hand: build from `dummy_data/` as the manual dir, check the
split sizes, then check the records against the planted labels.

The expected intervals are written by hand from the rows of
`dummy_data/CAS(ME)^2code_final.xlsx` (first sheet, no header row; subject
index -> number from `naming rule1`: 1 -> 15, 2 -> 16, 4 -> 17; video name ->
code from `naming rule2`: disgust1 -> 0101, disgust2 -> 0102, anger1 ->
0401), with the README's quirk policies applied by hand; they do not come
from the parser the builder uses.
"""
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mespot_jax.builders.cas_me2 import cas_me2_dataset_builder
from mespot_jax.data.source import Interval, SpottingSource

DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")
SPLITS = {"videos": 5, "frames": 114}
VIDEOS = [("15_0101", "s15", 28), ("15_0401", "s15", 22),
          ("16_0101", "s16", 24), ("16_0102", "s16", 20),
          ("17_0102", "s17", 20)]
# Per video, its intervals sorted by onset. Rows are those of the first
# sheet; cells are (index, sample, onset, apex, offset, AUs, emotion, type).
# Frame counts are the frame files in `dummy_data/rawpic/<subject>/`: no
# label reaches past them.
EXPECTED = {
    "15_0101": [
        # Row 1 (1, disgust1_1, 3, 6, 10, 4+7, negative, macro): no policy;
        # it is the first row, which a default header would lose.
        Interval("macro", 3, 10, apex=6, emotion="negative", au="4+7"),
        # Row 2 (1, disgust1_3, 13, 15, 17, 12, positive, micro): no policy.
        Interval("micro", 13, 17, apex=15, emotion="positive", au="12"),
        # Row 3 (1, disgust1_12, 19, 25, 23, 4, negative, macro): a
        # two-digit event; offset 23 is before apex 25 -> offset = apex.
        Interval("macro", 19, 25, apex=25, emotion="negative", au="4"),
    ],
    "15_0401": [
        # Row 4 (1, anger1_1, 4, 9, 0, 4+5, negative, macro): offset 0 is
        # missing -> offset = apex 9.
        Interval("macro", 4, 9, apex=9, emotion="negative", au="4+5"),
        # Row 5 (1, anger1_2, 12, 14, 18, 1+2, surprise, micro): no policy.
        Interval("micro", 12, 18, apex=14, emotion="surprise", au="1+2"),
    ],
    "16_0101": [
        # Row 6 (2, disgust1_1, 5, 8, 14, 9, negative, macro): no policy.
        Interval("macro", 5, 14, apex=8, emotion="negative", au="9"),
        # Row 7 (2, disgust1_2, 16, 18, 21, 12, positive, micro): no policy.
        Interval("micro", 16, 21, apex=18, emotion="positive", au="12"),
    ],
    # Folder 16_0102eatingworms has no workbook row: kept, all neutral.
    "16_0102": [],
    "17_0102": [
        # Row 8 (4, disgust2_1, 2, 6, 11, 4+9, negative, macro): no policy.
        Interval("macro", 2, 11, apex=6, emotion="negative", au="4+9"),
        # Row 9 (4, disgust2_2, 14, 15, 17, 12, positive, micro): no policy.
        Interval("micro", 14, 17, apex=15, emotion="positive", au="12"),
    ],
}


def _build(data_dir, config=None):
  builder = cas_me2_dataset_builder.Builder(data_dir=data_dir, config=config,
                                            workers=1)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=DUMMY))
  return builder


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


@pytest.fixture(scope="module")
def built(data_root):
  return _build(data_root)


def test_splits_and_metadata(built):
  assert built.builder_config.name == "112_grey"
  assert {k: v.num_examples for k, v in built.info.splits.items()} == SPLITS
  meta = built.info.metadata
  assert (meta["image_size"], meta["channels"]) == (112, 1)
  assert {k: v for k, v in meta["policies"].items() if v} == {
      "offset_zero_used_apex": 1, "offset_before_apex_set_to_apex": 1,
      "video_without_labels_kept": 1}


def test_video_records(built):
  videos = built.as_data_source()["videos"]
  got = [(videos[i]["video"].decode(), videos[i]["subject"].decode(),
          int(videos[i]["num_frames"]), int(videos[i]["frame_offset"]))
         for i in range(len(videos))]
  offsets = np.cumsum([0] + [n for _, _, n in VIDEOS])[:-1]
  assert got == [v + (o,) for v, o in zip(VIDEOS, offsets)]
  for i, (video, _, _) in enumerate(VIDEOS):
    rec, want = videos[i], EXPECTED[video]
    assert float(rec["fps"]) == 30.0
    assert rec["onset"].tolist() == [iv.onset for iv in want], video
    assert rec["apex"].tolist() == [iv.apex for iv in want], video
    assert rec["offset"].tolist() == [iv.offset for iv in want], video
    # Stored type codes: micro 0, macro 1.
    assert rec["type"].tolist() == [
        {"micro": 0, "macro": 1}[iv.type] for iv in want], video
    assert rec["emotion"].decode() == "|".join(iv.emotion for iv in want)
    assert rec["au"].decode() == "|".join(iv.au for iv in want), video


def test_frame_records(built):
  frames = built.as_data_source()["frames"]
  numbers = [int(frames[i]["frame_number"]) for i in range(len(frames))]
  assert numbers == [n for _, _, t in VIDEOS for n in range(1, t + 1)]
  assert all(bool(frames[i]["face_found"]) for i in range(len(frames)))
  assert frames[0]["frame"].shape == (112, 112, 1)


def test_colour_config(tmp_path):
  builder = _build(str(tmp_path), config="112_rgb")
  frame = builder.as_data_source()["frames"][0]["frame"]
  assert frame.shape == (112, 112, 3)
  # Colour kept: the channels differ on a skin-toned face.
  assert np.abs(frame[..., 0].astype(int) - frame[..., 2]).mean() > 5


def test_reloads_through_spotting_source(built, data_root):
  del built  # Only built once; a fresh reader opens it.
  source = SpottingSource.open("cas_me2", data_root)
  assert [(v.video, v.subject, v.num_frames) for v in source.videos] == VIDEOS
  assert {v.video: list(v.intervals) for v in source.videos} == EXPECTED
  assert source.frames(1, [1, 2]).shape == (2, 112, 112, 1)
