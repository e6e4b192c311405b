"""Tests for mespot_jax.metrics.intervals: IoU and the four spotting protocols.

Every expected number is worked out by hand in the comments. Frames are
1-based inclusive: [s, e] has e - s + 1 frames.
"""
import pytest

from mespot_jax.errors import InputError
from mespot_jax.metrics import intervals
from mespot_jax.metrics.io import IntervalRow as R

EVAL = intervals.evaluate


def counts(result, key="overall"):
  r = result[key]
  return r["tp"], r["fp"], r["fn"]


def large(result, key="overall"):
  r = result[key]
  return r["correct_pairs"], r["precision_large"], r["f1_large"]


# ---------------------------------------------------------------- IoU values.

@pytest.mark.parametrize("a, b, megc, plain", [
    # Touching, sharing frame 5: inter = 1, union = 5 + 5 - 1 = 9.
    ((1, 5), (5, 9), 1 / 9, 1 / 9),
    # Nested [3,7] in [1,10]: inter = 5, union = 10 + 5 - 5 = 10.
    ((1, 10), (3, 7), 0.5, 0.5),
    # Disjoint [1,5], [8,12]: plain inter 0. megc2020: max(0, 5-8) + 1 = 1,
    # union = 5 + 5 - 1 = 9 -> 1/9 (the quirk).
    ((1, 5), (8, 12), 1 / 9, 0.0),
    # Adjacent [1,5], [6,10] share no frame; megc2020 again 1/9.
    ((1, 5), (6, 10), 1 / 9, 0.0),
    # Single frame with itself: megc2020 end <= start -> 0; plain 1/1.
    ((7, 7), (7, 7), 0.0, 1.0),
    # Single frame inside [5,8]: megc2020 0; plain inter 1, union 4.
    ((6, 6), (5, 8), 0.0, 0.25),
    # Partial [1,10], [6,15]: inter 5, union 15 -> 1/3.
    ((1, 10), (6, 15), 1 / 3, 1 / 3),
])
def test_iou_hand_values(a, b, megc, plain):
  assert intervals.iou(*a, *b, protocol="megc2020") == pytest.approx(megc)
  assert intervals.iou(*b, *a, protocol="megc2020") == pytest.approx(megc)
  # The LBCNN code's calc_iou is the helper's, quirks included.
  assert intervals.iou(*a, *b, protocol="megc2020_pairs") == pytest.approx(
      megc)
  assert intervals.iou(*a, *b, protocol="one_to_one") == pytest.approx(plain)
  assert intervals.iou(*a, *b, protocol="str") == pytest.approx(plain)


def test_megc2020_disjoint_quirk_passes_a_low_threshold():
  # Disjoint [1,2] vs [4,5]: megc inter = 1, union = 2 + 2 - 1 = 3 -> 1/3.
  gt, pred = [R("v", "micro", 1, 2)], [R("v", "micro", 4, 5)]
  assert counts(EVAL(gt, pred, "megc2020", iou_threshold=0.3)) == (1, 0, 0)
  assert counts(EVAL(gt, pred, "one_to_one", iou_threshold=0.3)) == (0, 1, 1)


# --------------------------------------------------- protocol counting cases.

def test_nested_prediction_is_found_at_exactly_half():
  # GT [1,10], pred [3,7]: IoU 0.5 >= 0.5 -> TP under both protocols.
  gt, pred = [R("v", "macro", 1, 10)], [R("v", "macro", 3, 7)]
  for protocol in ("megc2020", "megc2020_pairs", "one_to_one"):
    r = EVAL(gt, pred, protocol)
    assert counts(r, "macro") == (1, 0, 0)
    assert counts(r, "micro") == (0, 0, 0)


def test_two_predictions_on_one_truth():
  # Two identical preds [10,19] on GT [10,19]; every IoU is 1.
  # one_to_one: first TP, second's best GT is taken -> FP: (1, 1, 0).
  # megc2020: the GT is found once -> TP 1, FP = 2 - 1 = 1, FN = 1 - 1 = 0;
  # P = 1/2, R = 1, F1 = 2*1 / (2 + 1 + 0) = 2/3. Both preds hit it: 2
  # correct pairs, P_large = 2/2 = 1, F1_large = 2*1*1 / (1 + 1) = 1.
  # megc2020_pairs: TP = 2 pairs, FP = 2 - 2 = 0, FN = 1 - 2 = -1 (kept);
  # P = 2/2 = 1, R = 2/1 = 2, F1 = 2*2 / (4 + 0 - 1) = 4/3.
  gt = [R("v", "micro", 10, 19)]
  pred = [R("v", "micro", 10, 19), R("v", "micro", 10, 19)]
  assert counts(EVAL(gt, pred, "one_to_one")) == (1, 1, 0)
  r = EVAL(gt, pred, "megc2020")
  assert counts(r) == (1, 1, 0)
  assert r["overall"]["precision"] == pytest.approx(0.5)
  assert r["overall"]["recall"] == pytest.approx(1.0)
  assert r["overall"]["f1"] == pytest.approx(2 / 3)
  assert large(r) == (2, pytest.approx(1.0), pytest.approx(1.0))
  r = EVAL(gt, pred, "megc2020_pairs")
  assert counts(r) == (2, 0, -1)
  assert r["per_video"]["v"]["micro"] == {"tp": 2, "fp": 0, "fn": -1}
  assert r["overall"]["precision"] == pytest.approx(1.0)
  assert r["overall"]["recall"] == pytest.approx(2.0)
  assert r["overall"]["f1"] == pytest.approx(4 / 3)
  assert "precision_large" not in r["overall"]


def test_single_frame_intervals():
  # GT [7,7], pred [7,7]: megc2020 IoU 0 -> TP 0, FP 1, FN 1;
  # one_to_one IoU 1 -> TP 1.
  gt, pred = [R("v", "micro", 7, 7)], [R("v", "micro", 7, 7)]
  assert counts(EVAL(gt, pred, "megc2020")) == (0, 1, 1)
  assert counts(EVAL(gt, pred, "megc2020_pairs")) == (0, 1, 1)
  assert counts(EVAL(gt, pred, "one_to_one")) == (1, 0, 0)


def test_one_prediction_on_two_truths_fp_is_not_clamped():
  # Pred [1,4] vs GTs [1,2] and [3,4]: each megc IoU = inter 2 / union
  # (4 + 2 - 2) = 0.5 >= 0.5, so both are hit.
  # megc2020: both GTs found -> TP 2, FP = 1 pred - 2 = -1 (no clamping),
  # FN 0. P = TP / (TP + FP) = 2 / 1 = 2 (= found / predictions), R = 1,
  # F1 = 4 / (4 - 1 + 0) = 4/3. Pairs 2 -> P_large = 2/1 = 2, F1_large =
  # 2*2*1 / 3 = 4/3. megc2020_pairs: 2 pairs -> the same (2, -1, 0).
  # one_to_one: tie -> the earlier onset [1,2] -> TP 1, FP 0, FN 1.
  gt = [R("v", "micro", 3, 4), R("v", "micro", 1, 2)]
  pred = [R("v", "micro", 1, 4)]
  r = EVAL(gt, pred, "megc2020")
  assert counts(r) == (2, -1, 0)
  assert r["overall"]["precision"] == pytest.approx(2.0)
  assert r["overall"]["recall"] == pytest.approx(1.0)
  assert r["overall"]["f1"] == pytest.approx(4 / 3)
  assert large(r) == (2, pytest.approx(2.0), pytest.approx(4 / 3))
  assert counts(EVAL(gt, pred, "megc2020_pairs")) == (2, -1, 0)
  assert counts(EVAL(gt, pred, "one_to_one")) == (1, 0, 1)


def test_megc2020_and_pairs_differ_when_both_happen():
  # GTs A [1,2], B [3,4]; P1 [1,4] hits A and B (IoU 0.5 each, as above);
  # P2 [1,3] hits A (inter 2, union 3 + 2 - 2 = 3 -> 2/3) and not B
  # (inter 1, union 3 + 2 - 1 = 4 -> 1/4). Pairs: (A,P1), (B,P1), (A,P2).
  # megc2020: found {A, B} -> TP 2, FP = 2 - 2 = 0, FN 0; P_large = 3/2,
  # R = 1, F1_large = 2 * 3/2 / (5/2) = 6/5.
  # megc2020_pairs: TP 3, FP = 2 - 3 = -1, FN = 2 - 3 = -1;
  # P = 3/2, R = 3/2, F1 = 6 / (6 - 1 - 1) = 3/2.
  gt = [R("v", "macro", 1, 2), R("v", "macro", 3, 4)]
  pred = [R("v", "macro", 1, 4), R("v", "macro", 1, 3)]
  r = EVAL(gt, pred, "megc2020")
  assert counts(r, "macro") == (2, 0, 0)
  assert large(r, "macro") == (3, pytest.approx(1.5), pytest.approx(1.2))
  r = EVAL(gt, pred, "megc2020_pairs")
  assert counts(r, "macro") == (3, -1, -1)
  assert r["macro"]["precision"] == pytest.approx(1.5)
  assert r["macro"]["recall"] == pytest.approx(1.5)
  assert r["overall"]["f1"] == pytest.approx(1.5)
  # The pairs protocol's precision is megc2020's precision_large.
  assert r["overall"]["precision"] == pytest.approx(
      EVAL(gt, pred, "megc2020")["overall"]["precision_large"])


def test_megc2020_negative_fp_is_summed_across_videos():
  # Video a as above: TP 2, FP = 1 - 2 = -1, FN 0. Video b: GT [1,10],
  # pred [50,60]: megc inter 1, union 10 + 11 - 1 = 20 -> 0.05: TP 0, FP 1,
  # FN 1. Sums (2, -1 + 1, 1) = (2, 0, 1): the -1 of video a cancels the FP
  # of video b, as the helper's found / predictions = 2 / 2 = 1 does.
  # R = 2/3, F1 = 4 / (4 + 0 + 1) = 4/5. Pairs 2 + 0 = 2 over 2 preds:
  # P_large = 1, F1_large = 2 * 2/3 / (5/3) = 4/5.
  gt = [R("a", "micro", 1, 2), R("a", "micro", 3, 4), R("b", "micro", 1, 10)]
  pred = [R("a", "micro", 1, 4), R("b", "micro", 50, 60)]
  r = EVAL(gt, pred, "megc2020")
  assert counts(r) == (2, 0, 1)
  assert r["per_video"]["a"]["micro"] == {"tp": 2, "fp": -1, "fn": 0}
  assert r["per_video"]["b"]["micro"] == {"tp": 0, "fp": 1, "fn": 1}
  assert r["overall"]["precision"] == pytest.approx(1.0)
  assert r["overall"]["recall"] == pytest.approx(2 / 3)
  assert r["overall"]["f1"] == pytest.approx(4 / 5)
  assert large(r) == (2, pytest.approx(1.0), pytest.approx(4 / 5))


def test_megc2020_large_overall_sums_pairs_and_predictions_of_both_types():
  # Micro: GT [10,19], preds [10,19] twice -> found 1, pairs 2, 2 preds.
  # Macro: GT [100,200], pred [300,400] (megc IoU 1 / 201) -> 0, 0, 1 pred.
  # Micro P_large = 2/2 = 1, R 1 -> F1_large 1. Macro: 0/1, R 0 -> 0, 0.
  # Overall: pairs 2 over 3 preds -> P_large 2/3; R = 1/2 found; F1_large
  # = 2 * 2/3 * 1/2 / (2/3 + 1/2) = (2/3) / (7/6) = 4/7.
  gt = [R("v", "micro", 10, 19), R("v", "macro", 100, 200)]
  pred = [R("v", "micro", 10, 19), R("v", "micro", 10, 19),
          R("v", "macro", 300, 400)]
  r = EVAL(gt, pred, "megc2020")
  assert large(r, "micro") == (2, pytest.approx(1.0), pytest.approx(1.0))
  assert large(r, "macro") == (0, 0.0, 0.0)
  assert large(r) == (2, pytest.approx(2 / 3), pytest.approx(4 / 7))
  assert counts(r) == (1, 2, 1)


def test_one_to_one_best_gt_taken_is_fp_even_if_another_gt_fits():
  # GTs A [1,10], B [3,12]. Pred1 [1,10]: IoU A 1, B 8/12 -> A, TP.
  # Pred2 [2,11]: IoU A 9/11 = .818, B 9/11 = .818 (tie) -> earlier onset A,
  # taken -> FP although B (IoU .818) is free. Totals (1, 1, 1).
  # megc2020 finds both GTs: TP 2, FP = 2 - 2 = 0, FN 0. All four pairs pass
  # 0.5, so megc2020_pairs: TP 4, FP = 2 - 4 = -2, FN = 2 - 4 = -2.
  gt = [R("v", "macro", 1, 10), R("v", "macro", 3, 12)]
  pred = [R("v", "macro", 1, 10), R("v", "macro", 2, 11)]
  assert counts(EVAL(gt, pred, "one_to_one")) == (1, 1, 1)
  assert counts(EVAL(gt, pred, "megc2020")) == (2, 0, 0)
  assert counts(EVAL(gt, pred, "megc2020_pairs")) == (4, -2, -2)


def test_micro_and_macro_counted_apart_and_overall_is_the_sum():
  # Micro: GT [10,20] hit by [10,20] (TP); pred [40,45] FP.
  # Macro: GT [100,200] missed (FN), GT [300,400] hit by [300,390]
  # (IoU 91/101 = .90, TP). A macro pred on the micro GT span [10,20] is
  # a macro FP: types never match across.
  gt = [R("v", "micro", 10, 20), R("v", "macro", 100, 200),
        R("v", "macro", 300, 400)]
  pred = [R("v", "micro", 10, 20), R("v", "micro", 40, 45),
          R("v", "macro", 300, 390), R("v", "macro", 10, 20)]
  # No interval meets two others, so all three protocols count alike.
  for protocol in ("megc2020", "megc2020_pairs", "one_to_one"):
    r = EVAL(gt, pred, protocol)
    assert counts(r, "micro") == (1, 1, 0)
    assert counts(r, "macro") == (1, 1, 1)
    assert counts(r, "overall") == (2, 2, 1)
    # Overall F1 = 2*2 / (4 + 2 + 1) = 4/7; P = 2/4; R = 2/3.
    assert r["overall"]["f1"] == pytest.approx(4 / 7)
    assert r["overall"]["precision"] == pytest.approx(0.5)
    assert r["overall"]["recall"] == pytest.approx(2 / 3)


def test_prediction_for_unknown_video_is_fp():
  gt = [R("v1", "micro", 1, 10)]
  pred = [R("v1", "micro", 1, 10), R("ghost", "micro", 1, 10)]
  for protocol in intervals.PROTOCOLS:
    r = EVAL(gt, pred, protocol)
    assert counts(r) == (1, 1, 0)
    assert r["per_video"]["ghost"]["micro"] == {"tp": 0, "fp": 1, "fn": 0}


@pytest.mark.parametrize("protocol", intervals.PROTOCOLS)
def test_zero_predictions_zero_gts_no_division_by_zero(protocol):
  gt = [R("v", "micro", 1, 10), R("w", "macro", 5, 50)]
  pred = [R("v", "micro", 1, 10)]
  # No predictions: (0, 0, 2), all rates 0.0.
  r = EVAL(gt, [], protocol)
  assert counts(r) == (0, 0, 2)
  assert (r["overall"]["precision"], r["overall"]["recall"],
          r["overall"]["f1"]) == (0.0, 0.0, 0.0)
  # No ground truth: every prediction FP, recall 0/0 -> 0.0.
  r = EVAL([], pred, protocol)
  assert counts(r) == (0, 1, 0)
  assert r["overall"]["recall"] == 0.0 and r["overall"]["f1"] == 0.0
  # Nothing at all.
  r = EVAL([], [], protocol)
  for key in ("micro", "macro", "overall"):
    assert r[key]["f1"] == 0.0 and r[key]["precision"] == 0.0
  # An empty video (macro has GT in w only, nothing predicted) adds only FN.
  r = EVAL(gt, pred, protocol)
  assert counts(r, "micro") == (1, 0, 0)
  assert counts(r, "macro") == (0, 0, 1)


def test_score_order_changes_which_prediction_matches_not_the_counts():
  # GT [10,20] (emotion "happy"). P1 [10,20] (IoU 1) says "happy", P2
  # [11,20] (IoU 10/11) says "sad"; the `str` analysis of the single TP
  # pair tells which prediction took the GT: "happy" = P1, "sad" = P2.
  # Scores P1 .1, P2 .9: P2 is visited first -> P2 TP, P1 FP.
  # No scores (file order) or equal scores (stable: file order) -> P1 TP.
  # Counts (1, 1, 0) every time.
  gt = [R("v", "micro", 10, 20, emotion="happy")]
  p1 = dict(video="v", type="micro", onset=10, offset=20, emotion="happy")
  p2 = dict(video="v", type="micro", onset=11, offset=20, emotion="sad")

  def matched(preds):
    r = EVAL(gt, preds, "str")
    assert counts(r) == counts(EVAL(gt, preds, "one_to_one")) == (1, 1, 0)
    assert r["overall"]["analysis_pairs"] == 1
    return "P1" if r["overall"]["analysis_correct"] == 1 else "P2"

  assert matched([R(**p1, score=0.1), R(**p2, score=0.9)]) == "P2"
  assert matched([R(**p1), R(**p2)]) == "P1"
  assert matched([R(**p1, score=0.5), R(**p2, score=0.5)]) == "P1"
  # Listing P2 first flips file order, not score order.
  assert matched([R(**p2), R(**p1)]) == "P2"
  assert matched([R(**p2, score=0.1), R(**p1, score=0.9)]) == "P1"


# ------------------------------------------------------------------------ STR.

def test_str_with_known_emotion_matches():
  # GT: [10,20] positive, [50,60] negative, [100,110] surprise.
  # Pred: [10,20] positive (TP, right), [50,60] positive (TP, wrong),
  # [200,210] negative (FP, not analysed). Surprise missed (FN).
  # Spot: TP 2, FP 1, FN 1 -> F1 = 4 / 6 = 2/3.
  # Pairs (gt, pred): (pos, pos), (neg, pos); classes {negative, positive}.
  # positive: TP 1, FP 1, FN 0 -> P 1/2, R 1.
  # negative: TP 0, FP 0, FN 1 -> P 0/0 = 0, R 0.
  # Macro P = 1/4, R = 1/2, F1_a = 2 * 1/8 / (3/4) = 1/3, STRS = 2/9.
  gt = [R("v", "micro", 10, 20, emotion="positive"),
        R("v", "micro", 50, 60, emotion="Negative"),
        R("v", "micro", 100, 110, emotion="surprise")]
  pred = [R("v", "micro", 10, 20, emotion="Positive "),
          R("v", "micro", 50, 60, emotion="positive"),
          R("v", "micro", 200, 210, emotion="negative")]
  r = EVAL(gt, pred, "str")
  m = r["micro"]
  assert (m["tp"], m["fp"], m["fn"]) == (2, 1, 1)
  assert m["f1_spot"] == pytest.approx(2 / 3)
  assert m["analysis_pairs"] == 2 and m["analysis_correct"] == 1
  assert sorted(m["per_emotion"]) == ["negative", "positive"]
  assert m["per_emotion"]["positive"] == {
      "tp": 1, "fp": 1, "fn": 0, "precision": 0.5, "recall": 1.0}
  assert m["analysis_precision"] == pytest.approx(0.25)
  assert m["analysis_recall"] == pytest.approx(0.5)
  assert m["f1_analysis"] == pytest.approx(1 / 3)
  assert m["strs"] == pytest.approx(2 / 9)
  # No macro intervals: all zero. Overall pools the same pairs.
  assert r["macro"]["strs"] == 0.0 and r["macro"]["analysis_pairs"] == 0
  assert r["overall"]["strs"] == pytest.approx(2 / 9)


def test_str_score_order_decides_the_analysed_emotion():
  # GT [10,20] positive. P1 [10,20] negative score .1; P2 [11,20] positive
  # score .9. Spot F1 = 2 / (2 + 1) = 2/3 either way.
  # By score: P2 matches -> class positive P = R = 1 -> F1_a 1, STRS 2/3.
  # File order (no scores): P1 matches -> positive TP 0 FN 1 -> F1_a 0.
  gt = [R("v", "micro", 10, 20, emotion="positive")]
  p1 = dict(video="v", type="micro", onset=10, offset=20, emotion="negative")
  p2 = dict(video="v", type="micro", onset=11, offset=20, emotion="positive")
  r = EVAL(gt, [R(**p1, score=0.1), R(**p2, score=0.9)], "str")
  assert r["micro"]["f1_analysis"] == pytest.approx(1.0)
  assert r["micro"]["strs"] == pytest.approx(2 / 3)
  r = EVAL(gt, [R(**p1), R(**p2)], "str")
  assert r["micro"]["f1_analysis"] == 0.0
  assert r["micro"]["strs"] == 0.0
  # Mixed: an unscored prediction goes after every scored one, so P2 (score
  # .2) is visited before P1 (no score) although P1 comes first in the file.
  r = EVAL(gt, [R(**p1), R(**p2, score=0.2)], "str")
  assert r["micro"]["f1_analysis"] == pytest.approx(1.0)


def test_str_overall_pools_micro_and_macro_pairs():
  # Micro pair (surprise, surprise); macro pair (positive, negative).
  # Classes {positive, surprise}: surprise P = R = 1; positive TP 0, FP 0,
  # FN 1 -> P = R = 0. Macro-average P = R = 1/2 -> F1_a 1/2. Spot overall
  # TP 2, FP 0, FN 0 -> F1 1, STRS 1/2. Per type: micro 1, macro 0.
  gt = [R("v", "micro", 1, 5, emotion="surprise"),
        R("v", "macro", 20, 40, emotion="positive")]
  pred = [R("v", "micro", 1, 5, emotion="surprise"),
          R("v", "macro", 20, 40, emotion="negative")]
  r = EVAL(gt, pred, "str")
  assert r["micro"]["strs"] == pytest.approx(1.0)
  assert r["macro"]["strs"] == 0.0
  assert r["overall"]["f1_analysis"] == pytest.approx(0.5)
  assert r["overall"]["strs"] == pytest.approx(0.5)


def test_bad_arguments_raise_input_error():
  gt = [R("v", "micro", 1, 5)]
  with pytest.raises(InputError, match="protocol"):
    EVAL(gt, gt, "voc")
  with pytest.raises(InputError, match="threshold"):
    EVAL(gt, gt, iou_threshold=0.0)
  with pytest.raises(InputError, match="prediction row 1"):
    EVAL(gt, [R("v", "blink", 1, 5)])
