"""The flow spotters' real-dataset configs run end to end on the dummy
releases (`configs/{samm,casme2}_{mdmd,flow_roi}.py`), as
tests/test_real_configs_smoke.py does for the 3D-CNN: the dataset is built
from the builder's `dummy_data/`, every leave-one-subject-out fold is
scored with nothing trained, and the report is written. Only the flow size
shrinks; k, thresholds and the frame rate stay the config's.
"""
import importlib
import json
import os

import pytest

from mespot_jax import experiment

pytestmark = pytest.mark.slow  # builds two dummy releases

_BUILDERS = os.path.join(os.path.dirname(__file__), "..", "data_builders")
DATASETS = {"samm": ("samm_lv", ["006", "007", "011"]),
            "casme2": ("cas_me2", ["s15", "s16", "s17"])}
CASES = [f"{d}_{m}" for d in DATASETS for m in ("mdmd", "flow_roi")]


@pytest.fixture(scope="module")
def data_dirs(tmp_path_factory):
  return {d: str(tmp_path_factory.mktemp(d)) for d in DATASETS}


@pytest.mark.parametrize("name", CASES)
def test_real_config_runs_every_fold(name, data_dirs, tmp_path):
  ds, method = name.split("_", 1)
  builder, subjects = DATASETS[ds]
  config = importlib.import_module(f"configs.{name}").get_config()
  k_s = config[method].k_s.to_dict()
  config.dataset.data_dir = data_dirs[ds]
  config.dataset.manual_dir = os.path.join(_BUILDERS, builder, "dummy_data")
  config.dataset.image_size = 32
  config.dataset.loader_threads = 1
  config[method].flow_size = 32
  config.eval.plots = False
  config.train.num_val_subjects = 1  # three dummy subjects
  workdir = str(tmp_path / "run")
  experiment.run(config, workdir)
  on_disk = json.load(open(os.path.join(workdir, "metrics.json")))
  assert on_disk["method"] == method and on_disk["dataset"] == builder
  assert config[method].k_s.to_dict() == k_s
  assert [f["test_subject"] for f in on_disk["folds"]] == subjects
  assert on_disk["history"] == []
  for protocol in ("megc2020", "one_to_one"):
    for typ in ("micro", "macro", "overall"):
      assert 0.0 <= on_disk["model"][protocol][typ]["f1"] <= 1.0
  for f in ("predictions.csv", "ground_truth.csv", "config.json"):
    assert os.path.exists(os.path.join(workdir, f)), f
