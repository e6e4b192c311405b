"""Tests for mespot_jax.preprocess.lcn (equation 1 of Yap et al.).

`lcn` is checked against equation 1 evaluated by its definition one pixel
at a time (a 2-D Gaussian window with half-sample symmetric borders, no
code of `lcn.py`), against a small case worked by hand, and against the
invariances the paper gives LCN for.
"""
import math

import jax
import numpy as np
import pytest
from scipy import ndimage

from mespot_jax.preprocess import lcn as lcn_lib

SIGMA, SIZE, EPS = 2.0, 9, 1e-4
_lcn = jax.jit(lambda x: lcn_lib.lcn(x, sigma=SIGMA, kernel_size=SIZE, eps=EPS))
# With this sigma the 3 taps exp(-x^2 / (2 sigma^2)) are 2^(-x^2) = 1/2, 1,
# 1/2, which normalise to the binomial 1/4, 1/2, 1/4: sums a hand can do.
BINOMIAL_SIGMA = 1.0 / math.sqrt(2.0 * math.log(2.0))


def _mirror(i: int, n: int) -> int:
  """Index `i` into `0..n-1` by half-sample reflection (`abc|cba`)."""
  if i < 0:
    return -i - 1
  if i >= n:
    return 2 * n - 1 - i
  return i


def _pixelwise(img: np.ndarray, sigma=SIGMA, size=SIZE, eps=EPS):
  """Equation 1 by its definition, pixel by pixel, in float64.

  Args:
    img: (H, W) image, H and W larger than `size // 2`.
    sigma: Gaussian standard deviation.
    size: window side (odd).
    eps: denominator floor.

  Returns:
    (g, m_f, sigma_f, c): the output, local mean, local standard deviation
    and the image's mean local standard deviation.
  """
  img = np.asarray(img, np.float64)
  h, w = img.shape
  r = size // 2
  d = np.arange(-r, r + 1)
  window = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * sigma ** 2))
  window /= window.sum()

  def local_mean(a):
    out = np.empty_like(a)
    for y in range(h):
      rows = [_mirror(y + k, h) for k in d]
      for x in range(w):
        cols = [_mirror(x + k, w) for k in d]
        out[y, x] = (window * a[np.ix_(rows, cols)]).sum()
    return out

  m_f = local_mean(img)
  sigma_f = np.sqrt(local_mean((img - m_f) ** 2))
  c = sigma_f.mean()
  g = (img - m_f) / np.maximum(np.maximum(sigma_f, c), eps)
  return g, m_f, sigma_f, c


def _faces(seed=0, n=3, h=16, w=20):
  rng = np.random.default_rng(seed)
  imgs = rng.uniform(0.2, 0.8, (n, h, w))
  imgs[:, :, : w // 2] = 0.5   # a flat half, where sigma_f < c clamps
  return imgs.astype(np.float32)


def test_kernel_matches_scipy_gaussian():
  impulse = np.zeros(21)
  impulse[10] = 1.0
  expected = ndimage.gaussian_filter1d(impulse, SIGMA, truncate=4 / SIGMA)
  np.testing.assert_allclose(lcn_lib.gaussian_kernel_1d(SIGMA, SIZE),
                             expected[6:15], atol=1e-12)


def test_kernel_known_answer():
  np.testing.assert_allclose(lcn_lib.gaussian_kernel_1d(BINOMIAL_SIGMA, 3),
                             [0.25, 0.5, 0.25], atol=1e-12)


def test_blur_matches_scipy_gaussian_filter():
  img = _faces()[1]
  ours = np.asarray(lcn_lib.gaussian_blur(img, SIGMA, SIZE))
  ref = ndimage.gaussian_filter(img.astype(np.float64), SIGMA,
                                truncate=4 / SIGMA, mode="reflect")
  np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_matches_pixelwise_definition():
  imgs = _faces(h=12, w=14)
  out = np.asarray(_lcn(imgs))
  for img, got in zip(imgs, out):
    np.testing.assert_allclose(got, _pixelwise(img)[0], atol=1e-5)


def test_hand_worked_row():
  # Every row is 1 0 0 0 and taps are 1/4 1/2 1/4, so the vertical pass
  # changes nothing. Borders repeat the edge pixel (1|1 0 0 0|0):
  #   m_f       = 3/4, 1/4, 0, 0          f - m_f = 1/4, -1/4, 0, 0
  #   G*(f-m)^2 = 1/16, 3/64, 1/64, 0     sigma_f = 1/4, sqrt(3)/8, 1/8, 0
  #   c = (1/4 + sqrt(3)/8 + 1/8) / 4 = 0.148, below both non-zero sigma_f
  #   g = (1/4)/(1/4), (-1/4)/(sqrt(3)/8), 0, 0 = 1, -2/sqrt(3), 0, 0.
  # Zero padding (m_f = 1/2 at the left edge) or mirroring without the edge
  # pixel (m_f = 1/4) would give another first value.
  img = np.tile(np.array([1.0, 0.0, 0.0, 0.0], np.float32), (5, 1))
  got = np.asarray(lcn_lib.lcn(img, sigma=BINOMIAL_SIGMA, kernel_size=3))
  want = np.tile([1.0, -2.0 / math.sqrt(3.0), 0.0, 0.0], (5, 1))
  np.testing.assert_allclose(got, want, atol=1e-6)


def test_flat_region_is_divided_by_c():
  img = _faces(seed=2, h=12, w=14)[0]
  got = np.asarray(_lcn(img))
  _, m_f, sigma_f, c = _pixelwise(img)
  centred = img.astype(np.float64) - m_f
  clamped = sigma_f < c
  # Pixels near the flat half's edge have a non-zero numerator and a small
  # local deviation: there `max(sigma_f, c)` must pick c.
  informative = clamped & (np.abs(centred) > 1e-3)
  assert informative.any() and (~clamped).any()
  np.testing.assert_allclose(got[clamped], centred[clamped] / c, atol=1e-5)
  np.testing.assert_allclose(got[~clamped],
                             centred[~clamped] / sigma_f[~clamped], atol=1e-5)


def test_leading_axes_are_batch_axes():
  imgs = _faces(n=4)
  out = np.asarray(_lcn(imgs.reshape(2, 2, *imgs.shape[1:])))
  np.testing.assert_allclose(out.reshape(imgs.shape), np.asarray(_lcn(imgs)),
                             atol=1e-6)


def test_each_image_has_its_own_c():
  imgs = _faces(seed=3, n=2)
  imgs[1] = 0.5 + 0.1 * (imgs[1] - 0.5)   # a low-contrast second image
  batched = np.asarray(_lcn(imgs))
  for img, got in zip(imgs, batched):
    np.testing.assert_allclose(got, np.asarray(_lcn(img[None]))[0], atol=1e-6)


@pytest.mark.parametrize("a,b", [(0.5, 0.3), (1.7, -0.4), (0.2, 0.0)])
def test_brightness_contrast_invariance(a, b):
  imgs = _faces(seed=1)
  # Half of each image is flat, so part of it clamps to c
  # (test_flat_region_is_divided_by_c): the invariance must hold there too.
  base = np.asarray(_lcn(imgs))
  np.testing.assert_allclose(np.asarray(_lcn(a * imgs + b)), base, atol=2e-4)


def test_constant_image_is_finite_and_zero():
  out = np.asarray(_lcn(np.full((2, 16, 16), 0.37, np.float32)))
  assert np.isfinite(out).all()
  assert np.abs(out).max() < 1e-2


def test_rejects_even_kernel():
  with pytest.raises(ValueError, match="odd"):
    lcn_lib.gaussian_kernel_1d(2.0, 8)
