"""Tests for the `apex_in_interval` protocol (Tran et al.'s metric).

Hand-worked cases: an apex inside a truth is a TP and outside it an FP;
a truth is taken once; the apex column is used, else the middle frame;
types are apart; F1 is the mean of the per-video F1s (f1_summed is the
pooled one).
"""
import json
import os
import subprocess
import sys

import pytest

from mespot_jax.metrics import intervals
from mespot_jax.metrics.io import IntervalRow as R

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ev(gt, pred):
  return intervals.evaluate(gt, pred, "apex_in_interval")


def _counts(r, key="overall"):
  return r[key]["tp"], r[key]["fp"], r[key]["fn"]


def test_apex_inside_is_tp_outside_fp_missed_fn():
  gt = [R("a", "micro", 10, 20), R("a", "micro", 40, 50)]
  # Apex 15 inside [10, 20] although the interval [1, 100] has a small
  # IoU with it; apex 30 inside nothing.
  pred = [R("a", "micro", 1, 100, apex=15, score=0.9),
          R("a", "micro", 29, 31, apex=30, score=0.8)]
  r = _ev(gt, pred)
  assert _counts(r, "micro") == (1, 1, 1)
  # One video: P = 1/2, R = 1/2, F1 = 1/2.
  assert r["micro"]["f1"] == pytest.approx(0.5)
  assert r["micro"]["videos"] == 1
  # IoU protocols would not count the long prediction.
  assert _counts(intervals.evaluate(gt, pred, "one_to_one"),
                 "micro") == (0, 2, 2)


def test_a_truth_is_taken_once_and_the_middle_frame_stands_in():
  gt = [R("a", "micro", 10, 20)]
  pred = [R("a", "micro", 12, 14, score=0.5),  # no apex: middle 13
          R("a", "micro", 15, 15, apex=15, score=0.9)]
  r = _ev(gt, pred)
  assert _counts(r, "micro") == (1, 1, 0)
  # The higher-scored one took the truth.
  assert r["per_video"]["a"]["micro"] == {"tp": 1, "fp": 1, "fn": 0}
  # A prediction of the other type finds nothing.
  r = _ev(gt, [R("a", "macro", 10, 20, apex=15)])
  assert _counts(r, "micro") == (0, 0, 1)
  assert _counts(r, "macro") == (0, 1, 0)


def test_f1_is_averaged_over_videos():
  gt = [R("a", "micro", 10, 20), R("b", "micro", 10, 20),
        R("b", "micro", 30, 40), R("b", "micro", 50, 60),
        R("b", "micro", 70, 80)]
  pred = [R("a", "micro", 15, 15, apex=15),  # a: F1 1
          R("b", "micro", 35, 35, apex=35),  # b: TP 1, FP 1, FN 3
          R("b", "micro", 90, 90, apex=90),
          R("c", "micro", 5, 5, apex=5)]  # c: no truth, FP: F1 0
  r = _ev(gt, pred)
  f1_b = 2 * 1 / (2 * 1 + 1 + 3)
  assert r["micro"]["f1"] == pytest.approx((1.0 + f1_b + 0.0) / 3)
  assert r["micro"]["videos"] == 3
  # Pooled: TP 2, FP 2, FN 3.
  assert _counts(r, "micro") == (2, 2, 3)
  assert r["micro"]["f1_summed"] == pytest.approx(4 / 9)
  assert r["micro"]["precision"] == pytest.approx(0.5)
  # No macro anywhere: nothing to average.
  assert (r["macro"]["f1"], r["macro"]["videos"]) == (0.0, 0)
  # Overall: per video, micro and macro counts together (same here).
  assert r["overall"]["f1"] == pytest.approx(r["micro"]["f1"])


def test_overall_averages_videos_over_both_types():
  gt = [R("a", "micro", 10, 20), R("a", "macro", 100, 200)]
  pred = [R("a", "macro", 150, 150, apex=150)]
  r = _ev(gt, pred)
  # Video a: TP 1, FP 0, FN 1 over both types: F1 2/3.
  assert r["overall"]["f1"] == pytest.approx(2 / 3)
  assert (r["micro"]["f1"], r["macro"]["f1"]) == (0.0, 1.0)


def test_cli_offers_the_protocol(tmp_path):
  gt, pred = tmp_path / "gt.csv", tmp_path / "pred.csv"
  gt.write_text("video,type,onset,offset\na,micro,10,20\n")
  pred.write_text("video,type,onset,offset,apex\na,micro,1,5,12\n")
  # Through the command line: the CLI modules' absl flags (evaluate's
  # --out, inspect_dataset's --out) cannot share one test process.
  res = tmp_path / "res.json"
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.evaluate", f"--gt={gt}",
       f"--pred={pred}", "--protocol=apex_in_interval", f"--out={res}"],
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  out = json.load(open(res))
  assert out["micro"]["tp"] == 1 and out["micro"]["f1"] == 1.0
