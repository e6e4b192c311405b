"""Every position of a chunk of frames at once, sharing per-frame work.

The descriptor of position i reads frames i .. i+L-1 as its own volume
(`lbp`, `gradients`). Most of that work is the same for every position
that holds a frame, so a chunk of n positions (n + L - 1 frames) is done
frame by frame and each position sums the per-frame block histograms of
its L frames:

- XY planes are the frames themselves: the same codes (gradients) in
  every position that holds the frame.
- On an XT or YT plane the frame is one row t; what a row's code depends
  on besides its pixels is (a) whether it is the volume's first or last
  row (neighbours outside the plane read as 0; one-sided time gradients)
  and (b) for LBP, its row index inside the volume, through the float
  rounding of the bilinear weights (r - 0.70711 rounds differently for
  r = 0, 1 and r >= 2). So each frame is coded in a few variants (first
  row, last row, and one interior variant per class of row indices with
  the same weights) and position i takes, for each local row r, the
  variant of that row.

The result is the per-position descriptor exactly for LBP-TOP (integer
counts summed in float32 below 2^24, then normalised as `common` does)
and to float rounding for HOG-TOP / HIGO-TOP (magnitudes summed in
another order). `tests/test_features.py` checks both against the
per-position functions.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from mespot_jax.features import common
from mespot_jax.features import gradients
from mespot_jax.features import lbp


def interior_row_runs(span: int, dtype) -> list[tuple[int, int]]:
  """Runs [a, b] of interior rows 1..L-2 whose bilinear weights are equal
  (the LBP code of a row depends on its index only through them)."""
  def key(r):
    rr = np.asarray(r, dtype) + lbp.RP.astype(dtype)
    return tuple((rr - np.floor(rr)).tolist())
  runs = []
  for r in range(1, span - 1):
    if runs and key(r) == key(runs[-1][0]):
      runs[-1] = (runs[-1][0], r)
    else:
      runs.append((r, r))
  return runs


def _frame_hists(vals_NHW, weights_NHW, blocks_HW, nb, bins):
  """(N, nb, bins) per-frame block histograms."""
  n = vals_NHW.shape[0]
  idx = ((jnp.arange(n, dtype=jnp.int32)[:, None, None] * nb +
          blocks_HW[None]) * bins + vals_NHW).reshape(-1)
  w = (jnp.ones(idx.shape, jnp.float32) if weights_NHW is None
       else weights_NHW.reshape(-1))
  return jax.ops.segment_sum(w, idx, num_segments=n * nb * bins).reshape(
      n, nb, bins)


def _window_sum(h_N, first, last, count):
  """sum_{r=first..last} h[i + r] for i = 0..count-1 (cumulative sums in
  the histogram's dtype, float64 under `precision_scope("float64")`)."""
  c = jnp.concatenate([jnp.zeros_like(h_N[:1]), jnp.cumsum(h_N, axis=0)])
  return c[last + 1:last + 1 + count] - c[first:first + count]


def _normalise(h):
  total = h.sum(axis=-1, keepdims=True)
  return jnp.where(total > 0, h / jnp.where(total > 0, total, 1), 0)


def _as_positions(xy, xt, yt, count):
  """Three (count, nb, bins) sums -> (count, D) descriptors."""
  out = jnp.stack([_normalise(xy.astype(jnp.float32)),
                   _normalise(xt.astype(jnp.float32)),
                   _normalise(yt.astype(jnp.float32))], axis=2)
  return out.reshape(count, -1).astype(jnp.float32)


def _time_planes(f_NHW):
  """XT planes (H, N, W) and YT planes (W, N, H) of a frame stack."""
  return f_NHW.transpose(1, 0, 2), f_NHW.transpose(2, 0, 1)


def _back(xt_HNW, yt_WNH):
  """Codes of XT / YT planes back to (N, H, W), indexed by (t, y, x)."""
  return xt_HNW.transpose(1, 0, 2), yt_WNH.transpose(1, 2, 0)


@functools.partial(jax.jit, static_argnames=("span", "grid"))
def lbp_top_positions(frames_NHW, span, grid):
  """LBP-TOP of the N - L + 1 positions of a frame stack: (P, D)."""
  n, h, w = frames_NHW.shape
  count = n - span + 1
  blocks = jnp.asarray(common.block_map(h, w, grid))
  nb, bins = grid[0] * grid[1], lbp.BINS
  hist = lambda codes: _frame_hists(codes, None, blocks, nb, bins)
  xy = _window_sum(hist(lbp.lbp_codes(frames_NHW)), 0, span - 1, count)
  xt_planes, yt_planes = _time_planes(frames_NHW)
  variants = [(0, 0, dict(row=0, zero_above=True)),
              (span - 1, span - 1, dict(row=span - 1, zero_below=True))]
  variants += [(a, b, dict(row=a)) for a, b in interior_row_runs(
      span, np.dtype(frames_NHW.dtype))]
  xt = yt = 0
  for a, b, kw in variants:
    xt_codes, yt_codes = _back(lbp.lbp_codes(xt_planes, **kw),
                               lbp.lbp_codes(yt_planes, **kw))
    xt = xt + _window_sum(hist(xt_codes), a, b, count)
    yt = yt + _window_sum(hist(yt_codes), a, b, count)
  return _as_positions(xy, xt, yt, count)


def _bins_and_weights(g_row, g_col, bins, magnitude):
  vals = gradients._orientation_bins(g_row, g_col, bins)  # pylint: disable=protected-access
  mag = jnp.sqrt(g_row * g_row + g_col * g_col)
  return vals, (mag if magnitude else (mag > 0)).astype(jnp.float32)


@functools.partial(jax.jit, static_argnames=("span", "grid", "bins",
                                              "magnitude"))
def gradient_top_positions(frames_NHW, span, grid, bins, magnitude):
  """HOG-TOP (`magnitude`) or HIGO-TOP of every position: (P, D)."""
  n, h, w = frames_NHW.shape
  count = n - span + 1
  blocks = jnp.asarray(common.block_map(h, w, grid))
  nb = grid[0] * grid[1]
  f = frames_NHW
  gy, gx = gradients._gradient(f, 1), gradients._gradient(f, 2)  # pylint: disable=protected-access
  zero = jnp.zeros_like(f[:1])
  diff = f[1:] - f[:-1]
  g_t = {  # the time gradient of a row as first, last or interior row
      "first": jnp.concatenate([diff, zero]),
      "last": jnp.concatenate([zero, diff]),
      "inner": jnp.concatenate([zero, (f[2:] - f[:-2]) / 2, zero]),
  }
  rows = {"first": (0, 0), "last": (span - 1, span - 1),
          "inner": (1, span - 2)}

  def hist(g_row, g_col):
    vals, wts = _bins_and_weights(g_row, g_col, bins, magnitude)
    return _frame_hists(vals, wts, blocks, nb, bins).astype(f.dtype)

  xy = _window_sum(hist(gy, gx), 0, span - 1, count)
  xt = yt = 0
  for name, (a, b) in rows.items():
    if b < a:  # no interior rows when L = 2
      continue
    xt = xt + _window_sum(hist(g_t[name], gx), a, b, count)
    yt = yt + _window_sum(hist(g_t[name], gy), a, b, count)
  return _as_positions(xy, xt, yt, count)
