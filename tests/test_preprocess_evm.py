"""Tests of mespot_jax.preprocess.evm (Eulerian video magnification).

The clip is a vertical grating I(x, t) = 0.5 + 0.25 cos(k (x - d(t))),
wavelength 32 px, translating by d(t) = A sin(2 pi f t), A = 0.25 px,
f = 2 Hz at 30 fps. The displacement of a frame is read from the phase of
its grating over one full wavelength in the middle of the frame:
d = -angle(sum_x I(x) exp(-i k x)) / k.

Hand-worked size of the magnified motion (ideal band-pass containing f,
every band amplified by alpha): cos(k d) keeps only its even harmonics, out
of the band; sin(k d) contributes 2 J1(kA) sin(wt) in the band, so

  out = 0.5 + 0.25 [cos kx cos kd + sin kx (sin kd + 2 alpha J1(kA) sin wt)]

and at the peak (sin wt = 1, kA = 0.0490874):
  phase = atan((sin kA + 2 alpha J1(kA)) / cos kA),
  alpha = 4: (0.0490677 + 0.1962899) / 0.9987955 = 0.2456537,
  atan = 0.2408895 rad, / k = 1.2268 px
(the first-order ideal, (1 + alpha) A, is 1.25 px).
"""
import numpy as np
import pytest
from scipy import signal

from mespot_jax.errors import InputError
from mespot_jax.preprocess import evm

FPS = 30.0
WAVELENGTH = 32.0
K = 2 * np.pi / WAVELENGTH
AMP = 0.25


def _clip(freq_hz: float, num_frames: int, h: int = 16, w: int = 64):
  t = np.arange(num_frames) / FPS
  d_T = AMP * np.sin(2 * np.pi * freq_hz * t)
  x = np.arange(w, dtype=np.float64)
  rows = 0.5 + 0.25 * np.cos(K * (x[None, :] - d_T[:, None]))   # (T, W)
  frames = np.repeat(rows[:, None, :], h, axis=1).astype(np.float32)
  return frames, d_T


def _displacement(frames_THW) -> np.ndarray:
  """Per-frame grating displacement from its phase (columns 16..47)."""
  rows = np.asarray(frames_THW, np.float64).mean(axis=1)[:, 16:48]
  x = np.arange(16, 48)
  coef = ((rows - rows.mean(axis=1, keepdims=True)) *
          np.exp(-1j * K * x)).sum(axis=1)
  return -np.angle(coef) / K


def _gain(d_out, d_in) -> float:
  """Least-squares g with d_out ~= g d_in."""
  return float(np.dot(d_out, d_in) / np.dot(d_in, d_in))


_ALL_BANDS = dict(lambda_c=0.0, amplify_finest=True, amplify_coarsest=True,
                  levels=3)


def test_measurement_reads_the_true_displacement():
  frames, d_T = _clip(2.0, 60)
  np.testing.assert_allclose(_displacement(frames), d_T, atol=1e-6)


def test_alpha_zero_returns_the_clip():
  frames, _ = _clip(2.0, 60)
  out = evm.magnify(frames, fps=FPS, alpha=0.0, low_hz=1.0, high_hz=3.0)
  np.testing.assert_allclose(out, frames, atol=1e-5)


def test_in_band_motion_is_magnified_to_the_hand_worked_size():
  frames, d_T = _clip(2.0, 60)   # 4 whole cycles: 2 Hz is an FFT bin
  out = evm.magnify(frames, fps=FPS, alpha=4.0, low_hz=1.0, high_hz=3.0,
                    temporal_filter="ideal", **_ALL_BANDS)
  d_out = _displacement(out)
  assert abs(d_out.max() - 1.2268) < 0.01
  assert abs(-d_out.min() - 1.2268) < 0.01
  # In phase with the input motion, and 1 + alpha times it to within the
  # Taylor term (the unmagnified clip would give 1).
  assert _gain(d_out, d_T) == pytest.approx(5.0, rel=0.03)


def test_default_schedule_magnifies_less_than_alpha():
  """MIT's defaults (finest band and residual left out, lambda_c bound):
  16 px high frames give 3 levels and only the middle band amplified, so
  the in-band motion grows, but by less than 1 + alpha."""
  assert evm.pyramid_shapes((16, 64), None) == [(16, 64), (8, 32), (4, 16)]
  frames, d_T = _clip(2.0, 60)
  out = evm.magnify(frames, fps=FPS, alpha=4.0, low_hz=1.0, high_hz=3.0)
  assert 1.3 < _gain(_displacement(out), d_T) < 5.0


def test_out_of_band_motion_is_left_alone():
  frames, d_T = _clip(2.0, 60)
  out = evm.magnify(frames, fps=FPS, alpha=4.0, low_hz=5.0, high_hz=8.0,
                    temporal_filter="ideal", **_ALL_BANDS)
  assert _gain(_displacement(out), d_T) == pytest.approx(1.0, abs=0.01)


def test_butterworth_steady_state_matches_its_frequency_response():
  """After the transient, d_out = A Im[(1 + alpha H(w)) e^{iwt}] with H the
  difference of the two low-passes' responses (scipy.signal.freqz)."""
  alpha, f = 4.0, 2.0
  frames, _ = _clip(f, 150)
  out = evm.magnify(frames, fps=FPS, alpha=alpha, low_hz=1.0, high_hz=3.0,
                    temporal_filter="butter", **_ALL_BANDS)
  b_hi, a_hi, b_lo, a_lo = evm.butter_coefficients(FPS, 1.0, 3.0)
  w = 2 * np.pi * f / FPS
  h = (signal.freqz(b_hi, a_hi, worN=[w])[1][0] -
       signal.freqz(b_lo, a_lo, worN=[w])[1][0])
  expected = AMP * (1 + alpha * h)         # complex amplitude of e^{iwt}
  t = np.arange(150) / FPS
  tail = slice(90, 150)                    # the last 2 s (4 cycles)
  basis = np.stack([np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)],
                   axis=1)[tail]
  (s, c), *_ = np.linalg.lstsq(basis, _displacement(out)[tail], rcond=None)
  measured = s + 1j * c     # A Im[z e^{iwt}] = Re(z) sin + Im(z) cos
  assert abs(measured) == pytest.approx(abs(expected), rel=0.04)
  assert abs(np.angle(measured / expected)) < 0.05
  assert abs(expected) > 2 * AMP          # the filter passes a real gain


def test_level_alphas_follow_the_wavelength_bound():
  """64x64, 4 levels, alpha 10, lambda_c 16: delta = 16 / 8 / 11 = 0.181818;
  coarsest lambda = sqrt(2) 64 / 3 = 30.170, then 15.085, 7.542, 3.771.
  Level 1 (lambda 7.542): 2 (7.542 / (8 delta) - 1) = 2 (5.1855 - 1) = 8.371;
  level 2 (15.085): 2 (10.371 - 1) = 18.742 -> capped at 10; the finest
  band and the residual are not amplified."""
  alphas = evm.level_alphas((64, 64), 4, 10.0, 16.0)
  np.testing.assert_allclose(alphas, [0.0, 8.371, 10.0, 0.0], atol=1e-3)
  np.testing.assert_allclose(
      evm.level_alphas((64, 64), 4, 10.0, 0.0, amplify_finest=True,
                       amplify_coarsest=True), [10.0] * 4)


def test_colour_channels_are_magnified_independently():
  frames, _ = _clip(2.0, 30)
  colour = np.stack([frames, 1.0 - frames, 0.5 * frames], axis=-1)
  out = np.asarray(evm.magnify(colour, fps=FPS, alpha=3.0, low_hz=1.0,
                               high_hz=5.0))
  assert out.shape == colour.shape
  grey = evm.magnify(colour[..., 1], fps=FPS, alpha=3.0, low_hz=1.0,
                     high_hz=5.0)
  np.testing.assert_allclose(out[..., 1], grey, atol=1e-5)


def test_bad_arguments_raise_input_error():
  frames, _ = _clip(2.0, 10)
  with pytest.raises(InputError, match="low_hz"):
    evm.magnify(frames, fps=FPS, low_hz=3.0, high_hz=1.0)
  with pytest.raises(InputError, match="temporal_filter"):
    evm.magnify(frames, fps=FPS, temporal_filter="fir")
  with pytest.raises(InputError, match="clip"):
    evm.magnify(frames[0], fps=FPS)
