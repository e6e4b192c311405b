"""Builds `smic_e` configs from the dummy release and checks what was stored.

As the other builder tests, by hand (`tfds.testing.DatasetBuilderTestCase`
needs TensorFlow). The expected clips are written by hand from the rows of
`dummy_data/SMIC-{HS,VIS,NIR}-E_annotation.xlsx` and the frame folders
`dummy_data/{HS,VIS,NIR}_long/<subject>/<clip>/` (`SMIC_ROWS` and
`SMIC_DISK` in `make_dummy_releases.py`), policies applied by hand.
"""
import os

import pytest
import tensorflow_datasets as tfds

from mespot_jax.builders.smic_e import smic_e_dataset_builder
from mespot_jax.data.clips import ClipSource
from mespot_jax.data.source import Interval, SpottingSource

DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")
# (subject, clip, first frame, frames, onset, apex, offset, emotion, label).
HS = [
    # (1, s1_ne_01, OnsetF 515, OffsetF 519, negative, FirstF 512): frames
    # image512..image521; no apex in SMIC -> middle (515+519)//2 = 517.
    ("s1", "s1_ne_01", 512, 10, 515, 517, 519, "negative", 0),
    # (1, s1_po_02, 1003, 1006, <empty>, 1000): emotion from the name (po).
    ("s1", "s1_po_02", 1000, 9, 1003, 1004, 1006, "positive", 1),
    # (2, s2_sur_01, 54, 57, surprise, 50): the folder is numbered
    # image1..image9, so the labels move by FirstF: 54-50+1 = 5, 57-50+1 = 8.
    ("s2", "s2_sur_01", 1, 9, 5, 6, 8, "surprise", 2),
    # (3, s3_ne_03, 95, 99, negative, 92): image92..image101 (image100
    # sorts before image92 as text).
    ("s3", "s3_ne_03", 92, 10, 95, 97, 99, "negative", 0),
]
HS_POLICIES = {"apex_not_released_used_middle": 4, "emotion_from_filename": 1,
               "frames_renumbered_used_firstf": 1,
               "frame_order_numeric_not_lexical": 1}
# VIS, as spotting videos: frames 1-based from the folder's first frame.
VIS = [
    # (1, s1_ne_01, 103, 106, negative, 100): image100..image107.
    ("s1_ne_01", "s1", 8, [Interval("micro", 4, 7, emotion="negative")]),
    # (2, s2_po_01, 22, 25, positive, 20): image20..image27.
    ("s2_po_01", "s2", 8, [Interval("micro", 3, 6, emotion="positive")]),
    # (3, s3_sur_01, 42, 45, surprise, 40): image40..image47.
    ("s3_sur_01", "s3", 8, [Interval("micro", 3, 6, emotion="surprise")]),
]


def _build(data_root, config):
  builder = smic_e_dataset_builder.Builder(data_dir=data_root, config=config,
                                           workers=1)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=DUMMY))
  return builder


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


def test_hs_clips(data_root):
  _build(data_root, "hs")
  source = ClipSource.open("smic_e", data_root, "hs")
  got = [(c.subject, c.clip, c.first_frame, c.num_frames, c.onset, c.apex,
          c.offset, c.emotion, c.label) for c in source.clips]
  assert got == HS
  assert all(c.source == "smic_hs" and c.fps == 100.0
             and not c.apex_annotated for c in source.clips)
  assert {k: v for k, v in source.policies.items() if v} == HS_POLICIES
  assert source.frames(2, [1, 9]).shape == (2, 112, 112, 1)


def test_nir_clips_found_by_modality_in_the_path(data_root):
  # VIS and NIR both hold s1_ne_01 and s2_po_01.
  _build(data_root, "nir")
  source = ClipSource.open("smic_e", data_root, "nir")
  assert [(c.clip, c.fps, c.label_name) for c in source.clips] == [
      ("s1_ne_01", 25.0, "negative"), ("s2_po_01", 25.0, "positive")]
  assert source.metadata["class_counts"] == {
      "smic_nir": {"negative": 1, "positive": 1}}


def test_vis_long_clips_as_spotting_videos(data_root):
  builder = _build(data_root, "vis_spotting")
  assert set(builder.info.splits) == {"videos", "frames"}
  source = SpottingSource.open("smic_e", data_root, "vis_spotting")
  assert [(v.video, v.subject, v.num_frames, list(v.intervals))
          for v in source.videos] == VIS
  assert all(v.fps == 25.0 for v in source.videos)
  assert {k: v for k, v in source.policies.items() if v} == {
      "apex_unknown_kept": 3}
  assert source.mask_face
  assert source.frames(0, [1, 8]).shape == (2, 112, 112, 1)
