"""Tests of mespot_jax.spotting.baseline (frame-difference spotter)."""
import numpy as np
import pytest

from mespot_jax.errors import InputError
from mespot_jax.spotting import baseline

NUM, SIZE = 100, 16
CHANGE = (40, 60)  # 0-based frames where the block is brighter, inclusive
BLOCK = 60.0 * 16 / (SIZE * SIZE)  # +60 on a 4x4 block, averaged


def _video():
  rng = np.random.default_rng(0)
  still = rng.integers(50, 150, size=(SIZE, SIZE), dtype=np.uint8)
  frames = np.repeat(still[None], NUM, axis=0)
  frames[CHANGE[0]:CHANGE[1] + 1, 6:10, 6:10] += 60
  return frames


def _expected(skip):
  """Hand-computed scores: BLOCK where exactly one of t, t+s is changed."""
  t = np.arange(NUM)
  partner = np.minimum(t + skip, NUM - 1)
  inside = lambda i: (i >= CHANGE[0]) & (i <= CHANGE[1])
  return np.where(inside(t) != inside(partner), BLOCK, 0.0)


def test_block_change_known_answer():
  scores = baseline.frame_difference_scores(_video(), skips=(3, 10))
  assert scores.shape == (NUM, 2) and scores.dtype == np.float32
  for k, s in enumerate((3, 10)):
    np.testing.assert_allclose(scores[:, k], _expected(s), atol=1e-5)
    # Peaks near the change, zero far from it.
    peaks = np.flatnonzero(scores[:, k] > BLOCK / 2)
    assert peaks.min() >= CHANGE[0] - s and peaks.max() <= CHANGE[1]
    assert np.all(scores[:CHANGE[0] - s, k] == 0)
    assert np.all(scores[CHANGE[1] + 1:, k] == 0)


@pytest.mark.parametrize("num", [100, 5, 1])
def test_streaming_and_chunked_match(num):
  rng = np.random.default_rng(1)
  frames = rng.integers(0, 256, size=(num, 8, 8), dtype=np.uint8)
  full = baseline.frame_difference_scores(frames, (3, 10), chunk=7)
  # Reference: direct formula on the whole array.
  t = np.arange(num)
  f = frames.astype(np.float64)
  ref = np.stack([np.abs(f[np.minimum(t + s, num - 1)] - f).mean(axis=(1, 2))
                  for s in (3, 10)], axis=1)
  np.testing.assert_allclose(full, ref, rtol=1e-5)
  streamed = np.stack(list(baseline.iter_frame_difference_scores(
      iter(frames), (3, 10))))
  np.testing.assert_allclose(streamed, full, rtol=1e-6)


def test_colour_frames_and_uint8_no_wraparound():
  a = np.zeros((4, 2, 2, 3), np.uint8)
  a[2:] = 200  # uint8 subtraction would wrap 0 - 200 to 56
  scores = baseline.frame_difference_scores(a, (1, 2))
  np.testing.assert_allclose(scores[:, 0], [0, 200, 0, 0])
  np.testing.assert_allclose(scores[:, 1], [200, 200, 0, 0])
  with pytest.raises(InputError):
    baseline.frame_difference_scores(a, (0, 2))
  with pytest.raises(InputError):
    baseline.frame_difference_scores(a[:, :, 0, 0], (1, 2))


def test_spot_runs_the_model_post_processing():
  frames = _video()
  rows = baseline.spot(frames, 30.0, (3, 10), thresholds=(0.5, 0.5),
                       method="automated", params_by_type={"cutoff_hz": None})
  # Without smoothing, each stream's runs are exactly the hand-computed
  # non-zero stretches: [40 - s, 39] and [61 - s, 60] (0-based).
  want = []
  for type_name, s in (("micro", 3), ("macro", 10)):
    want += [(type_name, CHANGE[0] - s + 1, CHANGE[0]),
             (type_name, CHANGE[1] + 2 - s, CHANGE[1] + 1)]
  assert [r[:3] for r in rows] == want
