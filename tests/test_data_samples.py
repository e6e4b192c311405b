"""Frames without a face are never trained on (data.samples, data.frames).

A builder flags the frames where it found no face (`face_found`); the
store serves the flag and the two-stream sampler must draw neither a
reference frame nor a partner among them. The fake store blanks those
frames (all zero pixels), so a sample holding one shows.
"""
import numpy as np
import pytest

from mespot_jax.data import samples
from mespot_jax.data.folds import Fold
from mespot_jax.data.frames import FrameStore
from tests import fake_spotting

FACELESS = {0: (20, 60), 1: (1, 30), 2: (70, 90)}


def _sampler(store, seed=0):
  fold = Fold(0, "s03", ("s02",), ("s00", "s01"))
  return samples.PairSampler(
      store, [fold], random_skips=((3, 9), (16, 30)), skip_fps=30.0,
      class_probs=(0.4, 0.3, 0.3),
      augment=samples.AugmentConfig(enabled=False), seed=seed)


def _blank_frames(batch) -> int:
  x = batch["x"]  # (K, B, S, F, H, W, C)
  return int((x.reshape(-1, np.prod(x.shape[-3:])).max(1) == 0).sum())


def test_store_serves_the_face_flags():
  store = fake_spotting.make_store(num_subjects=4, num_frames=90,
                                   faceless=FACELESS)
  found = store.face_found(0)
  assert found.shape == (90,) and found.dtype == bool
  assert np.flatnonzero(~found).tolist() == list(range(19, 60))
  assert store.face_found(3).all()
  # Without flags every frame has a face.
  plain = FrameStore.from_arrays(store.videos, [store.video(i)
                                                for i in range(4)])
  assert all(plain.face_found(i).all() for i in range(4))
  with pytest.raises(ValueError, match="face flags"):
    FrameStore.from_arrays(store.videos[:1], [store.video(0)],
                           face_found=[np.ones(5, bool)])


def test_pair_sampler_never_draws_a_frame_without_a_face():
  store = fake_spotting.make_store(num_subjects=4, num_frames=90,
                                   faceless=FACELESS)
  sampler = _sampler(store)
  for step in range(30):
    assert _blank_frames(sampler.train_batch(step, 16)) == 0, step
  assert _blank_frames(sampler.val_batch(64)) == 0
  assert _blank_frames(sampler.oracle_batch(64)) == 0
  # The same frames without the flags are drawn: the test can fail.
  unflagged = FrameStore.from_arrays(
      store.videos, [store.video(i) for i in range(4)])
  assert sum(_blank_frames(_sampler(unflagged).train_batch(step, 16))
             for step in range(30)) > 0


def test_draws_are_unchanged_where_every_frame_has_a_face():
  # Only video 2 (the validation subject) loses frames: training batches,
  # drawn from videos 0 and 1, are those of the store without flags.
  store = fake_spotting.make_store(num_subjects=4, num_frames=90,
                                   faceless={2: (70, 90)})
  plain = fake_spotting.make_store(num_subjects=4, num_frames=90)
  for step in range(5):
    a, b = _sampler(store).train_batch(step, 8), _sampler(plain).train_batch(
        step, 8)
    for k in a:
      np.testing.assert_array_equal(a[k], b[k])
