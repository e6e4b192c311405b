r"""Records a run of the README's main command: its row and one video's scores.

  python scripts/main_job_row.py --workdir=runs/synthetic_3dcnn \
      --seconds=SECONDS --note="command, date, commit, machine" \
      [--out=docs/results/synthetic_3dcnn_casme2_<version>_rows.json] \
      [--scores=docs/results/main_job_scores.json]

Reads the finished run's `metrics.json` and writes a rows JSON (one row, the
shape of `docs/results/synthetic_3dcnn_casme2_2.0.0_rows.json`): micro,
macro and overall F1 (one_to_one), TP/FP/FN, the megc2020 overall F1, the
frame-difference baseline's and the oracle's overall F1 (epoch and
thresholds picked on the test subject: not a result), the run's seconds
(measured outside the run, dataset build excluded) and a note. The
numbers are those of `scripts/results_table.py`'s rows.

It also writes the record `scripts/build_docs.py` draws the README's score
plot from: the first held-out video of fold 0 (the first test fold; not
chosen for how it looks): its raw per-frame model scores
(`scores/<video>.npy`), the signal the decoder thresholds and its
thresholds (the fold's fitted decoder record in `metrics.json`), the true
intervals (`ground_truth.csv`) and the spotted ones (`predictions.csv`).
The video's frame rate and subject come from the built dataset (its
`videos` split; no frame is read), opened as the run's `config.json` says
(`$TFDS_DATA_DIR` or `dataset.data_dir`).
"""
import datetime
import json
import os
import re
import sys

from absl import app
from absl import flags
import ml_collections
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import results_table  # pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax import decoders  # pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax import io_utils  # pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax.data import datasets  # pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax.metrics import io as metrics_io  # pylint: disable=g-import-not-at-top,wrong-import-position

_WORKDIR = flags.DEFINE_string("workdir", "runs/synthetic_3dcnn",
                               "The finished run.")
_OUT = flags.DEFINE_string("out", None, "Rows JSON to write (default: "
                           "docs/results/synthetic_3dcnn_<config>_<version>"
                           "_rows.json).")
_SECONDS = flags.DEFINE_float("seconds", None, "The run's wall-clock "
                              "seconds, dataset build excluded.")
_NOTE = flags.DEFINE_string("note", "", "What was run: command, date, "
                            "commit, machine and its load.")
_SCORES = flags.DEFINE_string("scores", "docs/results/main_job_scores.json",
                              "The score record of one held-out video.")
flags.mark_flag_as_required("seconds")


def dataset_label(metrics: dict) -> str:
  """"<name>/<config> <version>" of the run's dataset (its provenance)."""
  d = metrics["provenance"]["dataset"]
  name = d["name"] + (f"/{d['config']}" if d.get("config") else "")
  return f"{name} {d['version']}"


def row(metrics: dict, seconds: float, note: str) -> dict:
  """The main job's row (`results_table.row`, its baseline flattened)."""
  r = results_table.row(metrics, metrics["provenance"]["seeds"]["seed"],
                        metrics["dataset_seed"], seconds)
  return {"seed": r["seed"], "dataset_seed": r["dataset_seed"],
          "dataset": dataset_label(metrics), "micro_f1": r["micro_f1"],
          "macro_f1": r["macro_f1"], "overall_f1": r["overall_f1"],
          "counts": r["counts"],
          "megc2020_overall_f1": r["megc2020_overall_f1"],
          "baseline_overall_f1": r["references"].get("baseline"),
          "oracle_overall_f1": r["oracle_overall_f1"],
          "run_seconds": seconds, "note": note}


def _tuples(x):
  """JSON lists back to the tuples the config holds."""
  if isinstance(x, dict):
    return {k: _tuples(v) for k, v in x.items()}
  if isinstance(x, list):
    return tuple(_tuples(v) for v in x)
  return x


def load_config(workdir: str) -> ml_collections.ConfigDict:
  """The run's resolved config (`config.json`)."""
  with open(os.path.join(workdir, "config.json"), encoding="utf-8") as f:
    return ml_collections.ConfigDict(_tuples(json.load(f)))


def _rounded(a_T2) -> list:
  """Rows of 4-decimal floats; None where there is no score (NaN)."""
  return [[None if not np.isfinite(x) else round(float(x), 4) for x in r]
          for r in np.asarray(a_T2, np.float64)]


def _intervals(rows, video: str) -> list:
  return [{"type": r.type, "onset": int(r.onset), "offset": int(r.offset)}
          for r in rows if r.video == video]


def score_record(workdir: str, metrics: dict) -> dict:
  """The first held-out video of fold 0 as `build_docs.py` draws it."""
  config = load_config(workdir)
  fold = min(metrics["folds"], key=lambda f: f["fold"])
  source = datasets.open_spotting(config)
  meta = [v for v in source.videos if v.subject == fold["test_subject"]][0]
  scores_T2 = np.load(os.path.join(workdir, "scores", f"{meta.video}.npy"))
  dec = decoders.get(config)
  record = dec.record_type.from_dict(fold["model_decoder"])
  signal_T2, thresholds = dec.signal(scores_T2, meta.fps, record)
  truth = metrics_io.read_intervals_csv(
      os.path.join(workdir, "ground_truth.csv"))
  spotted = metrics_io.read_intervals_csv(
      os.path.join(workdir, "predictions.csv"))
  return {
      "what": ("the first held-out video of fold 0 (the first test fold), "
               "not chosen for how it looks"),
      "dataset": dataset_label(metrics), "method": metrics["method"],
      "seed": metrics["provenance"]["seeds"]["seed"],
      "dataset_seed": metrics["dataset_seed"],
      "fold": fold["fold"], "test_subject": fold["test_subject"],
      "fold_overall_f1": fold["model_one_to_one_f1"],
      "folds_overall_f1": [f["model_one_to_one_f1"] for f in sorted(
          metrics["folds"], key=lambda f: f["fold"])],
      "video": meta.video, "fps": meta.fps, "decoder": dec.name,
      "thresholds": [float(t) for t in thresholds],
      "never": list(dec.never(record)),
      "truth": _intervals(truth, meta.video),
      "spotted": _intervals(spotted, meta.video),
      "columns": ["micro", "macro"],
      "scores": _rounded(scores_T2), "signal": _rounded(signal_T2)}


def _write(path: str, obj) -> None:
  """JSON with each innermost list (a frame's pair, an interval) on one
  line: a record of some thousand frames stays readable in a diff."""
  text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]",
                lambda m: "[" + ", ".join(
                    x.strip() for x in m.group(1).split(",")) + "]",
                json.dumps(obj, indent=1))
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with io_utils.atomic_write(path) as f:
    f.write(text + "\n")


def main(argv):
  del argv
  workdir = _WORKDIR.value
  with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
    metrics = json.load(f)
  r = row(metrics, _SECONDS.value, _NOTE.value)
  d = metrics["provenance"]["dataset"]
  out = _OUT.value or os.path.join(
      "docs", "results",
      f"synthetic_3dcnn_{d['config']}_{d['version']}_rows.json")
  _write(out, [r])
  rec = score_record(workdir, metrics)
  rec["date"] = metrics["provenance"].get("finished_utc", "")[:10] or (
      datetime.date.today().isoformat())
  rec["rows"] = os.path.basename(out)
  _write(_SCORES.value, rec)
  print(json.dumps(r, indent=1))
  print(f"wrote {out} and {_SCORES.value} ({rec['video']}, fold "
        f"{rec['fold']}, {len(rec['scores'])} frames)")


if __name__ == "__main__":
  app.run(main)
