"""A second method plugs into the runner, deploy and scoring unchanged.

`tests/frame_method.py` is a test-only method (a linear classifier of
single frames) registered with `methods.register`. The generic runner must
train it, pick its choices on validation subjects, evaluate and report it,
knowing nothing of it; its deploy record names it; and the registry
rejects unknown methods and misspelt fields with one-line errors.
"""
import json
import os

import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import deploy, experiment, methods
from mespot_jax.errors import InputError
from mespot_jax.train import losses
from tests import fake_spotting, frame_method

tiny = load_config("tiny")

pytestmark = pytest.mark.slow  # a whole (tiny) run and a deploy model


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  config = frame_method.config(tiny.get_config())
  config.train.deploy = True
  store = fake_spotting.make_store(num_subjects=4, num_frames=90)
  workdir = str(tmp_path_factory.mktemp("frame_method"))
  metrics = experiment.run(config, workdir, store=store)
  return config, store, workdir, metrics


def test_runner_trains_and_reports_the_plugged_method(run):
  config, store, workdir, metrics = run
  assert metrics["method"] == "frame_linear"
  assert "baseline" not in metrics  # the 3D-CNN's reference is its own
  assert [f["test_subject"] for f in metrics["folds"]] == [
      "s00", "s01", "s02", "s03"]
  for f in metrics["folds"]:
    assert "skips" not in f  # this method has no frame skips
    assert f["model_decoder"]["postprocess"] == "automated"  # runs' record
    assert len(f["model_decoder"]["thresholds"]) == 2
  # The model learnt something: validation loss fell from the first epoch.
  first, last = metrics["history"][0], metrics["history"][-1]
  assert np.mean(last["val_loss"]) < np.mean(first["val_loss"])
  for name in ("metrics.json", "predictions.csv", "ground_truth.csv"):
    assert os.path.exists(os.path.join(workdir, name))
  assert "oracle" in json.load(open(os.path.join(workdir, "metrics.json")))


def test_deploy_record_names_the_method_and_loads(run):
  config, store, workdir, _ = run
  info = json.load(open(os.path.join(workdir, "deploy", "deploy.json")))
  assert info["method"] == "frame_linear"
  dep = deploy.load_deployment(workdir)
  assert isinstance(dep.method, frame_method.FrameMethod)
  scores = dep.method.score_stream(dep.variables, iter(store.video(0)),
                                   30.0, dep.choices)
  assert scores.shape == (store.videos[0].num_frames, 2)
  rows = dep.decoder.decode(scores, 30.0, dep.record, "v")
  assert all(r.type in ("micro", "macro") for r in rows)


def test_unknown_method_and_fields_are_one_line_errors():
  config = tiny.get_config()
  config.method = "lbcnn_typo"
  with pytest.raises(InputError, match="not a known method"):
    methods.get(config)
  with pytest.raises(InputError, match="loss.weight is not a field"):
    losses.get_loss({"name": "yap_weighted_bce", "weight": 0.5})
