"""Thresholds for the spotting post-processors, picked on an ROC curve.

Sec. 4 of Yap et al. (2021) thresholds "normalised results ... using [a]
threshold based on ROC curve". The threshold is fitted on frames of the
training / validation subjects only (never on the held-out subject), and on
the same normalised, smoothed signal that the post-processor thresholds:
`fit_thresholds` runs `postprocess.smooth` per video before pooling frames.

Criteria (`criterion`):
* `"youden"`: maximise Youden's J = TPR - FPR (the ROC point farthest above
  the chance diagonal).
* `"f1"`: maximise frame-level F1 = 2TP / (2TP + FP + FN).
* `"interval_f1"` (`fit_thresholds_interval_f1`): maximise the interval F1
  (one_to_one protocol) of the post-processed validation videos against
  their true intervals. Not a frame criterion: it sees what the evaluation
  sees (smoothing, runs, duration limits). When no threshold finds a single
  interval of a type, the threshold is set above any possible score
  (`NO_DETECTION`), so that type predicts nothing rather than noise.

A frame is predicted positive when `score >= threshold`. The returned
threshold lies halfway between the chosen distinct score and the next lower
distinct score, so frames scoring exactly at a class boundary do not flip on
rounding. Ties in the criterion go to the highest threshold (fewest
positives).

Frames without a score (NaN: no face, see `postprocess`) are left out of
every count: they are neither positives nor negatives of any threshold.

Degenerate data: with no positive frames (or, for Youden, no negative frames)
the ROC is undefined; the function logs a warning and returns `fallback`
(default 0.5, the middle of min-max normalised scores).
"""
from typing import Any, Sequence

from absl import logging
import numpy as np

from mespot_jax.errors import InputError
from mespot_jax.spotting import postprocess


def roc_points(labels: np.ndarray, scores: np.ndarray):
  """ROC counts at every distinct score, highest threshold first.

  Args:
    labels: (N,) binary (bool or 0/1) frame labels.
    scores: (N,) scores; NaN frames (no score) are left out.

  Returns:
    (thresholds, tp, fp, num_pos, num_neg): `thresholds` (M,) distinct scores
    in descending order; `tp[i]`, `fp[i]` count positives / negatives with
    `score >= thresholds[i]`; `num_pos`, `num_neg` count the scored frames.
  """
  labels = np.asarray(labels).reshape(-1)
  scores = np.asarray(scores, dtype=np.float64).reshape(-1)
  if labels.shape != scores.shape:
    raise InputError(f"{labels.size} labels but {scores.size} scores; "
                     "expected one label per scored frame")
  if np.any(np.isinf(scores)):
    bad = int(np.flatnonzero(np.isinf(scores))[0])
    raise InputError(f"score {bad} is {scores[bad]}; expected a finite number "
                     "(or NaN for a frame without a score)")
  scored = ~np.isnan(scores)
  labels, scores = labels[scored], scores[scored]
  if not np.all((labels == 0) | (labels == 1)):
    raise InputError("frame labels must be 0/1 (or bool)")
  labels = labels.astype(bool)
  order = np.argsort(-scores, kind="stable")
  s, y = scores[order], labels[order]
  tp_cum = np.cumsum(y)
  fp_cum = np.cumsum(~y)
  # Last index of each block of equal scores: all tied frames flip together.
  last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1] if s.size else (
      np.zeros(0, int))
  return s[last], tp_cum[last], fp_cum[last], int(y.sum()), int((~y).sum())


def from_roc(labels: np.ndarray, scores: np.ndarray,
             criterion: str = "youden", fallback: float = 0.5) -> float:
  """Picks a threshold on frame scores from their ROC curve.

  Args:
    labels: (N,) binary frame labels (training / validation frames).
    scores: (N,) scores, ideally the smoothed signal the post-processor
      thresholds (see `fit_thresholds`).
    criterion: `"youden"` or `"f1"` (module docstring).
    fallback: returned, with a warning, when the criterion is undefined.

  Returns:
    The threshold; predict positive where `score >= threshold`.
  """
  if criterion not in ("youden", "f1"):
    raise InputError(f"threshold criterion {criterion!r}; expected 'youden' "
                     "or 'f1' (interval criteria: fit_thresholds_interval_f1)")
  thr, tp, fp, pos, neg = roc_points(labels, scores)
  if pos == 0 or (criterion == "youden" and neg == 0):
    logging.warning(
        "ROC threshold undefined (%d positive, %d negative frames); using "
        "the fallback threshold %.3f", pos, neg, fallback)
    return float(fallback)
  if criterion == "youden":
    # J * pos * neg in integers: exact ties (2/3 - 0 == 1 - 1/3).
    objective = (tp * neg - fp * pos).astype(np.float64)
  else:
    objective = 2 * tp / (tp + fp + pos)  # 2TP / (2TP + FP + FN)
  # First (= highest threshold) maximum, ignoring rounding-level differences.
  i = int(np.flatnonzero(objective >= objective.max() - 1e-12)[0])
  below = thr[i + 1] if i + 1 < thr.size else thr[i] - 1.0
  return float((thr[i] + below) / 2)


def youden_j(labels: np.ndarray, scores: np.ndarray, threshold: float) -> float:
  """TPR - FPR of the rule `score >= threshold` (both classes present)."""
  labels = np.asarray(labels).astype(bool).reshape(-1)
  pred = np.asarray(scores).reshape(-1) >= threshold
  tpr = (pred & labels).sum() / max(labels.sum(), 1)
  fpr = (pred & ~labels).sum() / max((~labels).sum(), 1)
  return float(tpr - fpr)


def fit_thresholds(
    videos: Sequence[tuple[np.ndarray, np.ndarray, float]],
    method: str = "automated", params: Any = None,
    criterion: str = "youden", fallback: float = 0.5) -> tuple[float, float]:
  """Fits (threshold_micro, threshold_macro) on smoothed training scores.

  Each video is smoothed on its own, exactly as the post-processor will
  smooth a test video (per-video normalisation included), and the threshold
  is picked on the pooled frames of all videos.

  Args:
    videos: [(scores_T2, labels_T2, fps)] of training / validation videos;
      column 0 micro, column 1 macro; labels binary per frame.
    method: post-processor name (`postprocess.POSTPROCESSORS`).
    params: None, a flat dict, or `{"micro": {...}, "macro": {...}}` as in
      `postprocess.scores_to_intervals`.
    criterion: `"youden"` or `"f1"`.
    fallback: threshold for a type without positive (or negative) frames.

  Returns:
    (threshold_micro, threshold_macro).
  """
  postprocess.get(method)
  out = []
  for k, type_name in enumerate(postprocess.TYPES):
    p = postprocess.params_for_type(method, params, type_name)
    xs, ys = [], []
    for i, (scores_T2, labels_T2, fps) in enumerate(videos):
      scores_T2, labels_T2 = np.asarray(scores_T2), np.asarray(labels_T2)
      if (scores_T2.ndim != 2 or scores_T2.shape[1] != 2
          or labels_T2.shape != scores_T2.shape):
        raise InputError(
            f"video {i}: scores {scores_T2.shape} and labels "
            f"{labels_T2.shape}; expected both (T, 2) [micro, macro]")
      xs.append(postprocess.smooth(scores_T2[:, k], fps, method, p))
      ys.append(labels_T2[:, k])
    if not xs:
      xs, ys = [np.zeros(0)], [np.zeros(0, bool)]
    out.append(from_roc(np.concatenate(ys), np.concatenate(xs), criterion,
                        fallback))
  return out[0], out[1]


# Above every normalised ("minmax", clipped to [0, 1]) or sigmoid ("none")
# smoothed score; the post-processors predict nothing at this threshold.
NO_DETECTION = postprocess.NO_DETECTION


def _interval_counts(videos, method, params, iou_threshold, num_candidates,
                     k, type_name):
  """[(threshold, tp, fp, fn)] of one type, highest threshold first.

  The first row is `NO_DETECTION` (nothing predicted).
  """
  from mespot_jax.metrics import intervals as interval_metrics  # pylint: disable=g-import-not-at-top
  from mespot_jax.metrics.io import IntervalRow  # pylint: disable=g-import-not-at-top
  fn = postprocess.get(method)
  p = postprocess.params_for_type(method, params, type_name)
  gt = [IntervalRow(str(i), type_name, iv.onset, iv.offset)
        for i, (_, ivs, _) in enumerate(videos) for iv in ivs
        if iv.type == type_name]
  pooled = np.concatenate([postprocess.smooth(np.asarray(sc)[:, k], fps,
                                              method, p)
                           for sc, _, fps in videos] or [np.zeros(1)])
  pooled = pooled[~np.isnan(pooled)] if (~np.isnan(pooled)).any() else (
      np.zeros(1))  # frames without a score are no candidates
  candidates = np.unique(np.quantile(
      pooled, np.linspace(0.5, 0.995, num_candidates)))
  rows = [(NO_DETECTION, 0, 0, len(gt))]
  for thr in candidates[::-1]:  # high to low: ties keep the higher one
    preds = [IntervalRow(str(i), type_name, on, off)
             for i, (sc, _, fps) in enumerate(videos)
             for on, off in fn(np.asarray(sc)[:, k], fps, float(thr), p)]
    r = interval_metrics.evaluate(gt, preds, "one_to_one",
                                  iou_threshold)[type_name]
    rows.append((float(thr), r["tp"], r["fp"], r["fn"]))
  return rows


def _f1(tp, fp, fn) -> float:
  return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def fit_thresholds_interval_f1(
    videos: Sequence[tuple[np.ndarray, Sequence[Any], float]],
    method: str = "automated", params: Any = None, iou_threshold: float = 0.5,
    num_candidates: int = 40, objective: str = "per_type"
) -> tuple[float, float]:
  """Fits (threshold_micro, threshold_macro) by interval F1 on validation videos.

  Args:
    videos: [(scores_T2, intervals, fps)]: validation videos' raw scores and
      true intervals (objects with `type`, `onset`, `offset`).
    method: post-processor name.
    params: per-type post-processing parameters (as `fit_thresholds`).
    iou_threshold: IoU for a true positive (one_to_one protocol).
    num_candidates: thresholds tried per type: quantiles of the pooled
      smoothed scores.
    objective: "per_type" maximises each type's own F1; "overall" maximises
      the F1 of micro and macro intervals counted together (the MEGC
      overall score), so a type whose intervals are mostly false positives
      is predicted sparingly or not at all.

  Returns:
    (threshold_micro, threshold_macro); `NO_DETECTION` for a type predicted
    nowhere (per_type: no candidate gives a true positive).
  """
  if objective not in ("per_type", "overall"):
    raise ValueError(f"objective must be 'per_type' or 'overall', got "
                     f"{objective!r}")
  tables = [_interval_counts(videos, method, params, iou_threshold,
                             num_candidates, k, t)
            for k, t in enumerate(postprocess.TYPES)]
  if objective == "per_type":
    out = []
    for table in tables:
      best_f1, best_thr = 0.0, NO_DETECTION
      for thr, tp, fp, fn in table[1:]:
        f1 = _f1(tp, fp, fn)
        if f1 > best_f1:
          best_f1, best_thr = f1, thr
      out.append(best_thr)
  else:
    best_f1, out = 0.0, [NO_DETECTION, NO_DETECTION]
    for a in tables[0]:
      for b in tables[1]:
        f1 = _f1(a[1] + b[1], a[2] + b[2], a[3] + b[3])
        if f1 > best_f1:
          best_f1, out = f1, [a[0], b[0]]
  for thr, type_name in zip(out, postprocess.TYPES):
    if thr == NO_DETECTION:
      logging.warning("%s intervals found in the validation videos do not "
                      "raise the %s F1: %s will not be predicted", type_name,
                      "overall" if objective == "overall" else type_name,
                      type_name)
  return out[0], out[1]
