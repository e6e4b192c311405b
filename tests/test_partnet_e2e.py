"""End to end: the part-based recogniser through the command line, its
ablations, the leakage audit, and the MEGC2019 config on the dummy
composite and CK+ releases."""
import json
import os

import jax
import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import audit
from mespot_jax import experiment
from mespot_jax import methods
from mespot_jax.methods import partnet_data
from tests import smoke_runs

megc2019_partnet = load_config("megc2019_partnet")
synthetic_partnet = load_config("synthetic_partnet")

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DUMMY = os.path.join(ROOT, "data_builders", "{}", "dummy_data")


@pytest.fixture(scope="module")
def data_dir(tfds_dir):
  return tfds_dir  # the worker's shared folder (tests/conftest.py)


def test_smoke_trains_with_adversary_and_emr():
  # The smoke run itself (synthetic_partnet:smoke, in process) is one of
  # the golden runs (tests/test_config_smoke_recognition.py, whose metrics
  # must equal tests/golden/smoke_metrics.json; the command line is run by
  # test_config_smoke.py): here, what that run was.
  config = synthetic_partnet.get_config("smoke")
  assert config.partnet.adversarial and config.partnet.emr
  assert config.partnet.source.name == "synthetic_ckplus_like"
  metrics = json.load(open(smoke_runs.GOLDEN))["synthetic_partnet"]
  assert metrics["method"] == "partnet"
  for head in ("model", "top", "bottom"):
    m = metrics[head]
    assert 0 <= m["uf1"] <= 1 and 0 <= m["uar"] <= 1
    assert m["num_samples"] == 24  # synthetic_me/tiny: 4 subjects x 6
  assert len(metrics["folds"]) == 4
  assert "uf1" in metrics["oracle"]["epoch_and_fitted_on_test"]


def test_ablations_change_the_model_and_run(data_dir, tmp_path):
  config = synthetic_partnet.get_config("no_parts,no_emr,no_adversary,smoke")
  config.dataset.data_dir = data_dir
  config.train.test_folds = ("s01",)
  # What is checked is which heads run, not how well: one one-step epoch.
  config.train.num_epochs = 1
  config.train.steps_per_epoch = 1
  config.train.checkpoint_every_epochs = 1000  # after the last epoch only
  method = methods.get(config)
  store = experiment.datasets.open_store(config, "recognition")

  def names_of(m):  # traced only: the variables' names, nothing compiled
    return set(jax.eval_shape(lambda x: m.model.init(
        jax.random.key(0), x, train=False), m.example_input(store))["params"])

  names = names_of(method)
  assert names == {"backbone", "reduce", "cls_concat"}  # no parts, no disc
  full = methods.get(synthetic_partnet.get_config("smoke"))
  assert {"reduce_top", "cls_bottom", "disc_hidden"} <= names_of(full)
  # EMR off: the plain onset->apex flow, not the magnified one.
  assert not np.allclose(method.flows(store), full.flows(store), atol=1e-3)
  metrics = experiment.run(config, str(tmp_path / "run"), store=store)
  assert set(k for k in ("model", "top", "bottom") if k in metrics) == {
      "model"}
  assert len(metrics["folds"]) == 1
  assert 0 <= metrics["model"]["uf1"] <= 1


def _audit_config(data_dir):
  """The smoke config with two one-step epochs: early stopping still has
  an epoch to choose, and each of the audit's trainings is short."""
  config = synthetic_partnet.get_config("smoke")
  config.dataset.data_dir = data_dir
  config.train.num_epochs = 2
  config.train.steps_per_epoch = 1
  config.train.checkpoint_every_epochs = 1000  # after the last epoch only
  return config


def test_audit_passes(data_dir, tmp_path):
  config = _audit_config(data_dir)
  record = audit.audit(config, str(tmp_path / "audit"), fold_indices=(0,))
  assert record["passed"], record["moved"]
  checked = {r["choice"] for r in record["checked"]}
  assert {"epoch", "weights", "bias[model]", "bias[top]"} <= checked


def test_megc2019_config_on_the_dummy_releases(tmp_path):
  config = megc2019_partnet.get_config()
  assert config.train.folds == "loso" and config.dataset.num_classes == 3
  assert config.partnet.source.name == "ck_plus"
  config.dataset.data_dir = str(tmp_path / "tfds")
  config.dataset.manual_dir = DUMMY.format("megc2019_composite")
  config.partnet.source.manual_dir = DUMMY.format("ck_plus")
  config.dataset.image_size = 40
  config.dataset.loader_threads = 1
  methods.get_class("partnet").smoke(config.partnet)
  config.partnet.source.name = "ck_plus"  # smoke swaps it: restore
  config.partnet.source.config = "112_grey"
  config.partnet.source.manual_dir = DUMMY.format("ck_plus")
  config.partnet.flow_size = 0
  config.train.batch_size = 4
  config.train.num_epochs = 1
  config.train.steps_per_epoch = 1
  config.train.checkpoint_every_epochs = 1000  # after the last epoch only
  config.train.num_val_subjects = 1
  config.train.val_samples = 8
  config.eval.plots = False
  store = experiment.datasets.open_store(config, "recognition")
  config.train.test_folds = (store.subjects[0],)
  xs, ys = partnet_data.source_flows(config, config.partnet, store)
  assert len(xs) == len(ys) > 0 and xs.shape[1:] == (40, 40, 2)
  metrics = experiment.run(config, str(tmp_path / "run"), store=store)
  assert metrics["dataset"] == "megc2019_composite"
  assert 0 <= metrics["model"]["uf1"] <= 1
  assert len(metrics["folds"]) == 1


def test_audit_catches_epochs_picked_on_the_test_subject(data_dir, tmp_path,
                                                         monkeypatch):
  """The original code's choice (each fold's epoch by its test F1) is what
  the audit exists to catch: a variant whose early stopping reads the
  test subject's clips fails it."""
  from mespot_jax.methods import partnet as partnet_lib  # pylint: disable=g-import-not-at-top

  class TestEpochs(partnet_lib.PartNetMethod):

    def make_sampler(self, store, folds):
      sampler = super().make_sampler(store, folds)
      sampler.val_batch = sampler.oracle_batch
      return sampler

  monkeypatch.setitem(methods.METHODS, "partnet", TestEpochs)
  config = _audit_config(data_dir)
  record = audit.audit(config, str(tmp_path / "audit"), fold_indices=(0,),
                       perturbations=("shift",))
  assert not record["passed"]
  assert {"validation"} <= {r["choice"] for r in record["moved"]}
