"""Per-frame spotting scores -> expression intervals (Yap et al. 2021, sec. 4).

Two post-processors, registry entries of `POSTPROCESSORS` chosen by name
(`get`); each entry (`PostProcessor`) owns its smoothing and its defaults,
and nothing here branches on a name:

* `automated` ("Automated IoU method", sec. 4.1): normalise the video's
  scores, smooth them with a zero-phase Butterworth low-pass
  (`scipy.signal.sosfiltfilt`), threshold, and turn each run of consecutive
  frames at or above the threshold into one interval. Optional merging of
  close runs and duration limits (both off by default, as in the paper).
* `manual` ("Manual IoU method", the post-processing of Zhang et al. 2020 that
  the paper borrows in sec. 4.2): normalise, Savitzky-Golay smoothing,
  threshold, merge intervals whose gap is below a merge distance, then
  duration limits.

Every post-processor is called as
`pp(scores_T, fps, threshold=None, params=None) -> [(onset, offset), ...]`
with 1-based inclusive frame numbers of that video, in onset order. One
column (type) is processed at a time; `scores_to_intervals` does both columns
of a `scores_T2` array (column 0 micro, column 1 macro).

Parameters (`params`, a dict or ConfigDict; unknown keys raise InputError):

* `normalise` ("minmax"): "minmax" scales each video's scores to [0, 1]
  before smoothing (sec. 4.1 "normalised"); "none" keeps the raw sigmoid
  scores. Min-max always stretches the video's highest score to 1, so every
  non-constant video yields at least one run even when the model saw
  nothing; "none" avoids that when the scores are calibrated. A constant
  video normalises to zeros. "fixed" maps the raw range [`norm_lo`,
  `norm_hi`] to [0, 1] for every video: statistics fitted on the training
  and validation subjects' raw scores (the absolute mode), so a flat curve
  stays where it is instead of being stretched to 1.
* `norm_lo`, `norm_hi` (None): the raw range of "fixed".
* `order` (3): Butterworth order (`automated`). `sosfiltfilt` runs the filter
  forward and backward, so the magnitude response is squared.
* `cutoff_hz` (micro 5.0, macro 2.0; 2.0 without a type): Butterworth cut-off
  in Hz, i.e. relative to `fps`. A run of d seconds has its fundamental near
  1/(2d) Hz: 5 Hz keeps 0.2 s micro-expressions, 2 Hz keeps >= 0.5 s
  macro-expressions. None, or a cut-off at or above Nyquist (fps / 2), means
  no filtering.
* `window_s` (micro 0.2, macro 0.5; 0.3 without a type): Savitzky-Golay
  window in seconds (`manual`), rounded to a frame count, at least
  `polyorder + 2`, plus one if even.
* `polyorder` (2): Savitzky-Golay polynomial order (`manual`).
* `merge_gap` (automated None, manual 0.2): merge two intervals when the
  frames strictly between them last less than this many seconds.
* `min_len`, `max_len` (None): drop intervals shorter / longer than this many
  seconds (length = offset - onset + 1 frames). Applied after merging, so
  merged fragments can pass `min_len`. Dropped, not clipped: a 3 s "micro"
  run is not a micro-expression.
* `min_width` (None): widen every interval shorter than this many seconds,
  about its centre, to that length (clipped to the video), after the
  duration limits; intervals that then overlap or touch are joined. A run
  above a threshold covers only the part of an expression where the score
  is high, usually its middle, while IoU is measured against the whole
  onset-offset interval; peak-based spotters (e.g. MEGC baselines) likewise
  report a fixed span around each peak. Experiments set it per fold to the
  median duration of the training subjects' intervals of that type
  (`widen_to="train_median"` in the configs, resolved by
  the `runs` decoder, `decoders.runs.post_params`), so it never sees the
  test subject.
* `threshold` (0.5): used only when the `threshold` argument is None.

These defaults are this toolkit's choices (the paper gives no values); tune
them on validation subjects only.

Frames without a score: a NaN score marks a frame that has none (no face
was found there, its pair partner has none, or it could not be decoded; see
`methods.spotting.SpottingMethod.invalid_frames`). Such frames break the
video into segments: min-max normalisation uses the scored frames only,
each contiguous segment of scored frames is smoothed on its own (a filter
would otherwise smear scores across the gap), and runs, merging, duration
limits and widening stay inside one segment, so no interval spans a frame
without a score. Their smoothed signal stays NaN. Infinite scores raise.

"Never": a threshold at or above `NO_DETECTION` (what threshold fitting
returns for a type it decided never to predict) yields no interval of that
type whatever the signal does. With `normalise="minmax"` the smoothed signal
is also clipped to [0, 1], as the low-pass filters overshoot the normalised
scores near steep edges. With `normalise="none"` the scores are taken as
they are (sigmoid outputs in [0, 1]; other units are allowed) and only the
exact `NO_DETECTION` means never.

Short videos and segments: `sosfiltfilt` pads the signal by `padlen`
samples on both sides (odd extension) and needs more samples than that; a
shorter signal is extended by its edge values instead (scipy's "constant"
extension, which starts the filter in its steady state), so the output stays
near the signal's range rather than being dominated by the pad. A
Savitzky-Golay window longer than the video is shrunk to the largest odd length that fits; when it
can no longer exceed `polyorder` the fit would be exact anyway and the signal
is returned unsmoothed.
"""
import dataclasses
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mespot_jax.config import vocab
from mespot_jax.errors import InputError
from mespot_jax.spotting import interval_rules
from mespot_jax.spotting import signals

TYPES = vocab.TYPES

# Parameters every post-processor takes (module docstring), and their
# defaults; each registry entry adds its smoother's own.
COMMON_DEFAULTS = {
    "normalise": "minmax", "norm_lo": None, "norm_hi": None,
    "merge_gap": None, "min_len": None, "max_len": None, "min_width": None,
    "threshold": 0.5,
}
NORMALISE = ("minmax", "none", "fixed")

Intervals = interval_rules.Intervals

# The threshold of a type that is never predicted: above every min-max
# normalised (clipped to [0, 1]) or sigmoid signal. `threshold.fit_*`
# return it; `predicts_nothing` honours it.
NO_DETECTION = 1.0 + 1e-6


def _as_dict(params: Any) -> dict:
  if params is None:
    return {}
  if hasattr(params, "to_dict"):  # ml_collections.ConfigDict
    return params.to_dict()
  return dict(params)


def _is_mapping(x: Any) -> bool:
  return isinstance(x, Mapping) or hasattr(x, "to_dict")


def resolve_params(method, params: Any = None) -> dict:
  """The post-processor's defaults updated with `params`; unknown keys
  raise. `method`: a registry name or entry."""
  pp = get(method)
  merged = dict(pp.defaults)
  given = _as_dict(params)
  unknown = sorted(set(given) - set(merged))
  if unknown:
    raise InputError(
        f"unknown {pp.name} post-processing parameter(s) {unknown}; "
        f"expected some of {sorted(merged)}")
  merged.update(given)
  if merged["normalise"] not in NORMALISE:
    raise InputError(
        f"normalise={merged['normalise']!r}; expected one of {NORMALISE}")
  if merged["normalise"] == "fixed" and not all(
      isinstance(merged[k], (int, float)) for k in ("norm_lo", "norm_hi")):
    raise InputError(
        "normalise='fixed' needs numbers norm_lo and norm_hi (the raw score "
        f"range it maps to [0, 1]), got {merged['norm_lo']!r}, "
        f"{merged['norm_hi']!r}")
  width = merged["min_width"]
  if width is not None and (isinstance(width, (str, bool)) or
                            not np.isfinite(width) or width < 0):
    raise InputError(
        f"min_width={width!r}; expected None or seconds >= 0 (a config's "
        "widen_to='train_median' is turned into seconds per fold by "
        "the runs decoder)")
  return merged


def params_for_type(method: str, params: Any, type_name: str) -> dict:
  """Parameters of one expression type.

  Args:
    method: post-processor name.
    params: None, one flat dict shared by both types, or a dict with keys
      `micro` and/or `macro` holding per-type dicts (`params_by_type`).
    type_name: `"micro"` or `"macro"`.

  Returns:
    The post-processor's defaults, then its per-type defaults, then the
    user's.
  """
  if type_name not in TYPES:
    raise InputError(f"interval type {type_name!r}; expected one of {TYPES}")
  given = _as_dict(params)
  if any(t in given for t in TYPES):
    given = _as_dict(given.get(type_name))
  merged = dict(get(method).type_defaults.get(type_name, {}))
  merged.update(given)
  return resolve_params(method, merged)


def _check_scores(scores_T: np.ndarray, fps: float) -> np.ndarray:
  scores_T = np.asarray(scores_T, dtype=np.float64)
  if scores_T.ndim != 1:
    raise InputError(
        f"scores of one type must be 1-D (T,), got shape {scores_T.shape}")
  bad = np.flatnonzero(np.isinf(scores_T))
  if bad.size:
    raise InputError(
        f"score of frame {bad[0] + 1} is {scores_T[bad[0]]}; expected a "
        "finite number (or NaN for a frame without a score)")
  if not fps or fps <= 0:
    raise InputError(f"fps={fps}; expected a positive frame rate")
  return scores_T


def _smooth_resolved(scores_T, fps, method, p):
  x = signals.normalise(scores_T, p["normalise"], p["norm_lo"],
                        p["norm_hi"])
  smoother = get(method).smooth
  out = np.full(x.shape, np.nan)
  for a, b in signals.scored_segments(x):  # each scored segment alone
    out[a:b] = smoother(x[a:b], fps, p)
  if p["normalise"] in ("minmax", "fixed"):
    # The filters overshoot the normalised scores near steep edges.
    out = np.clip(out, 0.0, 1.0)
  return out


def smooth(scores_T: np.ndarray, fps: float, method: str = "automated",
           params: Any = None) -> np.ndarray:
  """The normalised, smoothed signal that `method` thresholds (for plots).

  Args:
    scores_T: (T,) scores of one type for one video.
    fps: frame rate of the video.
    method: `"automated"` or `"manual"`.
    params: parameters (see the module docstring); flat, one type.

  Returns:
    (T,) float64 signal; NaN where the score is NaN (no score).
  """
  p = resolve_params(method, params)
  return _smooth_resolved(_check_scores(scores_T, fps), fps, method, p)


def predicts_nothing(threshold: float, normalise_mode: str = "minmax"
                     ) -> bool:
  """Whether a threshold means "never predict this type".

  `NO_DETECTION` always does; with min-max or fixed normalisation (a
  signal clipped to [0, 1]) so does any threshold at or above it.
  """
  if normalise_mode in ("minmax", "fixed"):
    return threshold >= NO_DETECTION
  return threshold == NO_DETECTION


def _intervals_from_smoothed(x_T, fps, threshold, p) -> Intervals:
  if predicts_nothing(threshold, p["normalise"]):
    return []
  out = []
  rules = interval_rules
  for a, b in signals.scored_segments(x_T):  # none crosses an unscored frame
    runs = rules.runs_above(x_T[a:b], threshold)
    runs = rules.merge_close(runs, fps, p["merge_gap"])
    runs = rules.filter_durations(runs, fps, p["min_len"], p["max_len"])
    out += [(on + a, off + a)
            for on, off in rules.widen_short(runs, fps, p["min_width"], b - a)]
  return out


def _split_args(threshold, params):
  # docs/INTERFACES.md calls `fn(scores_T, fps, params)`: accept a mapping in
  # the threshold slot and read the threshold from it.
  if _is_mapping(threshold) and params is None:
    params, threshold = threshold, None
  return threshold, params


@dataclasses.dataclass(frozen=True)
class PostProcessor:
  """A registry entry: a post-processor that owns its smoothing and its
  defaults. Called as `pp(scores_T, fps, threshold=None, params=None) ->
  [(onset, offset)]` (1-based inclusive, in onset order; none spans a NaN,
  i.e. unscored, frame).

  Attributes:
    name: registry name.
    defaults: every parameter and its default (`COMMON_DEFAULTS` plus the
      smoother's own).
    type_defaults: per-type defaults over `defaults` (`params_for_type`).
    smooth: `(x_T, fps, params) -> x_T`, applied to each segment of scored
      frames of the normalised signal.
    doc: one line for listings.
  """
  name: str
  defaults: dict
  type_defaults: dict
  smooth: Callable[[np.ndarray, float, dict], np.ndarray]
  doc: str = ""

  def __call__(self, scores_T: np.ndarray, fps: float, threshold: Any = None,
               params: Any = None) -> Intervals:
    threshold, params = _split_args(threshold, params)
    p = resolve_params(self, params)
    if threshold is None:
      threshold = p["threshold"]
    x = _smooth_resolved(_check_scores(scores_T, fps), fps, self, p)
    return _intervals_from_smoothed(x, fps, float(threshold), p)


automated = PostProcessor(
    "automated", {**COMMON_DEFAULTS, "order": 3, "cutoff_hz": 2.0},
    {"micro": {"cutoff_hz": 5.0}, "macro": {"cutoff_hz": 2.0}},
    lambda x, fps, p: signals.butter_lowpass(x, fps, p["cutoff_hz"],
                                             p["order"]),
    "Automated IoU method (sec. 4.1): normalise, Butterworth, threshold, runs")
manual = PostProcessor(
    "manual", {**COMMON_DEFAULTS, "merge_gap": 0.2, "window_s": 0.3,
               "polyorder": 2},
    {"micro": {"window_s": 0.2}, "macro": {"window_s": 0.5}},
    lambda x, fps, p: signals.savgol(x, fps, p["window_s"], p["polyorder"]),
    "Manual IoU method (Zhang et al. 2020): Savitzky-Golay, threshold, merge")

POSTPROCESSORS: dict[str, PostProcessor] = {
    "automated": automated,
    "manual": manual,
}


def get(name) -> PostProcessor:
  """The post-processor registered under `name` (an entry is returned as
  it is)."""
  if isinstance(name, PostProcessor):
    return name
  try:
    return POSTPROCESSORS[name]
  except KeyError:
    raise InputError(f"unknown post-processor {name!r}; expected one of "
                     f"{sorted(POSTPROCESSORS)}") from None


def scores_to_intervals(
    scores_T2: np.ndarray, fps: float,
    thresholds: Sequence[float] = (0.5, 0.5), method: str = "automated",
    params_by_type: Any = None) -> list[tuple[str, int, int, float]]:
  """Both columns of a video's scores -> typed, scored intervals.

  Args:
    scores_T2: (T, 2) scores, column 0 micro, column 1 macro; NaN where a
      frame has no score of that type (no face).
    fps: frame rate of the video.
    thresholds: (threshold_micro, threshold_macro) on the smoothed signals;
      a type whose threshold is `NO_DETECTION` (or above) gets nothing.
    method: post-processor name.
    params_by_type: None, a flat dict for both types, or
      `{"micro": {...}, "macro": {...}}`.

  Returns:
    [(type, onset, offset, score)]: micro intervals first, then macro, each
    in onset order; `score` is the mean smoothed signal inside the interval
    (usable to rank predictions for the one_to_one protocol).
  """
  scores_T2 = np.asarray(scores_T2)
  if scores_T2.ndim != 2 or scores_T2.shape[1] != 2:
    raise InputError(
        f"scores must have shape (T, 2) [micro, macro], got {scores_T2.shape}")
  get(method)  # validates the name
  out = []
  for k, type_name in enumerate(TYPES):
    p = params_for_type(method, params_by_type, type_name)
    x = _smooth_resolved(_check_scores(scores_T2[:, k], fps), fps, method, p)
    for on, off in _intervals_from_smoothed(x, fps, float(thresholds[k]), p):
      out.append((type_name, on, off, float(x[on - 1:off].mean())))
  return out
