"""Filters of a per-frame score curve (the post-processors' smoothing).

`normalise` (per-video min-max, unchanged, or a fixed raw range), the
contiguous segments of scored (non-NaN) frames, a zero-phase Butterworth
low-pass that tolerates short signals, and Savitzky-Golay smoothing with a
window in seconds. `spotting.postprocess` documents the parameters.
"""
import functools

import numpy as np
from scipy import signal

from mespot_jax.errors import InputError


def normalise(scores_T: np.ndarray, mode: str = "minmax", lo=None,
              hi=None) -> np.ndarray:
  """Per-video min-max to [0, 1] (`"minmax"`), unchanged (`"none"`), or a
  fixed raw range [lo, hi] mapped to [0, 1] for every video (`"fixed"`:
  statistics fitted on training subjects, so a flat curve stays low).

  The minimum and maximum are those of the scored frames; NaN frames (no
  score) stay NaN.
  """
  if mode == "none":
    return scores_T
  if mode == "fixed":
    span = float(hi) - float(lo)
    return (scores_T - float(lo)) / span if span > 0 else scores_T * 0.0
  scored = ~np.isnan(scores_T)
  if not scored.any():
    return scores_T
  lo, hi = float(scores_T[scored].min()), float(scores_T[scored].max())
  if hi - lo <= 0:
    # nothing varies: nothing to spot
    return np.where(scored, 0.0, np.nan).astype(scores_T.dtype)
  return (scores_T - lo) / (hi - lo)


def scored_segments(x_T: np.ndarray) -> list[tuple[int, int]]:
  """Contiguous runs of non-NaN frames as 0-based `(start, stop)` slices."""
  mask = np.concatenate([[False], ~np.isnan(np.asarray(x_T, np.float64)),
                         [False]])
  edges = np.flatnonzero(np.diff(mask.astype(np.int8)))
  return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


@functools.lru_cache(maxsize=256)
def _butter_sos(order: int, cutoff_hz: float, fps: float) -> np.ndarray:
  """The filter's second-order sections, designed once per (order, cutoff,
  rate): a threshold search smooths with the same filter thousands of
  times. Callers take a copy (scipy's filter wants a writable array)."""
  return signal.butter(order, cutoff_hz, btype="low", fs=fps, output="sos")


def butter_lowpass(x_T: np.ndarray, fps: float, cutoff_hz: float,
                   order: int) -> np.ndarray:
  """Zero-phase Butterworth low-pass that tolerates short signals."""
  if cutoff_hz is not None and (cutoff_hz <= 0 or order < 1):
    raise InputError(
        f"Butterworth cutoff_hz={cutoff_hz}, order={order}; expected "
        "cutoff_hz > 0 and order >= 1")
  if x_T.size < 3 or cutoff_hz is None or cutoff_hz >= fps / 2:
    return x_T
  sos = _butter_sos(int(order), float(cutoff_hz), float(fps)).copy()
  # scipy's own default pad length for sosfiltfilt (scipy/signal/_signaltools).
  zeros = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
  padlen = 3 * (2 * len(sos) + 1 - zeros)
  if x_T.size > padlen:
    return signal.sosfiltfilt(sos, x_T, padlen=padlen)
  # Too short for scipy's odd extension, which then dominates the output (a
  # 0..1 ramp of 10 frames came out near -0.9): extend by the edge values
  # instead, from which the filter starts in its steady state.
  padded = np.pad(x_T, padlen, mode="edge")
  return signal.sosfiltfilt(sos, padded, padtype=None)[padlen:-padlen]


def savgol(x_T: np.ndarray, fps: float, window_s: float,
           polyorder: int) -> np.ndarray:
  """Savitzky-Golay smoothing with a window given in seconds."""
  window = int(np.floor(window_s * fps + 0.5))
  window = max(window, polyorder + 2)
  if window % 2 == 0:
    window += 1
  if window > x_T.size:
    window = x_T.size if x_T.size % 2 else x_T.size - 1
  if window <= polyorder:
    return x_T  # a polynomial of that order fits exactly: nothing to smooth
  return signal.savgol_filter(x_T, window, polyorder)
