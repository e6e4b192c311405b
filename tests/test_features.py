"""Tests for mespot_jax.features (LBP-TOP, HOG-TOP, HIGO-TOP; Tran et al.).

LBP-TOP is checked against `skimage.feature.local_binary_pattern` applied
slice by slice (numpy.array_split blocks, numpy.bincount histograms), on
random volumes, on volumes full of ties between a bilinear sample and its
centre (where scikit-image's float64 rounding decides), and on a pattern
worked by hand. HOG-TOP and HIGO-TOP are checked against a direct loop
over planes and pixels (plane-wise `numpy.gradient`, `math.atan2`), and for
invariance to a brightness offset. Per-video features (both the shared
per-frame `sliding` path and the vmapped per-position one) are checked
against the per-position descriptor, and the cache for hits and for a
change of pixels.
"""
import math
import os

import numpy as np
import pytest
from skimage.feature import local_binary_pattern

from mespot_jax import features
from mespot_jax.features import video as video_lib


def _planes(v):
  """(kind, slice index, 2-D plane, (y, x) of each plane pixel) of a
  (T, H, W) volume, as the issue defines the three plane kinds."""
  t_, h, w = v.shape
  for t in range(t_):
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    yield 0, v[t], ys, xs
  for y in range(h):  # rows t, columns x
    xs = np.tile(np.arange(w), (t_, 1))
    yield 1, v[:, y, :], np.full((t_, w), y), xs
  for x in range(w):  # rows t, columns y
    ys = np.tile(np.arange(h), (t_, 1))
    yield 2, v[:, :, x], ys, np.full((t_, h), x)


def _block_index(h, w, grid):
  by = np.zeros(h, int)
  for i, a in enumerate(np.array_split(np.arange(h), grid[0])):
    by[a] = i
  bx = np.zeros(w, int)
  for i, a in enumerate(np.array_split(np.arange(w), grid[1])):
    bx[a] = i
  return by, bx


def _descriptor(hists):
  """(blocks, 3, bins) sums -> the normalised, concatenated descriptor."""
  tot = hists.sum(axis=2, keepdims=True)
  out = np.divide(hists, tot, out=np.zeros_like(hists), where=tot > 0)
  return out.reshape(-1)


def _lbp_top_reference(v, grid):
  _, h, w = v.shape
  by, bx = _block_index(h, w, grid)
  hists = np.zeros((grid[0] * grid[1], 3, 59))
  for kind, plane, ys, xs in _planes(v):
    codes = local_binary_pattern(plane, P=8, R=1, method="nri_uniform")
    blocks = by[ys] * grid[1] + bx[xs]
    for b in range(grid[0] * grid[1]):
      hists[b, kind] += np.bincount(codes[blocks == b].astype(int),
                                    minlength=59)
  return _descriptor(hists)


def _gradient_top_reference(v, grid, bins, magnitude):
  """Loop over planes and pixels; gradients of each plane by itself."""
  v = np.asarray(v, np.float64)
  _, h, w = v.shape
  by, bx = _block_index(h, w, grid)
  hists = np.zeros((grid[0] * grid[1], 3, bins))
  for kind, plane, ys, xs in _planes(v):
    g_row, g_col = np.gradient(plane)
    for i in range(plane.shape[0]):
      for j in range(plane.shape[1]):
        mag = math.hypot(g_row[i, j], g_col[i, j])
        if mag == 0:
          continue
        theta = math.atan2(g_row[i, j], g_col[i, j]) % math.pi
        k = min(int(theta / math.pi * bins), bins - 1)
        b = by[ys[i, j]] * grid[1] + bx[xs[i, j]]
        hists[b, kind, k] += mag if magnitude else 1.0
  return _descriptor(hists)


RNG = np.random.default_rng(15)
U8 = RNG.integers(0, 256, (6, 9, 11)).astype(np.uint8)
# Values 0..2: many samples tie with their centre, where only float64
# rounding in scikit-image's order (no fused multiply-add) gives its codes.
TIES = RNG.integers(0, 3, (5, 12, 13)).astype(np.uint8)
FLOATS = RNG.random((5, 8, 7))


@pytest.mark.filterwarnings("ignore:Applying `local_binary_pattern`")
@pytest.mark.parametrize("volume,grid", [(U8, (2, 3)), (TIES, (3, 2)),
                                         (FLOATS, (1, 1))])
def test_lbp_top_matches_skimage(volume, grid):
  got = np.asarray(features.lbp_top(volume, grid=grid))
  want = _lbp_top_reference(volume, grid)
  assert got.shape == (grid[0] * grid[1] * 3 * 59,)
  np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_lbp_codes_by_hand():
  # A bright centre with darker neighbours: no bit set, code 0. A dark
  # centre: every bit set, code 57. The 3x3 plane's corners sample partly
  # outside (read as 0), which scikit-image does too.
  from mespot_jax.features import lbp  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  with jax.enable_x64(True):
    bright = np.full((1, 3, 3), 10.0)
    bright[0, 1, 1] = 50.0
    dark = np.full((1, 3, 3), 50.0)
    dark[0, 1, 1] = 10.0
    assert int(lbp.lbp_codes(bright)[0, 1, 1]) == 0
    assert int(lbp.lbp_codes(dark)[0, 1, 1]) == 57
    # Only neighbour 0 (to the right) brighter: one 1 at position 0,
    # uniform, 1 + (1 - 1) * 8 + rotation (8 - 0 = ... first_one 0 ->
    # ones - first_zero = 1 - 1 = 0): code 1.
    one = np.full((1, 3, 3), 10.0)
    one[0, 1, 1] = 20.0
    one[0, 1, 2] = 30.0
    want = local_binary_pattern(one[0], P=8, R=1, method="nri_uniform")
    assert int(lbp.lbp_codes(one)[0, 1, 1]) == int(want[1, 1]) == 1


def test_grid_one_is_xy_xt_yt_each_summing_to_one():
  for fn, bins in ((features.lbp_top, 59), (features.hog_top, 8),
                   (features.higo_top, 8)):
    f = np.asarray(fn(U8)).reshape(3, bins)
    np.testing.assert_allclose(f.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("magnitude", [True, False])
@pytest.mark.parametrize("volume,grid,bins", [(U8, (2, 3), 8),
                                              (FLOATS, (2, 2), 6)])
def test_gradient_top_matches_loop(magnitude, volume, grid, bins):
  fn = features.hog_top if magnitude else features.higo_top
  got = np.asarray(fn(volume, grid=grid, bins=bins))
  want = _gradient_top_reference(volume, grid, bins, magnitude)
  np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


# The shapes, grids and bins below are those of the tests above, so these
# reuse their compiled programs.
@pytest.mark.parametrize("fn", [features.hog_top, features.higo_top])
def test_gradient_top_brightness_offset_invariance(fn):
  v = U8.astype(np.float64)
  a = np.asarray(fn(v, grid=(2, 3)))
  b = np.asarray(fn(v + 37.0, grid=(2, 3)))
  np.testing.assert_allclose(a, b, atol=1e-6)
  # ...while a change of contrast pattern does move them.
  c = np.asarray(fn(v[:, ::-1, :], grid=(2, 3)))
  assert np.abs(a - c).max() > 1e-3


def test_flat_volume_has_empty_gradient_histograms():
  flat = np.full(U8.shape, 9, np.uint8)
  assert not np.asarray(features.hog_top(flat, grid=(2, 3))).any()
  assert not np.asarray(features.higo_top(flat)).any()


def test_batch_matches_single():
  batch = np.stack([U8, U8[:, ::-1]])
  for fn in (features.lbp_top, features.hog_top):
    got = np.asarray(fn(batch, grid=(2, 3)))
    np.testing.assert_array_equal(got[1], np.asarray(fn(U8[:, ::-1],
                                                        grid=(2, 3))))


def test_bad_inputs():
  with pytest.raises(ValueError, match="grid"):
    features.lbp_top(U8, grid=(10, 1))
  with pytest.raises(ValueError, match="volume"):
    features.hog_top(U8[0])


def test_video_features_are_per_position_descriptors(tmp_path):
  frames = RNG.integers(0, 256, (13, 8, 8, 1)).astype(np.uint8)
  span = 4
  got = features.video_features(frames, span, "lbp_top", grid=(2, 2),
                                chunk=4)  # 10 positions: 3 chunks, padded
  assert got.shape == (10, 4 * 3 * 59)
  for i in (0, 5, 9):
    np.testing.assert_array_equal(
        got[i], np.asarray(features.lbp_top(frames[i:i + span, :, :, 0],
                                            grid=(2, 2))))
  hog = features.video_features(frames, span, "hog_top", grid=(1, 2),
                                bins=5, chunk=3)
  np.testing.assert_allclose(hog[7], _gradient_top_reference(
      frames[7:7 + span, :, :, 0], (1, 2), 5, True), atol=1e-6)
  assert features.video_features(frames[:3], span, "hog_top").shape[0] == 0


@pytest.mark.parametrize("values,span,precision", [
    (256, 6, "float32"), (3, 5, "float64"), (3, 2, "float64")])
def test_sliding_positions_equal_the_per_position_descriptor(values, span,
                                                             precision):
  # `sliding` shares per-frame work between positions; `positions` vmaps
  # the per-position descriptor (the definition). LBP-TOP: identical, ties
  # included (values 0..2); HOG-TOP / HIGO-TOP: to float rounding.
  frames = RNG.integers(0, values, (23, 9, 10, 1)).astype(np.uint8)
  for kind in video_lib.KINDS:
    got, want = (features.video_features(
        frames, span, kind, grid=(2, 3), bins=5, precision=precision,
        chunk=7, method=m) for m in ("sliding", "positions"))
    if kind == "lbp_top":
      np.testing.assert_array_equal(got, want)
    else:
      np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
  assert video_lib.sliding.interior_row_runs(23, np.float64) == [
      (1, 1), (2, 21)]


def test_cache_hits_and_pixel_key(tmp_path):
  frames = RNG.integers(0, 256, (9, 8, 8, 1)).astype(np.uint8)
  cache = features.FeatureCache(str(tmp_path), "synthetic_lv/tiny 1.2.0")
  a = cache.get("vid/1", frames, 5, "higo_top", grid=(2, 2), bins=4)
  b = cache.get("vid/1", frames, 5, "higo_top", grid=(2, 2), bins=4)
  assert (cache.hits, cache.misses) == (1, 1)
  np.testing.assert_array_equal(a, b)
  files = [f for _, _, fs in os.walk(tmp_path) for f in fs
           if f.endswith(".npy")]
  assert len(files) == 1 and not any(".tmp" in f for f in files)
  changed = frames.copy()
  changed[4, 3, 3] ^= 1
  cache.get("vid/1", changed, 5, "higo_top", grid=(2, 2), bins=4)
  cache.get("vid/1", frames, 5, "higo_top", grid=(2, 2), bins=5)
  assert cache.misses == 3  # new pixels, new parameters: recomputed
  off = video_lib.FeatureCache(None)
  np.testing.assert_array_equal(
      off.get("vid/1", frames, 5, "higo_top", grid=(2, 2), bins=4), a)
