"""LBP-TOP: uniform local binary patterns on three orthogonal planes.

The codes of each plane are exactly those of
`skimage.feature.local_binary_pattern(plane, P=8, R=1,
method="nri_uniform")` (59 codes): the eight neighbours lie on the unit
circle at angles 2*pi*i/8 (offsets rounded to 5 decimals as scikit-image
rounds them), the four diagonal ones sampled by bilinear interpolation in
scikit-image's order of operations, with pixels outside the plane read as 0
(its constant border); a neighbour sets its bit when sample - centre >= 0.
Patterns with at most two 0/1 changes along the circle (read from
neighbour 0 to 7, not wrapping, as scikit-image does) are uniform: all
zeros -> 0, all ones -> 57, otherwise 1 + (ones - 1) * 8 + rotation; every
other pattern -> 58.

`lbp_top(volume, grid)` applies it to every XY, XT and YT slice of a
position's volume and histograms the codes per block (`common`).
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from mespot_jax.features import common

P = 8
BINS = P * (P - 1) + 3  # 59
_ANGLES = 2 * np.pi * np.arange(P, dtype=np.float64) / P
RP = np.round(-np.sin(_ANGLES), 5)  # row offsets (scikit-image's rounding)
CP = np.round(np.cos(_ANGLES), 5)  # column offsets


def _rounded(x, opaque_zero):
  """`x`, with every element forced to be rounded where it is computed.

  XLA fuses a multiply into the add that reads it (one FMA, rounded once),
  which decides some sample-centre ties unlike scikit-image's compiled
  loop, where each product is rounded. An integer XOR with a zero the
  compiler cannot prove zero (`planes != planes`: NaN only) stands between
  them.
  """
  itype = jnp.int64 if x.dtype == jnp.float64 else jnp.int32
  bits = jax.lax.bitcast_convert_type(x, itype) ^ opaque_zero.astype(itype)
  return jax.lax.bitcast_convert_type(bits, x.dtype)


def lbp_codes(planes_NRC, row=None, zero_above=False, zero_below=False):
  """nri_uniform LBP codes (P=8, R=1) of a stack of planes.

  Args:
    planes_NRC: (N, R, C) float planes (float64 for scikit-image's codes).
    row: None: each row's own index (a plane as scikit-image sees it); an
      int: every row computed as if it were that row of its plane (the
      bilinear weights depend on the row index through float rounding;
      `features.sliding` uses it).
    zero_above: read the rows above every row as 0 (as above a plane's
      first row).
    zero_below: likewise below every row.

  Returns:
    (N, R, C) int32 codes in [0, 58].
  """
  n, rows, cols = planes_NRC.shape
  dt = planes_NRC.dtype
  pad = jnp.pad(planes_NRC, ((0, 0), (1, 1), (1, 1)))  # constant 0 border
  r = (jnp.arange(rows, dtype=dt) if row is None
       else jnp.full((rows,), row, dt))[:, None]
  c = jnp.arange(cols, dtype=dt)[None, :]
  opaque = planes_NRC != planes_NRC  # all False (True only at NaN)

  def pixel(di, dj):
    if (di < 0 and zero_above) or (di > 0 and zero_below):
      return jnp.zeros_like(planes_NRC)
    return pad[:, 1 + di:1 + di + rows, 1 + dj:1 + dj + cols]

  bits = []
  for i in range(P):
    rr, cc = r + RP[i], c + CP[i]
    minr, minc = jnp.floor(rr), jnp.floor(cc)
    dr, dc = rr - minr, cc - minc
    # floor/ceil of (index + offset) is index + floor/ceil(offset) for every
    # index: the corners are fixed shifts of the plane.
    fr, cr = int(np.floor(RP[i])), int(np.ceil(RP[i]))
    fc, cc_ = int(np.floor(CP[i])), int(np.ceil(CP[i]))
    rnd = lambda x: _rounded(x, opaque)
    top = rnd((1 - dc) * pixel(fr, fc)) + rnd(dc * pixel(fr, cc_))
    bottom = rnd((1 - dc) * pixel(cr, fc)) + rnd(dc * pixel(cr, cc_))
    texture = rnd((1 - dr) * top) + rnd(dr * bottom)
    bits.append((texture - planes_NRC >= 0).astype(jnp.int32))
  s = jnp.stack(bits)  # (P, N, R, C)
  changes = jnp.sum(s[:-1] != s[1:], axis=0)
  ones = s.sum(axis=0)
  first_one = jnp.argmax(s, axis=0)
  first_zero = jnp.argmax(1 - s, axis=0)
  rotation = jnp.where(first_one == 0, ones - first_zero, P - first_one)
  uniform = jnp.where(ones == 0, 0, jnp.where(
      ones == P, P * (P - 1) + 1, 1 + (ones - 1) * P + rotation))
  return jnp.where(changes <= 2, uniform, P * (P - 1) + 2).astype(jnp.int32)


def _one(v_THW, blocks_HW, num_blocks):
  """LBP-TOP of one volume."""
  xy = lbp_codes(v_THW)
  xt = lbp_codes(v_THW.transpose(1, 0, 2)).transpose(1, 0, 2)
  yt = lbp_codes(v_THW.transpose(2, 0, 1)).transpose(1, 2, 0)
  return common.plane_histograms(xy, xt, yt, None, blocks_HW, num_blocks,
                                 BINS)


@functools.partial(jax.jit, static_argnames=("grid",))
def lbp_top_batch(volumes_NTHW, grid):
  """`lbp_top` of a batch of volumes (vmapped, jitted): (N, D) float32."""
  _, _, h, w = volumes_NTHW.shape
  blocks = jnp.asarray(common.block_map(h, w, grid))
  return jax.vmap(lambda v: _one(v, blocks, grid[0] * grid[1]))(
      volumes_NTHW)


def lbp_top(volume, grid=(1, 1), precision: str = "float64"):
  """LBP-TOP of one position's volume (or a batch of them).

  Args:
    volume: (T, H, W) grey frames (any real dtype; uint8 frames are exact),
      or (N, T, H, W).
    grid: (rows, cols) blocks over the face, split as `numpy.array_split`.
    precision: "float64" (scikit-image's codes exactly) or "float32".

  Returns:
    (rows * cols * 3 * 59,) float32 (or (N, that)): per block, row-major,
    the XY, XT and YT code histograms, each summing to 1.
  """
  with common.precision_scope(precision):
    v, single = common.as_volumes(volume, precision)
    grid = common.check_grid(grid, v.shape[2], v.shape[3])
    out = lbp_top_batch(v, grid)
    return out[0] if single else out


def feature_size(grid) -> int:
  return int(grid[0]) * int(grid[1]) * 3 * BINS
