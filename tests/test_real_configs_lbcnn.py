"""The LBCNN's real-dataset configs train end to end on the dummy releases.

For `configs/samm_lbcnn.py` and `configs/casme2_lbcnn.py`, `experiment.run`
builds the dataset from the builder's `dummy_data/` (the manual dir, into a
fresh data dir), trains and evaluates every leave-one-subject-out fold and
writes the report, as `tests/test_real_configs_smoke.py` does for the
3D-CNN. Only sizes shrink (crop and ROI sides, widths, batch, steps); each
config's sampler, post-processing and frame rate stay (SAMM's 200 fps
meets its 0.5 s micro limit in frames).
"""
import importlib
import json
import math
import os

import pytest

from mespot_jax import experiment

pytestmark = pytest.mark.slow  # builds two dummy releases

_BUILDERS = os.path.join(os.path.dirname(__file__), "..", "data_builders")
CASES = {
    "samm_lbcnn": ("samm_lv", ["006", "007", "011"]),
    "casme2_lbcnn": ("cas_me2", ["s15", "s16", "s17"]),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def run(request, tmp_path_factory):
  name = request.param
  builder, subjects = CASES[name]
  config = importlib.import_module(f"configs.{name}").get_config()
  own = {"sampler": config.lbcnn.sampler.to_dict(),
         "post": config.lbcnn.post.to_dict()}
  root = tmp_path_factory.mktemp(name)
  config.dataset.data_dir = str(root / "tfds")
  config.dataset.manual_dir = os.path.join(_BUILDERS, builder, "dummy_data")
  config.dataset.image_size = 32
  config.dataset.loader_threads = 1
  config.lbcnn.roi_size = 12
  config.lbcnn.model.features = (4, 8, 8)
  config.lbcnn.model.kernels = (3, 3, 3)
  config.lbcnn.model.strides = (1, 1, 1)
  config.lbcnn.model.hidden = 8
  config.train.batch_size = 4
  config.train.num_epochs = 2
  config.train.steps_per_epoch = 2
  config.train.num_val_subjects = 1
  config.train.val_samples = 8
  config.eval.score_batch_size = 16
  config.eval.plots = False
  workdir = str(root / "run")
  metrics = experiment.run(config, workdir)
  return dict(name=name, builder=builder, subjects=subjects, own=own,
              config=config, workdir=workdir, metrics=metrics)


def test_config_runs_every_fold_with_its_own_settings(run):
  config = run["config"]
  assert config.dataset.name == run["builder"]
  assert config.lbcnn.sampler.to_dict() == run["own"]["sampler"]
  assert config.lbcnn.post.to_dict() == run["own"]["post"]
  on_disk = json.load(open(os.path.join(run["workdir"], "metrics.json")))
  assert on_disk["method"] == "lbcnn" and on_disk["dataset"] == run["builder"]
  assert [f["test_subject"] for f in on_disk["folds"]] == run["subjects"]
  for h in on_disk["history"]:
    assert all(math.isfinite(x) and x >= 0 for x in h["train_loss"])
  for protocol in ("megc2020", "one_to_one"):
    for typ in ("micro", "macro", "overall"):
      assert 0.0 <= on_disk["model"][protocol][typ]["f1"] <= 1.0
  for name in ("predictions.csv", "ground_truth.csv", "config.json"):
    assert os.path.exists(os.path.join(run["workdir"], name)), name
