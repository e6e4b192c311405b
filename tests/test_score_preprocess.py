"""Scoring prepares crops exactly as the training data was prepared."""
import types

import numpy as np
from tqdm import tqdm

from mespot_jax import score
from mespot_jax.data.frames import resize_crops
from mespot_jax.face import align, track


def _aligned(n, size, rng):
  lm = align.template_68(size)
  return [track.AlignedFrame(
      crop=rng.integers(0, 255, (size, size, 1), np.uint8),
      face_found=bool(i % 2), rois=np.zeros((4, 4), np.int32),
      landmarks=lm + rng.normal(0, 0.5, lm.shape).astype(np.float32),
      transform=np.eye(2, 3, dtype=np.float32)) for i in range(n)]


def test_crops_are_masked_then_resized_like_the_dataset():
  rng = np.random.default_rng(0)
  frames = _aligned(5, 32, rng)
  dep = types.SimpleNamespace(mask_face=True, image_size=16)
  counter = score._FaceCounter(iter(frames), tqdm(disable=True), dep)
  got = np.stack(list(counter))
  want = resize_crops(np.stack([align.mask_crop(a.crop, a.landmarks)
                                for a in frames]), 16)
  np.testing.assert_array_equal(got, want)
  assert (counter.frames, counter.with_face) == (5, 2)
  # Without masking (a run trained on unmasked crops) only the resize.
  dep = types.SimpleNamespace(mask_face=False, image_size=32)
  got = np.stack(list(score._FaceCounter(iter(frames), tqdm(disable=True),
                                         dep)))
  np.testing.assert_array_equal(got, np.stack([a.crop for a in frames]))
