"""Builds `samm_lv` from its dummy release and checks what was stored.

`tfds.testing.DatasetBuilderTestCase` needs TensorFlow (its base is
`tf.test.TestCase`), which this project does not install, so this test does
what it does by hand: build from `dummy_data/` as the manual dir, check the
split sizes, then check the records against the planted labels.

The expected intervals are written by hand from the rows of
`dummy_data/SAMM_LongVideos_V3_Release.xlsx` (sheet `FACS_Movement_Only`,
header on row 10), with the README's quirk policies applied by hand; they do
not come from the parser the builder uses.
"""
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mespot_jax.builders.samm_lv import samm_lv_dataset_builder
from mespot_jax.data.source import Interval, SpottingSource

DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")
SPLITS = {"videos": 4, "frames": 100}
VIDEOS = [("006_1", "006", 30), ("006_2", "006", 24), ("007_3", "007", 26),
          ("011_1", "011", 20)]
# Per video, its intervals sorted by onset. Frame counts (30, 24, 26, 20)
# are the frame files in `dummy_data/SAMM_longvideos/<video>/`.
EXPECTED = {
    "006_1": [
        # Row 11 (006_1_1, Macro, 0/5/12, R12): Onset 0 -> 1.
        Interval("macro", 1, 12, apex=5, au="R12"),
        # Row 12 (006_1_2, Micro - 1/2, 14.6/17/20.5, 4): fractional
        # frames rounded half up, 14.6 -> 15 and 20.5 -> 21.
        Interval("micro", 15, 21, apex=17, au="4"),
        # Row 13 (006_1_10, Micro - 1/2, 24/-1/27, L2): a two-digit event
        # of video 006_1; Apex -1 kept as unknown.
        Interval("micro", 24, 27, apex=-1, au="L2"),
    ],
    "006_2": [
        # Row 14 (006_2_1, Macro, 3/8/14, 12+25): no policy.
        Interval("macro", 3, 14, apex=8, au="12+25"),
    ],
    "007_3": [
        # Row 16 (007_3_2, Micro - 1/2, 2/4/6, 7): no policy; sorts first.
        Interval("micro", 2, 6, apex=4, au="7"),
        # Row 15 (007_3_1, Macro, 10/20/31, 1+2): Offset 31 is past the
        # video's last frame (26) -> clamped to 26.
        Interval("macro", 10, 26, apex=20, au="1+2"),
    ],
    # No workbook row: kept, all frames neutral.
    "011_1": [],
}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


@pytest.fixture(scope="module")
def built(data_root):
  builder = samm_lv_dataset_builder.Builder(data_dir=data_root, workers=1)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=DUMMY))
  return builder


def test_splits_and_metadata(built):
  assert {k: v.num_examples for k, v in built.info.splits.items()} == SPLITS
  meta = built.info.metadata
  assert (meta["image_size"], meta["channels"]) == (112, 1)
  assert {k: v for k, v in meta["policies"].items() if v} == {
      "fractional_frame_rounded": 2, "onset_zero_set_to_one": 1,
      "apex_unknown_kept": 1, "offset_past_last_frame_clamped": 1,
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
    assert float(rec["fps"]) == 200.0
    assert rec["onset"].tolist() == [iv.onset for iv in want], video
    assert rec["apex"].tolist() == [iv.apex for iv in want], video
    assert rec["offset"].tolist() == [iv.offset for iv in want], video
    # Stored type codes: micro 0, macro 1.
    assert rec["type"].tolist() == [
        {"micro": 0, "macro": 1}[iv.type] for iv in want], video
    assert rec["au"].decode() == "|".join(iv.au for iv in want), video


def test_frame_records(built):
  frames = built.as_data_source()["frames"]
  numbers = [int(frames[i]["frame_number"]) for i in range(len(frames))]
  assert numbers == [n for _, _, t in VIDEOS for n in range(1, t + 1)]
  first = frames[0]
  assert first["frame"].shape == (112, 112, 1)
  assert first["frame"].dtype == np.uint8
  found = [bool(frames[i]["face_found"]) for i in range(len(frames))]
  assert all(found)  # Every dummy frame holds the astronaut's face.
  # An aligned face is not a flat image.
  assert first["frame"].std() > 20


def test_missing_manual_dir_is_reported(tmp_path):
  builder = samm_lv_dataset_builder.Builder(data_dir=str(tmp_path / "d"),
                                            workers=1)
  empty = tmp_path / "empty"
  empty.mkdir()
  (empty / "readme.txt").write_text("not the release")
  with pytest.raises(Exception, match="SAMM"):
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(empty)))


def test_reloads_through_spotting_source(built, data_root):
  del built  # Only built once; a fresh reader opens it.
  source = SpottingSource.open("samm_lv", data_root)
  assert [(v.video, v.subject, v.num_frames) for v in source.videos] == VIDEOS
  assert {v.video: list(v.intervals) for v in source.videos} == EXPECTED
  assert source.frames(1, [1, 2]).shape == (2, 112, 112, 1)
