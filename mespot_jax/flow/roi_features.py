"""Pieces every ROI optical-flow spotter shares (MEGC2021/2022 winners).

The winning training-free spotters (He Yuhong's OF-FD, MEGC2021; Zhao et
al., "Rethinking optical flow methods for micro-expression spotting", ACM
MM'22) share these ingredients, each one function here:

* `NORM_FACE`, `face_scale`: pixels of a *normalised face*. The authors'
  face crop is 4 inner-eye-corner distances wide (their `expend_ratio`
  (3, 5, 4, 4) half-distances) resized to 256 px, and every ROI offset and
  flow threshold of theirs is in those pixels; `face_scale` converts ours.
* `landmarks_in_crop`: 68 landmarks of an aligned crop when only the ROI
  boxes of `face.align.ROI_NAMES` are stored: the canonical template,
  each part moved to its box's centre.
* `eye_mask`: the eye regions (blinks are the main false positive).
* `top_percent_mean`: a region's flow as the mean of its largest-magnitude
  `percent` vectors (the authors' `top_percent_average`), outside a mask.
* `remove_head_motion`: ROI flows minus a rigid region's flow (nose tip).
* `reference_pairs`: (reference, frame) pairs: a reference fixed at the
  start of each window (the authors' scheme) or sliding k frames back.
* `ideal_lowpass`, `emd_detrend`, `local_rise`: the papers' denoising and
  peak evidence (an FFT ideal filter, the signal minus its EMD residue, the
  rise over the local minimum).

NumPy/SciPy on purpose: the filters are sequential per curve and the
frame pairs' flows come in batches from `mespot_jax.flow`.
"""
import numpy as np
from scipy import interpolate

from mespot_jax.face import align

NORM_FACE = 256  # the authors' face side (px); their thresholds' unit
# Landmark groups moved with their stored box (`align.ROI_NAMES` order).
_GROUPS = (tuple(range(17, 22)), tuple(range(22, 27)), tuple(range(27, 36)),
           tuple(range(48, 68)))
LEFT_EYE, RIGHT_EYE = tuple(range(36, 42)), tuple(range(42, 48))


def face_scale(landmarks_68) -> float:
  """Normalised-face pixels per crop pixel: the authors' crop is 4 inner
  eye-corner distances (points 39 and 42) wide and `NORM_FACE` px."""
  lmk = np.asarray(landmarks_68, np.float64)
  d = abs(lmk[42, 0] - lmk[39, 0])
  return NORM_FACE / (4.0 * max(d, 1e-6))


def landmarks_in_crop(boxes_44, size: int) -> np.ndarray:
  """(68, 2) landmarks of an aligned `size` crop from its 4 ROI boxes.

  The crop is similarity-aligned to `align.template_68` on the eyes and
  nose, so the template is where those points are; brows, nose and mouth
  are moved so that their template box's centre is the stored box's.

  Args:
    boxes_44: [x0, y0, x1, y1] of `align.ROI_NAMES`, crop pixels.
    size: the crop's side.
  """
  lmk = align.template_68(size).astype(np.float64)
  ref = align.roi_boxes(lmk, size).astype(np.float64)
  boxes = np.asarray(boxes_44, np.float64)
  for idx, b, r in zip(_GROUPS, boxes, ref):
    lmk[list(idx)] += (b[:2] + b[2:]) / 2 - (r[:2] + r[2:]) / 2
  return lmk


def eye_mask(landmarks_68, size: int, margin: float = 0.0) -> np.ndarray:
  """(size, size) bool, True over both eyes: each eye's landmark box
  (points 36-41, 42-47) widened by `margin` crop pixels on every side."""
  lmk = np.asarray(landmarks_68, np.float64)
  mask = np.zeros((size, size), bool)
  for idx in (LEFT_EYE, RIGHT_EYE):
    p = lmk[list(idx)]
    x0, y0 = np.floor(p.min(0) - margin).astype(int)
    x1, y1 = np.ceil(p.max(0) + margin).astype(int) + 1
    mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
  return mask


def clip_box(box, size: int) -> tuple:
  """Integer [x0, y0, x1, y1] (x1, y1 exclusive) inside a `size` crop, at
  least one pixel wide and tall."""
  x0, y0, x1, y1 = (int(np.floor(v)) for v in box)
  x0, y0 = min(max(x0, 0), size - 1), min(max(y0, 0), size - 1)
  return (x0, y0, max(min(x1, size), x0 + 1), max(min(y1, size), y0 + 1))


def top_percent_mean(flows_NHW2, box, percent: float,
                     mask_HW=None) -> np.ndarray:
  """(N, 2) mean of the `percent` largest-magnitude vectors of a region.

  The authors' `top_percent_average`: the vectors sorted by magnitude,
  the last `len - int(len (1 - percent))` averaged (at least one). Pixels
  where `mask_HW` is True (the eyes) are left out; a region left empty
  gives 0.
  """
  x0, y0, x1, y1 = box
  f = flows_NHW2[:, y0:y1, x0:x1].reshape(len(flows_NHW2), -1, 2)
  if mask_HW is not None:
    f = f[:, ~np.asarray(mask_HW)[y0:y1, x0:x1].reshape(-1)]
  n = f.shape[1]
  if not n:
    return np.zeros((len(flows_NHW2), 2), np.float32)
  keep = max(1, n - int(n * (1.0 - percent)))
  mag = np.hypot(f[..., 0], f[..., 1])
  idx = np.argsort(mag, axis=1, kind="stable")[:, n - keep:]
  return np.take_along_axis(f, idx[..., None], 1).mean(1)


def remove_head_motion(roi_NR2, head_N2) -> np.ndarray:
  """ROI flows minus the rigid reference region's flow (global motion)."""
  return np.asarray(roi_NR2) - np.asarray(head_N2)[:, None, :]


def reference_pairs(t: int, scheme: str, window: int, step: int = 0):
  """(src, dst, window id) frame pairs of a `t`-frame video.

  Args:
    t: frames.
    scheme: "fixed": windows of `window` frames every `step` frames (the
      last one ends at the video's end), each frame against its window's
      first frame (the first frame itself included: zero flow);
      "sliding": every frame i >= `window` against i - `window`.
    window: the window length, or the sliding offset k.
    step: the window step ("fixed").
  """
  if scheme == "sliding":
    i = np.arange(window, t)
    return i - window, i, np.zeros(len(i), np.int64)
  if scheme != "fixed":
    raise ValueError(f"reference scheme {scheme!r}; expected fixed|sliding")
  src, dst, wid = [], [], []
  starts = list(range(0, max(t - window, 0) + 1, max(step, 1)))
  if starts[-1] + window < t:
    starts.append(t - window)
  for w, s in enumerate(starts):
    i = np.arange(s, min(s + window, t))
    src.append(np.full(len(i), s)), dst.append(i), wid.append(
        np.full(len(i), w))
  return (np.concatenate(src), np.concatenate(dst),
          np.concatenate(wid).astype(np.int64))


def ideal_lowpass(x_T, fps: float, high: float) -> np.ndarray:
  """The authors' temporal ideal filter (`sim_filter.filt`): FFT, the bins
  from the one nearest `high` Hz to its mirror zeroed, |inverse FFT|."""
  x = np.asarray(x_T, np.float64)
  fft = np.fft.fft(x)
  freq = np.fft.fftfreq(len(x), d=1.0 / fps)
  b = int(np.abs(freq - high).argmin())
  if b > 0:
    fft[b:-b] = 0
  return np.abs(np.fft.ifft(fft))


def _extrema(x):
  d = np.diff(x)
  maxima = np.where((d[:-1] > 0) & (d[1:] <= 0))[0] + 1
  minima = np.where((d[:-1] < 0) & (d[1:] >= 0))[0] + 1
  return maxima, minima


def _envelope(x, idx):
  """Cubic spline through `idx` and both ends (the ends mirror nothing)."""
  t = np.concatenate([[0], idx, [len(x) - 1]])
  t = np.unique(t)
  kind = "cubic" if len(t) >= 4 else "linear"
  return interpolate.interp1d(t, x[t], kind=kind)(np.arange(len(x)))


def emd_residue(x_T, max_imfs: int = 10, max_sifts: int = 10,
                sd_stop: float = 0.2) -> np.ndarray:
  """The residue (trend) of a plain empirical mode decomposition: IMFs
  are sifted out (cubic-spline envelopes, at most `max_sifts` sifts, the
  Huang SD criterion `sd_stop`) until the rest has fewer than 2 maxima or
  minima. Stands in for PyEMD's `EMD().emd`, whose last row the authors
  drop (docs/RETHINKING_OF.md)."""
  rest = np.asarray(x_T, np.float64).copy()
  for _ in range(max_imfs):
    mx, mn = _extrema(rest)
    if len(mx) < 2 or len(mn) < 2:
      break
    h = rest.copy()
    for _ in range(max_sifts):
      mx, mn = _extrema(h)
      if len(mx) < 2 or len(mn) < 2:
        break
      new = h - (_envelope(h, mx) + _envelope(h, mn)) / 2
      sd = np.sum((h - new) ** 2) / max(np.sum(h ** 2), 1e-12)
      h = new
      if sd < sd_stop:
        break
    rest = rest - h
  return rest


def emd_detrend(x_T) -> np.ndarray:
  """The signal minus its EMD residue: the sum of its IMFs (the authors'
  `imf_sum1`, their second peak signal)."""
  x = np.asarray(x_T, np.float64)
  return x - emd_residue(x)


def local_rise(x_T, half: int) -> np.ndarray:
  """x[j] minus the minimum of x[max(0, j - half) : min(n - 1, j + half)]
  (the authors' window: its end excluded, and never the last frame)."""
  x = np.asarray(x_T, np.float64)
  n = len(x)
  out = np.zeros(n)
  for j in range(n):
    a, b = max(0, j - half), min(n - 1, j + half)
    out[j] = x[j] - (x[a:b].min() if b > a else x[j])
  return out


def landmark_box(landmarks_68, points, lo, hi, scale: float,
                 size: int) -> tuple:
  """The box of landmarks `points` widened by `lo` = (left, up) and `hi` =
  (right, down) normalised-face pixels (`scale` of them per crop pixel),
  clipped to the crop (`clip_box`). Negative values shrink it."""
  p = np.asarray(landmarks_68, np.float64)[list(points)]
  lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
  a, b = p.min(0) - lo / scale, p.max(0) + hi / scale
  return clip_box((a[0], a[1], np.ceil(b[0]), np.ceil(b[1])), size)
