"""Per-frame spotting metrics: F1 at a threshold, ROC curve and ROC AUC.

Labels are binary per frame (1 = inside an expression); scores are any
finite floats, higher = more likely an expression. A frame is predicted
positive when its score >= threshold. A NaN score marks a frame without a
score (no face was found there, see `methods.spotting`): such frames are
left out of every metric, as if the video did not have them. Infinite
scores raise.

ROC AUC is the Mann-Whitney statistic: the probability that a random
positive frame scores above a random negative one, ties counting 1/2. It is
computed from average ranks (ties share their mean rank), which equals that
pairwise count exactly. When one class is absent the AUC is undefined and
`nan` is returned (never an exception), so a video without expressions does
not break a report; average such values with `np.nanmean` or skip them.
Precision, recall and F1 are 0.0 when their denominator is 0.
"""
from typing import Any

import numpy as np
from scipy import stats

from mespot_jax.errors import InputError


def _check(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
  """Validates and converts to (bool labels, float64 scores), both 1-D,
  without the NaN (unscored) frames."""
  labels = np.asarray(labels)
  scores = np.asarray(scores, dtype=np.float64)
  if labels.ndim != 1 or labels.shape != scores.shape:
    raise InputError(
        f"labels shape {labels.shape} and scores shape {scores.shape}; "
        "expected two 1-D arrays of the same length")
  bad = np.flatnonzero((labels != 0) & (labels != 1))
  if bad.size:
    raise InputError(
        f"label {labels[bad[0]]!r} at frame index {bad[0]}; expected 0 or 1")
  bad = np.flatnonzero(np.isinf(scores))
  if bad.size:
    raise InputError(
        f"score {scores[bad[0]]} at frame index {bad[0]}; expected a finite "
        "number (or NaN for a frame without a score)")
  scored = ~np.isnan(scores)
  return labels[scored].astype(bool), scores[scored]


def roc_auc(labels: Any, scores: Any) -> float:
  """ROC AUC by the Mann-Whitney rank statistic (ties count 1/2).

  Args:
    labels: (T,) 0/1 or bool.
    scores: (T,) finite floats; NaN frames are left out.

  Returns:
    The AUC in [0, 1], or nan when the scored labels hold only one class.
  """
  labels, scores = _check(labels, scores)
  n_pos = int(labels.sum())
  n_neg = labels.size - n_pos
  if n_pos == 0 or n_neg == 0:
    return float("nan")
  ranks = stats.rankdata(scores)  # average ranks for ties, 1-based.
  u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0
  return float(u / (n_pos * n_neg))


def frame_f1_auc(labels_T: Any, scores_T: Any,
                 threshold: float) -> dict[str, float]:
  """Frame-level F1, precision and recall at a threshold, and ROC AUC.

  Args:
    labels_T: (T,) 0/1 or bool frame labels.
    scores_T: (T,) finite frame scores; NaN frames are left out.
    threshold: a frame is positive when its score >= threshold.

  Returns:
    {"f1", "auc", "precision", "recall"} as floats; `auc` is nan when one
    class is absent, the others are 0.0 on a zero denominator.
  """
  labels, scores = _check(labels_T, scores_T)
  pred = scores >= threshold
  tp = int(np.sum(pred & labels))
  fp = int(np.sum(pred & ~labels))
  fn = int(np.sum(~pred & labels))
  return {
      "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
      "auc": roc_auc(labels, scores),
      "precision": tp / (tp + fp) if tp + fp else 0.0,
      "recall": tp / (tp + fn) if tp + fn else 0.0,
  }


def roc_curve(labels: Any,
              scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """ROC curve over every distinct score (as sklearn, without dropping points).

  Args:
    labels: (T,) 0/1 or bool.
    scores: (T,) finite floats; NaN frames are left out.

  Returns:
    (fpr, tpr, thresholds), each (K + 1,) for K distinct scores:
    `thresholds` descending, starting at +inf (nothing positive, the point
    (0, 0)); point k uses "score >= thresholds[k]". The trapezoid area under
    (fpr, tpr) equals `roc_auc`. A rate whose class is absent is all nan.
  """
  labels, scores = _check(labels, scores)
  order = np.argsort(-scores, kind="stable")
  s, y = scores[order], labels[order]
  # Last index of each run of equal scores: all tied frames flip together.
  last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1] if s.size else (
      np.zeros(0, dtype=int))
  tps = np.r_[0, np.cumsum(y)[last]].astype(np.float64)
  fps = np.r_[0, np.cumsum(~y)[last]].astype(np.float64)
  thresholds = np.r_[np.inf, s[last]]
  tpr = tps / tps[-1] if tps[-1] else np.full_like(tps, np.nan)
  fpr = fps / fps[-1] if fps[-1] else np.full_like(fps, np.nan)
  return fpr, tpr, thresholds
