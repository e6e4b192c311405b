"""Builds `cas_me2` from its dummy release and checks what was stored.

`tfds.testing.DatasetBuilderTestCase` needs TensorFlow (its base is
`tf.test.TestCase`), which this project does not install, so this test does
what it does by hand: build from `dummy_data/` as the manual dir, check the
split sizes, then check the records against the planted labels.
"""
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from data_builders.cas_me2 import cas_me2_dataset_builder
from mespot_jax.data import annotations
from mespot_jax.data.source import SpottingSource

DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")
SPLITS = {"videos": 5, "frames": 114}
VIDEOS = [("15_0101", "s15", 28), ("15_0401", "s15", 22),
          ("16_0101", "s16", 24), ("16_0102", "s16", 20),
          ("17_0102", "s17", 20)]


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
  rec = videos[0]  # 15_0101; the first workbook row (no header) included.
  assert (rec["onset"].tolist(), rec["apex"].tolist(), rec["offset"].tolist(),
          rec["type"].tolist()) == ([3, 13, 19], [6, 15, 25], [10, 17, 25],
                                    [1, 0, 1])
  assert rec["emotion"].decode() == "negative|positive|negative"
  assert float(rec["fps"]) == 30.0
  rec = videos[1]  # 15_0401: anger1_1 had offset 0 -> its apex 9.
  assert (rec["onset"].tolist(), rec["offset"].tolist()) == ([4, 12], [9, 18])


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
  release = annotations.parse_cas_me2(DUMMY)
  assert [(v.video, v.subject, list(v.intervals)) for v in source.videos] == [
      (v.video, v.subject, v.intervals) for v in release.videos]
  assert source.frames(1, [1, 2]).shape == (2, 112, 112, 1)
