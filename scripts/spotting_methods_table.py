r"""Every spotting method side by side, from finished runs' metrics.json.

  python scripts/spotting_methods_table.py --seeds=0,1,2 \
      --method='3D-CNN=runs/results/synthetic_3dcnn_s{seed}_d-1:model' \
      --method='LBCNN=runs/results_lbcnn/synthetic_lbcnn_s{seed}_d-1:model' \
      --method='frame-difference baseline=runs/results/synthetic_3dcnn_s{seed}_d-1:baseline' \
      [--times='3D-CNN=docs/results/synthetic_3dcnn_rows.json'] [--json=F]

Each `--method` is `label=workdir pattern:kind`: the pattern names one run
per seed (`{seed}`), `kind` the scores of metrics.json to read ("model",
or a reference kind such as the 3D-CNN's "baseline"). A row per method and
seed: micro, macro and overall F1 under one_to_one and megc2020, and the
run time when `--times` gives the method's results_table JSON (its
`run_seconds` per seed; none for a run that was read, not run). A last row
per method gives the mean over the seeds. Nothing is re-run.
"""
import json
import os
import statistics

from absl import app
from absl import flags

# Flags are defined only when run as a script, so that
# scripts/build_docs.py can import the table functions beside other scripts.
if __name__ == "__main__":
  _METHODS = flags.DEFINE_multi_string("method", [], "label=pattern:kind")
  _TIMES = flags.DEFINE_multi_string("times", [], "label=results rows JSON")
  _SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Run seeds.")
  _JSON = flags.DEFINE_string("json", None, "Also write the rows here.")


PROTOCOLS = ("one_to_one", "megc2020")
TYPES = ("micro", "macro", "overall")


def method_rows(label, pattern, kind, seeds, times) -> list[dict]:
  rows = []
  for seed in seeds:
    path = os.path.join(pattern.format(seed=seed), "metrics.json")
    with open(path, encoding="utf-8") as f:
      m = json.load(f)[kind]
    row = {"method": label, "seed": int(seed), "run": os.path.dirname(path),
           "run_seconds": times.get(int(seed))}
    for p in PROTOCOLS:
      for t in TYPES:
        row[f"{p}_{t}_f1"] = m[p][t]["f1"]
    row["one_to_one_counts"] = "{tp}/{fp}/{fn}".format(
        **m["one_to_one"]["overall"])
    rows.append(row)
  return rows


def markdown(rows: list[dict], seed_label: str = "seed") -> str:
  """The markdown table of the rows: one per method and seed, and a mean
  row per method."""
  cols = [f"{p}_{t}_f1" for p in PROTOCOLS for t in TYPES]
  lines = [f"| method | {seed_label} | " + " | ".join(
      f"{t} F1 ({p})" for p in PROTOCOLS for t in TYPES) +
           " | TP/FP/FN (one_to_one) | run time |",
           "|" + "---|" * (len(cols) + 4)]
  fmt_t = lambda s: "-" if s is None else f"{s / 60:.1f} min"
  for label in dict.fromkeys(r["method"] for r in rows):
    mine = [r for r in rows if r["method"] == label]
    for r in mine:
      lines.append(f"| {label} | {r['seed']} | " + " | ".join(
          f"{r[c]:.3f}" for c in cols) +
                   f" | {r['one_to_one_counts']} | "
                   f"{fmt_t(r['run_seconds'])} |")
    secs = [r["run_seconds"] for r in mine if r["run_seconds"] is not None]
    lines.append(f"| {label} | mean | " + " | ".join(
        f"{statistics.mean(r[c] for r in mine):.3f}" for c in cols) +
                 f" | | {fmt_t(statistics.mean(secs)) if secs else '-'} |")
  return "\n".join(lines)


def _times(label) -> dict:
  for item in _TIMES.value:
    name, path = item.split("=", 1)
    if name == label:
      with open(path, encoding="utf-8") as f:
        return {r["seed"]: r.get("run_seconds") for r in json.load(f)
                if r.get("dataset_seed", -1) == -1}
  return {}


def main(argv):
  del argv
  rows = []
  for item in _METHODS.value:
    label, rest = item.split("=", 1)
    pattern, kind = rest.rsplit(":", 1)
    rows += method_rows(label, pattern, kind, _SEEDS.value, _times(label))
  print(markdown(rows))
  if _JSON.value:
    with open(_JSON.value, "w", encoding="utf-8") as f:
      json.dump(rows, f, indent=2)


if __name__ == "__main__":
  app.run(main)
