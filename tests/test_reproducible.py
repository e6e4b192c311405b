"""Same command, same numbers: a run's metrics depend on its config, its
dataset and the package versions, not on the process that ran it.

`python -m mespot_jax.main --config=configs/synthetic_3dcnn.py:smoke`, in
a process that differs from the one that wrote the golden metrics in what
must not matter -- the Python hash seed, the working directory, the time
zone, the data loader's threads -- writes the golden metrics
(`tests/golden/smoke_metrics.json`, written by a test worker running the
config in process) but for its `provenance` block. What does change XLA
CPU's float rounding, the cores the process may use and the forced host
device count (they size its thread pool), is the tests' own
(tests/conftest.py) for both and recorded in the provenance
(docs/reproducibility.md). The dataset build is deterministic too: built
in this process without workers, the tiny dataset decodes to the records
of the shared build (made by a pool of worker processes); the array_record
files themselves differ byte for byte between builds (TFDS's example
serialisation), so the decoded records are compared.
"""
import hashlib
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from mespot_jax import config as config_lib
from mespot_jax.data import datasets
from mespot_jax.data.source import SpottingSource
from mespot_jax.report import provenance
from tests import smoke_runs

pytestmark = pytest.mark.slow

ROOT = smoke_runs.ROOT
CONFIG = os.path.join(ROOT, "configs", "synthetic_3dcnn.py")


def _main(workdir, data_dir, cache, cwd, env, *flags) -> dict:
  run_env = {k: v for k, v in os.environ.items()
             if k not in ("JAX_COMPILATION_CACHE_DIR", "PYTHONHASHSEED", "TZ")}
  run_env["PYTHONPATH"] = os.pathsep.join(
      [ROOT] + [p for p in run_env.get("PYTHONPATH", "").split(os.pathsep)
                if p])
  run_env.update(env)
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.main", f"--config={CONFIG}:smoke",
       f"--config.dataset.data_dir={data_dir}", f"--workdir={workdir}",
       f"--compilation_cache={cache}", *flags],
      cwd=cwd, capture_output=True, text=True, timeout=600, env=run_env)
  assert proc.returncode == 0, proc.stderr[-3000:]
  with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
    return json.load(f)


@pytest.fixture(scope="module")
def data_dir(tfds_dir):
  # The shared tiny dataset (tests/conftest.py), built here if missing.
  config = config_lib.load_module("synthetic_3dcnn").get_config("smoke")
  config.dataset.data_dir = tfds_dir
  datasets.open_spotting(config)
  return tfds_dir


@pytest.fixture(scope="module")
def run(data_dir, tmp_path_factory):
  tmp = tmp_path_factory.mktemp("reproducible")
  elsewhere = tmp / "elsewhere"
  elsewhere.mkdir()
  # The suite's compilation cache (tests/conftest.py), if any: it changes
  # no number either.
  cache = os.environ.get("JAX_COMPILATION_CACHE_DIR") or str(tmp / "cache")
  return _main(str(tmp / "run"), data_dir, cache, str(elsewhere),
               {"PYTHONHASHSEED": "2", "TZ": "Pacific/Kiritimati"},
               "--config.dataset.loader_threads=2")


def test_another_process_writes_the_golden_metrics(run):
  if os.environ.get("MESPOT_UPDATE_GOLDEN"):
    pytest.skip("the golden metrics are being rewritten")
  assert "model" in run and run["folds"]
  with open(smoke_runs.GOLDEN, encoding="utf-8") as f:
    golden = json.load(f)["synthetic_3dcnn"]
  assert smoke_runs.golden_view(run) == golden


def test_provenance_says_what_a_rerun_must_match(run, data_dir):
  p = run["provenance"]
  assert p["seeds"] == {"seed": 0, "dataset_seed": -1}
  built = SpottingSource.open("synthetic_lv", data_dir, "tiny").builder
  assert p["dataset"] == {"name": "synthetic_lv", "config": "tiny",
                          "seed": -1, "builder_config": "tiny",
                          "version": str(built.info.version)}
  pk = p["packages"]
  for name in ("python", "jax", "jaxlib", "flax", "optax", "numpy",
               "opencv", "tensorflow-datasets", "grain"):
    assert pk[name], name
  assert pk["jax"] == jax.__version__
  d = p["devices"]
  # The subprocess inherits this process's XLA_FLAGS (the suite's four
  # host devices), hence its devices.
  assert d["backend"] == jax.default_backend()
  assert d["device_count"] == jax.device_count()
  assert d["device_kinds"] == sorted({x.device_kind for x in jax.devices()})
  assert d["xla_flags"] == os.environ.get("XLA_FLAGS", "")
  assert p["host"]["cpus_usable"] == len(os.sched_getaffinity(0))


def _digest(h, value) -> None:
  if isinstance(value, dict):
    for key in sorted(value):
      h.update(str(key).encode())
      _digest(h, value[key])
  else:
    a = np.asarray(value)
    h.update(repr((a.dtype.str, a.shape)).encode())
    h.update(a.tobytes() if a.dtype != object else repr(a.tolist()).encode())


def _decoded(data_dir: str) -> str:
  """A digest of every decoded record of the tiny dataset."""
  source = SpottingSource.open("synthetic_lv", data_dir, "tiny")
  h = hashlib.sha256()
  for split in ("videos", "frames"):
    ds = source.builder.as_data_source(split=split)
    for i in range(len(ds)):
      _digest(h, ds[i])
  return h.hexdigest()


def test_a_build_without_workers_decodes_to_the_same_records(data_dir,
                                                            tmp_path):
  own = str(tmp_path / "tfds")
  SpottingSource.prepare("synthetic_lv", own, "tiny", workers=1)
  assert _decoded(own) == _decoded(data_dir)
