"""Scoring a video prepares crops exactly as the training data was prepared.

`synthetic_lv/tiny` is built once (32x32 grey crops, face-masked by the
builder). One of its rendered videos is written as a lossless PNG frame
folder, a video input `score` accepts, and scored with `score.score_frames`
through a stub method that records the crops it is given. Those crops must
be the builder's own: its `frames` records (masked), the unmasked crops of
its alignment cache, and what the training `FrameStore` serves at a
smaller model size.
"""
import os
import types

import cv2
import numpy as np
import pytest
from tqdm import tqdm

from mespot_jax import score, stream_scoring
from mespot_jax.data import source, spotting_builder, video_io
from mespot_jax.data.frames import FrameStore
from mespot_jax.face import align, preprocess, track
from mespot_jax.synthetic import render

FPS = 30.0
VIDEO = 1  # s02_1 of synthetic_lv/tiny


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  """The built dataset and video `VIDEO` as a folder of PNG frames."""
  root = tmp_path_factory.mktemp("score_preprocess")
  src = source.SpottingSource.prepare("synthetic_lv", str(root / "tfds"),
                                      "tiny", workers=1)
  _, _, params = src.builder.video_params()[VIDEO]
  folder = root / "frames"
  folder.mkdir()
  # The frames the builder aligned (its `frames_fn` for this video).
  for n, frame in enumerate(render.iter_video_frames(params), start=1):
    bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) if frame.ndim == 3 else frame
    assert cv2.imwrite(str(folder / f"img{n}.png"), bgr)
  assert n == params.num_frames
  return src, str(folder)


class _RecordingMethod:
  """Stands in for the deploy model's method: keeps every crop it is given
  to score."""

  def __init__(self):
    self.crops = []

  def score_stream(self, variables, crops, fps, choices, batch_size):
    del variables, fps, choices, batch_size
    self.crops = [np.array(c) for c in crops]
    return np.zeros((len(self.crops), 2), np.float32)

  def invalid_frames(self, face_found_T, fps, choices):
    del fps, choices
    return np.stack([~face_found_T, ~face_found_T], axis=1)


def _score(folder, align_size, image_size, mask_face):
  """Scores the frame folder; returns (crops given to the method, frames,
  frames with a face)."""
  method = _RecordingMethod()
  spec = preprocess.FacePreprocess(
      align_size=align_size, align_grey=True, image_size=image_size,
      grey=True, mask_face=mask_face)
  dep = types.SimpleNamespace(preprocess=spec, method=method, choices={},
                              variables={})
  scored = score.score_frames(
      dep, video_io.iter_frames(folder), FPS, batch_size=1, progress=False)
  assert len(scored.scores_T2) == scored.frames == len(method.crops)
  return np.stack(method.crops), scored.frames, scored.with_face


def test_dataset_as_built(built):
  src, _ = built
  assert (src.image_size, src.channels, src.mask_face) == (32, 1, True)
  assert src.videos[VIDEO].video == "s02_1"


def test_masked_crops_are_the_stored_records(built):
  src, folder = built
  got, frames, with_face = _score(folder, 32, 32, True)
  np.testing.assert_array_equal(got, src.load_video(VIDEO))
  assert frames == src.videos[VIDEO].num_frames == 90
  assert with_face == int(src.face_found(VIDEO).sum())


def test_unmasked_crops_are_the_cached_alignment(built):
  src, folder = built
  # The builder's alignment cache keeps the crops before masking.
  unmasked = np.stack(list(spotting_builder.iter_cache_crops(
      os.path.join(src.builder.cache_dir, "s02_1.npz"))))
  got, _, _ = _score(folder, 32, 32, False)
  np.testing.assert_array_equal(got, unmasked)
  # The mask is not a no-op: the records differ from the raw alignment.
  assert (unmasked != src.load_video(VIDEO)).mean() > 0.05


def test_resized_crops_are_what_training_read(built):
  src, folder = built
  got, _, _ = _score(folder, 32, 16, True)
  trained_on = FrameStore.from_source(src, image_size=16).video(VIDEO)
  np.testing.assert_array_equal(got, trained_on)
  # Halving with area interpolation is the mean of each 2x2 block of the
  # stored 32x32 record (up to rounding).
  stored = src.load_video(VIDEO).astype(np.float64)
  blocks = stored.reshape(90, 16, 2, 16, 2, 1).mean(axis=(2, 4))
  assert got.shape == (90, 16, 16, 1)
  assert np.abs(got - blocks).max() <= 1.0


def test_counter_counts_faces_and_leaves_same_size_crops_alone():
  rng = np.random.default_rng(0)
  lm = align.template_68(32)
  frames = [
      track.AlignedFrame(crop=rng.integers(0, 255, (32, 32, 1), np.uint8),
                         face_found=bool(i % 2),
                         rois=np.zeros((4, 4), np.int32), landmarks=lm,
                         transform=np.eye(2, 3, dtype=np.float32))
      for i in range(5)]
  spec = preprocess.FacePreprocess(align_size=32, align_grey=True,
                                   image_size=32, grey=True, mask_face=False)
  counter = stream_scoring._FaceCounter(  # pylint: disable=protected-access
      iter(frames), tqdm(disable=True), spec, False)
  got = np.stack(list(counter))
  np.testing.assert_array_equal(got, np.stack([a.crop for a in frames]))
  assert (counter.frames, counter.with_face) == (5, 2)
