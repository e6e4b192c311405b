"""scripts/compare_rethinking_of.py's own logic, on hand-made intervals (no
authors' code, no video)."""
import os
import sys

from mespot_jax.metrics.io import IntervalRow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import compare_rethinking_of as cmp  # pylint: disable=g-import-not-at-top,wrong-import-position


def test_authors_windows_become_one_based_rows_typed_by_their_rule():
  rows = cmp.authors_rows("15_0101", [[9, 24], [99, 115], [0, 200]])
  assert [(r.type, r.onset, r.offset) for r in rows] == [
      ("micro", 10, 25), ("macro", 100, 116), ("macro", 1, 201)]


def test_release_videos_ids_as_our_builder_names_them(tmp_path):
  for folder in ("s15/15_0101synthetic1", "s15/15_0102synthetic2",
                 "s16/16_0101synthetic1"):
    os.makedirs(tmp_path / "rawpic" / folder)
  assert cmp.release_videos(str(tmp_path)) == {
      "15_0101": "rawpic/s15/15_0101synthetic1",
      "15_0102": "rawpic/s15/15_0102synthetic2",
      "16_0101": "rawpic/s16/16_0101synthetic1"}


def test_compare_counts_both_ways_typed_and_type_blind():
  def row(v, t, a, b):
    return IntervalRow(video=v, type=t, onset=a, offset=b)
  truth = [row("a", "macro", 100, 140), row("a", "micro", 300, 310),
           row("b", "macro", 50, 90)]
  theirs = [row("a", "macro", 100, 140),    # = truth
            row("a", "macro", 298, 313),    # truth's micro, typed macro
            row("b", "macro", 500, 540)]    # FP
  ours = [row("a", "macro", 102, 141),      # IoU 38/41 with theirs
          row("a", "micro", 300, 310),      # IoU 11/16 with theirs' 2nd
          row("b", "macro", 50, 90)]        # truth, not theirs
  rep = cmp.compare(["a", "b"], truth, theirs, ours)
  typed, blind = rep["agreement"]["typed"], rep["agreement"]["type_blind"]
  assert (typed["theirs"], typed["ours"]) == (3, 3)
  assert typed["theirs_reproduced_by_ours"] == 1  # types differ on the 2nd
  assert blind["theirs_reproduced_by_ours"] == 2
  assert blind["ours_reproduced_by_theirs"] == 2
  assert abs(blind["share_of_theirs_reproduced"] - 2 / 3) < 1e-9
  va = rep["per_video"]["a"]
  assert va["matched_iou_0.5"] == [[[100, 140], [102, 141]],
                                   [[298, 313], [300, 310]]]
  assert rep["per_video"]["b"]["matched_iou_0.5"] == []
  f1 = rep["f1_vs_truth"]
  # theirs: macro TP 1 (a), FP 2 (a's typed-macro micro, b), FN 1 (b);
  # micro FN 1.
  assert (f1["authors"]["macro"]["tp"], f1["authors"]["macro"]["fp"],
          f1["authors"]["macro"]["fn"]) == (1, 2, 1)
  assert f1["authors"]["micro"]["fn"] == 1
  # ours: every truth found (IoU 39/41 >= 0.5), nothing else.
  assert f1["ours"]["overall"]["f1"] == 1.0
  assert va["f1_overall"]["ours"] == 1.0
  assert abs(va["f1_overall"]["authors"] - 2 / 4) < 1e-9


def test_coverage_counts_frames_once():
  rows = [IntervalRow(video="a", type="macro", onset=1, offset=10),
          IntervalRow(video="a", type="micro", onset=6, offset=15),
          IntervalRow(video="b", type="macro", onset=20, offset=20)]
  assert cmp.coverage(rows, {"a": 20, "b": 20}) == 16 / 40
