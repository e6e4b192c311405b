"""Each experiment config's "Run" block, made from committed result rows.

    python scripts/config_headlines.py          # prints every config's block
    python scripts/config_headlines.py --write  # rewrites the docstrings

A config's docstring ends with the command that runs it, its run time on
this project's 2-core CPU and the headline metric it produced (big_vision's
convention). Both numbers come from the committed rows in `docs/results/`
(the mean over the run seeds on the dataset's own seed); a config without
rows (the real datasets, which are not on this machine) says so. The test
`tests/test_config_docstrings.py` checks that every docstring holds the
block this script makes.
"""
import argparse
import glob
import json
import os
import re
import statistics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "docs", "results")
MARK = "Run:"


def _full_partnet(row) -> bool:
  return (row.get("head") == "concat" and row.get("parts") and
          row.get("emr") and row.get("adversarial") and
          row.get("source") not in (None, "none"))


# config -> (rows file, metric key, metric name, row filter)
HEADLINES = {
    "synthetic_3dcnn": ("synthetic_3dcnn_rows.json", "overall_f1",
                        "overall F1 (one_to_one)", None),
    "synthetic_lbcnn": ("synthetic_lbcnn_rows.json", "overall_f1",
                        "overall F1 (one_to_one)", None),
    "synthetic_mdmd": ("synthetic_mdmd_rows.json", "overall_f1",
                       "overall F1 (one_to_one)", None),
    "synthetic_flow_roi": ("synthetic_flow_roi_rows.json", "overall_f1",
                           "overall F1 (one_to_one)", None),
    "synthetic_lstm": ("synthetic_lstm_hog_top_rows.json", "overall_f1",
                       "overall F1 (one_to_one)", None),
    "synthetic_convlstm": ("synthetic_convlstm_rows.json", "uf1", "UF1",
                           None),
    "synthetic_partnet": ("synthetic_partnet_rows.json", "uf1", "UF1",
                          _full_partnet),
}


# Synthetic configs without committed rows yet, and why.
NOT_RUN = {"synthetic_str": "the full config has not been run yet"}


# The renderings the rows were measured on (the datasets' versions then).
ON = {"synthetic_lv": "synthetic_lv/casme2 1.2.0 (now casme2_v1)",
      "synthetic_me": "synthetic_me/default"}
# Rows of the latest run on the current default dataset (its version in
# the rows' `dataset`): the README's main command.
CURRENT = {"synthetic_3dcnn": ("synthetic_3dcnn_casme2_3.0.0_rows.json",
                               "overall_f1", "overall F1 (one_to_one)")}


def _minutes(row) -> float:
  return row["minutes"] if "minutes" in row else row["run_seconds"] / 60


def block(name: str) -> str:
  """The "Run" block of config `name` (lines, no trailing newline)."""
  lines = [MARK, f"  python -m mespot_jax.main --config=configs/{name}.py",
           "(`:smoke`: the same settings on tiny data, about a minute)."]
  if name not in HEADLINES:
    why = NOT_RUN.get(name, "the licensed release is not on this machine")
    lines.append(f"Run time and headline: not measured here ({why}).")
    return "\n".join(lines)
  path, key, metric, keep = HEADLINES[name]
  rows = [r for r in json.load(open(os.path.join(RESULTS, path)))
          if r.get("dataset_seed", -1) == -1 and (keep is None or keep(r))]
  seeds = ", ".join(str(r["seed"]) for r in rows)
  lines.append(
      f"Run time: {statistics.mean(_minutes(r) for r in rows):.1f} min on a "
      f"2-core CPU; headline: {metric} "
      f"{statistics.mean(r[key] for r in rows):.3f} on "
      f"{ON[name.split('_')[0] + '_' + ('lv' if key != 'uf1' else 'me')]} "
      f"(mean of run seeds {seeds}; docs/results/{path}).")
  if name in CURRENT:
    path, key, metric = CURRENT[name]
    rows = json.load(open(os.path.join(RESULTS, path)))
    lines.append(
        f"On {rows[0]['dataset']} (the current default): {metric} "
        f"{statistics.mean(r[key] for r in rows):.3f}, "
        f"{statistics.mean(_minutes(r) for r in rows):.1f} min (run seed "
        f"{', '.join(str(r['seed']) for r in rows)}, one run; "
        f"docs/results/{path}).")
  return "\n".join(lines)


def configs() -> list[str]:
  return sorted(os.path.splitext(os.path.basename(p))[0]
                for p in glob.glob(os.path.join(ROOT, "configs", "*.py"))
                if not p.endswith("tiny.py"))


def _wrap(text: str, width: int = 79) -> str:
  out = []
  for line in text.splitlines():
    if line.startswith("  "):  # a command: never broken
      out.append(line)
      continue
    words, cur = line.split(" "), ""
    for w in words:
      if cur and len(cur) + 1 + len(w) > width:
        out.append(cur)
        cur = w
      else:
        cur = f"{cur} {w}" if cur else w
    out.append(cur)
  return "\n".join(out)


def docstring_block(name: str) -> str:
  """The block as it stands in the docstring (wrapped at 79 columns)."""
  return _wrap(block(name))


def rewrite(name: str) -> None:
  path = os.path.join(ROOT, "configs", f"{name}.py")
  src = open(path).read()
  end = src.index('"""', 3)
  doc = src[:end]
  doc = re.sub(rf"\n\n{re.escape(MARK)}.*\Z", "", doc, flags=re.S)
  src = doc.rstrip() + "\n\n" + docstring_block(name) + "\n" + src[end:]
  with open(path + ".tmp", "w") as f:
    f.write(src)
  os.replace(path + ".tmp", path)


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--write", action="store_true",
                 help="rewrite each config's docstring block")
  args = p.parse_args()
  for name in configs():
    if args.write:
      rewrite(name)
    print(f"configs/{name}.py\n{docstring_block(name)}\n")


if __name__ == "__main__":
  main()
