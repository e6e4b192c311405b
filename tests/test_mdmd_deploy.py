"""MDMD's leakage audit and offline scoring (the ROI flow spotter reuses
these helpers: tests/test_flow_roi_deploy.py).

Audit: on a small in-memory store whose subjects' intervals differ, every
declared choice (`values`: p per type, `thresholds`, the base's `post`,
`min_width`) and the kept epoch and weights (empty: nothing is trained)
stay put when the test subject's labels change; a variant that fits p on
every subject, the test subject's included, fails, naming the choice.

Scoring: synthetic face videos are aligned into a store that keeps the
aligner's ROI boxes, `train.deploy=True` writes a deploy record (no model
is trained: empty variables), and a held-out face video written to mp4 is
scored through `score.run` and the command line; the scores equal the
method's own curves of the aligner's crops (and boxes).
"""
import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mespot_jax.config import load_module as load_config


from mespot_jax import audit, deploy, experiment, methods, score
from mespot_jax.data import video_io
from mespot_jax.data.frames import relabelled
from mespot_jax.data.schema import Interval
from mespot_jax.face import track
from mespot_jax.methods import mdmd
from mespot_jax.metrics import io as metrics_io
from tests import fake_spotting
from tests.test_score import FPS
from tests.test_score_lbcnn import held_out_frames, shared_store

synthetic_flow_roi = load_config("synthetic_flow_roi")
synthetic_mdmd = load_config("synthetic_mdmd")

pytestmark = pytest.mark.slow  # audits every perturbation; aligns videos

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = {"mdmd": synthetic_mdmd, "flow_roi": synthetic_flow_roi}


def audit_store():
  base = fake_spotting.make_store(num_subjects=4, num_frames=90, size=32)
  return relabelled(base, [dataclasses.replace(v, intervals=(
      Interval("macro", 10, 29 + 4 * k), Interval("micro", 60, 64 + k)))
                           for k, v in enumerate(base.videos)])


def smoke_config(name, tmp_path):
  config = CONFIGS[name].get_config("smoke")
  config[name].cache_dir = str(tmp_path / "cache")
  return config


def check_audit_passes(name, tmp_path):
  record = audit.audit(smoke_config(name, tmp_path), str(tmp_path / name),
                       (0, 3), store=audit_store())
  assert record["passed"], record["moved"]
  assert {r["choice"] for r in record["checked"]} >= {
      "epoch", "weights", "validation", "values[model]", "rule[model]",
      "reach_s[model]"}
  values = {json.dumps(r["value"]) for r in record["checked"]
            if r["choice"] == "values[model]"}
  assert values  # p per type, per fold


def check_deploy_and_score(name, tmp_path, cli=True):
  """`cli=False`: no command-line run (it is `score.run` behind flag
  parsing, whatever the method: the MDMD's test here and
  tests/test_score.py's run it)."""
  store = shared_store()
  config = smoke_config(name, tmp_path)
  config.train.deploy = True
  config.train.test_folds = ("s00",)
  workdir = str(tmp_path / "run")
  experiment.run(config, workdir, store=store)
  info = json.load(open(os.path.join(workdir, "deploy", "deploy.json")))
  assert info["method"] == name and info["decoder"]["name"] == "peaks"
  assert len(info["decoder"]["record"]["values"]) == 2
  assert info["best_epoch"] == 0
  frames, ivs = held_out_frames()
  video = str(tmp_path / "held_out.mp4")
  video_io.write_video(video, frames, FPS)
  gt_csv = str(tmp_path / "gt.csv")
  metrics_io.write_intervals_csv(gt_csv, [metrics_io.IntervalRow(
      "held_out", iv.type, iv.onset, iv.offset) for iv in ivs])
  out, js = str(tmp_path / "iv.csv"), str(tmp_path / "s.json")
  summary = score.run(workdir, video, out=out, json_path=js, gt=gt_csv,
                      progress=False)
  assert set(summary["evaluation"]) == {"one_to_one", "megc2020"}
  assert json.load(open(js))["num_frames"] == 180
  assert all(r.video == "held_out" for r in metrics_io.read_intervals_csv(
      out))
  dep = deploy.load_deployment(workdir)
  scored = score.score_frames(dep, video_io.iter_frames(video), FPS, 32,
                              progress=False)
  aligned = list(track.VideoAligner(32, grey=True).align_stream(
      video_io.iter_frames(video)))
  face = np.array([a.face_found for a in aligned])
  assert face.all() and scored.face_found_T.all()  # this video: every frame
  ref = dep.method.curves_of_frames(
      np.stack([a.crop for a in aligned]),
      np.stack([a.rois for a in aligned]).astype(np.float32), FPS)
  # Only the frames whose HF/TF (or reference) lies outside the video are
  # unscored, the same frames in both.
  ref = np.where(dep.method.invalid_frames(face, FPS, dep.choices), np.nan,
                 ref)
  np.testing.assert_allclose(scored.scores_T2, ref, rtol=1e-5, atol=1e-6)
  assert np.isfinite(scored.scores_T2[40:140]).all()
  if not cli:
    return
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.score", f"--workdir={workdir}",
       f"--video={video}", f"--out={tmp_path / 'cli.csv'}"],
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]


class _LeakyP(mdmd.MDMD):
  """p fitted on every subject, the test subject's included."""
  name = "leaky_mdmd"

  def fit_ids(self, store, fold):
    return super().fit_ids(store, fold) + store.video_indices(
        fold.test_subjects)


def test_audit_passes_for_mdmd(tmp_path):
  check_audit_passes("mdmd", tmp_path)


def test_audit_fails_on_p_fitted_with_the_test_subject(tmp_path):
  methods.register(_LeakyP)
  config = smoke_config("mdmd", tmp_path)
  config.method = _LeakyP.name
  config[_LeakyP.name] = config.mdmd
  record = audit.audit(config, str(tmp_path / "leaky"), (0, 1, 2, 3),
                       ("shift", "drop"), store=audit_store())
  assert not record["passed"]
  assert "values[model]" in {r["choice"] for r in record["moved"]}


def test_deploy_and_score_a_video_file(tmp_path):
  check_deploy_and_score("mdmd", tmp_path)
