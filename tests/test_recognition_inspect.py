"""`python -m mespot_jax.inspect_dataset` on recognition datasets.

Builds the dummy `casme_ii` and `megc2019_composite` releases; the clips
written by `--out` are checked against the values written by hand in those
builders' tests (imported, not recomputed).
"""
import json
import os
import subprocess
import sys

import pytest

from mespot_jax.builders.casme_ii import casme_ii_dataset_builder_test as casme_test
from mespot_jax.builders.megc2019_composite import (
    megc2019_composite_dataset_builder_test as composite_test)
from mespot_jax import inspect_dataset
from mespot_jax.data import clips

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cli(*args):
  return subprocess.run([sys.executable, "-m", "mespot_jax.inspect_dataset",
                         *args], cwd=_ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  d = str(tmp_path_factory.mktemp("tfds"))
  # pylint: disable=protected-access
  casme_test._build(d)
  composite_test._build(d, composite_test.DUMMY)
  return d


def test_casme_ii_writes_every_clip(data_dir, tmp_path):
  out = str(tmp_path / "clips.json")
  proc = _cli("--dataset=casme_ii", f"--data_dir={data_dir}", f"--out={out}")
  assert proc.returncode == 0, proc.stderr
  with open(out) as f:
    summary = json.load(f)
  got = [(c["subject"], c["clip"], c["first_frame"], c["num_frames"],
          c["onset"], c["apex"], c["offset"], c["apex_annotated"],
          c["emotion"], c["label"], c["label_name"])
         for c in summary["clips"]]
  assert got == [e[:9] + e[10:] for e in casme_test.EXPECTED]
  assert {c["source"] for c in summary["clips"]} == {"casme_ii"}
  assert {k: v for k, v in summary["policies"].items() if v} == (
      casme_test.POLICIES)
  assert summary["classes"] == ["negative", "positive", "surprise"]
  # The table: per subject clips, frames, then clips per class.
  lines = proc.stdout.splitlines()
  assert lines[0].split() == ["subject", "clips", "frames", "negative",
                              "positive", "surprise", "unmapped"]
  assert lines[1].split() == ["sub01", "2", "11", "1", "1", "0", "0"]
  assert next(l for l in lines if l.startswith("total")).split() == [
      "total", "5", "25", "2", "1", "1", "1"]
  assert "  apex_missing_used_middle: 1" in lines
  assert "published counts" not in proc.stdout


def test_composite_prints_the_counts_check(data_dir, tmp_path):
  out = str(tmp_path / "composite.json")
  proc = _cli("--dataset=megc2019_composite", f"--data_dir={data_dir}",
              f"--out={out}")
  assert proc.returncode == 0, proc.stderr
  with open(out) as f:
    summary = json.load(f)
  assert [(c["subject"], c["clip"], c["emotion"], c["label_name"])
          for c in summary["clips"]] == composite_test.WITH_FILE
  assert summary["count_check"]["matches_published"] is False
  assert "published counts: differ: casme_ii negative 3 (published 88)" in (
      proc.stdout)
  assert summary["policies"]["label_file_row_without_clip"] == 1


def test_table_of_a_matching_check():
  summary = dict(
      clips=[dict(subject="a/1", num_frames=3, label_name="x"),
             dict(subject="a/10", num_frames=2, label_name=""),
             dict(subject="a/2", num_frames=4, label_name="x")],
      classes=["x"], policies={"p": 0},
      count_check=dict(matches_published=True, differences={}))
  lines = inspect_dataset.format_clip_table(summary).splitlines()
  assert [l.split()[0] for l in lines[1:4]] == ["a/1", "a/2", "a/10"]
  assert lines[4].split() == ["total", "3", "9", "2", "1"]
  assert lines[-2:] == ["  (none)", "published counts: match"]


def test_unbuilt_recognition_dataset_is_one_line_error(tmp_path):
  proc = _cli("--dataset=samm_me", f"--data_dir={tmp_path}", "--config=5class")
  assert proc.returncode == 1
  assert "samm_me/5class is not built there" in proc.stderr
  assert "Traceback" not in proc.stderr


def test_spotting_config_of_smic_opens_as_spotting(tmp_path):
  proc = _cli("--dataset=smic_e", f"--data_dir={tmp_path}",
              "--config=vis_spotting")
  # Not built: the spotting source's message, not the recognition one.
  assert proc.returncode == 1
  assert "smic_e/vis_spotting is not built there" in proc.stderr
  assert not clips.is_recognition(
      clips.make_builder("smic_e", str(tmp_path), "vis_spotting"))
  assert clips.is_recognition(clips.make_builder("smic_e", str(tmp_path),
                                                 "hs"))
