"""Image operations the flow solvers share: sampling, differences, resizing.

All functions work on the last two axes (`..._HW`), so they apply unchanged
to a single image and, under `jax.vmap` or with leading axes, to a batch.

* `bilinear_sample`: bilinear interpolation at real-valued coordinates with
  edge clamping (a coordinate outside the image reads the nearest border
  pixel), the `mode='edge'`, `order=1` reading of `skimage.transform.warp`.
* `central_gradient`: `numpy.gradient` semantics (central differences inside,
  one-sided first differences on the border rows and columns).
* `forward_diff` / `backward_div`: the discrete gradient and divergence of
  Chambolle's projection, a pair of adjoint operators (`<forward_diff(u), p>
  = -<u, backward_div(p)>`): the forward difference is zero on the last
  row/column (Neumann border) and the divergence is its negative adjoint.
* `resize_matrix`: a dense (n_out, n_in) matrix for one axis that blurs
  (optional Gaussian, half-sample symmetric border: `scipy.ndimage`'s
  `mode='reflect'`) and then resamples linearly with half-pixel centres
  (`src = (dst + 0.5) * n_in / n_out - 0.5`, clamped). An image is resized as
  `R_y @ img @ R_x.T`: two matrix products, which every backend runs well and
  which keep the shapes static for `jit`.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np

_HIGHEST = jax.lax.Precision.HIGHEST


def bilinear_sample(img_HW: jnp.ndarray, y_HW: jnp.ndarray,
                    x_HW: jnp.ndarray) -> jnp.ndarray:
  """Reads `img` at real coordinates (row `y`, column `x`), edge-clamped.

  Args:
    img_HW: (H, W) image, H, W >= 2.
    y_HW: row coordinates, any shape (the output has this shape).
    x_HW: column coordinates, same shape as `y_HW`.

  Returns:
    Interpolated values, shape of `y_HW`, dtype of `img_HW`.
  """
  h, w = img_HW.shape[-2:]
  y = jnp.clip(y_HW, 0.0, h - 1.0)
  x = jnp.clip(x_HW, 0.0, w - 1.0)
  # The lower corner stays one short of the last row/column so the upper
  # corner is always inside; at y = h - 1 the weight of the upper corner is 1.
  y0 = jnp.clip(jnp.floor(y), 0, h - 2).astype(jnp.int32)
  x0 = jnp.clip(jnp.floor(x), 0, w - 2).astype(jnp.int32)
  wy = y - y0
  wx = x - x0
  flat = img_HW.reshape(-1)
  i00 = y0 * w + x0
  v00 = flat[i00]
  v01 = flat[i00 + 1]
  v10 = flat[i00 + w]
  v11 = flat[i00 + w + 1]
  top = v00 + wx * (v01 - v00)
  bottom = v10 + wx * (v11 - v10)
  return top + wy * (bottom - top)


def _gradient_axis(f: jnp.ndarray, axis: int) -> jnp.ndarray:
  """`numpy.gradient(f, axis=axis)` (edge_order=1, unit spacing)."""
  n = f.shape[axis]
  take = lambda start, stop: jax.lax.slice_in_dim(f, start, stop, axis=axis)
  first = take(1, 2) - take(0, 1)
  last = take(n - 1, n) - take(n - 2, n - 1)
  inner = 0.5 * (take(2, n) - take(0, n - 2))
  return jnp.concatenate([first, inner, last], axis=axis)


def central_gradient(f_HW: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
  """Spatial derivatives of `f` as `numpy.gradient` computes them.

  Args:
    f_HW: array whose last two axes are rows (y) and columns (x), each >= 2.

  Returns:
    (df/dy, df/dx), each the shape of `f_HW`.
  """
  return _gradient_axis(f_HW, -2), _gradient_axis(f_HW, -1)


def forward_diff(f_HW: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
  """Forward differences along y and x; zero on the last row / column.

  Args:
    f_HW: array with rows and columns as its last two axes.

  Returns:
    (dy, dx), each the shape of `f_HW`.
  """
  zero_row = jnp.zeros_like(f_HW[..., :1, :])
  zero_col = jnp.zeros_like(f_HW[..., :, :1])
  dy = jnp.concatenate([f_HW[..., 1:, :] - f_HW[..., :-1, :], zero_row],
                       axis=-2)
  dx = jnp.concatenate([f_HW[..., :, 1:] - f_HW[..., :, :-1], zero_col],
                       axis=-1)
  return dy, dx


def backward_div(py_HW: jnp.ndarray, px_HW: jnp.ndarray) -> jnp.ndarray:
  """Divergence of (py, px), the negative adjoint of `forward_diff`.

  `div[i] = p[i] - p[i - 1]` with `p[-1] = 0`; the last row / column of a
  dual field built from `forward_diff` is zero, which gives the border rule
  `div[n - 1] = -p[n - 2]` of Chambolle's scheme.

  Args:
    py_HW: y component of the dual field.
    px_HW: x component, same shape.

  Returns:
    The divergence, same shape.
  """
  zero_row = jnp.zeros_like(py_HW[..., :1, :])
  zero_col = jnp.zeros_like(px_HW[..., :, :1])
  dy = py_HW - jnp.concatenate([zero_row, py_HW[..., :-1, :]], axis=-2)
  dx = px_HW - jnp.concatenate([zero_col, px_HW[..., :, :-1]], axis=-1)
  return dy + dx


def gaussian_taps(sigma: float, truncate: float = 4.0) -> np.ndarray:
  """Normalised Gaussian taps of radius `int(truncate * sigma + 0.5)`."""
  radius = int(truncate * sigma + 0.5)
  x = np.arange(-radius, radius + 1, dtype=np.float64)
  w = np.exp(-0.5 * (x / sigma) ** 2)
  return w / w.sum()


def _blur_matrix(n: int, sigma: float) -> np.ndarray:
  """(n, n) correlation with Gaussian taps, half-sample symmetric border."""
  taps = gaussian_taps(sigma)
  radius = len(taps) // 2
  m = np.zeros((n, n), np.float64)
  for i in range(n):
    for k, t in enumerate(taps):
      j = i + k - radius
      # abc|cba reflection, repeated for kernels wider than the image.
      while j < 0 or j >= n:
        j = -j - 1 if j < 0 else 2 * n - j - 1
      m[i, j] += t
  return m


def _linear_matrix(n_in: int, n_out: int) -> np.ndarray:
  """(n_out, n_in) linear resampling with half-pixel centres, clamped."""
  m = np.zeros((n_out, n_in), np.float64)
  src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
  src = np.clip(src, 0.0, n_in - 1.0)
  lo = np.clip(np.floor(src).astype(int), 0, max(n_in - 2, 0))
  frac = src - lo
  for i in range(n_out):
    m[i, lo[i]] += 1.0 - frac[i]
    if n_in > 1:
      m[i, lo[i] + 1] += frac[i]
  return m


def resize_matrix(n_in: int, n_out: int, sigma: float = 0.0) -> np.ndarray:
  """Matrix that blurs (if `sigma > 0`) then linearly resamples one axis.

  Args:
    n_in: input length.
    n_out: output length.
    sigma: Gaussian standard deviation in input pixels; 0 for none.

  Returns:
    (n_out, n_in) float32 numpy array.
  """
  m = _linear_matrix(n_in, n_out)
  if sigma > 0:
    m = m @ _blur_matrix(n_in, sigma)
  return m.astype(np.float32)


def apply_resize(img_HW: jnp.ndarray, ry: np.ndarray,
                 rx: np.ndarray) -> jnp.ndarray:
  """`ry @ img @ rx.T` on the last two axes (full float32 precision)."""
  out = jnp.einsum("ah,...hw->...aw", ry, img_HW, precision=_HIGHEST)
  return jnp.einsum("...aw,bw->...ab", out, rx, precision=_HIGHEST)


def pyramid_shapes(shape: tuple[int, int], downscale: float, max_levels: int,
                   min_size: int) -> list[tuple[int, int]]:
  """Shapes of a coarse-to-fine pyramid, finest first.

  The rule of `skimage.registration`'s pyramid: keep halving (by
  `downscale`, rounding up) while the level count is below `max_levels` and
  the smaller side exceeds `downscale * min_size`.

  Args:
    shape: (H, W) of the finest level.
    downscale: factor between levels (> 1).
    max_levels: the most levels, finest included (>= 1).
    min_size: the smallest side a level should keep.

  Returns:
    List of (h, w), finest first.
  """
  shapes = [tuple(shape)]
  while len(shapes) < max_levels and min(shapes[-1]) > downscale * min_size:
    h, w = shapes[-1]
    shapes.append((math.ceil(h / downscale), math.ceil(w / downscale)))
  return shapes
