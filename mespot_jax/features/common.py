"""What the three-orthogonal-planes descriptors share: planes, blocks, sums.

A descriptor reads one position's volume `v_THW` (its L grey frames) on
three kinds of planes: the XY slices `v[t]` (rows y, columns x), the XT
slices `v[:, y, :]` (rows t, columns x) and the YT slices `v[:, :, x]`
(rows t, columns y). Every pixel of a plane has a spatial location (y, x),
and the face is cut into a `grid` of (rows, cols) blocks over (y, x), split
as `numpy.array_split` splits (the first blocks take the remainder). A
block's histogram of a plane kind sums the values of every pixel of every
slice of that kind whose (y, x) lies in the block; each histogram is then
normalised to sum to 1 (an all-zero histogram stays zero). The descriptor
is the concatenation block by block, row-major, of [XY, XT, YT].

Precision: `precision="float64"` (the default) computes in float64 inside
`jax.enable_x64`, which reproduces scikit-image's LBP codes bit for bit
(its bilinear samples are float64, and ties between a sample and the
centre are decided by float64 rounding, which depends on the pixel's row
and column). `"float32"` is for backends without float64 (TPU): codes then
differ from scikit-image's only at such ties.
"""
import contextlib

import jax
import jax.numpy as jnp
import numpy as np

PRECISIONS = ("float64", "float32")


def check_grid(grid, height: int, width: int) -> tuple[int, int]:
  """`grid` as two positive ints no larger than the frame."""
  rows, cols = (int(g) for g in grid)
  if not (1 <= rows <= height and 1 <= cols <= width):
    raise ValueError(f"grid={tuple(grid)} for frames of {height}x{width}; "
                     "expected 1 <= rows <= height and 1 <= cols <= width")
  return rows, cols


def block_map(height: int, width: int, grid) -> np.ndarray:
  """(H, W) int32: the row-major block index of every pixel (y, x), blocks
  split as `numpy.array_split` splits each axis."""
  rows, cols = check_grid(grid, height, width)
  by = np.concatenate([np.full(len(a), i) for i, a in enumerate(
      np.array_split(np.arange(height), rows))])
  bx = np.concatenate([np.full(len(a), i) for i, a in enumerate(
      np.array_split(np.arange(width), cols))])
  return (by[:, None] * cols + bx[None, :]).astype(np.int32)


def plane_histograms(values_xy, values_xt, values_yt, weights, blocks_HW,
                     num_blocks: int, bins: int):
  """Normalised block histograms of the three plane kinds, concatenated.

  Args:
    values_xy: (T, H, W) int bin of every XY-plane pixel.
    values_xt: (T, H, W) int bin of every XT-plane pixel (indexed by the
      volume's (t, y, x) like the others).
    values_yt: (T, H, W) likewise for the YT planes.
    weights: None (counts) or three (T, H, W) weight arrays.
    blocks_HW: (H, W) block index of each (y, x).
    num_blocks: rows * cols.
    bins: histogram bins per plane.

  Returns:
    (num_blocks * 3 * bins,) float32: per block [XY, XT, YT], each summing
    to 1 (or all zero).
  """
  hists = []
  for k, vals in enumerate((values_xy, values_xt, values_yt)):
    idx = (blocks_HW[None] * bins + vals).reshape(-1)
    w = (jnp.ones(idx.shape, jnp.float32) if weights is None
         else weights[k].reshape(-1))
    h = jax.ops.segment_sum(w, idx, num_segments=num_blocks * bins)
    h = h.reshape(num_blocks, bins)
    total = h.sum(axis=1, keepdims=True)
    hists.append(jnp.where(total > 0, h / jnp.where(total > 0, total, 1), 0))
  return jnp.stack(hists, axis=1).reshape(-1).astype(jnp.float32)


def precision_scope(precision: str):
  """A context enabling float64 when `precision` asks for it."""
  if precision not in PRECISIONS:
    raise ValueError(f"precision={precision!r}; expected one of "
                     f"{PRECISIONS}")
  return (jax.enable_x64(True) if precision == "float64"
          else contextlib.nullcontext())


def float_dtype(precision: str):
  return jnp.float64 if precision == "float64" else jnp.float32


def as_volumes(volume, precision: str):
  """(T, H, W) or (N, T, H, W) -> (N, T, H, W) float array (call inside
  `precision_scope`), and whether the input was a single volume."""
  v = np.asarray(volume)
  if v.ndim not in (3, 4):
    raise ValueError(f"volume of shape {v.shape}; expected (T, H, W) or "
                     "(N, T, H, W) grey frames")
  single = v.ndim == 3
  v = v[None] if single else v
  if v.shape[1] < 2 or v.shape[2] < 2 or v.shape[3] < 2:
    raise ValueError(f"volume of shape {v.shape[1:]}; expected at least 2 "
                     "frames of at least 2x2 pixels")
  return jnp.asarray(v, float_dtype(precision)), single
