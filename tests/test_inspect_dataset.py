"""Tests of `python -m mespot_jax.inspect_dataset` on synthetic_lv/tiny."""
import json
import os
import subprocess
import sys

import pytest

from mespot_jax import inspect_dataset
from mespot_jax.data import source
from mespot_jax.synthetic import render

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def data_dir(tfds_dir):
  d = tfds_dir  # the worker's shared folder (tests/conftest.py)
  source.SpottingSource.prepare("synthetic_lv", d, "tiny", workers=1)
  return d


def test_cli_writes_the_truth_as_json(data_dir, tmp_path):
  out = str(tmp_path / "summary.json")
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.inspect_dataset",
       "--dataset=synthetic_lv", f"--data_dir={data_dir}", "--config=tiny",
       f"--out={out}"], cwd=_ROOT, capture_output=True, text=True,
      check=True)
  with open(out) as f:
    summary = json.load(f)
  assert summary["policies"] == {"no_face_frames": 0}
  assert [v["video"] for v in summary["videos"]] == ["s01_1", "s02_1",
                                                     "s03_1"]
  builder = source.SpottingSource.open("synthetic_lv", data_dir,
                                       "tiny").builder
  for v, (_, subject, p) in zip(summary["videos"], builder.video_params()):
    assert (v["subject"], v["fps"], v["num_frames"]) == (subject, 30.0, 90)
    truth = render.plan_video(p).events
    assert v["intervals"] == [dict(type=e.type, onset=e.onset, apex=e.apex,
                                   offset=e.offset) for e in truth]
  # The printed table: one row per subject and the totals.
  n_micro = sum(i["type"] == "micro" for v in summary["videos"]
                for i in v["intervals"])
  total = next(l for l in proc.stdout.splitlines() if l.startswith("total"))
  assert total.split()[1:] == ["3", "270", str(n_micro),
                               str(sum(len(v["intervals"]) for v in
                                       summary["videos"]) - n_micro)]
  assert "no_face_frames: 0" in proc.stdout


def test_table_counts_per_subject():
  summary = dict(videos=[
      dict(video="a", subject="s2", fps=30.0, num_frames=10, intervals=[
          dict(type="micro", onset=1, apex=2, offset=3)]),
      dict(video="b", subject="s1", fps=30.0, num_frames=5, intervals=[
          dict(type="macro", onset=1, apex=-1, offset=3),
          dict(type="macro", onset=4, apex=-1, offset=5)]),
      dict(video="c", subject="s2", fps=30.0, num_frames=7, intervals=[])],
                 policies={"onset_zero": 2})
  lines = inspect_dataset.format_table(summary).splitlines()
  assert lines[1].split() == ["s1", "1", "5", "0", "2"]
  assert lines[2].split() == ["s2", "2", "17", "1", "0"]
  assert lines[3].split() == ["total", "3", "22", "1", "2"]
  assert "  onset_zero: 2" in lines


def test_cli_unbuilt_dataset_is_one_line_error(tmp_path):
  # A recorded release is never built here (it needs its manual_dir).
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.inspect_dataset",
       "--dataset=samm_lv", f"--data_dir={tmp_path}"],
      cwd=_ROOT, capture_output=True, text=True)
  assert proc.returncode == 1
  assert "is not built there" in proc.stderr
  assert "Traceback" not in proc.stderr


def test_cli_builds_a_synthetic_dataset_on_first_use(tmp_path):
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.inspect_dataset",
       "--dataset=synthetic_lv", f"--data_dir={tmp_path}", "--config=tiny",
       f"--out={tmp_path / 's.json'}", "--max_rel_diff=0.2"],
      cwd=_ROOT, capture_output=True, text=True)
  # tiny (recipe 1, 3 s videos) is far denser than CAS(ME)^2: the check
  # fails, after printing and writing the summary.
  assert proc.returncode == 3, proc.stderr[-2000:]
  assert "error: differs from CAS(ME)^2 by more than 20%: events_per_min" in (
      proc.stderr)
  assert "label statistics beside CAS(ME)^2" in proc.stdout
  summary = json.load(open(tmp_path / "s.json"))
  assert summary["statistics"]["intervals"] == sum(
      len(v["intervals"]) for v in summary["videos"])
