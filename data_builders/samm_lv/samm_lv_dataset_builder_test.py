"""Builds `samm_lv` from its dummy release and checks what was stored.

`tfds.testing.DatasetBuilderTestCase` needs TensorFlow (its base is
`tf.test.TestCase`), which this project does not install, so this test does
what it does by hand: build from `dummy_data/` as the manual dir, check the
split sizes, then check the records against the planted labels.
"""
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders.samm_lv import samm_lv_dataset_builder
from mespot_jax.data import annotations
from mespot_jax.data.source import SpottingSource

DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")
SPLITS = {"videos": 4, "frames": 100}
VIDEOS = [("006_1", "006", 30), ("006_2", "006", 24), ("007_3", "007", 26),
          ("011_1", "011", 20)]


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
  rec = videos[2]  # 007_3: micro 2-6 apex 4; macro 10-31 clamped to 26.
  assert (rec["onset"].tolist(), rec["apex"].tolist(), rec["offset"].tolist(),
          rec["type"].tolist()) == ([2, 10], [4, 20], [6, 26], [0, 1])
  assert rec["au"].decode() == "7|1+2"
  assert float(rec["fps"]) == 200.0
  assert videos[3]["onset"].size == 0  # 011_1 has no labels


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
  release = annotations.parse_samm_lv(DUMMY)
  assert [(v.video, v.subject, list(v.intervals)) for v in source.videos] == [
      (v.video, v.subject, v.intervals) for v in release.videos]
  assert source.frames(1, [1, 2]).shape == (2, 112, 112, 1)
