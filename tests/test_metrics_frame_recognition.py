"""Tests for mespot_jax.metrics.frame (F1, ROC, AUC) and .recognition (UF1/UAR)."""
import math

import numpy as np
import pytest

from mespot_jax.errors import InputError
from mespot_jax.metrics import frame
from mespot_jax.metrics import recognition

# Positives score .9, .8, .1; negatives .8, .3. Pairs (pos > neg counts 1,
# tie 1/2): (.9,.8) 1, (.9,.3) 1, (.8,.8) 1/2, (.8,.3) 1, (.1,.8) 0,
# (.1,.3) 0 -> AUC = 3.5 / 6 = 7/12.
LABELS = [1, 0, 1, 0, 1]
SCORES = [0.9, 0.8, 0.8, 0.3, 0.1]


def test_frame_f1_auc_hand_values():
  # Threshold .5: predicted .9 (pos), .8 (neg), .8 (pos) -> TP 2, FP 1;
  # .1 positive missed -> FN 1. P = R = 2/3, F1 = 4 / 6 = 2/3.
  r = frame.frame_f1_auc(np.array(LABELS), np.array(SCORES), 0.5)
  assert r["auc"] == pytest.approx(7 / 12)
  assert r["precision"] == pytest.approx(2 / 3)
  assert r["recall"] == pytest.approx(2 / 3)
  assert r["f1"] == pytest.approx(2 / 3)
  # ">=": a threshold equal to a score includes it (.8 -> same as .5).
  assert frame.frame_f1_auc(LABELS, SCORES, 0.8)["f1"] == pytest.approx(2 / 3)


def test_auc_matches_brute_force_pairwise_count_on_random_data():
  rng = np.random.default_rng(0)
  for _ in range(5):
    n = int(rng.integers(2, 60))
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]  # both classes present.
    scores = rng.integers(0, 6, n).astype(float)  # many ties.
    pos, neg = scores[labels == 1], scores[labels == 0]
    diff = pos[:, None] - neg[None, :]
    brute = ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size
    assert frame.frame_f1_auc(labels, scores, 3.0)["auc"] == pytest.approx(brute)
    fpr, tpr, _ = frame.roc_curve(labels, scores)
    assert np.trapezoid(tpr, fpr) == pytest.approx(brute)


def test_auc_is_nan_when_one_class_is_absent_and_rates_stay_finite():
  r = frame.frame_f1_auc([0, 0, 0], [0.1, 0.5, 0.9], 0.5)
  assert math.isnan(r["auc"])
  # TP 0, FP 2, FN 0: precision 0, recall 0/0 -> 0, F1 0.
  assert (r["precision"], r["recall"], r["f1"]) == (0.0, 0.0, 0.0)
  assert math.isnan(frame.frame_f1_auc([1, 1], [0.2, 0.3], 0.5)["auc"])


def test_roc_curve_hand_values():
  # Distinct scores .9 .8 .3 .1; 3 positives, 2 negatives.
  # >= .9: TP 1 FP 0; >= .8: TP 2 FP 1; >= .3: TP 2 FP 2; >= .1: TP 3 FP 2.
  fpr, tpr, thr = frame.roc_curve(LABELS, SCORES)
  np.testing.assert_allclose(thr, [np.inf, 0.9, 0.8, 0.3, 0.1])
  np.testing.assert_allclose(fpr, [0, 0, 0.5, 1, 1])
  np.testing.assert_allclose(tpr, [0, 1 / 3, 2 / 3, 2 / 3, 1])


def test_frame_bad_input():
  with pytest.raises(InputError, match="shape"):
    frame.frame_f1_auc([0, 1], [0.1], 0.5)
  with pytest.raises(InputError, match="frame index 1"):
    frame.frame_f1_auc([0, 2], [0.1, 0.2], 0.5)
  with pytest.raises(InputError, match="frame index 0"):
    frame.roc_curve([0, 1], [np.inf, 0.2])


def test_frames_without_a_score_are_left_out():
  # NaN = no score (no face): the metrics are those of the scored frames,
  # whatever the labels of the unscored ones.
  labels = np.r_[LABELS, 1, 0, 1]
  scores = np.r_[SCORES, np.nan, np.nan, np.nan]
  assert frame.frame_f1_auc(labels, scores, 0.5) == frame.frame_f1_auc(
      LABELS, SCORES, 0.5)
  for got, want in zip(frame.roc_curve(labels, scores),
                       frame.roc_curve(LABELS, SCORES)):
    np.testing.assert_array_equal(got, want)
  assert np.isnan(frame.roc_auc([1, 0], [np.nan, np.nan]))


def test_confusion_and_uf1_uar_hand_values():
  # Confusion (rows true): [[2,1,0,0], [0,1,1,0], [0,0,1,0], [0,0,0,0]].
  # class 0: TP 2 FP 0 FN 1 -> F1 4/5, recall 2/3.
  # class 1: TP 1 FP 1 FN 1 -> F1 2/4, recall 1/2.
  # class 2: TP 1 FP 1 FN 0 -> F1 2/3, recall 1.
  # class 3: absent from truth and prediction -> skipped.
  # UF1 = (4/5 + 1/2 + 2/3) / 3 = 59/90; UAR = (2/3 + 1/2 + 1) / 3 = 13/18.
  y_true = [0, 0, 0, 1, 1, 2]
  y_pred = [0, 0, 1, 1, 2, 2]
  cm = recognition.confusion_matrix(y_true, y_pred, 4)
  np.testing.assert_array_equal(
      cm, [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
  r = recognition.uf1_uar(y_true, y_pred, 4)
  assert r["uf1"] == pytest.approx(59 / 90)
  assert r["uar"] == pytest.approx(13 / 18)
  assert r["classes_used"] == [0, 1, 2]
  assert r["per_class_f1"][3] is None and r["per_class_recall"][3] is None
  assert r["per_class_recall"][:3] == pytest.approx([2 / 3, 1 / 2, 1])


def test_predicted_only_class_counts_with_zero_recall():
  # class 0: TP 1 FN 1 -> F1 2/3, recall 1/2. class 1 (never true): TP 0
  # FP 1 -> F1 0, recall 0/0 -> 0. UF1 = 1/3, UAR = 1/4.
  r = recognition.uf1_uar([0, 0], [0, 1], 2)
  assert r["uf1"] == pytest.approx(1 / 3)
  assert r["uar"] == pytest.approx(1 / 4)


def test_summed_fold_counts_equal_concatenation_not_fold_average():
  # Fold A: all class 0 predicted right (UF1 1 on its own); fold B: one
  # class-1 clip predicted 0 (UF1 0). Summed counts: class 0 TP 2 FP 1 FN 0
  # -> F1 4/5; class 1 TP 0 FN 1 -> F1 0. UF1 = 2/5, not (1 + 0) / 2.
  folds = [([0, 0], [0, 0]), ([1], [0])]
  summed = sum(recognition.confusion_matrix(t, p, 2) for t, p in folds)
  from_cm = recognition.uf1_uar_from_confusion(summed)
  cat = recognition.uf1_uar([0, 0, 1], [0, 0, 0], 2)
  assert from_cm["uf1"] == cat["uf1"] == pytest.approx(2 / 5)
  assert cat["uar"] == pytest.approx(1 / 2)


def test_empty_input_gives_zero():
  r = recognition.uf1_uar([], [], 3)
  assert (r["uf1"], r["uar"], r["classes_used"]) == (0.0, 0.0, [])


@pytest.mark.parametrize("y_true, y_pred, needle", [
    ([0, 3], [0, 1], r"y_true\[1\] = 3"),
    ([0, 1], [0, -1], r"y_pred\[1\] = -1"),
    ([0, 1.5], [0, 1], r"y_true\[1\]"),
    ([0, 1], [0], "same"),
])
def test_recognition_bad_labels(y_true, y_pred, needle):
  with pytest.raises(InputError, match=needle):
    recognition.uf1_uar(y_true, y_pred, 3)
