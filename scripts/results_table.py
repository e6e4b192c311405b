r"""Runs a config over seeds and prints its results table (docs/RESULTS.md).

  python scripts/results_table.py --config=configs/synthetic_3dcnn.py \
      [--seeds=0,1,2] [--dataset_seeds=-1,3] [--root=runs/results] [--json=F]

For every run seed (`--config.seed`: initial weights, training samples,
validation subjects) and dataset seed (`--config.dataset.seed`; -1 is the
builder config's own seed, e.g. 0 for `synthetic_lv/casme2`) it runs
`python -m mespot_jax.main` into `<root>/<config>_s<seed>_d<dataset seed>`
(a finished workdir is read, not re-run; an interrupted one resumes) and
prints one markdown row per run from its metrics.json: micro, macro and
overall F1 under one_to_one and megc2020, TP/FP/FN, each reference kind's
overall F1 (the 3D-CNN's frame-difference baseline), and the oracle's
overall F1 (epoch and thresholds picked on the test subject: not a result).
A recognition config's rows give UF1, UAR, accuracy, the oracle's UF1
(epoch and class bias picked on the test subject) and the run time.
"""
import json
import os
import subprocess
import sys
import time

from absl import app
from absl import flags

# Flags are defined only when run as a script, so that
# scripts/build_docs.py can import the table functions beside other scripts.
if __name__ == "__main__":
  _CONFIG = flags.DEFINE_string("config", "configs/synthetic_3dcnn.py",
                                "Config file.")
  _SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Run seeds.")
  _DATA_SEEDS = flags.DEFINE_list("dataset_seeds", ["-1"], "Dataset seeds "
                                  "(-1: the builder config's own).")
  _ROOT = flags.DEFINE_string("root", "runs/results", "Folder of the runs.")
  _JSON = flags.DEFINE_string("json", None, "Also write the rows here.")
  _EXTRA = flags.DEFINE_list("overrides", [], "More --config.x=y overrides.")


def _run(workdir: str, seed: str, data_seed: str) -> float:
  cmd = [sys.executable, "-m", "mespot_jax.main", f"--config={_CONFIG.value}",
         f"--config.seed={seed}", f"--config.dataset.seed={data_seed}",
         f"--workdir={workdir}"] + [f"--config.{o}" for o in _EXTRA.value]
  start = time.perf_counter()
  subprocess.run(cmd, check=True)
  return time.perf_counter() - start


def row(metrics: dict, seed: str, data_seed: str, seconds) -> dict:
  """The table's numbers of one run."""
  o2o, megc = metrics["model"]["one_to_one"], metrics["model"]["megc2020"]
  refs = {k: v["one_to_one"]["overall"]["f1"] for k, v in metrics.items()
          if k != "model" and isinstance(v, dict) and "frame" in v}
  oracle = metrics.get("oracle", {}).get("epoch_and_fitted_on_test", {})
  return {
      "seed": int(seed), "dataset_seed": int(data_seed),
      "micro_f1": o2o["micro"]["f1"], "macro_f1": o2o["macro"]["f1"],
      "overall_f1": o2o["overall"]["f1"],
      "counts": "{tp}/{fp}/{fn}".format(**o2o["overall"]),
      "megc2020_overall_f1": megc["overall"]["f1"],
      # Apex spotters' own protocol, where the config asks for it.
      "apex_in_interval_f1": metrics["model"].get("apex_in_interval", {}
                                                  ).get("overall", {}
                                                        ).get("f1"),
      "references": refs,
      "oracle_overall_f1": oracle.get("one_to_one", {}).get(
          "overall", {}).get("f1"),
      "run_seconds": seconds}


def recognition_row(metrics: dict, seed: str, data_seed: str,
                    seconds) -> dict:
  """The table's numbers of one recognition run."""
  m = metrics["model"]
  oracle = metrics.get("oracle", {}).get("epoch_and_fitted_on_test", {})
  return {"seed": int(seed), "dataset_seed": int(data_seed),
          "uf1": m["uf1"], "uar": m["uar"], "accuracy": m["accuracy"],
          "clips": m["num_samples"], "per_class_f1": m["per_class_f1"],
          "oracle_uf1": oracle.get("uf1") if isinstance(oracle, dict)
          else None, "run_seconds": seconds}


def recognition_markdown(rows: list[dict]) -> str:
  """The markdown table of recognition rows."""
  lines = ["| dataset seed | seed | UF1 | UAR | accuracy | clips | "
           "oracle UF1 (not a result) | run time |", "|" + "---|" * 8]
  for r in rows:
    oracle = "-" if r["oracle_uf1"] is None else f"{r['oracle_uf1']:.3f}"
    secs = ("-" if r["run_seconds"] is None
            else f"{r['run_seconds'] / 60:.1f} min")
    lines.append(
        f"| {r['dataset_seed']} | {r['seed']} | **{r['uf1']:.3f}** | "
        f"{r['uar']:.3f} | {r['accuracy']:.3f} | {r['clips']} | {oracle} "
        f"| {secs} |")
  return "\n".join(lines)


def markdown(rows: list[dict]) -> str:
  """The markdown table of spotting rows (one per run)."""
  refs = sorted({k for r in rows for k in r["references"]})
  lines = ["| dataset seed | seed | micro F1 | macro F1 | overall F1 "
           "(one_to_one) | TP/FP/FN | overall F1 (megc2020) | " +
           "".join(f"{k} overall F1 | " for k in refs) +
           "oracle overall F1 (not a result) | run time |",
           "|" + "---|" * (9 + len(refs))]
  for r in rows:
    oracle = ("-" if r["oracle_overall_f1"] is None
              else f"{r['oracle_overall_f1']:.3f}")
    secs = ("-" if r.get("run_seconds") is None
            else f"{r['run_seconds'] / 60:.1f} min")
    lines.append(
        f"| {r['dataset_seed']} | {r['seed']} | {r['micro_f1']:.3f} | "
        f"{r['macro_f1']:.3f} | **{r['overall_f1']:.3f}** | {r['counts']} "
        f"| {r['megc2020_overall_f1']:.3f} | " +
        "".join(f"{r['references'].get(k, float('nan')):.3f} | "
                for k in refs) + f"{oracle} | {secs} |")
  return "\n".join(lines)


def main(argv):
  del argv
  name = os.path.splitext(os.path.basename(_CONFIG.value))[0]
  rows = []
  for data_seed in _DATA_SEEDS.value:
    for seed in _SEEDS.value:
      workdir = os.path.join(_ROOT.value, f"{name}_s{seed}_d{data_seed}")
      path = os.path.join(workdir, "metrics.json")
      seconds = None if os.path.exists(path) else _run(workdir, seed,
                                                       data_seed)
      with open(path, encoding="utf-8") as f:
        metrics = json.load(f)
      make = recognition_row if metrics.get("task") == "recognition" else row
      rows.append(make(metrics, seed, data_seed, seconds))
  if rows and "uf1" in rows[0]:
    print(recognition_markdown(rows))
  else:
    print(markdown(rows))
  _write(rows)


def _write(rows: list[dict]) -> None:
  if _JSON.value:
    with open(_JSON.value, "w", encoding="utf-8") as f:
      json.dump(rows, f, indent=2)


if __name__ == "__main__":
  app.run(main)
