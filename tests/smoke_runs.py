"""The smoke run of an experiment config and its golden metrics (tests).

`run_smoke(name, data_dir, workdir)` runs `configs/<name>.py:smoke` in
process and compares its metrics with `tests/golden/smoke_metrics.json`,
recorded before the harness refactor. `MESPOT_UPDATE_GOLDEN=1` writes each
run's metrics beside it (`smoke_metrics.json.<config>`, one file per
config, as the test workers run in parallel); `python tests/smoke_runs.py`
then merges them into the golden file (a change of golden metrics is
explained in its commit). The smoke tests are split by task over two files so that
the two test workers share them.
"""
import glob
import json
import os

from mespot_jax import config as config_lib
from mespot_jax import experiment
from mespot_jax.config import blocks
from mespot_jax.config import common

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(
    os.path.splitext(os.path.basename(p))[0]
    for p in glob.glob(os.path.join(ROOT, "configs", "*.py"))
    if os.path.basename(p) not in ("__init__.py", "common.py", "tiny.py"))


def configs_of(task: str) -> list[str]:
  """The experiment configs whose method has `task`."""
  return [n for n in CONFIGS
          if blocks.get(config_lib.load(n).method).TASK == task]


def run_smoke(name: str, data_dir: str, workdir: str) -> dict:
  """Runs the `:smoke` variant of `configs/<name>.py` after checking that
  it keeps the full config's method and method settings; returns its
  metrics after comparing them with the golden ones."""
  module = config_lib.load_module(name)
  full, smoke = module.get_config(), module.get_config("smoke")
  assert smoke.method == full.method
  # The tiny synthetic dataset of the method's task.
  task = blocks.get(smoke.method).TASK
  assert (smoke.dataset.name,
          smoke.dataset.config) == common.SMOKE_DATASETS[task]
  # The method's own settings that do not set sizes are kept.
  block, own = smoke[smoke.method], full[full.method]
  for key in ("loss", "sampler"):
    if key in own:
      assert block[key].to_dict() == own[key].to_dict(), key
  assert smoke.train.num_epochs * smoke.train.steps_per_epoch <= 10
  smoke.dataset.data_dir = data_dir
  # A checkpoint after the last epoch only (saving the folds' states after
  # every epoch was half a warm partnet smoke run); it changes no metric.
  smoke.train.checkpoint_every_epochs = 1000
  metrics = experiment.run(smoke, workdir)
  assert metrics["method"] == full.method
  assert metrics["folds"] and "model" in metrics
  check_golden(name, metrics)
  return metrics


GOLDEN = os.path.join(ROOT, "tests", "golden", "smoke_metrics.json")


def golden_view(metrics: dict) -> dict:
  """What must not move in a refactor: every metric but the training
  history (its timings), the backend's name and the run's provenance
  (versions, devices, date), through JSON."""
  return json.loads(json.dumps(
      {k: v for k, v in metrics.items()
       if k not in ("history", "backend", "provenance")}))


def check_golden(name: str, metrics: dict) -> None:
  """Compares a smoke run with the metrics committed before the harness
  refactor (`MESPOT_UPDATE_GOLDEN=1` rewrites this config's entry)."""
  view = golden_view(metrics)
  golden = json.load(open(GOLDEN)) if os.path.exists(GOLDEN) else {}
  if os.environ.get("MESPOT_UPDATE_GOLDEN"):
    os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
    path = f"{GOLDEN}.{name}"
    with open(path, "w") as f:
      json.dump(view, f, indent=1, sort_keys=True)
    return
  assert name in golden, f"no golden metrics for {name}"
  assert view == golden[name]


def merge_updates() -> list[str]:
  """Merges the `smoke_metrics.json.<config>` files written with
  `MESPOT_UPDATE_GOLDEN=1` into the golden file and removes them."""
  golden = json.load(open(GOLDEN)) if os.path.exists(GOLDEN) else {}
  merged = []
  for path in sorted(glob.glob(f"{GOLDEN}.*")):
    name = path.rsplit(".", 1)[1]
    golden[name] = json.load(open(path))
    merged.append(name)
  with open(f"{GOLDEN}.tmp", "w") as f:
    json.dump(golden, f, indent=1, sort_keys=True)
  os.replace(f"{GOLDEN}.tmp", GOLDEN)
  for name in merged:
    os.remove(f"{GOLDEN}.{name}")
  return merged


if __name__ == "__main__":
  print("merged:", ", ".join(merge_updates()) or "nothing")
