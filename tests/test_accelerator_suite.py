"""The accelerator suite: its roofline arithmetic, and a reduced run on CPU.

The reduced run (2 folds, smoke sizes, one timed step) goes through the
script's command line as the lead runs it on a GPU; a deliberately broken
method shows that a failure is recorded, not raised.
"""
import json
import os
import subprocess
import sys

import pytest

from benchmarks import accelerator_suite as suite
from mespot_jax import methods
from mespot_jax.methods import yap3dcnn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_device_peaks_by_device_kind():
  assert suite.device_peaks("NVIDIA H200")["name"] == "h200"
  assert suite.device_peaks("NVIDIA H100 80GB HBM3")["hbm"] == 3.35e12
  assert suite.device_peaks("NVIDIA A100-SXM4-80GB")["hbm"] == 2.039e12
  assert suite.device_peaks("NVIDIA A100-SXM4-40GB")["hbm"] == 1.555e12
  assert suite.device_peaks("TPU v5 lite")["bfloat16"] == 197e12
  assert suite.device_peaks("TPU v4")["name"] == "tpu v4"
  assert suite.device_peaks("cpu") is None


def test_roofline_known_answers():
  h100 = suite.device_peaks("NVIDIA H100")
  # 2 TFLOP in float32 (TF32 peak 494.7 TFLOP/s): 4.043 ms of compute,
  # 1 GB at 3.35 TB/s: 0.30 ms of memory; measured at twice the bound.
  t = 2e12 / 494.7e12
  r = suite.roofline(2e12, 1e9, 2 * t, h100, "float32")
  assert r["bound"] == "compute"
  assert r["bound_s"] == pytest.approx(t)
  assert r["fraction"] == pytest.approx(0.5)
  assert r["flops_fraction"] == pytest.approx(0.5)
  # 33.5 GB at 3.35 TB/s: 10 ms, memory-bound; 1 GFLOP in bf16 is 1 us.
  r = suite.roofline(1e9, 3.35e10, 0.04, h100, "bfloat16")
  assert r["bound"] == "memory"
  assert r["fraction"] == pytest.approx(0.25)
  assert r["flops_fraction"] == pytest.approx(1e9 / 0.04 / 989e12)
  assert suite.roofline(1e9, 1e9, 0.1, None, "float32")["fraction"] is None


def test_reduced_suite_runs_every_mode_on_cpu(tmp_path):
  out = tmp_path / "suite.json"
  proc = subprocess.run(
      [sys.executable, "benchmarks/accelerator_suite.py", "--reduced",
       "--methods=yap3dcnn", f"--out={out}"], cwd=ROOT, capture_output=True,
      text=True, timeout=300, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  result = json.loads(out.read_text())
  assert result["reduced"] and result["folds"] == 2
  assert result["peaks"] is None  # a CPU has no entry in the table
  (rec,) = result["methods"]
  assert rec["errors"] == {}
  rows = {(r["dtype"], r["mode"]): r for r in rec["rows"]}
  assert set(rows) == {(d, m) for d in ("float32", "bfloat16")
                       for m in ("vmapped", "looped")}
  for r in rows.values():
    assert r["samples_per_s"] == pytest.approx(2 * r["batch_size"]
                                               / r["step_s"])
    assert r["flops"] > 0 and r["fraction"] is None
  # Two folds vmapped do the work of two one-fold steps.
  for d in ("float32", "bfloat16"):
    assert rows[(d, "vmapped")]["flops"] == pytest.approx(
        rows[(d, "looped")]["flops"], rel=0.1)
  assert rec["batch_shapes"]["x"][:2] == [2, 4]  # folds, batch
  table = (tmp_path / "suite.md").read_text()
  assert table.count("| yap3dcnn |") == 4


class _Broken(yap3dcnn.Yap3DCNN):
  """The 3D-CNN whose step functions cannot be built."""
  name = "suite_broken"

  @property
  def step_fns(self):
    raise RuntimeError("deliberately broken")


def test_a_failing_method_is_recorded_not_raised(monkeypatch):
  monkeypatch.setitem(methods.METHODS, _Broken.name, _Broken)
  result = suite.run([_Broken.name, "no_such_method"], 2, 1, True, 0)
  broken, missing = result["methods"]
  assert broken["rows"] == []
  assert set(broken["errors"]) == {"float32", "bfloat16"}
  assert "deliberately broken" in broken["errors"]["float32"]
  assert "setup" in missing["errors"]
  assert "suite_broken (float32): RuntimeError" in suite.markdown(result)
