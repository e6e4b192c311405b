"""Every spotting experiment config has a `:smoke` variant, and it runs.

`get_config("smoke")` of each `configs/<name>.py` (all but the shared base
and the tests' `tiny`) keeps its method and method settings and swaps in
the tiny synthetic dataset and a few steps; `experiment.run` trains,
evaluates and reports it. One of them also runs through the command line
(`--config=configs/<name>.py:smoke`) on the synthetic dataset rendered at
another seed (`--config.dataset.seed`), which is built under its own name.
"""
import json
import os
import subprocess
import sys

import pytest

from mespot_jax.builders.synthetic_lv import synthetic_lv_dataset_builder as syn
from mespot_jax.data.source import SpottingSource
from tests import smoke_runs

pytestmark = pytest.mark.slow  # a tiny run per config

ROOT = smoke_runs.ROOT


@pytest.fixture(scope="module")
def data_dir(tfds_dir):
  return tfds_dir  # the worker's shared folder (tests/conftest.py)


def test_every_config_is_listed():
  assert {"synthetic_3dcnn", "samm_3dcnn", "casme2_3dcnn", "synthetic_convlstm",
          "samm_convlstm", "megc2019_convlstm"} <= set(smoke_runs.CONFIGS)
  # Spot-then-recognise's smoke runs in tests/test_str.py.
  assert set(smoke_runs.configs_of("spotting")) | set(
      smoke_runs.configs_of("recognition")) | set(
          smoke_runs.configs_of("str")) == set(smoke_runs.CONFIGS)


@pytest.mark.parametrize("name", smoke_runs.configs_of("spotting"))
def test_smoke_variant_runs_the_same_method(name, data_dir, tmp_path):
  smoke_runs.run_smoke(name, data_dir, str(tmp_path / "run"))


def test_cli_smoke_at_another_dataset_seed(data_dir, tmp_path):
  workdir = str(tmp_path / "cli")
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.main",
       # The LSTM scorer: what is checked is the command line and the seed,
       # and it compiles in a fraction of the 3D-CNN's time.
       "--config=configs/synthetic_lstm.py:smoke",
       "--config.dataset.seed=5", f"--config.dataset.data_dir={data_dir}",
       # One fold and no oracle: the seed is what is checked here (the
       # smoke runs above check the config's folds and its oracle).
       "--config.train.test_folds=('s01',)", "--config.train.oracle=False",
       f"--workdir={workdir}"], cwd=ROOT, capture_output=True, text=True,
      timeout=600, env={k: v for k, v in os.environ.items()
                        if k != "JAX_COMPILATION_CACHE_DIR"})
  assert proc.returncode == 0, proc.stderr[-3000:]
  metrics = json.load(open(os.path.join(workdir, "metrics.json")))
  assert metrics["dataset_seed"] == 5
  # XLA's programs were kept in the workdir's persistent cache.
  assert os.listdir(os.path.join(workdir, "jax_cache"))
  assert os.path.isdir(os.path.join(data_dir, "synthetic_lv", "tiny_seed5"))
  # Another seed renders other expressions.
  seeded = SpottingSource.open("synthetic_lv", data_dir,
                               syn.seeded_config("tiny", 5))
  # Built by the smoke runs above in this worker, or here if they ran
  # elsewhere.
  default = SpottingSource.prepare("synthetic_lv", data_dir, "tiny")
  assert [v.intervals for v in seeded.videos] != [
      v.intervals for v in default.videos]
  assert [v.num_frames for v in seeded.videos] == [
      v.num_frames for v in default.videos]
