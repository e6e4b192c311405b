"""End to end on small in-memory videos: train, score, post-process, report.

The report's CSVs must reproduce its metrics through the evaluate CLI's
library functions, and a run interrupted in the middle of training must,
when called again on the same workdir, resume from its last checkpoint and
end with the same metrics as the uninterrupted run. Frames a builder
flagged as faceless get no score in the held-out videos and no interval
spans them.
"""
import functools
import json
import os

import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import experiment
from mespot_jax.train import loop as loop_lib
from mespot_jax.metrics import intervals, io as metrics_io
from tests import fake_spotting

tiny = load_config("tiny")

pytestmark = pytest.mark.slow  # whole pipeline on tiny data


# Video s01_0 (index 1) loses its face in frames 40-70 (1-based): the run
# that the report tests read is also the one that
# test_frames_without_a_face_are_not_scored reads.
FACELESS = (40, 70)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  config = tiny.get_config()
  config.eval.plots = True
  store = fake_spotting.make_store(num_subjects=4, num_frames=120,
                                   faceless={1: FACELESS})
  workdir = str(tmp_path_factory.mktemp("run"))
  metrics = experiment.run(config, workdir, store=store)
  return config, store, workdir, metrics


def test_report_files_and_keys(run):
  config, store, workdir, metrics = run
  for name in ("metrics.json", "predictions.csv", "baseline_predictions.csv",
               "ground_truth.csv", "config.json"):
    assert os.path.exists(os.path.join(workdir, name)), name
  assert sorted(os.listdir(os.path.join(workdir, "plots"))) == sorted(
      f"{v.video}.png" for v in store.videos)
  assert os.listdir(os.path.join(workdir, "tensorboard"))
  on_disk = json.load(open(os.path.join(workdir, "metrics.json")))
  for kind in ("model", "baseline"):
    for protocol in ("megc2020", "one_to_one"):
      for typ in ("micro", "macro", "overall"):
        assert set(on_disk[kind][protocol][typ]) >= {
            "tp", "fp", "fn", "precision", "recall", "f1"}
    assert set(on_disk[kind]["frame"]) == {"micro", "macro"}
  assert [f["test_subject"] for f in on_disk["folds"]] == [
      "s00", "s01", "s02", "s03"]
  for f in on_disk["folds"]:  # validation never holds the test subject
    assert f["test_subject"] not in f["val_subjects"]
    # Per-frame scores: the held-out videos, and the fold's validation
    # videos (to re-fit post-processing offline).
    val_dir = os.path.join(workdir, "scores", "val", f"fold_{f['fold']}")
    assert sorted(os.listdir(val_dir)) == sorted(
        f"{v.video}.npy" for v in store.videos
        if v.subject in f["val_subjects"])
  assert sorted(n for n in os.listdir(os.path.join(workdir, "scores"))
                if n.endswith(".npy")) == sorted(
                    f"{v.video}.npy" for v in store.videos)
  gt = metrics_io.read_intervals_csv(os.path.join(workdir, "ground_truth.csv"))
  assert len(gt) == sum(len(v.intervals) for v in store.videos)


def test_csvs_reproduce_metrics(run):
  config, store, workdir, metrics = run
  gt = metrics_io.read_intervals_csv(os.path.join(workdir, "ground_truth.csv"))
  for kind, name in (("model", "predictions.csv"),
                     ("baseline", "baseline_predictions.csv")):
    pred = metrics_io.read_intervals_csv(os.path.join(workdir, name))
    for protocol in ("megc2020", "one_to_one"):
      again = intervals.evaluate(gt, pred, protocol)
      for typ in ("micro", "macro", "overall"):
        assert again[typ]["tp"] == metrics[kind][protocol][typ]["tp"]
        assert again[typ]["fp"] == metrics[kind][protocol][typ]["fp"]
        assert again[typ]["fn"] == metrics[kind][protocol][typ]["fn"]


def test_interrupted_run_resumes_mid_training_and_matches(run, tmp_path,
                                                        monkeypatch):
  config, store, _, metrics = run
  workdir = str(tmp_path / "interrupted")
  # 3 epochs of 3 steps: killed at step 5, in epoch 1, after epoch 0's
  # checkpoint was written and before epoch 1's.
  crashing = functools.partial(loop_lib.train_folds, crash_after_steps=5)
  with monkeypatch.context() as m:
    m.setattr(loop_lib, "train_folds", crashing)
    with pytest.raises(loop_lib.SimulatedCrash):
      experiment.run(config, workdir, store=store)
  assert os.listdir(os.path.join(workdir, "checkpoints")) == ["0"]
  assert not os.path.exists(os.path.join(workdir, "metrics.json"))
  again = experiment.run(config, workdir, store=store)
  assert [h["epoch"] for h in again["history"]] == [0, 1, 2]
  assert again["history"] == metrics["history"]
  for kind in ("model", "baseline"):
    assert again[kind] == metrics[kind]
  assert again["folds"] == metrics["folds"]


def test_frames_without_a_face_are_not_scored(run):
  config, store, workdir, metrics = run
  first, last = FACELESS  # video s01_0 (index 1) loses its face there
  (fold,) = [f for f in metrics["folds"] if f["test_subject"] == "s01"]
  scores = np.load(os.path.join(workdir, "scores", "s01_0.npy"))
  t = np.arange(120)
  bad = (t >= first - 1) & (t < last)
  for k, skip in enumerate(fold["skips"]["skips"]):  # 30 fps: as fitted
    want = bad | bad[np.minimum(t + skip, 119)]
    np.testing.assert_array_equal(np.isnan(scores[:, k]), want)
  counts = metrics["frames_without_score"]
  assert (counts["micro"], counts["macro"]) == tuple(
      int(np.isnan(scores[:, k]).sum()) for k in range(2))
  assert counts["frames"] == 4 * 120
  assert metrics["model"]["frame"]["macro"]["frames_without_score"] == (
      counts["macro"])
  for name in ("predictions.csv", "baseline_predictions.csv"):
    rows = metrics_io.read_intervals_csv(os.path.join(workdir, name))
    for r in rows:
      if r.video == "s01_0":
        k = 0 if r.type == "micro" else 1
        assert np.isfinite(scores[r.onset - 1:r.offset, k]).all(), (name, r)
  assert os.path.exists(os.path.join(workdir, "plots", "s01_0.png"))
