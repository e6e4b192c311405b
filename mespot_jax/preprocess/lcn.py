"""Local contrast normalisation (LCN), equation 1 of Yap et al.

    g(x, y) = (f(x, y) - m_f(x, y)) / max(sigma_f(x, y), c)

with the Gaussian-weighted forms of Jarrett et al. (2009), which the paper
cites for LCN:

    m_f     = G * f                      (local mean)
    sigma_f = sqrt(G * (f - m_f)^2)      (local standard deviation)
    c       = mean over the image of sigma_f   (one value per image)

`G` is a normalised, truncated 2-D Gaussian (`kernel_size` taps per axis,
standard deviation `sigma`), applied as two 1-D passes because it is
separable. Borders use symmetric ("half-sample") reflection, `abc|cba`, which
is `scipy.ndimage`'s `mode="reflect"`; the tests compare against
`scipy.ndimage.correlate1d` with that mode.

Brightness/contrast invariance: for `a * f + b` with `a > 0` the numerator
and both terms of the denominator scale by `a`, so the output is unchanged
(up to the `eps` floor below). A constant image has `f - m_f = 0` (up to
rounding) and `sigma_f = c = 0`; the denominator is therefore floored at
`eps` so the output stays finite (and ~0) instead of rounding noise divided
by rounding noise.

Defaults (9 taps, sigma 2) suit 112x112 face crops: the window spans about a
twelfth of the face, the scale of a brow or mouth corner.
"""
import jax.numpy as jnp
import numpy as np

DEFAULT_SIGMA = 2.0
DEFAULT_KERNEL_SIZE = 9
DEFAULT_EPS = 1e-4


def gaussian_kernel_1d(sigma: float = DEFAULT_SIGMA,
                       kernel_size: int = DEFAULT_KERNEL_SIZE) -> np.ndarray:
  """Normalised 1-D Gaussian taps (odd length, centred).

  Args:
    sigma: standard deviation in pixels (> 0).
    kernel_size: number of taps; must be odd and >= 1.

  Returns:
    (kernel_size,) float64 array summing to 1; equal to the kernel
    `scipy.ndimage.gaussian_filter` uses with `radius = kernel_size // 2`.
  """
  if kernel_size < 1 or kernel_size % 2 != 1:
    raise ValueError(f"LCN kernel_size must be odd and >= 1, got {kernel_size}")
  if sigma <= 0:
    raise ValueError(f"LCN sigma must be > 0, got {sigma}")
  radius = kernel_size // 2
  x = np.arange(-radius, radius + 1, dtype=np.float64)
  w = np.exp(-0.5 * (x / sigma) ** 2)
  return w / w.sum()


def _blur_axis(x: jnp.ndarray, taps: np.ndarray, axis: int) -> jnp.ndarray:
  """Correlates `x` with `taps` along `axis`, symmetric-reflect borders."""
  radius = len(taps) // 2
  if x.shape[axis] <= radius:
    # jnp.pad "symmetric" needs the pad to fit in the image; a crop this
    # small cannot be a face.
    raise ValueError(
        f"LCN needs images larger than {radius} pixels per side, got shape "
        f"{x.shape}")
  pad = [(0, 0)] * x.ndim
  pad[axis] = (radius, radius)
  xp = jnp.pad(x, pad, mode="symmetric")
  n = x.shape[axis]
  # A short sum of shifted slices: XLA fuses it into one loop, which on CPU
  # is faster than a 1-channel convolution call.
  out = None
  for i, w in enumerate(taps):
    term = float(w) * _slice(xp, i, n, axis)
    out = term if out is None else out + term
  return out


def _slice(x: jnp.ndarray, start: int, size: int, axis: int) -> jnp.ndarray:
  idx = [slice(None)] * x.ndim
  idx[axis] = slice(start, start + size)
  return x[tuple(idx)]


def gaussian_blur(x_HW: jnp.ndarray, sigma: float = DEFAULT_SIGMA,
                  kernel_size: int = DEFAULT_KERNEL_SIZE) -> jnp.ndarray:
  """Separable Gaussian blur over the last two axes (symmetric borders).

  Args:
    x_HW: (..., H, W) float array.
    sigma: Gaussian standard deviation in pixels.
    kernel_size: taps per axis (odd).

  Returns:
    Array of the same shape and dtype.
  """
  taps = gaussian_kernel_1d(sigma, kernel_size)
  return _blur_axis(_blur_axis(x_HW, taps, x_HW.ndim - 2), taps, x_HW.ndim - 1)


def lcn(x_HW: jnp.ndarray, sigma: float = DEFAULT_SIGMA,
        kernel_size: int = DEFAULT_KERNEL_SIZE,
        eps: float = DEFAULT_EPS) -> jnp.ndarray:
  """Local contrast normalisation of a batch of single-channel images.

  Jittable; every leading axis is a batch axis and each (H, W) image gets its
  own `c`.

  Args:
    x_HW: (..., H, W) float array of grey images (any brightness scale).
    sigma: Gaussian standard deviation in pixels.
    kernel_size: Gaussian taps per axis (odd).
    eps: floor of the denominator, so a flat image maps to ~0 instead of
      dividing rounding noise by rounding noise. Relative to pixels in [0, 1].

  Returns:
    (..., H, W) float array `(f - m_f) / max(sigma_f, c, eps)`.
  """
  x_HW = jnp.asarray(x_HW)
  if x_HW.ndim < 2:
    raise ValueError(f"lcn expects (..., H, W) images, got shape {x_HW.shape}")
  if not jnp.issubdtype(x_HW.dtype, jnp.floating):
    x_HW = x_HW.astype(jnp.float32)
  centred = x_HW - gaussian_blur(x_HW, sigma, kernel_size)
  local_std = jnp.sqrt(gaussian_blur(centred * centred, sigma, kernel_size))
  c = jnp.mean(local_std, axis=(-2, -1), keepdims=True)
  return centred / jnp.maximum(jnp.maximum(local_std, c), eps)
