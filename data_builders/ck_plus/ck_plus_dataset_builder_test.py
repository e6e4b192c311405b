"""Builds `ck_plus` from its dummy release and checks what was stored.

As the other builder tests, by hand (`tfds.testing.DatasetBuilderTestCase`
needs TensorFlow). The expected clips are written by hand from the files of
`dummy_data/` (`CKPLUS` in `make_dummy_releases.py`): per sequence, its
frame count and its `Emotion/.../*_emotion.txt` code and frame.
"""
import os

import pytest
import tensorflow_datasets as tfds

from mespot_jax.builders.ck_plus import ck_plus_dataset_builder
from mespot_jax.data.clips import ClipSource

DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")
# (subject, clip, frames, onset, apex, offset, emotion, label name).
LABELLED = [
    # S005/001: 5 frames, S005_001_00000005_emotion.txt = 3 (disgust).
    ("S005", "S005_001", 5, 1, 5, 5, "disgust", "negative"),
    # S010/001: 6 frames, code 5 (happy) at frame 6.
    ("S010", "S010_001", 6, 1, 6, 6, "happy", "positive"),
    # S010/002: 4 frames, code 7 (surprise) names frame 3, not the last:
    # counted, the apex is frame 3, the offset the last frame.
    ("S010", "S010_002", 4, 1, 3, 4, "surprise", "surprise"),
    # S011/001: 4 frames, code 1 (anger).
    ("S011", "S011_001", 4, 1, 4, 4, "anger", "negative"),
]
# S005/002 (4 frames) has no emotion file: unlabelled.
UNLABELLED = ("S005", "S005_002", 4, 1, 4, 4, "", "")


def _build(data_root, config):
  builder = ck_plus_dataset_builder.Builder(data_dir=data_root, config=config,
                                            workers=1)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=DUMMY))
  return ClipSource.open("ck_plus", data_root, config)


def _rows(source):
  return [(c.subject, c.clip, c.num_frames, c.onset, c.apex, c.offset,
           c.emotion, c.label_name) for c in source.clips]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


def test_labelled_sequences(data_root):
  source = _build(data_root, "112_grey")
  assert _rows(source) == LABELLED
  assert all(c.source == "ck_plus" and c.first_frame == 1
             for c in source.clips)
  assert source.classes == ("negative", "positive", "surprise")
  assert {k: v for k, v in source.policies.items() if v} == {
      "sequence_unlabelled": 1, "emotion_frame_not_last": 1,
      "emotion_unmapped_dropped": 1}
  assert source.key_frames(2).shape == (3, 112, 112, 1)


def test_all_sequences_config_keeps_the_unlabelled(data_root):
  source = _build(data_root, "all_112_grey")
  assert _rows(source) == LABELLED[:1] + [UNLABELLED] + LABELLED[1:]
  assert source.labels().tolist() == [0, -1, 1, 2, 0]
