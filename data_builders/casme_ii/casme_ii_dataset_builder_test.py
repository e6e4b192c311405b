"""Builds `casme_ii` from its dummy release and checks what was stored.

`tfds.testing.DatasetBuilderTestCase` needs TensorFlow (its base is
`tf.test.TestCase`), which this project does not install, so this test does
what it does by hand: build from `dummy_data/` as the manual dir, check the
split sizes, then check the records against the planted rows.

The expected clips are written by hand from the rows of
`dummy_data/CASME2-coding-20140508.xlsx` and the frame files of
`dummy_data/CASME2_RAW_selected/` (see `CASME2_ROWS` and `CASME2_DISK` in
`make_dummy_releases.py`), with the README's policies applied by hand.
"""
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mespot_jax.builders.casme_ii import casme_ii_dataset_builder
from mespot_jax import errors
from mespot_jax.data.clips import ClipSource

DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")
# (subject, clip, first frame, frames, onset, apex, offset, apex annotated,
#  emotion, au, label, label name), in dataset order (subject, clip).
EXPECTED = [
    # Row 2 (1, EP02_01f, 46, 48, 50, happiness); frames img45..img50.
    ("sub01", "EP02_01f", 45, 6, 46, 48, 50, True, "happiness", "12", 1,
     "positive"),
    # Row 3 (1, EP03_02, 8, /, 12, disgust): apex `/` -> middle (8+12)//2;
    # frames img8..img12 (img10 sorts before img8 as text).
    ("sub01", "EP03_02", 8, 5, 8, 10, 12, False, "disgust", "4+7", 0,
     "negative"),
    # Row 4 ("02", EP01_11f, 20, 22, 26, repression): offset 26 is past the
    # last frame img24 -> 24.
    ("sub02", "EP01_11f", 20, 5, 20, 22, 24, True, "repression", "14", 0,
     "negative"),
    # Row 5 ("02", EP19_01, 3, 4, 6, surprise): no policy.
    ("sub02", "EP19_01", 3, 5, 3, 4, 6, True, "surprise", "1+2", 2,
     "surprise"),
    # Row 6 (3, EP09_03, 100, 101, 103, others): outside the 3 classes,
    # kept with label -1.
    ("sub03", "EP09_03", 100, 4, 100, 101, 103, True, "others", "R2", -1, ""),
]
# Row 7 (EP05_02) has no folder: dropped; folder sub03/EP20_01 has no row.
POLICIES = {"apex_missing_used_middle": 1, "offset_past_last_frame_clamped": 1,
            "clip_folder_missing_dropped": 1,
            "clip_folder_unlabelled_ignored": 1,
            "frame_order_numeric_not_lexical": 1, "emotion_unmapped_kept": 1}


def _build(data_dir, config=None):
  builder = casme_ii_dataset_builder.Builder(data_dir=data_dir, config=config,
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
  assert {k: v.num_examples for k, v in built.info.splits.items()} == {
      "videos": 5, "frames": 25}
  meta = built.info.metadata
  assert {k: v for k, v in meta["policies"].items() if v} == POLICIES
  assert meta["classes"] == ["negative", "positive", "surprise"]
  assert meta["class_counts"] == {"casme_ii": {
      "negative": 2, "positive": 1, "surprise": 1, "unmapped": 1}}
  assert (meta["image_size"], meta["channels"]) == (112, 1)


def test_video_records(built):
  # One video per clip with one interval (1-based positions in the video);
  # the class is not stored.
  videos = built.as_data_source()["videos"]
  got = []
  for i in range(len(videos)):
    r = videos[i]
    first = int(r["first_frame"])
    assert len(r["onset"]) == 1 and int(r["type"][0]) == 0  # micro
    onset, apex, offset = (int(r[k][0]) + first - 1  # release numbers
                           for k in ("onset", "apex", "offset"))
    got.append((r["subject"].decode(), r["video"].decode(), first,
                int(r["num_frames"]), onset, apex, offset,
                bool(r["apex_annotated"][0]),
                r["emotion"].decode(), r["au"].decode()))
    assert r["source"].decode() == "casme_ii"
    assert r["source_subject"] == r["subject"]
    assert float(r["fps"]) == 200.0
  assert got == [e[:10] for e in EXPECTED]


def test_frame_records(built):
  frames = built.as_data_source()["frames"]
  want = [(i, t + 1) for i, (_, _, _, n, *_) in enumerate(EXPECTED)
          for t in range(n)]
  got = [(int(frames[i]["video_index"]), int(frames[i]["frame_number"]))
         for i in range(len(frames))]
  assert got == want
  rec = frames[0]
  assert rec["frame"].shape == (112, 112, 1)
  assert rec["landmarks"].shape == (68, 2) and rec["rois"].shape == (4, 4)
  assert all(bool(frames[i]["face_found"]) for i in range(len(frames)))
  # Landmarks are in crop coordinates: inside the 112x112 crop.
  assert 0 < rec["landmarks"].min() and rec["landmarks"].max() < 112


def test_reloads_through_clip_source(built, data_root):
  del built
  source = ClipSource.open("casme_ii", data_root)
  assert [(c.subject, c.clip, c.onset, c.apex, c.offset, c.label,
           c.label_name) for c in source.clips] == [
              (e[0], e[1], e[4], e[5], e[6], e[10], e[11]) for e in EXPECTED]
  assert source.subjects == ["sub01", "sub02", "sub03"]
  assert source.classes == ("negative", "positive", "surprise")
  assert source.labels().tolist() == [1, 0, 0, 2, -1]
  c = source.clips[1]
  assert list(c.frame_numbers) == [8, 9, 10, 11, 12]
  assert source.frames(1, [12, 8]).shape == (2, 112, 112, 1)
  np.testing.assert_array_equal(source.key_frames(1)[1],
                                source.frames(1, [10])[0])
  assert source.landmarks(1, [9]).shape == (1, 68, 2)
  assert source.rois(1, [9]).shape == (1, 4, 4)
  assert source.load_clip(0).shape == (6, 112, 112, 1)
  with pytest.raises(errors.InputError, match="expected 8..12"):
    source.frames(1, [13])


def test_rgb_config_and_shared_cache(built, data_root, tmp_path):
  del built  # the grey build, whose cache this checks (same worker)
  builder = _build(str(tmp_path), config="112_rgb")
  frame = builder.as_data_source()["frames"][0]["frame"]
  assert frame.shape == (112, 112, 3)
  assert np.abs(frame[..., 0].astype(int) - frame[..., 2]).mean() > 5
  # One aligned cache per clip and crop kind, shared by builders.
  cache = os.path.join(data_root, "_aligned_clips", "cache", "112_grey_w5")
  assert len([n for n in os.listdir(cache) if n.endswith(".npz")]) == 5


def test_unbuilt_dataset_says_how_to_build(tmp_path):
  with pytest.raises(errors.InputError, match="is not built there"):
    ClipSource.open("casme_ii", str(tmp_path))
