"""Tests of mespot_jax.flow: TV-L1 (JAX), Farneback (OpenCV), optical strain.

Ground truth comes from the test images' construction, not from the code
under test: a greyscale photograph (skimage's `camera`, downsized) is
resampled with cubic splines (`scipy.ndimage.map_coordinates`, order 3, an
interpolator the solvers do not use) at known displacements. With I the
photograph and d the true flow:
  * translation: frame0(p) = I(p), frame1(p) = I(p - d);
  * smooth warp:  frame1(p) = I(p), frame0(p) = I(p + d(p));
both satisfy frame1(p + d(p)) = frame0(p), the convention of the module.
The end-point error (EPE) is averaged inside a margin of 8 pixels from the
border. The stated bounds hold with room (measured values in docs/FLOW.md).
All TV-L1 calls use 64x64 frames and the default parameters, so one
compiled function serves the whole file (plus one for the batched form).
"""
import functools

import jax
import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import data as skdata
from skimage import transform as sktransform
from skimage.registration import optical_flow_tvl1

from mespot_jax.errors import InputError
from mespot_jax.flow import farneback
from mespot_jax.flow import optical_strain
from mespot_jax.flow import tvl1
from mespot_jax.flow import tvl1_batch

SIZE = 64
PAD = 16
MARGIN = 8


@functools.lru_cache(maxsize=None)
def _photo() -> np.ndarray:
  """camera() in [0, 1], downsized 512 -> 192, cropped with a border."""
  img = skdata.camera().astype(np.float64) / 255.0
  img = sktransform.resize(img, (192, 192), anti_aliasing=True)
  return img[40:40 + SIZE + 2 * PAD, 60:60 + SIZE + 2 * PAD]


def _sample(dy, dx) -> np.ndarray:
  """I(p + (dy, dx)) on the SIZE x SIZE grid, cubic spline."""
  yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
  out = ndi.map_coordinates(_photo(), [yy + PAD + dy, xx + PAD + dx],
                            order=3, mode="reflect")
  return out.astype(np.float32)


def _translation(du: float, dv: float):
  return _sample(0.0, 0.0), _sample(-dv, -du)


def _smooth_warp():
  """A smooth, non-rigid warp of up to 1.5 px (x) and 1 px (y)."""
  yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
  u = 1.5 * np.sin(2 * np.pi * yy / SIZE)
  v = 1.0 * np.cos(2 * np.pi * xx / SIZE)
  return _sample(v, u), _sample(0.0, 0.0), u, v


def _inner(a: np.ndarray) -> np.ndarray:
  return a[MARGIN:-MARGIN, MARGIN:-MARGIN]


def _epe(flow_HW2, u, v) -> float:
  flow = np.asarray(flow_HW2)
  return float(_inner(np.hypot(flow[..., 0] - u, flow[..., 1] - v)).mean())


@pytest.mark.parametrize("du,dv,bound", [
    (0.5, -0.3, 0.15),    # sub-pixel (measured 0.09)
    (2.0, 1.0, 0.05),     # a few pixels (measured 0.01)
    (-3.0, 2.5, 0.12),    # a few pixels, the coarse level needed (0.07)
])
def test_tvl1_known_translation(du, dv, bound):
  f0, f1 = _translation(du, dv)
  flow = tvl1(f0, f1)
  assert flow.shape == (SIZE, SIZE, 2) and flow.dtype == np.float32
  assert _epe(flow, du, dv) < bound
  # A zero flow would be far outside the bound: the test can fail.
  assert np.hypot(du, dv) > 3 * bound


def test_tvl1_sign_convention_on_integer_roll():
  """frame1 = frame0 moved 2 px right and 1 px down: u = +2, v = +1."""
  f0 = _sample(0.0, 0.0)
  f1 = np.roll(f0, (1, 2), axis=(0, 1))
  mean_uv = _inner(np.asarray(tvl1(f0, f1))).mean(axis=(0, 1))
  np.testing.assert_allclose(mean_uv, [2.0, 1.0], atol=0.02)


def test_tvl1_smooth_warp_of_photograph():
  f0, f1, u, v = _smooth_warp()
  assert _epe(tvl1(f0, f1), u, v) < 0.3            # measured 0.21
  assert _epe(np.zeros((SIZE, SIZE, 2)), u, v) > 1.0


def test_tvl1_matches_skimage_up_to_channel_order():
  """Same algorithm and defaults: skimage's (v, u) equals our (u, v)."""
  f0, f1, _, _ = _smooth_warp()
  ours = np.asarray(tvl1(f0, f1))
  v_sk, u_sk = optical_flow_tvl1(f0, f1)
  diff = _inner(np.abs(ours - np.stack([u_sk, v_sk], axis=-1)))
  # Measured: mean 0.007 px, 95th percentile 0.03 px (no early stop here,
  # bilinear instead of nearest upsampling between levels).
  assert diff.mean() < 0.03
  assert np.quantile(diff, 0.95) < 0.1


def test_farneback_convention_and_agreement_with_tvl1():
  f0 = _sample(0.0, 0.0)
  f1 = np.roll(f0, (1, 2), axis=(0, 1))
  fb = farneback(f0, f1)
  assert fb.shape == (SIZE, SIZE, 2) and fb.dtype == np.float32
  np.testing.assert_allclose(_inner(fb).mean(axis=(0, 1)), [2.0, 1.0],
                             atol=0.05)
  f0, f1 = _translation(2.0, 1.0)
  diff = _inner(np.abs(farneback(f0, f1) - np.asarray(tvl1(f0, f1))))
  assert diff.mean() < 0.05


@pytest.mark.parametrize("vectorize", ["vmap", "map"])
def test_tvl1_batch_equals_per_pair(vectorize):
  f0a, f1a = _translation(2.0, 1.0)
  f0b, f1b, _, _ = _smooth_warp()
  batch = np.asarray(tvl1_batch(np.stack([f0a, f0b]), np.stack([f1a, f1b]),
                                vectorize=vectorize))
  assert batch.shape == (2, SIZE, SIZE, 2)
  np.testing.assert_allclose(batch[0], tvl1(f0a, f1a), atol=1e-3)
  np.testing.assert_allclose(batch[1], tvl1(f0b, f1b), atol=1e-3)


def test_tvl1_composes_with_an_outer_vmap():
  f0, f1 = _translation(2.0, 1.0)
  flows = jax.vmap(tvl1)(np.stack([f0, f1]), np.stack([f1, f0]))
  np.testing.assert_allclose(flows[0], tvl1(f0, f1), atol=1e-3)
  # Swapping the frames reverses a translation.
  np.testing.assert_allclose(_inner(np.asarray(flows[1])).mean(axis=(0, 1)),
                             [-2.0, -1.0], atol=0.05)


def test_tvl1_integer_frames_are_scaled_to_unit_range():
  f0, f1 = _translation(2.0, 1.0)
  to_u8 = lambda a: np.clip(np.round(a * 255), 0, 255).astype(np.uint8)
  from_u8 = tvl1(to_u8(f0), to_u8(f1))
  as_float = tvl1(to_u8(f0) / np.float32(255), to_u8(f1) / np.float32(255))
  np.testing.assert_allclose(from_u8, as_float, atol=1e-3)


def test_bad_inputs_raise_input_error():
  f0 = np.zeros((SIZE, SIZE), np.float32)
  with pytest.raises(InputError, match="one shape"):
    tvl1(f0, np.zeros((SIZE, SIZE + 1), np.float32))
  with pytest.raises(InputError, match="unknown parameter"):
    tvl1(f0, f0, lam=0.1)
  with pytest.raises(InputError, match="num_warp"):
    tvl1(f0, f0, num_warp=0)
  with pytest.raises(InputError, match="one shape"):
    farneback(f0, f0[None])
  with pytest.raises(InputError, match=r"\(\.\.\., H, W, 2\)"):
    optical_strain(np.zeros((SIZE, SIZE, 3)))


def test_optical_strain_of_affine_flow_is_hand_worked_value():
  """u = a x + b y, v = c x + d y: e_xx = a, e_yy = d, e_xy = (b + c) / 2.

  a, b, c, d = 0.1, 0.2, 0.0, -0.05:
  |eps| = sqrt(0.01 + 0.0025 + 2 * 0.1^2) = sqrt(0.0325) = 0.180278.
  """
  yy, xx = np.mgrid[0:7, 0:9].astype(np.float32)
  flow = np.stack([0.1 * xx + 0.2 * yy, 0.0 * xx - 0.05 * yy], axis=-1)
  strain = np.asarray(optical_strain(flow))
  assert strain.shape == (7, 9)
  np.testing.assert_allclose(strain, 0.180278, atol=1e-5)   # border too


def test_optical_strain_ignores_rigid_motion_and_keeps_batch_axes():
  yy, xx = np.mgrid[0:6, 0:6].astype(np.float32)
  w = 0.03   # a small rotation: u = -w y, v = w x (plus a translation)
  rigid = np.stack([-w * yy + 1.5, w * xx - 0.7], axis=-1)
  shear = np.stack([0.4 * yy, np.zeros_like(yy)], axis=-1)  # e_xy = 0.2
  strain = np.asarray(optical_strain(np.stack([rigid, shear])))
  assert strain.shape == (2, 6, 6)
  np.testing.assert_allclose(strain[0], 0.0, atol=1e-6)
  np.testing.assert_allclose(strain[1], np.sqrt(2 * 0.2**2), atol=1e-6)
