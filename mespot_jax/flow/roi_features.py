"""Pieces every ROI optical-flow spotter shares (MEGC2021/2022 winners).

The winning training-free spotters (He Yuhong's OF-FD, MEGC2021; Zhao et
al., "Rethinking optical flow methods for micro-expression spotting", ACM
MM'22) share these ingredients, each one function here:

* `NORM_FACE`, `face_scale`: pixels of a *normalised face*. The authors'
  face crop is 4 inner-eye-corner distances wide (their `expend_ratio`
  (3, 5, 4, 4) half-distances) resized to 256 px, and every ROI offset and
  flow threshold of theirs is in those pixels; `face_scale` converts ours
  (another crop width and side: Yu et al.'s SAMM code, 4.5 and 320 px).
* `landmarks_in_crop`: 68 landmarks of an aligned crop when only the ROI
  boxes of `face.align.ROI_NAMES` are stored: the canonical template,
  each part moved to its box's centre.
* `eye_mask`: the eye regions (blinks are the main false positive).
* `top_percent_mean`: a region's flow as the mean of its largest-magnitude
  `percent` vectors (the authors' `top_percent_average`), outside a mask.
* `remove_head_motion`: ROI flows minus a rigid region's flow (nose tip).
* `reference_pairs`: (reference, frame) pairs: a reference fixed at the
  start of each window (the authors' scheme) or sliding k frames back.
* `ideal_lowpass`, `emd`, `emd_detrend`, `local_rise`: the papers'
  denoising and peak evidence (an FFT ideal filter; empirical mode
  decomposition as PyEMD does it, which the authors call, and their
  signal minus its last row; the rise over the local minimum).

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


def face_scale(landmarks_68, side: float = NORM_FACE,
               widths: float = 4.0) -> float:
  """Normalised-face pixels per crop pixel: the authors' crop is `widths`
  inner eye-corner distances (points 39 and 42) wide and `side` px (4 and
  256 px in most of their code; Yu et al.'s SAMM crop: 4.5 and 320 px)."""
  lmk = np.asarray(landmarks_68, np.float64)
  d = abs(lmk[42, 0] - lmk[39, 0])
  return float(side) / (float(widths) * max(d, 1e-6))


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


EMD_MAX_SIFTS = 1000  # PyEMD's MAX_ITERATION
# PyEMD's stopping thresholds (its defaults, which the authors keep).
EMD_THRESHOLDS = dict(svar=0.001, std=0.2, energy_ratio=0.2, range=0.001,
                      total_power=0.005)
EMD_NBSYM = 2  # extrema mirrored at each end


def _extrema(x):
  """PyEMD's "simple" extrema of `x`: (maxima, minima, zero crossings).

  An extremum is a sample where the first difference changes sign
  strictly; a flat run of equal samples counts once, at its rounded
  middle, when the curve rises before it and falls after it (a maximum)
  or the reverse. PyEMD's quirks are kept: a run starting at the second
  difference is never an extremum, one starting at the first reads the
  last difference as the slope before it. Zero crossings: strict sign
  changes between neighbours plus runs of exact zeros (each once)."""
  d = np.diff(x)
  turn = d[:-1] * d[1:] < 0
  maxima = list(np.nonzero(turn & (d[:-1] > 0))[0] + 1)
  minima = list(np.nonzero(turn & (d[:-1] < 0))[0] + 1)
  flat = np.diff(np.concatenate(([0], (d == 0).astype(int), [0])))
  starts, stops = np.nonzero(flat == 1)[0], np.nonzero(flat == -1)[0]
  if len(starts) and starts[0] == 1:
    starts, stops = starts[1:], stops[1:]
  if len(starts) and stops[-1] == len(x) - 1:
    starts, stops = starts[:-1], stops[:-1]
  for a, b in zip(starts, stops):
    mid = int(np.round((a + b) / 2.0))
    if d[a - 1] > 0 > d[b]:
      maxima.append(mid)
    elif d[a - 1] < 0 < d[b]:
      minima.append(mid)
  zero = (x == 0).astype(int)
  runs = int(np.sum(np.diff(np.concatenate(([0], zero))) == 1))
  crossings = int(np.sum(x[:-1] * x[1:] < 0)) + runs
  return (np.array(sorted(maxima), int), np.array(sorted(minima), int),
          crossings)


def _mirror(x, imax, imin, nb: int = EMD_NBSYM):
  """The extrema of both envelopes with `nb` of each kind mirrored beyond
  each end (Rilling's boundary conditions, as PyEMD's `prepare_points`):
  the mirror is the outermost extremum, or the end sample when it lies
  beyond that extremum's neighbour of the other kind. Returns (positions,
  values) of the maxima's and of the minima's points."""
  n = len(x)

  def first(a, k, j=0):  # a[j : j + k] reversed (a[j: min(len, k + j)])
    return a[j:min(len(a), k + j)][::-1]

  def last(a, k, drop=0):  # the last k of a (less `drop` at its end)
    return a[max(len(a) - k - drop, 0):len(a) - drop][::-1]

  if imax[0] < imin[0]:
    if x[0] > x[imin[0]]:
      lmax, lmin, lsym = first(imax, nb, 1), first(imin, nb), imax[0]
    else:
      lmax, lmin, lsym = first(imax, nb), np.append(first(imin, nb - 1), 0), 0
  else:
    if x[0] < x[imax[0]]:
      lmax, lmin, lsym = first(imax, nb), first(imin, nb, 1), imin[0]
    else:
      lmax, lmin, lsym = np.append(first(imax, nb - 1), 0), first(imin, nb), 0
  if imax[-1] < imin[-1]:
    if x[-1] < x[imax[-1]]:
      rmax, rmin, rsym = last(imax, nb), last(imin, nb, 1), imin[-1]
    else:
      rmax = np.append(imax[max(len(imax) - nb + 1, 0):], n - 1)[::-1]
      rmin, rsym = last(imin, nb), n - 1
  else:
    if x[-1] > x[imin[-1]]:
      rmax, rmin, rsym = last(imax, nb, 1), last(imin, nb), imax[-1]
    else:
      rmax = last(imax, nb)
      rmin, rsym = np.append(imin[max(len(imin) - nb + 1, 0):], n - 1)[::-1], n - 1
  lmin, rmin = (v if len(v) else imin for v in (lmin, rmin))
  lmax, rmax = (v if len(v) else imax for v in (lmax, rmax))
  if 2 * lsym - lmin[0] > 0 or 2 * lsym - lmax[0] > 0:
    # not beyond the start: mirror about the first sample instead
    if lsym == imax[0]:
      lmax = first(imax, nb)
    else:
      lmin = first(imin, nb)
    lsym = 0
  if 2 * rsym - rmin[-1] < n - 1 or 2 * rsym - rmax[-1] < n - 1:
    if rsym == imax[-1]:
      rmax = last(imax, nb)
    else:
      rmin = last(imin, nb)
    rsym = n - 1

  def points(left, sym_l, middle, right, sym_r):
    t = np.concatenate((2 * sym_l - left, middle, 2 * sym_r - right))
    v = np.concatenate((x[left], x[middle], x[right]))
    keep = np.concatenate((t[1:] != t[:-1], [True]))  # PyEMD keeps the
    # later of two points at one position
    return t[keep].astype(np.float64), v[keep]

  return (points(lmax, lsym, imax, rmax, rsym),
          points(lmin, lsym, imin, rmin, rsym))


def _spline(t, v, n: int) -> np.ndarray:
  """A cubic spline through (t, v) at 0..n-1 (not-a-knot; three points:
  natural ends, as PyEMD's `cubic_spline_3pts`)."""
  bc = "natural" if len(t) <= 3 else "not-a-knot"
  return interpolate.CubicSpline(t, v, bc_type=bc)(np.arange(n))


def _is_imf(new, old, max_values, min_values, thr) -> bool:
  """PyEMD's `check_imf`: every maximum positive and every minimum
  negative (mirrored ones included), the IMF not ~0, and one of the
  scaled-variance, standard-deviation or energy-ratio tests passed."""
  if np.any(max_values < 0) or np.any(min_values > 0):
    return False
  if np.sum(new ** 2) < 1e-10:
    return False
  diff2 = np.sum((new - old) ** 2)
  if diff2 / (old.max() - old.min()) < thr["svar"]:
    return True
  with np.errstate(divide="ignore", invalid="ignore"):
    if np.sum(((new - old) / new) ** 2) < thr["std"]:
      return True
  return diff2 / np.sum(old ** 2) < thr["energy_ratio"]


def emd(x_T, thresholds=None) -> tuple[np.ndarray, np.ndarray]:
  """Empirical mode decomposition as PyEMD's `EMD().emd` (version 1.x,
  default settings: "simple" extrema, 2 extrema mirrored at each end,
  cubic-spline envelopes, Huang-type stopping `EMD_THRESHOLDS`, at most
  `EMD_MAX_SIFTS` sifts per IMF), the decomposition the authors call.

  Returns:
    (imfs (K, T), residue (T,)): the rest `x - sum(imfs)`.
  """
  x = np.asarray(x_T, np.float64)
  thr = dict(EMD_THRESHOLDS, **(thresholds or {}))
  n = len(x)
  imfs = []
  n_ext = -1
  finished = n < 3
  while not finished:
    h = x - np.sum(imfs, axis=0) if imfs else x.copy()
    sifts = 0
    while True:
      sifts += 1
      if sifts >= EMD_MAX_SIFTS:
        break
      imax, imin, _ = _extrema(h)
      n_ext = len(imax) + len(imin)
      if n_ext <= 2:  # a trend: no further IMF
        finished = True
        break
      if not len(imax) or not len(imin):
        finished = True  # PyEMD's envelopes need both kinds
        break
      (tmax, vmax), (tmin, vmin) = _mirror(h, imax, imin)
      old = h
      h = h - 0.5 * (_spline(tmax, vmax, n) + _spline(tmin, vmin, n))
      imax, imin, crossings = _extrema(h)
      n_ext = len(imax) + len(imin)
      if (_is_imf(h, old, vmax, vmin, thr)
          and abs(n_ext - crossings) < 2):
        break
    imfs.append(h)
    rest = x - np.sum(imfs, axis=0)
    if (rest.max() - rest.min() < thr["range"]
        or np.sum(np.abs(rest)) < thr["total_power"]):
      finished = True
  if n_ext <= 2 and imfs:  # the last "IMF" was the trend's copy
    imfs = imfs[:-1]
  imfs = np.array(imfs).reshape(-1, n)
  return imfs, x - imfs.sum(0)


def emd_detrend(x_T) -> np.ndarray:
  """The authors' second peak signal (`try_emd.the_emd1`'s `imf_sum1`):
  the sum of every row of PyEMD's output but the last, where the output
  is the IMFs with the residue appended unless it is ~0 (`np.allclose`).
  So: the signal minus its residue, or, when the residue is ~0, the IMFs
  but the last."""
  x = np.asarray(x_T, np.float64)
  imfs, residue = emd(x)
  rows = list(imfs) + ([] if np.allclose(residue, 0) else [residue])
  return np.sum(rows[:-1], axis=0) if len(rows) > 1 else np.zeros_like(x)


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
