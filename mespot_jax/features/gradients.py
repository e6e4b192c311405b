"""HOG-TOP and HIGO-TOP: gradient orientation histograms on three planes.

Gradients are those of `numpy.gradient` of the volume (central
differences inside, one-sided differences at the first and last sample of
each axis): g_t, g_y, g_x. On a plane the gradient is its two in-plane
components (row, column): XY (g_y, g_x), XT (g_t, g_x), YT (g_t, g_y). Its
orientation is unsigned, theta = arctan2(row, column) mod pi in [0, pi),
quantised into `bins` equal bins (bin = floor(theta * bins / pi), at most
bins - 1); its magnitude is sqrt(row^2 + column^2).

HOG-TOP weights each pixel by its magnitude; HIGO-TOP (Li et al.'s
"degraded" HOG) counts pixels, each pixel with a non-zero gradient once
(a pixel without gradient has no orientation, and it adds nothing to
HOG-TOP either). Histograms per block and plane kind as in `common`.
Adding a constant to the volume changes no gradient, so both descriptors
are invariant to a brightness offset.
"""
import functools

import jax
import jax.numpy as jnp

from mespot_jax.features import common


def _gradient(v, axis):
  """`numpy.gradient` along one axis (unit spacing, edge_order=1)."""
  n = v.shape[axis]
  take = lambda a, b: jax.lax.slice_in_dim(v, a, b, axis=axis)
  inner = (take(2, n) - take(0, n - 2)) / 2
  first = take(1, 2) - take(0, 1)
  last = take(n - 1, n) - take(n - 2, n - 1)
  return jnp.concatenate([first, inner, last], axis=axis)


def _orientation_bins(g_row, g_col, bins):
  theta = jnp.mod(jnp.arctan2(g_row, g_col), jnp.pi)
  b = jnp.floor(theta * (bins / jnp.pi)).astype(jnp.int32)
  return jnp.clip(b, 0, bins - 1)


def _one(v_THW, blocks_HW, num_blocks, bins, magnitude):
  gt, gy, gx = (_gradient(v_THW, a) for a in range(3))
  planes = ((gy, gx), (gt, gx), (gt, gy))  # XY, XT, YT: (row, column)
  vals, weights = [], []
  for g_row, g_col in planes:
    vals.append(_orientation_bins(g_row, g_col, bins))
    mag = jnp.sqrt(g_row * g_row + g_col * g_col)
    weights.append((mag if magnitude else (mag > 0)).astype(jnp.float32))
  return common.plane_histograms(*vals, weights, blocks_HW, num_blocks, bins)


@functools.partial(jax.jit, static_argnames=("grid", "bins", "magnitude"))
def gradient_top_batch(volumes_NTHW, grid, bins, magnitude):
  """HOG-TOP (`magnitude`) or HIGO-TOP of a batch: (N, D) float32."""
  _, _, h, w = volumes_NTHW.shape
  blocks = jnp.asarray(common.block_map(h, w, grid))
  return jax.vmap(lambda v: _one(v, blocks, grid[0] * grid[1], bins,
                                 magnitude))(volumes_NTHW)


def _descriptor(volume, grid, bins, precision, magnitude):
  if int(bins) < 1:
    raise ValueError(f"bins={bins}; expected at least 1")
  with common.precision_scope(precision):
    v, single = common.as_volumes(volume, precision)
    grid = common.check_grid(grid, v.shape[2], v.shape[3])
    out = gradient_top_batch(v, grid, int(bins), magnitude)
    return out[0] if single else out


def hog_top(volume, grid=(1, 1), bins: int = 8, precision: str = "float64"):
  """HOG-TOP of one position's volume (T, H, W) (or a batch (N, T, H, W)).

  Returns:
    (rows * cols * 3 * bins,) float32 (or (N, that)): per block, row-major,
    the magnitude-weighted XY, XT and YT orientation histograms, each
    summing to 1 (all zero where the block has no gradient).
  """
  return _descriptor(volume, grid, bins, precision, True)


def higo_top(volume, grid=(1, 1), bins: int = 8, precision: str = "float64"):
  """HIGO-TOP: as `hog_top`, counting pixels instead of weighting them."""
  return _descriptor(volume, grid, bins, precision, False)


def feature_size(grid, bins) -> int:
  return int(grid[0]) * int(grid[1]) * 3 * int(bins)
