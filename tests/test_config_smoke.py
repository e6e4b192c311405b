"""Every experiment config has a `:smoke` variant, and it runs.

`get_config("smoke")` of each `configs/<name>.py` (all but the shared base
and the tests' `tiny`) keeps its method and method settings and swaps in
the tiny synthetic dataset and a few steps; `experiment.run` trains,
evaluates and reports it. One of them also runs through the command line
(`--config=configs/<name>.py:smoke`) on the synthetic dataset rendered at
another seed (`--config.dataset.seed`), which is built under its own name.
"""
import glob
import json
import os
import subprocess
import sys

import pytest

from mespot_jax.config import common
from mespot_jax.config import load_module as load_config
from mespot_jax.builders.synthetic_lv import synthetic_lv_dataset_builder as syn
from mespot_jax import experiment
from mespot_jax import methods
from mespot_jax.data.source import SpottingSource

pytestmark = pytest.mark.slow  # a tiny run per config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(
    os.path.splitext(os.path.basename(p))[0]
    for p in glob.glob(os.path.join(ROOT, "configs", "*.py"))
    if os.path.basename(p) not in ("__init__.py", "common.py", "tiny.py"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


def test_every_config_is_listed():
  assert {"synthetic_3dcnn", "samm_3dcnn", "casme2_3dcnn", "synthetic_convlstm",
          "samm_convlstm", "megc2019_convlstm"} <= set(CONFIGS)


@pytest.mark.parametrize("name", CONFIGS)
def test_smoke_variant_runs_the_same_method(name, data_dir, tmp_path):
  module = load_config(name)
  full, smoke = module.get_config(), module.get_config("smoke")
  assert smoke.method == full.method
  # The tiny synthetic dataset of the method's task.
  task = methods.get_class(smoke.method).task
  assert (smoke.dataset.name,
          smoke.dataset.config) == common.SMOKE_DATASETS[task]
  # The method's own settings that do not set sizes are kept.
  block, own = smoke[smoke.method], full[full.method]
  for key in ("loss", "sampler"):
    if key in own:
      assert block[key].to_dict() == own[key].to_dict(), key
  assert smoke.train.num_epochs * smoke.train.steps_per_epoch <= 10
  smoke.dataset.data_dir = data_dir
  metrics = experiment.run(smoke, str(tmp_path / "run"))
  assert metrics["method"] == full.method
  assert metrics["folds"] and "model" in metrics
  _check_golden(name, metrics)


GOLDEN = os.path.join(ROOT, "tests", "golden", "smoke_metrics.json")


def _golden_view(metrics: dict) -> dict:
  """What must not move in a refactor: every metric but the training
  history (its timings) and the backend's name, through JSON."""
  return json.loads(json.dumps(
      {k: v for k, v in metrics.items() if k not in ("history", "backend")}))


def _check_golden(name: str, metrics: dict) -> None:
  """Compares a smoke run with the metrics committed before the harness
  refactor (`MESPOT_UPDATE_GOLDEN=1` rewrites this config's entry)."""
  view = _golden_view(metrics)
  golden = json.load(open(GOLDEN)) if os.path.exists(GOLDEN) else {}
  if os.environ.get("MESPOT_UPDATE_GOLDEN"):
    os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
    path = f"{GOLDEN}.{name}"
    with open(path, "w") as f:
      json.dump(view, f, indent=1, sort_keys=True)
    return
  assert name in golden, f"no golden metrics for {name}"
  assert view == golden[name]


def test_cli_smoke_at_another_dataset_seed(data_dir, tmp_path):
  workdir = str(tmp_path / "cli")
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.main",
       "--config=configs/synthetic_3dcnn.py:smoke",
       "--config.dataset.seed=5", f"--config.dataset.data_dir={data_dir}",
       f"--workdir={workdir}"], cwd=ROOT, capture_output=True, text=True,
      timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  metrics = json.load(open(os.path.join(workdir, "metrics.json")))
  assert metrics["dataset_seed"] == 5
  # XLA's programs were kept in the workdir's persistent cache.
  assert os.listdir(os.path.join(workdir, "jax_cache"))
  assert os.path.isdir(os.path.join(data_dir, "synthetic_lv", "tiny_seed5"))
  # Another seed renders other expressions.
  seeded = SpottingSource.open("synthetic_lv", data_dir,
                               syn.seeded_config("tiny", 5))
  default = SpottingSource.open("synthetic_lv", data_dir, "tiny")
  assert [v.intervals for v in seeded.videos] != [
      v.intervals for v in default.videos]
  assert [v.num_frames for v in seeded.videos] == [
      v.num_frames for v in default.videos]
