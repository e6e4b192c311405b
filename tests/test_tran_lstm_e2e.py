"""End to end: `tran_lstm` through the runner, the cache, deploy, the
offline scorer and the leakage audit, on small rendered face videos.

The store and the held-out video come from `tests/test_score.py`'s
helpers (a still synthetic face with planted brow movements, aligned by
the real face pipeline), so `mespot_jax.score` reads a real video file.
"""
import json
import os

import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import audit, deploy, experiment, methods, score
from mespot_jax.data import video_io
from mespot_jax.face import track
from mespot_jax.metrics import io as metrics_io
from tests.test_score import FPS, SIZE, _face_video, _make_store

synthetic_lstm = load_config("synthetic_lstm")

pytestmark = pytest.mark.slow  # a whole (tiny) run, a deploy model, audit


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  root = tmp_path_factory.mktemp("tran_lstm")
  store = _make_store(3, 150, track.VideoAligner(SIZE, grey=True))
  config = synthetic_lstm.get_config("smoke")
  config.tran_lstm.feature_cache_dir = str(root / "features")
  config.train.deploy = True
  config.train.num_epochs = 4
  config.train.steps_per_epoch = 10
  workdir = str(root / "run")
  metrics = experiment.run(config, workdir, store=store)
  frames, ivs = _face_video(7, 120, (("micro", 60, 8, 35.0),))
  video = str(root / "held_out.mp4")
  video_io.write_video(video, frames, FPS)
  gt_csv = str(root / "gt.csv")
  metrics_io.write_intervals_csv(gt_csv, [metrics_io.IntervalRow(
      "held_out", iv.type, iv.onset, iv.offset) for iv in ivs])
  return dict(root=root, store=store, config=config, workdir=workdir,
              metrics=metrics, video=video, gt_csv=gt_csv)


def test_run_reports_every_protocol_and_the_choices(trained):
  m = trained["metrics"]
  assert m["method"] == "tran_lstm"
  assert set(m["model"]) >= {"megc2020", "one_to_one", "apex_in_interval",
                             "frame"}
  a = m["model"]["apex_in_interval"]["overall"]
  assert {"f1", "f1_summed", "videos"} <= set(a)
  for f in m["folds"]:
    assert set(f["model_decoder"]["interval_width"]) == {"micro", "macro"}
    assert len(f["model_decoder"]["thresholds"]) == 2
  rows = metrics_io.read_intervals_csv(
      os.path.join(trained["workdir"], "predictions.csv"))
  for r in rows:  # intervals centred on their apex, the width of the type
    assert r.onset <= r.apex <= r.offset and r.score is not None


def test_features_are_cached_once_per_video(trained):
  folder = trained["config"].tran_lstm.feature_cache_dir
  files = [f for _, _, fs in os.walk(folder) for f in fs
           if f.endswith(".npy")]
  assert len(files) == len(trained["store"].videos)
  fresh = methods.get(trained["config"])
  feats = fresh.features(trained["store"], 0)
  assert feats.shape == (150 - 23 + 1, 2 * 2 * 3 * 8)
  files_after = [f for _, _, fs in os.walk(folder) for f in fs
                 if f.endswith(".npy")]
  assert sorted(files_after) == sorted(files)  # read, not recomputed


def test_deploy_stream_scores_match_the_cached_path(trained):
  dep = deploy.load_deployment(trained["workdir"])
  assert dep.method.name == "tran_lstm"
  store = trained["store"]
  streamed = dep.method.score_stream(dep.variables, iter(store.video(1)),
                                     FPS, dep.choices)
  cached = dep.method.score_features(dep.variables,
                                     dep.method.features(store, 1), FPS, 150)
  np.testing.assert_allclose(streamed, cached, atol=1e-6)
  assert np.isnan(streamed[:11]).all() and np.isnan(streamed[-11:]).all()
  assert np.isfinite(streamed[11:-11]).all()


def test_score_cli_scores_a_video_file(trained, tmp_path):
  out, js = str(tmp_path / "iv.csv"), str(tmp_path / "s.json")
  summary = score.run(trained["workdir"], trained["video"], out=out,
                      json_path=js, gt=trained["gt_csv"], progress=False)
  on_disk = json.load(open(js))
  assert on_disk["method"] == "tran_lstm"
  assert on_disk["tran_lstm"]["span_frames"] == 23
  # The first 11 and last 11 frames are no position's apex.
  assert on_disk["frames_without_score"]["micro"]["frames"] == 22
  rows = metrics_io.read_intervals_csv(out)
  assert len(rows) == len(summary["intervals"])
  assert all(r.apex > 0 and r.type in ("micro", "macro") for r in rows)


def test_audit_passes(trained, tmp_path):
  record = audit.audit(trained["config"], str(tmp_path / "audit"), (1,),
                       ("drop", "shift"), store=trained["store"])
  assert record["passed"], record["moved"]
  checked = {r["choice"] for r in record["checked"]}
  assert {"interval_width[model]", "thresholds[model]", "epoch",
          "weights"} <= checked
