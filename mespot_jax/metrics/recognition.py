"""Recognition metrics: confusion matrix, UF1 and UAR (MEGC2019 composite).

UF1 = mean over classes of 2TP / (2TP + FP + FN) and UAR = mean over classes
of TP / (TP + FN), both from counts summed over ALL leave-one-subject-out
folds (not averages of per-fold scores). Pass every fold's labels
concatenated, or sum the per-fold confusion matrices and call
`uf1_uar_from_confusion`: the two are identical.

Classes are integers 0..num_classes-1. A class absent from both the truth
and the predictions is skipped (left out of both means, reported as None).
A class that is predicted but never true is kept: its F1 is 0 and its
recall 0/0 is taken as 0.0, which lowers UAR. With no samples at all UF1
and UAR are 0.0.
"""
from typing import Any

import numpy as np

from mespot_jax.errors import InputError


def _labels(values: Any, name: str, num_classes: int) -> np.ndarray:
  """Validates integer labels in [0, num_classes)."""
  arr = np.asarray(values)
  if arr.ndim != 1:
    raise InputError(f"{name} has shape {arr.shape}; expected a 1-D array")
  if arr.size and not np.issubdtype(arr.dtype, np.integer):
    as_int = arr.astype(np.int64) if np.issubdtype(arr.dtype, np.number) else None
    if as_int is None or np.any(as_int != arr):
      bad = 0 if as_int is None else int(np.flatnonzero(as_int != arr)[0])
      raise InputError(
          f"{name}[{bad}] = {arr[bad]!r}; expected an integer class label")
    arr = as_int
  bad = np.flatnonzero((arr < 0) | (arr >= num_classes))
  if bad.size:
    raise InputError(
        f"{name}[{bad[0]}] = {arr[bad[0]]}; expected a class in "
        f"[0, {num_classes})")
  return arr.astype(np.int64)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
  """Counts of (true, predicted) class pairs.

  Args:
    y_true: (N,) integer labels in [0, num_classes).
    y_pred: (N,) integer labels in [0, num_classes).
    num_classes: number of classes C >= 1.

  Returns:
    (C, C) int64, rows = true class, columns = predicted class.

  Raises:
    InputError: shapes differ or a label is out of range.
  """
  if num_classes < 1:
    raise InputError(f"num_classes = {num_classes}; expected >= 1")
  t = _labels(y_true, "y_true", num_classes)
  p = _labels(y_pred, "y_pred", num_classes)
  if t.shape != p.shape:
    raise InputError(
        f"y_true has {t.size} labels and y_pred {p.size}; expected the same")
  cm = np.zeros((num_classes, num_classes), dtype=np.int64)
  np.add.at(cm, (t, p), 1)
  return cm


def uf1_uar_from_confusion(cm: Any) -> dict[str, Any]:
  """UF1 and UAR from a (summed) confusion matrix.

  Args:
    cm: (C, C) counts, rows = true class, columns = predicted class.

  Returns:
    {"uf1", "uar", "per_class_f1", "per_class_recall", "classes_used",
    "confusion", "num_samples"}: per-class lists hold None for skipped
    classes; `confusion` is the matrix as nested lists.
  """
  cm = np.asarray(cm, dtype=np.int64)
  if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or np.any(cm < 0):
    raise InputError(
        f"confusion matrix of shape {cm.shape}; expected a square matrix of "
        "non-negative counts")
  tp = np.diag(cm)
  fp = cm.sum(axis=0) - tp
  fn = cm.sum(axis=1) - tp
  f1s, recalls, used = [], [], []
  for c in range(cm.shape[0]):
    if tp[c] + fp[c] + fn[c] == 0:  # absent from truth and prediction.
      f1s.append(None)
      recalls.append(None)
      continue
    used.append(c)
    f1s.append(float(2 * tp[c] / (2 * tp[c] + fp[c] + fn[c])))
    recalls.append(float(tp[c] / (tp[c] + fn[c])) if tp[c] + fn[c] else 0.0)
  n = len(used)
  return {
      "uf1": sum(f1s[c] for c in used) / n if n else 0.0,
      "uar": sum(recalls[c] for c in used) / n if n else 0.0,
      "per_class_f1": f1s,
      "per_class_recall": recalls,
      "classes_used": used,
      "confusion": cm.tolist(),
      "num_samples": int(cm.sum()),
  }


def uf1_uar(y_true: Any, y_pred: Any, num_classes: int) -> dict[str, Any]:
  """UF1 and UAR over all samples (all folds concatenated).

  Args:
    y_true: (N,) integer labels in [0, num_classes), all folds together.
    y_pred: (N,) predicted labels, same order.
    num_classes: number of classes.

  Returns:
    See `uf1_uar_from_confusion`.

  Raises:
    InputError: shapes differ or a label is out of range.
  """
  return uf1_uar_from_confusion(confusion_matrix(y_true, y_pred, num_classes))
