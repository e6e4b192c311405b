"""Tests for the `python -m mespot_jax.evaluate` command line (subprocess)."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

GT = """video,type,onset,offset,emotion
v1,micro,10,20,positive
v1,macro,100,200,negative
v2,Macro,1,50,surprise
"""
# one_to_one by hand: micro: [10,20] IoU 1 -> TP; ghost video -> FP.
# macro: [100,190] vs [100,200] IoU 91/101 -> TP; [100,200] again: best GT
# taken -> FP; v2 [1,50] not predicted -> FN.
PRED = """video,type,onset,offset,score,emotion,note
v1,MICRO,10,20,0.9,positive,x
ghost,micro,1,5,0.5,,
v1,macro,100,190,0.8,surprise,
v1,macro,100,200,0.1,negative,
"""


def _run(tmp_path, *args):
  env = dict(os.environ)
  env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
  return subprocess.run(
      [sys.executable, "-m", "mespot_jax.evaluate", *args],
      cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def _files(tmp_path, gt=GT, pred=PRED):
  (tmp_path / "gt.csv").write_text(gt)
  (tmp_path / "pred.csv").write_text(pred)
  return f"--gt={tmp_path / 'gt.csv'}", f"--pred={tmp_path / 'pred.csv'}"


def test_one_to_one_json_and_table(tmp_path):
  out = tmp_path / "res" / "result.json"
  proc = _run(tmp_path, *_files(tmp_path), f"--out={out}")
  assert proc.returncode == 0, proc.stderr
  result = json.loads(out.read_text())
  assert set(result) == {"micro", "macro", "overall"}
  assert [result["micro"][k] for k in ("tp", "fp", "fn")] == [1, 1, 0]
  assert [result["macro"][k] for k in ("tp", "fp", "fn")] == [1, 1, 1]
  assert [result["overall"][k] for k in ("tp", "fp", "fn")] == [2, 2, 1]
  # Overall F1 = 2*2 / (4 + 2 + 1) = 4/7.
  assert result["overall"]["f1"] == pytest.approx(4 / 7)
  assert "overall" in proc.stdout and "0.5714" in proc.stdout
  assert os.listdir(out.parent) == ["result.json"]  # no temp file left.


def test_str_protocol_fields(tmp_path):
  # Pairs: micro (positive, positive); macro (negative, surprise) from the
  # .8-score [100,190]. Overall classes {negative, positive}: positive P = R
  # = 1; negative TP 0, FP 0, FN 1 -> 0, 0. F1_a = 1/2; STRS = 4/7 * 1/2.
  out = tmp_path / "r.json"
  proc = _run(tmp_path, *_files(tmp_path), "--protocol=str", f"--out={out}")
  assert proc.returncode == 0, proc.stderr
  result = json.loads(out.read_text())
  assert result["micro"]["strs"] == pytest.approx(2 / 3)  # F1_spot 2/3 * 1.
  assert result["macro"]["f1_analysis"] == 0.0
  assert result["overall"]["f1_analysis"] == pytest.approx(0.5)
  assert result["overall"]["strs"] == pytest.approx(2 / 7)


def test_megc2020_protocol(tmp_path):
  # megc2020 IoU: micro [10,20] vs itself 1; macro [100,190] and [100,200]
  # vs GT [100,200]: 91/101 and 1, both >= 0.5.
  # micro: TP 1 (found), ghost FP 1, FN 0. macro: v1 GT found by both
  # preds -> TP 1, FP = 2 - 1 = 1; v2 FN 1. Overall (2, 2, 1).
  # Correct pairs: micro 1, macro 2 -> 3 over 4 predictions: P_large 3/4;
  # R = 2/3; F1_large = 2 * 3/4 * 2/3 / (3/4 + 2/3) = 1 / (17/12) = 12/17.
  out = tmp_path / "r.json"
  proc = _run(tmp_path, *_files(tmp_path), "--protocol=megc2020",
              f"--out={out}")
  assert proc.returncode == 0, proc.stderr
  result = json.loads(out.read_text())
  assert [result["overall"][k] for k in ("tp", "fp", "fn")] == [2, 2, 1]
  assert result["macro"]["correct_pairs"] == 2
  assert result["overall"]["correct_pairs"] == 3
  assert result["overall"]["precision_large"] == pytest.approx(0.75)
  assert result["overall"]["f1_large"] == pytest.approx(12 / 17)
  assert "F1_large" in proc.stdout and "0.7059" in proc.stdout


def test_megc2020_pairs_protocol(tmp_path):
  # Same hits, TP = pairs: micro (1, 1, 0); macro TP 2 pairs, FP = 2 - 2 =
  # 0, FN = 2 GTs - 2 = 0. Overall (3, 1, 0): P 3/4, R 3/3, F1 = 6/7.
  out = tmp_path / "r.json"
  proc = _run(tmp_path, *_files(tmp_path), "--protocol=megc2020_pairs",
              f"--out={out}")
  assert proc.returncode == 0, proc.stderr
  result = json.loads(out.read_text())
  assert [result["macro"][k] for k in ("tp", "fp", "fn")] == [2, 0, 0]
  assert [result["overall"][k] for k in ("tp", "fp", "fn")] == [3, 1, 0]
  assert result["overall"]["f1"] == pytest.approx(6 / 7)


def test_unknown_protocol_exits_2_with_one_line(tmp_path):
  out = tmp_path / "r.json"
  proc = _run(tmp_path, *_files(tmp_path), "--protocol=voc", f"--out={out}")
  assert proc.returncode == 2
  assert "Traceback" not in proc.stderr and "FATAL" not in proc.stderr
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1
  assert lines[0].startswith("error: ") and "'voc'" in lines[0]
  assert "megc2020_pairs" in lines[0]
  assert not out.exists()
  assert proc.stdout == ""  # nothing evaluated, no table.


BAD_PRED = [
    ("video,type,onset\nv1,micro,1\n", 1),  # missing column.
    ("video,type,onset,offset\nv1,micro,1,2\nv1,micro,9,3\n", 3),  # onset > offset.
    ("video,type,onset,offset\nv1,micro,1,2\nv1,blink,1,2\n", 3),  # unknown type.
    ("video,type,onset,offset\nv1,micro,1,2.5\n", 2),  # non-integer frame.
    ("", 1),  # empty file.
]


@pytest.mark.parametrize("pred, line", BAD_PRED)
def test_bad_prediction_csv_exits_2_with_one_line(tmp_path, pred, line):
  out = tmp_path / "r.json"
  proc = _run(tmp_path, *_files(tmp_path, pred=pred), f"--out={out}")
  assert proc.returncode == 2
  assert "Traceback" not in proc.stderr
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1
  assert "pred.csv" in lines[0] and f"line {line}" in lines[0]
  assert not out.exists()


def test_bad_ground_truth_csv_is_named(tmp_path):
  proc = _run(tmp_path, *_files(tmp_path, gt="video,type,onset,offset\nv,x,1,2\n"))
  assert proc.returncode == 2
  assert "gt.csv line 2" in proc.stderr and "Traceback" not in proc.stderr


def test_help_describes_flags():
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.evaluate", "--help"], cwd=REPO,
      capture_output=True, text=True, timeout=120)
  # absl's --help exits with status 1 by design; only the text matters.
  assert "Traceback" not in proc.stderr
  for text in ("--gt", "--pred", "--protocol", "--iou", "--out", "megc2020",
               "megc2020_pairs", "one_to_one", "str"):
    assert text in proc.stdout
