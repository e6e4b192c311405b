"""Interval spotting evaluation: IoU and the four spotting protocols.

The protocols are `megc2020`, `megc2020_pairs`, `one_to_one`, `str` and
`apex_in_interval`.

Frames are 1-based and inclusive, so an interval [s, e] spans e - s + 1
frames. Ground truths and predictions are paired only within the same
(video, type); `micro` and `macro` are counted apart. Counts are summed over
videos (no per-video averaging) as they are, with no clamping; `overall`
holds the sums of the micro and macro counts and overall F1 =
2TP / (2TP + FP + FN) on those sums.

Rates are computed from the summed counts: precision = TP / (TP + FP),
recall = TP / (TP + FN), F1 = 2TP / (2TP + FP + FN), each 0.0 when its
denominator is not positive (no predictions, no ground truths, or neither).
Under every protocol TP + FP = predictions and TP + FN = ground truths, so
these denominators are never negative and are 0 only when there is nothing
to count. Under `megc2020` and `megc2020_pairs` FP (and under
`megc2020_pairs` also FN) may be negative (see below); the formulas are
kept as they are, so precision still equals TP / predictions (the helper's
`precision_small` for `megc2020`) and F1 = 2TP / (predictions + ground
truths), which is the helper's 2PR / (P + R). Both can then exceed 1 (one
prediction that finds two ground truths alone: precision 2 / 1).

A prediction for a video (or a type) that has no ground truth is a false
positive under every protocol: it can match nothing.

Protocols (see also docs/PROTOCOLS.md):

- `megc2020`: the official MEGC2020 baseline helper, checked against its
  released code (github.com/HeyingGithub/Baseline-project-for-MEGC2020_spotting,
  `MDMD_results/result_helper.py`: `calc_iou`, `pred_clips_analysis`).
  Its quirks are kept on purpose because published numbers used them:
  * inter = max(0, min(e1, e2) - max(s1, s2)) + 1, so two DISJOINT intervals
    still get inter = 1 and a small non-zero IoU (at most 1/3; it cannot
    reach 0.5, but it can pass a threshold set below 1/3 with `--iou`);
  * IoU = inter / (len1 + len2 - inter);
  * an interval with end <= start (a single frame) has IoU 0 with anything,
    itself included, so single-frame ground truths can never be found;
  * a ground truth is found if ANY prediction of the same video and type has
    IoU >= threshold; one prediction may find several ground truths and
    several predictions may find the same one;
  * TP = found ground truths (the helper's `N_find_labels`), FP =
    predictions - TP, FN = ground truths - TP (the helper sums
    `N_find_labels`, `N_clips` and `N_labels` over videos; FP and FN are
    their differences), summed over all (video, type) as they are. When one
    prediction finds two ground truths, FP of that (video, type) is
    negative and the sum keeps it (it offsets false positives elsewhere),
    which is what makes precision = TP / (TP + FP) the helper's
    found / predictions;
  * `correct_pairs` = (prediction, ground truth) pairs with IoU >= threshold
    (the helper's `N_correct_clips`), `precision_large` = correct_pairs /
    predictions and `f1_large` = 2 P_large R / (P_large + R) with R = recall
    (0.0 when P_large + R = 0, P_large 0.0 with no predictions). One
    prediction on two ground truths counts two pairs, so P_large can exceed
    1. `overall` takes summed pairs and summed predictions. The plain
    `precision` and `f1` are the helper's `precision_small` and `F1_small`.
- `megc2020_pairs`: the counting of the evaluation the LBCNN authors
  released with their MEGC2020 paper (github.com/hp1023/MEGC2020,
  `BCNN_evaluation.py` and `result_helper.py`; the paper links
  panhang1023/MEGC2020). Its `calc_iou` is the helper's, quirks included,
  so the megc2020 IoU is used. TP = (prediction, ground truth) pairs with
  IoU >= threshold (their `A_clips`), FP = predictions - TP, FN = ground
  truths - TP, summed over videos; precision = TP / predictions, recall =
  TP / ground truths, F1 = 2TP / (predictions + ground truths), as in their
  `recall_precision_f1`. Pathology: TP counts pairs, not intervals, so two
  predictions on one ground truth give TP 2 and FN = 1 - 2 = -1, recall can
  exceed 1, and duplicating a good prediction raises TP. Offered only to
  reproduce that paper's TP/FP/FN table; precision here equals
  `megc2020`'s `precision_large`.
- `one_to_one` (MEGC2021+, VOC-style, as in the SOFTNet/MTSN evaluation):
  plain inclusive IoU (disjoint = 0, single frames allowed). Per video and
  type, predictions are visited in descending `score` (a stable sort: equal
  scores keep file order; predictions without a score go after all scored
  ones, in file order; with no scores at all this is file order). Each takes
  the ground truth with the highest IoU among ALL ground truths of its video
  and type (ties: earlier onset, then earlier offset, then file order); it is
  a TP if that IoU >= threshold and that ground truth is not yet taken,
  otherwise an FP (even if another, untaken ground truth would also pass).
  FN = ground truths - TP. Because each prediction's target does not depend
  on what is taken, the TP/FP/FN COUNTS do not depend on the visiting order;
  the order decides WHICH prediction becomes the TP, which changes `str`.
- `str` (MEGC2022+ spot-then-recognise): spotting counts exactly as
  `one_to_one`; then analysis on the matched (TP) pairs only. For each pair,
  the prediction's emotion is compared with its ground truth's emotion
  (case-insensitive, surrounding spaces ignored). Classes = the union of the
  ground-truth emotions of the matched pairs. For a class c:
  TP_c = pairs with gt = c and pred = c; FP_c = pairs with pred = c and
  gt != c; FN_c = pairs with gt = c and pred != c (a predicted emotion that
  is no class, or empty, only counts as FN_c of its ground truth's class).
  precision_c = TP_c / (TP_c + FP_c), recall_c = TP_c / (TP_c + FN_c), 0.0
  when the denominator is 0. Analysis precision / recall are the means over
  classes, F1_analysis = 2PR / (P + R) (0.0 when P + R = 0), and
  STRS = F1_spot x F1_analysis. Pairs whose ground truth has no emotion
  label are left out of the analysis (counted in `analysis_skipped`). With
  no matched pairs, all analysis numbers are 0.0. `overall` pools the pairs
  of both types.
- `apex_in_interval` (Tran et al.'s metric for apex spotters): no IoU. A
  prediction's apex is its `apex` (or, when unknown, the middle frame
  (onset + offset) // 2). Per video and type, predictions are visited as
  in `one_to_one` (descending score); each is a TP if its apex lies inside
  [onset, offset] of a ground truth not yet taken (the earliest such by
  onset), otherwise an FP; a ground truth is taken at most once (a second
  apex inside it is an FP). FN = ground truths - TP. The counts are summed
  as above, but `f1` is the paper's: the mean over videos of each video's
  F1 (of that type; `overall`: of the video's micro + macro counts),
  over the videos with at least one ground truth or prediction of that
  type; `f1_summed` is the F1 of the summed counts and `videos` the
  number averaged. Precision and recall are those of the summed counts.
"""
import collections
from typing import Any, Callable, Sequence

from mespot_jax.errors import InputError

INTERVAL_TYPES = ("micro", "macro")


def _iou_megc2020(s1: int, e1: int, s2: int, e2: int) -> float:
  """IoU of the MEGC2020 helper (inter >= 1 always; end <= start gives 0)."""
  if e1 <= s1 or e2 <= s2:
    return 0.0
  inter = max(0, min(e1, e2) - max(s1, s2)) + 1
  return inter / ((e1 - s1 + 1) + (e2 - s2 + 1) - inter)


def _iou_inclusive(s1: int, e1: int, s2: int, e2: int) -> float:
  """Plain IoU of inclusive frame intervals (disjoint = 0)."""
  inter = max(0, min(e1, e2) - max(s1, s2) + 1)
  union = (e1 - s1 + 1) + (e2 - s2 + 1) - inter
  return inter / union if union > 0 else 0.0


_IOU_FNS: dict[str, Callable[[int, int, int, int], float]] = {
    "megc2020": _iou_megc2020,
    "megc2020_pairs": _iou_megc2020,
    "one_to_one": _iou_inclusive,
    "str": _iou_inclusive,
}


def iou(a_onset: int, a_offset: int, b_onset: int, b_offset: int,
        protocol: str = "one_to_one") -> float:
  """IoU of two 1-based inclusive frame intervals under a protocol.

  Args:
    a_onset: first frame of interval a.
    a_offset: last frame of interval a.
    b_onset: first frame of interval b.
    b_offset: last frame of interval b.
    protocol: `megc2020` or `megc2020_pairs` (helper quirks, see the module
      docstring), `one_to_one` or `str` (plain IoU).

  Returns:
    The IoU in [0, 1].
  """
  if protocol not in _IOU_FNS:
    raise InputError(
        f"unknown protocol {protocol!r}; expected one of {sorted(_IOU_FNS)}")
  return _IOU_FNS[protocol](a_onset, a_offset, b_onset, b_offset)


def _ratio(num: float, den: float) -> float:
  """num / den, or 0.0 when den is not positive."""
  return num / den if den > 0 else 0.0


def _rates(tp: int, fp: int, fn: int) -> dict[str, Any]:
  """Counts plus precision, recall and F1 on (summed) counts.

  FP or FN may be negative (megc2020, megc2020_pairs); TP + FP is then still
  the number of predictions and TP + FN that of ground truths, so precision
  is TP / predictions. A denominator that is not positive gives 0.0.
  """
  return {
      "tp": tp, "fp": fp, "fn": fn,
      "precision": _ratio(tp, tp + fp),
      "recall": _ratio(tp, tp + fn),
      "f1": _ratio(2 * tp, 2 * tp + fp + fn),
  }


def _large(result: dict[str, Any], correct_pairs: int) -> dict[str, Any]:
  """The helper's correct_pairs, precision_large and f1_large (megc2020)."""
  p_large = _ratio(correct_pairs, result["tp"] + result["fp"])
  recall = result["recall"]
  return {"correct_pairs": correct_pairs, "precision_large": p_large,
          "f1_large": _ratio(2 * p_large * recall, p_large + recall)}


def _megc2020_hits(gts, preds, thr):
  """All (gt, pred) pairs of one video and type with megc2020 IoU >= thr."""
  return [(j, i) for j, g in enumerate(gts) for i, p in enumerate(preds)
          if _iou_megc2020(g.onset, g.offset, p.onset, p.offset) >= thr]


def _match_megc2020(gts, preds, thr):
  """Returns (tp, fp, fn, all hit (gt, pred) pairs) for one video and type."""
  hits = _megc2020_hits(gts, preds, thr)
  tp = len({j for j, _ in hits})  # ground truths found; FP may go below 0.
  return (tp, len(preds) - tp, len(gts) - tp,
          [(gts[j], preds[i]) for j, i in hits])


def _match_megc2020_pairs(gts, preds, thr):
  """Returns (tp, fp, fn, hit pairs) with TP = hit pairs (LBCNN code)."""
  hits = _megc2020_hits(gts, preds, thr)
  tp = len(hits)  # FP and FN may both go below 0.
  return (tp, len(preds) - tp, len(gts) - tp,
          [(gts[j], preds[i]) for j, i in hits])


def _match_one_to_one(gts, preds, thr):
  """Returns (tp, fp, fn, matched (gt, pred) pairs) for one video and type."""
  # Stable sort: equal scores keep file order; unscored predictions go last.
  order = sorted(
      range(len(preds)),
      key=lambda i: (preds[i].score is None,
                     -preds[i].score if preds[i].score is not None else 0.0))
  gt_order = sorted(range(len(gts)), key=lambda j: (gts[j].onset,
                                                    gts[j].offset))
  taken = set()
  pairs = []
  for i in order:
    p = preds[i]
    best_j, best_iou = None, -1.0
    for j in gt_order:  # strict '>' keeps the earliest onset on ties.
      v = _iou_inclusive(gts[j].onset, gts[j].offset, p.onset, p.offset)
      if v > best_iou:
        best_j, best_iou = j, v
    if best_j is not None and best_iou >= thr and best_j not in taken:
      taken.add(best_j)
      pairs.append((gts[best_j], p))
  tp = len(pairs)
  return tp, len(preds) - tp, len(gts) - tp, pairs


def _match_apex_in_interval(gts, preds, thr):
  """Returns (tp, fp, fn, matched pairs): apex inside an untaken truth."""
  del thr  # no IoU
  order = sorted(
      range(len(preds)),
      key=lambda i: (preds[i].score is None,
                     -preds[i].score if preds[i].score is not None else 0.0))
  gt_order = sorted(range(len(gts)), key=lambda j: (gts[j].onset,
                                                    gts[j].offset))
  taken, pairs = set(), []
  for i in order:
    p = preds[i]
    apex = getattr(p, "apex", -1)
    apex = apex if apex is not None and apex > 0 else (p.onset +
                                                       p.offset) // 2
    for j in gt_order:
      if j not in taken and gts[j].onset <= apex <= gts[j].offset:
        taken.add(j)
        pairs.append((gts[j], p))
        break
  tp = len(pairs)
  return tp, len(preds) - tp, len(gts) - tp, pairs


def _video_mean_f1(per_video, types) -> tuple[float, int]:
  """Mean over videos of the F1 of their counts summed over `types`
  (videos with nothing of those types left out) and how many there were."""
  f1s = []
  for counts in per_video.values():
    tp, fp, fn = (sum(counts[t][k] for t in types) for k in ("tp", "fp",
                                                             "fn"))
    if tp + fp + fn:
      f1s.append(_ratio(2 * tp, 2 * tp + fp + fn))
  return (sum(f1s) / len(f1s) if f1s else 0.0), len(f1s)


_MATCHERS = {
    "megc2020": _match_megc2020,
    "megc2020_pairs": _match_megc2020_pairs,
    "one_to_one": _match_one_to_one,
    "str": _match_one_to_one,
    "apex_in_interval": _match_apex_in_interval,
}
PROTOCOLS = tuple(_MATCHERS)  # The names `evaluate` accepts.


def _norm_emotion(value: Any) -> str:
  return str(value or "").strip().lower()


def str_analysis(pairs: Sequence[tuple[Any, Any]]) -> dict[str, Any]:
  """Emotion analysis of matched (gt, pred) pairs for the `str` protocol.

  Args:
    pairs: matched (ground truth, prediction) rows with an `emotion`.

  Returns:
    `analysis_pairs` (pairs analysed), `analysis_skipped` (pairs whose
    ground truth has no emotion), `analysis_correct`, `analysis_precision`,
    `analysis_recall`, `f1_analysis` and `per_emotion` {class: {tp, fp, fn,
    precision, recall}}; see the module docstring for the definitions.
  """
  labelled = [(_norm_emotion(getattr(g, "emotion", "")),
               _norm_emotion(getattr(p, "emotion", ""))) for g, p in pairs]
  skipped = sum(1 for g, _ in labelled if not g)
  labelled = [(g, p) for g, p in labelled if g]
  classes = sorted({g for g, _ in labelled})
  per_emotion = {}
  for c in classes:
    tp = sum(1 for g, p in labelled if g == c and p == c)
    fp = sum(1 for g, p in labelled if g != c and p == c)
    fn = sum(1 for g, p in labelled if g == c and p != c)
    per_emotion[c] = {
        "tp": tp, "fp": fp, "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
    }
  n = len(classes)
  precision = sum(v["precision"] for v in per_emotion.values()) / n if n else 0.0
  recall = sum(v["recall"] for v in per_emotion.values()) / n if n else 0.0
  f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
  return {
      "analysis_pairs": len(labelled),
      "analysis_skipped": skipped,
      "analysis_correct": sum(1 for g, p in labelled if g == p),
      "analysis_precision": precision,
      "analysis_recall": recall,
      "f1_analysis": f1,
      "per_emotion": per_emotion,
  }


def _check_type(row: Any, what: str, k: int) -> str:
  kind = str(getattr(row, "type", "")).strip().lower()
  if kind not in INTERVAL_TYPES:
    raise InputError(
        f"{what} row {k}: type {getattr(row, 'type', None)!r}; expected "
        "'micro' or 'macro'")
  return kind


def evaluate(gt_rows: Sequence[Any], pred_rows: Sequence[Any],
             protocol: str = "one_to_one",
             iou_threshold: float = 0.5) -> dict[str, Any]:
  """Scores predicted intervals against ground truth.

  Args:
    gt_rows: ground-truth rows with `video`, `type` ("micro"/"macro", any
      case), `onset`, `offset` (1-based inclusive) and, for `str`, `emotion`
      (e.g. `io.IntervalRow`).
    pred_rows: predicted rows, same attributes plus an optional `score`
      (None or absent: unscored).
    protocol: one of `PROTOCOLS`: `megc2020`, `megc2020_pairs`,
      `one_to_one`, `str` or `apex_in_interval` (module docstring).
    iou_threshold: a match needs IoU >= this, in (0, 1].

  Returns:
    {"micro": ..., "macro": ..., "overall": ..., "per_video": ...}: the first
    three hold `tp, fp, fn, precision, recall, f1` (for `megc2020` also
    `correct_pairs`, `precision_large`, `f1_large`; for `str` also the
    `str_analysis` fields, `f1_spot` (= f1) and `strs`); `per_video` maps
    each video to {"micro": {tp, fp, fn}, "macro": {tp, fp, fn}}, the
    unclamped counts of that video that the totals sum.

  Raises:
    InputError: unknown protocol or type, threshold out of range.
  """
  if protocol not in _MATCHERS:
    raise InputError(
        f"unknown protocol {protocol!r}; expected one of {sorted(_MATCHERS)}")
  if not 0.0 < iou_threshold <= 1.0:
    raise InputError(
        f"IoU threshold {iou_threshold}; expected a value in (0, 1]")
  match = _MATCHERS[protocol]
  groups = collections.defaultdict(lambda: ([], []))
  for k, row in enumerate(gt_rows, 1):
    groups[(str(row.video), _check_type(row, "ground truth", k))][0].append(row)
  for k, row in enumerate(pred_rows, 1):
    groups[(str(row.video), _check_type(row, "prediction", k))][1].append(row)

  counts = {t: [0, 0, 0] for t in INTERVAL_TYPES}
  pairs = {t: [] for t in INTERVAL_TYPES}
  per_video = {}
  for (video, kind), (gts, preds) in sorted(groups.items()):
    tp, fp, fn, matched = match(gts, preds, iou_threshold)
    counts[kind] = [a + b for a, b in zip(counts[kind], (tp, fp, fn))]
    pairs[kind].extend(matched)
    video_counts = per_video.setdefault(
        video, {t: {"tp": 0, "fp": 0, "fn": 0} for t in INTERVAL_TYPES})
    video_counts[kind] = {"tp": tp, "fp": fp, "fn": fn}

  result = {t: _rates(*counts[t]) for t in INTERVAL_TYPES}
  result["overall"] = _rates(*[sum(counts[t][i] for t in INTERVAL_TYPES)
                               for i in range(3)])
  if protocol == "megc2020":
    n_pairs = {t: len(pairs[t]) for t in INTERVAL_TYPES}
    n_pairs["overall"] = sum(n_pairs.values())
    for key in ("micro", "macro", "overall"):
      result[key].update(_large(result[key], n_pairs[key]))
  if protocol == "str":
    pairs["overall"] = pairs["micro"] + pairs["macro"]
    for key in ("micro", "macro", "overall"):
      analysis = str_analysis(pairs[key])
      result[key].update(analysis)
      result[key]["f1_spot"] = result[key]["f1"]
      result[key]["strs"] = result[key]["f1"] * analysis["f1_analysis"]
  if protocol == "apex_in_interval":
    for key, types in (("micro", ("micro",)), ("macro", ("macro",)),
                       ("overall", INTERVAL_TYPES)):
      mean, n = _video_mean_f1(per_video, types)
      result[key].update(f1_summed=result[key]["f1"], f1=mean, videos=n)
  result["per_video"] = per_video
  return result
