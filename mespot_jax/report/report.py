"""The report of a run: metrics.json, CSVs, plots, TensorBoard, a table.

Files in the workdir:
- `metrics.json`: per kind of score (`model`, and references such as the
  3D-CNN's `baseline`) and protocol, micro / macro / overall `tp, fp, fn,
  precision, recall, f1`; `frame`: frame-level F1 and ROC AUC per type
  (Table 4 of Yap et al.); `folds`: one row per fold (test and validation
  subjects, best epoch, the method's choices, F1); `oracle`: what choices
  picked on the test subject would report (labelled, never the headline);
  `history`: train and validation metrics per epoch and fold;
  `provenance`: what a rerun needs to match the numbers (package versions,
  backend, devices, usable cores, dataset version, seeds, commit;
  `provenance.py`), the one block two reruns may differ in.
- `predictions.csv`, `baseline_predictions.csv`: spotted intervals in the
  evaluate CLI's format; `ground_truth.csv`: the held-out truth, so
  `python -m mespot_jax.evaluate --gt=ground_truth.csv --pred=predictions.csv`
  reproduces the numbers.
- `plots/<video>.png`: smoothed scores, thresholds, spotted and true
  intervals of each held-out video.
- `tensorboard/`: scalars (losses per fold and epoch, final F1).
"""
import json
import os

import numpy as np

from mespot_jax.io_utils import atomic_write


def make_writer(workdir: str):
  """A TensorBoard scalar writer in `workdir/tensorboard`."""
  from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
  return SummaryWriter(os.path.join(workdir, "tensorboard"))


def _json_default(x):
  if isinstance(x, (np.floating, np.integer)):
    return x.item()
  if isinstance(x, np.ndarray):
    return x.tolist()
  raise TypeError(f"not JSON serialisable: {type(x)}")


def _kinds(metrics: dict) -> list[str]:
  """Kinds of scores in a metrics dict: "model" first, then references."""
  kinds = [k for k, v in metrics.items()
           if isinstance(v, dict) and "frame" in v]
  return sorted(kinds, key=lambda k: (k != "model", k))


def summary_table(metrics: dict) -> str:
  """A short text table of interval F1 per kind, protocol and type, with
  the oracle's overall F1 in rows of their own."""
  lines = [f"{'method':<10}{'protocol':<16}{'micro F1':>10}{'macro F1':>10}"
           f"{'overall F1':>12}{'TP/FP/FN':>16}"]
  kinds = _kinds(metrics)
  for kind in kinds:
    for protocol, res in metrics[kind].items():
      if protocol == "frame":
        continue
      o = res["overall"]
      counts = "{}/{}/{}".format(o["tp"], o["fp"], o["fn"])
      lines.append(f"{kind:<10}{protocol:<16}{res['micro']['f1']:>10.4f}"
                   f"{res['macro']['f1']:>10.4f}{o['f1']:>12.4f}"
                   f"{counts:>16}")
  for kind in kinds:
    fr = metrics[kind]["frame"]
    lines.append(f"{kind:<10}{'frame':<16}"
                 f"{fr['micro']['f1']:>10.4f}{fr['macro']['f1']:>10.4f}"
                 f"   AUC micro {fr['micro']['auc']:.3f} "
                 f"macro {fr['macro']['auc']:.3f}")
  oracle = metrics.get("oracle")
  if oracle:
    lines.append("ORACLE (choices picked on the test subject, as leaky code "
                 "does; not a result):")
    for label, key in (("thr", "fitted_on_test"),
                       ("epoch+thr", "epoch_and_fitted_on_test")):
      for protocol, res in oracle[key].items():
        o = res["overall"]
        counts = "{}/{}/{}".format(o["tp"], o["fp"], o["fn"])
        lines.append(f"{label:<10}{protocol:<16}{res['micro']['f1']:>10.4f}"
                     f"{res['macro']['f1']:>10.4f}{o['f1']:>12.4f}"
                     f"{counts:>16}")
  return "\n".join(lines)


def write_metrics_json(workdir, metrics) -> str:
  """Writes `workdir/metrics.json` atomically (numpy scalars and arrays as
  JSON): the one writer of every task's metrics; returns its path."""
  path = os.path.join(workdir, "metrics.json")
  with atomic_write(path) as f:
    json.dump(metrics, f, indent=2, default=_json_default)
  return path


def write_report(workdir, metrics, writer=None) -> None:
  """Writes metrics.json (atomically), TensorBoard scalars and prints the
  summary table; the method writes its own files (CSVs, plots)."""
  write_metrics_json(workdir, metrics)
  if writer is not None:
    for kind in _kinds(metrics):
      for protocol, res in metrics[kind].items():
        if protocol != "frame":
          writer.add_scalar(f"f1_{protocol}/{kind}", res["overall"]["f1"], 0)
    writer.flush()
  print(summary_table(metrics), flush=True)
  print(f"report written to {workdir}: metrics.json, predictions.csv, "
        "plots/", flush=True)
