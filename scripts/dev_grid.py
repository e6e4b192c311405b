r"""Runs a config over a grid of settings on development data; prints F1s.

  python scripts/dev_grid.py --config=configs/synthetic_mdmd.py \
      --grid=mdmd.k_s.micro=0.1,0.2,0.3 --grid=mdmd.k_s.macro=0.4,0.6,1.0 \
      [--dataset_config=casme2_dev] [--root=runs/dev_grid] [--json=F]

Every combination of the `--grid` values (`field=v1,v2,...`; the Cartesian
product) is run with `python -m mespot_jax.main` on the development set
(`--dataset_config`, `synthetic_lv/casme2_dev` by default: dataset seed 1,
never a reported set) into `<root>/<config>/<field=value,...>` (a finished
workdir is read, not re-run). One row per combination: micro, macro and
overall F1 (one_to_one, the fitted model of every fold's test subject: on
the development set, where choosing is allowed) and the run time. The row
with the best overall F1 is marked; choosing by type is left to the reader
(micro and macro columns), who writes the choice into the config.
"""
import itertools
import json
import os
import subprocess
import sys
import time

from absl import app
from absl import flags

_CONFIG = flags.DEFINE_string("config", None, "Config file.", required=True)
_GRID = flags.DEFINE_multi_string("grid", [], "field=v1,v2,... (repeat).")
_DATA = flags.DEFINE_string("dataset_config", "casme2_dev",
                            "Development builder config.")
_ROOT = flags.DEFINE_string("root", "runs/dev_grid", "Folder of the runs.")
_JSON = flags.DEFINE_string("json", None, "Also write the rows here.")
_EXTRA = flags.DEFINE_list("overrides", [], "Fixed --config.x=y overrides.")


def parse_grid(specs) -> list[tuple[str, list[str]]]:
  """`["a.b=1,2", "c=x"]` -> `[("a.b", ["1", "2"]), ("c", ["x"])]`."""
  out = []
  for spec in specs:
    field, sep, values = spec.partition("=")
    if not sep or not field or not values:
      raise app.UsageError(f"--grid={spec!r}: write field=v1,v2,...")
    out.append((field, values.split(",")))
  return out


def combinations(grid) -> list[dict]:
  """Every combination of the grid's values, in order."""
  fields = [f for f, _ in grid]
  return [dict(zip(fields, vals))
          for vals in itertools.product(*[v for _, v in grid])]


def run_name(combo: dict) -> str:
  return ",".join(f"{k}={v}" for k, v in combo.items()) or "defaults"


def main(argv):
  del argv
  config_name = os.path.splitext(os.path.basename(_CONFIG.value))[0]
  rows = []
  for combo in combinations(parse_grid(_GRID.value)):
    workdir = os.path.join(_ROOT.value, config_name, run_name(combo))
    metrics_path = os.path.join(workdir, "metrics.json")
    seconds = None
    if not os.path.exists(metrics_path):
      cmd = ([sys.executable, "-m", "mespot_jax.main",
              f"--config={_CONFIG.value}",
              f"--config.dataset.config={_DATA.value}",
              f"--workdir={workdir}"]
             + [f"--config.{o}" for o in _EXTRA.value]
             + [f"--config.{k}={v}" for k, v in combo.items()])
      start = time.perf_counter()
      subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
      seconds = round(time.perf_counter() - start, 1)
    with open(metrics_path, encoding="utf-8") as f:
      o2o = json.load(f)["model"]["one_to_one"]
    rows.append({"settings": combo, "run": workdir, "run_seconds": seconds,
                 **{f"{t}_f1": o2o[t]["f1"]
                    for t in ("micro", "macro", "overall")}})
  best = max(range(len(rows)), key=lambda i: rows[i]["overall_f1"])
  print(f"{_CONFIG.value} on {_DATA.value} (development set)")
  print("| settings | micro F1 | macro F1 | overall F1 | s |")
  print("|---|---|---|---|---|")
  for i, r in enumerate(rows):
    mark = " (best overall)" if i == best else ""
    print(f"| {run_name(r['settings'])}{mark} | {r['micro_f1']:.3f} | "
          f"{r['macro_f1']:.3f} | {r['overall_f1']:.3f} | "
          f"{r['run_seconds'] if r['run_seconds'] is not None else 'read'} |")
  if _JSON.value:
    with open(_JSON.value, "w", encoding="utf-8") as f:
      json.dump({"config": _CONFIG.value, "dataset_config": _DATA.value,
                 "overrides": _EXTRA.value, "rows": rows}, f, indent=1)


if __name__ == "__main__":
  app.run(main)
