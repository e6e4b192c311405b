r"""Per-head rows of part-based recogniser runs (docs/PARTNET.md's table).

  python scripts/partnet_rows.py --runs=runs/results/synthetic_partnet_s0_d0,\
      ... [--json=docs/results/synthetic_partnet_rows.json]

Reads each run's metrics.json (made by `python -m mespot_jax.main` or
`scripts/results_table.py`) and prints one markdown row per run and head:
UF1 and UAR of the concatenated classifier (`model`, the headline) and,
with the part heads on, of the top and bottom classifiers; the oracle's
UF1 (epoch and class bias picked on the test subject: not a result); and
the run's switches (parts, EMR, adversary, source) from its config.json.
"""
import json
import os

from absl import app
from absl import flags

# Flags are defined only when run as a script, so that
# scripts/build_docs.py can import summary() beside other scripts.
if __name__ == "__main__":
  _RUNS = flags.DEFINE_list("runs", [], "Run folders.")
  _JSON = flags.DEFINE_string("json", None, "Also write the rows here.")
  _MINUTES = flags.DEFINE_list("minutes", [], "Run time of each run (min), "
                               "as measured by whoever ran it; optional.")


def rows_of(workdir: str, minutes=None) -> list[dict]:
  """One row per head of a run."""
  with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
    m = json.load(f)
  with open(os.path.join(workdir, "config.json"), encoding="utf-8") as f:
    c = json.load(f)
  p = c["partnet"]
  switches = {"parts": p["parts"], "emr": p["emr"],
              "adversarial": p["adversarial"], "source": p["source"]["name"]}
  oracle = m.get("oracle", {}).get("epoch_and_fitted_on_test", {})
  out = []
  for head in ("model", "top", "bottom"):
    if head not in m:
      continue
    out.append({"run": os.path.basename(workdir.rstrip("/")),
                "seed": c["seed"], "dataset_seed": c["dataset"]["seed"],
                "head": "concat" if head == "model" else head,
                "uf1": m[head]["uf1"], "uar": m[head]["uar"],
                "accuracy": m[head]["accuracy"],
                "clips": m[head]["num_samples"],
                "oracle_uf1": oracle.get("uf1") if head == "model" else None,
                "minutes": minutes, **switches})
  return out


def main(argv):
  del argv
  rows = []
  for i, run in enumerate(_RUNS.value):
    minutes = float(_MINUTES.value[i]) if i < len(_MINUTES.value) else None
    rows.extend(rows_of(run, minutes))
  print("| parts | EMR | adversary | source | dataset seed | seed | head | "
        "UF1 | UAR | accuracy | oracle UF1 (not a result) | minutes |")
  print("|" + "---|" * 12)
  for r in rows:
    oracle = "" if r["oracle_uf1"] is None else f"{r['oracle_uf1']:.3f}"
    mins = "" if r["minutes"] is None else f"{r['minutes']:.1f}"
    print(f"| {'on' if r['parts'] else 'off'} | "
          f"{'on' if r['emr'] else 'off'} | "
          f"{'on' if r['adversarial'] else 'off'} | {r['source']} | "
          f"{r['dataset_seed']} | {r['seed']} | {r['head']} | "
          f"{r['uf1']:.3f} | {r['uar']:.3f} | {r['accuracy']:.3f} | "
          f"{oracle} | {mins} |")
  print()
  print(summary(rows))
  if _JSON.value:
    with open(_JSON.value, "w", encoding="utf-8") as f:
      json.dump(rows, f, indent=2)


def summary(rows: list[dict]) -> str:
  """Mean and range over the run seeds of each setting and head."""
  groups = {}
  for r in rows:
    key = (r["parts"], r["emr"], r["adversarial"], r["source"],
           r["dataset_seed"], r["head"])
    groups.setdefault(key, []).append(r)
  lines = ["| parts | EMR | adversary | source | dataset seed | head | seeds | "
           "UF1 mean (min-max) | UAR mean (min-max) |", "|" + "---|" * 9]
  on = lambda b: "on" if b else "off"
  for (parts, emr, adv, src, ds, head), rs in groups.items():
    u = [r["uf1"] for r in rs]
    a = [r["uar"] for r in rs]
    seeds = ",".join(str(r["seed"]) for r in rs)
    lines.append(
        f"| {on(parts)} | {on(emr)} | {on(adv)} | {src} | {ds} | {head} | "
        f"{seeds} | {sum(u) / len(u):.3f} ({min(u):.3f}-{max(u):.3f}) | "
        f"{sum(a) / len(a):.3f} ({min(a):.3f}-{max(a):.3f}) |")
  return "\n".join(lines)


if __name__ == "__main__":
  app.run(main)
