"""The real-dataset configs train end to end on the builders' dummy releases.

For `configs/samm_3dcnn.py` and `configs/casme2_3dcnn.py`, `experiment.run`
builds the dataset from the builder's `dummy_data/` (as the manual dir, into
a fresh data dir), trains and evaluates every leave-one-subject-out fold and
writes the report. Only sizes are shrunk (model widths, crop size, batch,
steps); each config's own frame rate, skips and loss stay as they are, so
e.g. SAMM's skips of 200..400 frames at 200 fps meet 20..30-frame videos.
"""
import importlib
import json
import math
import os

import pytest

from mespot_jax import experiment
from mespot_jax.data.source import SpottingSource
from mespot_jax.metrics import io as metrics_io

_BUILDERS = os.path.join(os.path.dirname(__file__), "..", "data_builders")

# config module -> (builder name, subjects of its dummy release).
CASES = {
    "samm_3dcnn": ("samm_lv", ["006", "007", "011"]),
    "casme2_3dcnn": ("cas_me2", ["s15", "s16", "s17"]),
}


def tiny_override(config, data_dir: str, manual_dir: str):
  """Shrinks sizes only; skips, fps, loss and post-processing are kept."""
  config.dataset.data_dir = data_dir
  config.dataset.manual_dir = manual_dir
  config.dataset.prepare = True
  config.dataset.image_size = 32
  config.dataset.loader_threads = 1
  config.yap3dcnn.model.channels = (4, 8, 8)
  config.yap3dcnn.model.dense_features = 16
  config.train.batch_size = 4
  config.train.num_epochs = 2
  config.train.steps_per_epoch = 2
  config.train.num_val_subjects = 1
  config.train.val_samples = 8
  config.eval.score_batch_size = 16
  config.eval.plots = False
  return config


@pytest.fixture(scope="module", params=sorted(CASES))
def smoke_run(request, tmp_path_factory):
  name = request.param
  builder, subjects = CASES[name]
  config = importlib.import_module(f"configs.{name}").get_config()
  own = {"sampler": config.yap3dcnn.sampler.to_dict(),
         "loss": config.yap3dcnn.loss.to_dict(),
         "dataset": config.dataset.name}
  root = tmp_path_factory.mktemp(name)
  data_dir = str(root / "tfds")
  manual_dir = os.path.join(_BUILDERS, builder, "dummy_data")
  config = tiny_override(config, data_dir, manual_dir)
  workdir = str(root / "run")
  metrics = experiment.run(config, workdir)
  return {"name": name, "builder": builder, "subjects": subjects,
          "config": config, "own": own, "data_dir": data_dir,
          "workdir": workdir, "metrics": metrics}


@pytest.mark.slow
def test_config_keeps_its_own_settings(smoke_run):
  config = smoke_run["config"]
  assert config.dataset.name == smoke_run["builder"]
  assert config.yap3dcnn.sampler.to_dict() == smoke_run["own"]["sampler"]
  assert config.yap3dcnn.loss.to_dict() == smoke_run["own"]["loss"]
  saved = json.load(open(os.path.join(smoke_run["workdir"], "config.json")))
  assert (saved["yap3dcnn"]["sampler"]["skip_fps"] ==
          config.yap3dcnn.sampler.skip_fps)
  assert saved["dataset"]["manual_dir"] == config.dataset.manual_dir


@pytest.mark.slow
def test_report_files_and_metric_keys(smoke_run):
  workdir = smoke_run["workdir"]
  for name in ("metrics.json", "predictions.csv", "baseline_predictions.csv",
               "ground_truth.csv", "config.json"):
    assert os.path.exists(os.path.join(workdir, name)), name
  on_disk = json.load(open(os.path.join(workdir, "metrics.json")))
  assert on_disk["dataset"] == smoke_run["builder"]
  for kind in ("model", "baseline"):
    for protocol in ("megc2020", "one_to_one"):
      for typ in ("micro", "macro", "overall"):
        row = on_disk[kind][protocol][typ]
        assert set(row) >= {"tp", "fp", "fn", "precision", "recall", "f1"}
        assert 0.0 <= row["f1"] <= 1.0


@pytest.mark.slow
def test_every_dummy_subject_is_a_test_fold(smoke_run):
  on_disk = json.load(open(os.path.join(smoke_run["workdir"],
                                        "metrics.json")))
  folds = on_disk["folds"]
  assert [f["test_subject"] for f in folds] == smoke_run["subjects"]
  for f in folds:
    assert f["test_subject"] not in f["val_subjects"]
    assert len(f["val_subjects"]) == 1
    assert set(f["val_subjects"]) < set(smoke_run["subjects"])
    # Test-time skips are whole frames of at least one (clamped when the
    # config's skips are longer than the dummy's videos).
    assert all(isinstance(s, int) and s >= 1 for s in f["skips"]["skips"])
  # Both epochs trained every fold with finite losses (SAMM's 200..400-frame
  # training skips meet 20..30-frame videos: the sampler must clamp them).
  history = on_disk["history"]
  assert [h["epoch"] for h in history] == list(range(
      smoke_run["config"].train.num_epochs))
  for h in history:
    for key in ("train_loss", "val_loss"):
      assert len(h[key]) == len(folds)
      assert all(math.isfinite(x) and x >= 0 for x in h[key]), h
  # One score file per held-out video, one row of scores per frame.
  source = SpottingSource.open(smoke_run["builder"], smoke_run["data_dir"])
  scores = sorted(n for n in os.listdir(os.path.join(smoke_run["workdir"],
                                                     "scores"))
                  if n.endswith(".npy"))
  assert scores == sorted(f"{v.video}.npy" for v in source.videos)


@pytest.mark.slow
def test_ground_truth_is_what_the_builder_stored(smoke_run):
  source = SpottingSource.open(smoke_run["builder"], smoke_run["data_dir"])
  assert source.subjects == smoke_run["subjects"]
  stored = sorted(
      (v.video, v.subject, iv.type, iv.onset, iv.offset, iv.apex, iv.emotion)
      for v in source.videos for iv in v.intervals)
  gt = metrics_io.read_intervals_csv(
      os.path.join(smoke_run["workdir"], "ground_truth.csv"))
  got = sorted((r.video, r.subject, r.type, r.onset, r.offset, r.apex,
                r.emotion) for r in gt)
  assert stored  # the dummy releases plant labelled intervals
  assert got == stored
