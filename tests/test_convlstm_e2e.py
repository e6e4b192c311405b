"""End to end: the ConvLSTM recogniser through the generic runner, the
evaluate CLI and the leakage audit, on `synthetic_me/tiny`."""
import csv
import json
import os
import subprocess
import sys

import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import audit
from mespot_jax import experiment

synthetic_convlstm = load_config("synthetic_convlstm")
samm_convlstm = load_config("samm_convlstm")

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def data_dir(tfds_dir):
  return tfds_dir  # the worker's shared folder (tests/conftest.py)


def test_loso_run_reports_uf1_uar(data_dir, tmp_path):
  config = synthetic_convlstm.get_config("smoke")
  config.dataset.data_dir = data_dir
  workdir = str(tmp_path / "run")
  metrics = experiment.run(config, workdir)
  assert metrics["method"] == "convlstm" and metrics["task"] == "recognition"
  assert len(metrics["folds"]) == 4  # one per subject
  m = metrics["model"]
  assert 0.0 <= m["uf1"] <= 1.0 and 0.0 <= m["uar"] <= 1.0
  assert m["num_samples"] == 24
  assert sum(map(sum, m["confusion"])) == 24
  assert set(m["per_class_f1"]) == {"negative", "positive", "surprise"}
  assert "uf1" in metrics["oracle"]["fitted_on_test"]
  assert os.path.exists(os.path.join(workdir, "confusion.png"))
  rows = list(csv.DictReader(open(os.path.join(workdir,
                                               "predictions.csv"))))
  assert list(rows[0]) == ["clip", "label", "pred", "subject", "dataset"]
  assert len(rows) == 24
  # The CLI scores the runner's CSV to the same numbers.
  out = str(tmp_path / "res.json")
  pred = os.path.join(workdir, "predictions.csv")
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.evaluate", "--task=recognition",
       f"--gt={pred}", f"--pred={pred}", f"--out={out}"], cwd=ROOT,
      capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert "UF1 1.0000" in proc.stdout  # the truth against itself
  gt = str(tmp_path / "gt.csv")
  with open(gt, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["clip", "label", "subject"])
    w.writerows([r["clip"], r["label"], r["subject"]] for r in rows)
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.evaluate", "--task=recognition",
       f"--gt={gt}", f"--pred={pred}", f"--out={out}"], cwd=ROOT,
      capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr[-2000:]
  res = json.load(open(out))
  assert res["uf1"] == pytest.approx(m["uf1"])
  assert res["uar"] == pytest.approx(m["uar"])


def test_kfold_run_and_audit(data_dir, tmp_path):
  config = samm_convlstm.get_config("smoke")
  config.dataset.data_dir = data_dir
  config.eval.calibration = "prior"  # a fitted choice for the audit
  metrics = experiment.run(config, str(tmp_path / "run"))
  assert metrics["folds_protocol"] == "kfold"
  held = [s for f in metrics["folds"] for s in f["test_subjects"]]
  assert sorted(held) == ["s01", "s02", "s03", "s04"]
  record = audit.audit(config, str(tmp_path / "audit"), fold_indices=(0,))
  assert record["passed"], record["moved"]
  checked = {r["choice"] for r in record["checked"]}
  assert {"epoch", "weights", "validation", "bias[model]"} <= checked
