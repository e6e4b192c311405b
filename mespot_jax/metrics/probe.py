"""A linear reference for recognition sets (`scripts/recognition_probe.py`).

Leave-one-subject-out ridge regression (one-vs-rest, closed form) on the
per-pixel largest change from a clip's onset frame: if the class is in the
facial motion, this probe finds some of it without any training loop.
"""
import numpy as np


def motion_features(x_NTHWC: np.ndarray) -> np.ndarray:
  """(N, D): max over frames of |frame - onset frame|, pixels in [0, 1]."""
  x = x_NTHWC.astype(np.float32) / 255.0
  return np.abs(x - x[:, :1]).max(1).reshape(len(x), -1)


def loso_ridge(features_ND: np.ndarray, labels_N: np.ndarray,
               subjects_N: np.ndarray, num_classes: int) -> np.ndarray:
  """Leave-one-subject-out predictions of a one-vs-rest ridge regression.

  Args:
    features_ND: one row per clip.
    labels_N: class indices (clips labelled -1 are neither trained on nor
      predicted: their prediction is -1).
    subjects_N: subject of each clip.
    num_classes: classes.

  Returns:
    (N,) predicted class per clip.
  """
  pred = np.full(len(labels_N), -1)
  for s in np.unique(subjects_N):
    train = (subjects_N != s) & (labels_N >= 0)
    test = (subjects_N == s) & (labels_N >= 0)
    if not test.any():
      continue
    mean = features_ND[train].mean(0)
    std = features_ND[train].std(0) + 1e-6
    a = (features_ND[train] - mean) / std
    y = np.eye(num_classes)[labels_N[train]]
    lam = 0.1 * a.shape[1]
    # Dual form: (A A^T + lam I)^-1 is N_train x N_train.
    w = a.T @ np.linalg.solve(a @ a.T + lam * np.eye(len(a)), y)
    pred[test] = np.argmax(((features_ND[test] - mean) / std) @ w, 1)
  return pred
