r"""Eulerian video magnification (EVM) of subtle motion, in JAX.

Wu, Rubinstein, Shih, Guttag, Durand and Freeman, "Eulerian Video
Magnification for Revealing Subtle Changes in the World" (SIGGRAPH 2012),
as MIT's released MATLAB code does it for motion (the implementation Liu et
al., "A Neural Micro-Expression Recognizer" section II-D, use to magnify micro-expressions):

1. Spatial decomposition: a Laplacian pyramid of every frame (Gaussian
   blur, sigma 1 px, then halving; band l = G_l - up(G_{l+1}); the last
   level is the low-pass residual). Reconstruction is exact by construction.
2. Temporal band-pass of every pyramid coefficient over time:
   * 'ideal': zero the FFT bins outside [low_hz, high_hz] (MIT's
     `ideal_bandpassing`; sees the whole clip, non-causal);
   * 'butter': the difference of two first-order Butterworth low-passes
     (cut-offs high_hz and low_hz), run causally from the first frame, as
     MIT's `amplify_spatial_lpyr_temporal_butter`. The cut-offs here are
     normalised by the Nyquist rate (`scipy.signal.butter(1, f / (fps/2))`);
     MIT's code passes f / fps, so its effective cut-offs are half the
     nominal ones.
3. Amplification: band l is multiplied by alpha_l and added back:
     out = collapse(L_l + alpha_l B(L_l)).
   alpha_l follows the paper's bound (1 + alpha) delta < lambda / 8 with
   MIT's schedule: delta = lambda_c / 8 / (1 + alpha); the coarsest level's
   representative wavelength is lambda = sqrt(H^2 + W^2) / 3, halving per
   finer level; alpha_l = min(alpha, exaggeration * (lambda / (8 delta) -
   1)); the finest band and the residual are not amplified (switches).
   `lambda_c = 0` turns the bound off (alpha_l = alpha).

For a translating pattern I(x - delta(t)) with delta inside the pass band
and a first-order Taylor expansion, every amplified band moves by
(1 + alpha_l) delta(t): the magnified motion has a known size, which
tests/test_preprocess_evm.py checks on a synthetic grating.

Frames are float (any scale); the output is float32 and is not clipped.
"""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy import signal

from mespot_jax.errors import InputError
from mespot_jax.flow import ops

FILTERS = ("ideal", "butter")
_PYR_SIGMA = 1.0   # close to the 5-tap binomial kernel of MIT's pyramid


def _max_pyr_height(side: int, filter_size: int = 5) -> int:
  """matlabPyrTools' `maxPyrHt`: halvings until the side is below the
  filter size."""
  return 0 if side < filter_size else 1 + _max_pyr_height(side // 2)


def pyramid_shapes(shape: tuple[int, int],
                   levels: int | None) -> list[tuple[int, int]]:
  """Laplacian pyramid level shapes, finest first.

  Args:
    shape: (H, W) of the frames.
    levels: levels, residual included; None: as many as MIT's `buildLpyr`
      builds by default (1 + maxPyrHt: 6 for 112 px, 3 for 16 px).

  Returns:
    List of (h, w), each side halved (rounded up) per level.
  """
  if levels is None:
    levels = 1 + _max_pyr_height(min(shape))
  shapes = [tuple(shape)]
  for _ in range(levels - 1):
    h, w = shapes[-1]
    if min(h, w) < 2:
      break
    shapes.append((math.ceil(h / 2), math.ceil(w / 2)))
  return shapes


def level_alphas(shape: tuple[int, int], num_levels: int, alpha: float,
                 lambda_c: float, exaggeration: float = 2.0,
                 amplify_finest: bool = False,
                 amplify_coarsest: bool = False) -> list[float]:
  """Amplification factor of each pyramid level, finest first (see top).

  Args:
    shape: (H, W) of the frames.
    num_levels: pyramid levels, residual included.
    alpha: the requested amplification.
    lambda_c: cut-off wavelength in pixels; 0 for no attenuation.
    exaggeration: MIT's `exaggeration_factor`.
    amplify_finest: amplify the finest band too (MIT: no).
    amplify_coarsest: amplify the low-pass residual too (MIT: no).

  Returns:
    List of `num_levels` floats.
  """
  h, w = shape
  out = []
  for level in range(num_levels):
    lam = math.sqrt(h * h + w * w) / 3.0 / 2 ** (num_levels - 1 - level)
    if lambda_c > 0:
      delta = lambda_c / 8.0 / (1.0 + alpha)
      a = min(alpha, exaggeration * (lam / delta / 8.0 - 1.0))
    else:
      a = alpha
    if (level == 0 and not amplify_finest) or (
        level == num_levels - 1 and not amplify_coarsest):
      a = 0.0
    out.append(max(float(a), 0.0))
  return out


def _laplacian(frames_THW, shapes):
  gauss = [frames_THW]
  down = []
  for (h_in, w_in), (h, w) in zip(shapes[:-1], shapes[1:]):
    ry = ops.resize_matrix(h_in, h, _PYR_SIGMA)
    rx = ops.resize_matrix(w_in, w, _PYR_SIGMA)
    gauss.append(ops.apply_resize(gauss[-1], ry, rx))
    down.append((ops.resize_matrix(h, h_in), ops.resize_matrix(w, w_in)))
  bands = [g - ops.apply_resize(g_next, uy, ux)
           for g, g_next, (uy, ux) in zip(gauss[:-1], gauss[1:], down)]
  return bands + [gauss[-1]], down


def _collapse(bands, ups):
  out = bands[-1]
  for band, (uy, ux) in zip(bands[-2::-1], ups[::-1]):
    out = band + ops.apply_resize(out, uy, ux)
  return out


def _ideal(x_T, fps, low_hz, high_hz):
  n = x_T.shape[0]
  freqs = np.fft.rfftfreq(n, d=1.0 / fps)
  keep = ((freqs >= low_hz) & (freqs <= high_hz)).astype(np.float32)
  spec = jnp.fft.rfft(x_T, axis=0)
  keep = keep.reshape((-1,) + (1,) * (x_T.ndim - 1))
  return jnp.fft.irfft(spec * keep, n=n, axis=0).astype(jnp.float32)


def butter_coefficients(fps: float, low_hz: float, high_hz: float):
  """First-order Butterworth low-passes at high_hz and low_hz: ((b, a) x 2)."""
  nyq = fps / 2.0
  hi = signal.butter(1, high_hz / nyq, "low")
  lo = signal.butter(1, low_hz / nyq, "low")
  return tuple(tuple(np.asarray(c, np.float64)) for c in (*hi, *lo))


def _butter(x_T, fps, low_hz, high_hz):
  (b_hi, a_hi, b_lo, a_lo) = butter_coefficients(fps, low_hz, high_hz)

  def lowpass(b, a):
    # y[t] = b0 x[t] + b1 x[t-1] - a1 y[t-1], started at rest on x[0]
    # (MIT initialises both low-passes with the first frame).
    def step(carry, x):
      x_prev, y_prev = carry
      y = (b[0] * x + b[1] * x_prev - a[1] * y_prev) / a[0]
      return (x, y), y
    _, y = jax.lax.scan(step, (x_T[0], x_T[0]), x_T)
    return y

  return lowpass(b_hi, a_hi) - lowpass(b_lo, a_lo)


@functools.partial(jax.jit, static_argnames=(
    "fps", "low_hz", "high_hz", "alphas", "temporal_filter", "shapes"))
def _magnify(frames_THW, *, fps, low_hz, high_hz, alphas, temporal_filter,
             shapes):
  bands, ups = _laplacian(frames_THW, shapes)
  filt = _ideal if temporal_filter == "ideal" else _butter
  out = []
  for band, a in zip(bands, alphas):
    if a > 0:
      band = band + a * filt(band, fps, low_hz, high_hz)
    out.append(band)
  return _collapse(out, ups)


def magnify(frames, *, fps: float, alpha: float = 10.0, low_hz: float = 0.5,
            high_hz: float = 5.0, lambda_c: float = 16.0,
            levels: int | None = None, temporal_filter: str = "ideal",
            exaggeration: float = 2.0, amplify_finest: bool = False,
            amplify_coarsest: bool = False) -> jnp.ndarray:
  """Magnifies the motion in `[low_hz, high_hz]` of a clip by about `alpha`.

  Args:
    frames: (T, H, W) or (T, H, W, C) float clip (channels independently).
    fps: frame rate of the clip (Hz).
    alpha: amplification (0 returns the clip unchanged).
    low_hz: lower edge of the temporal pass band (Hz, > 0).
    high_hz: upper edge (Hz, below fps / 2).
    lambda_c: spatial cut-off wavelength (px) of the alpha bound; 0: none.
    levels: Laplacian pyramid levels (residual included); None: automatic.
    temporal_filter: 'ideal' (FFT over the clip) or 'butter' (causal IIR).
    exaggeration: MIT's exaggeration factor of the attenuated alphas.
    amplify_finest: amplify the finest band too.
    amplify_coarsest: amplify the low-pass residual too.

  Returns:
    float32 array of the input's shape: the magnified clip.
  """
  frames = jnp.asarray(frames, jnp.float32)
  if frames.ndim not in (3, 4) or frames.shape[0] < 2 or min(
      frames.shape[1:3]) < 2:
    raise InputError(f"evm.magnify: expected a (T, H, W) or (T, H, W, C) "
                     f"clip with T >= 2 and H, W >= 2, got {frames.shape}")
  if temporal_filter not in FILTERS:
    raise InputError(f"evm.magnify: temporal_filter must be one of "
                     f"{FILTERS}, got {temporal_filter!r}")
  if not 0 < low_hz < high_hz < fps / 2:
    raise InputError(f"evm.magnify: need 0 < low_hz < high_hz < fps / 2, "
                     f"got low_hz={low_hz}, high_hz={high_hz}, fps={fps}")
  if alpha < 0:
    raise InputError(f"evm.magnify: alpha must be >= 0, got {alpha}")
  shapes = tuple(pyramid_shapes(frames.shape[1:3], levels))
  alphas = tuple(level_alphas(frames.shape[1:3], len(shapes), float(alpha),
                              float(lambda_c), exaggeration, amplify_finest,
                              amplify_coarsest))
  colour = frames.ndim == 4
  x = jnp.moveaxis(frames, -1, 1) if colour else frames   # (T, [C,] H, W)
  out = _magnify(x, fps=float(fps), low_hz=float(low_hz),
                 high_hz=float(high_hz), alphas=alphas,
                 temporal_filter=temporal_filter, shapes=shapes)
  return jnp.moveaxis(out, 1, -1) if colour else out
