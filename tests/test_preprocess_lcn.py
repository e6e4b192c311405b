"""Tests for mespot_jax.preprocess.lcn (equation 1 of Yap et al.)."""
import jax
import numpy as np
import pytest
from scipy import ndimage

from mespot_jax.preprocess import lcn as lcn_lib

SIGMA, SIZE, EPS = 2.0, 9, 1e-4
_lcn = jax.jit(lambda x: lcn_lib.lcn(x, sigma=SIGMA, kernel_size=SIZE, eps=EPS))


def _reference(img: np.ndarray) -> np.ndarray:
  """Equation 1 in float64 with SciPy's separable filter, mode='reflect'."""
  taps = lcn_lib.gaussian_kernel_1d(SIGMA, SIZE)

  def blur(a):
    a = ndimage.correlate1d(a, taps, axis=0, mode="reflect")
    return ndimage.correlate1d(a, taps, axis=1, mode="reflect")

  centred = img - blur(img)
  std = np.sqrt(blur(centred ** 2))
  return centred / np.maximum(np.maximum(std, std.mean()), EPS)


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


def test_blur_matches_scipy_gaussian_filter():
  img = _faces()[1]
  ours = np.asarray(lcn_lib.gaussian_blur(img, SIGMA, SIZE))
  ref = ndimage.gaussian_filter(img.astype(np.float64), SIGMA,
                                truncate=4 / SIGMA, mode="reflect")
  np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_matches_reference_per_image():
  imgs = _faces()
  out = np.asarray(_lcn(imgs))
  for img, got in zip(imgs, out):
    np.testing.assert_allclose(got, _reference(img.astype(np.float64)),
                               atol=1e-5)


def test_leading_axes_are_batch_axes():
  imgs = _faces(n=4)
  out = np.asarray(_lcn(imgs.reshape(2, 2, *imgs.shape[1:])))
  np.testing.assert_allclose(out.reshape(imgs.shape), np.asarray(_lcn(imgs)),
                             atol=1e-6)


@pytest.mark.parametrize("a,b", [(0.5, 0.3), (1.7, -0.4), (0.2, 0.0)])
def test_brightness_contrast_invariance(a, b):
  imgs = _faces(seed=1)
  # Half of each image is flat, so part of it clamps to c
  # (test_flat_region_is_divided_by_c): the invariance must hold there too.
  base = np.asarray(_lcn(imgs))
  np.testing.assert_allclose(np.asarray(_lcn(a * imgs + b)), base, atol=2e-4)


def test_flat_region_is_divided_by_c():
  img = _faces(seed=2)[0].astype(np.float64)
  ref = _reference(img)
  blurred = ndimage.gaussian_filter(img, SIGMA, truncate=4 / SIGMA,
                                    mode="reflect")
  centred = img - blurred
  std = np.sqrt(ndimage.gaussian_filter(centred ** 2, SIGMA, truncate=4 / SIGMA,
                                        mode="reflect"))
  clamped = std < std.mean()
  assert clamped.any() and (~clamped).any()
  np.testing.assert_allclose(ref[clamped], centred[clamped] / std.mean(),
                             rtol=1e-9)


def test_constant_image_is_finite_and_zero():
  out = np.asarray(_lcn(np.full((2, 16, 16), 0.37, np.float32)))
  assert np.isfinite(out).all()
  assert np.abs(out).max() < 1e-2


def test_rejects_even_kernel():
  with pytest.raises(ValueError, match="odd"):
    lcn_lib.gaussian_kernel_1d(2.0, 8)
