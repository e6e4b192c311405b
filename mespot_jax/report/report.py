"""The report of a run: metrics.json, CSVs, plots, TensorBoard, a table.

Files in the workdir:
- `metrics.json`: per method (`model`, `baseline`) and protocol, micro /
  macro / overall `tp, fp, fn, precision, recall, f1`; `frame`: frame-level
  F1 and ROC AUC per type (Table 4 of Yap et al.); `folds`: one row per
  fold (test and validation subjects, best epoch, skips, thresholds, F1);
  `history`: train and validation loss per epoch and fold.
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
from mespot_jax.metrics import io as metrics_io
from mespot_jax.report import plots


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


def summary_table(metrics: dict) -> str:
  """A short text table of interval F1 per method, protocol and type."""
  lines = [f"{'method':<10}{'protocol':<12}{'micro F1':>10}{'macro F1':>10}"
           f"{'overall F1':>12}{'TP/FP/FN':>16}"]
  for kind in ("model", "baseline"):
    if kind not in metrics:
      continue
    for protocol, res in metrics[kind].items():
      if protocol == "frame":
        continue
      o = res["overall"]
      counts = "{}/{}/{}".format(o["tp"], o["fp"], o["fn"])
      lines.append(f"{kind:<10}{protocol:<12}{res['micro']['f1']:>10.4f}"
                   f"{res['macro']['f1']:>10.4f}{o['f1']:>12.4f}"
                   f"{counts:>16}")
  for kind in ("model", "baseline"):
    if kind in metrics and "frame" in metrics[kind]:
      fr = metrics[kind]["frame"]
      lines.append(f"{kind:<10}{'frame':<12}"
                   f"{fr['micro']['f1']:>10.4f}{fr['macro']['f1']:>10.4f}"
                   f"   AUC micro {fr['micro']['auc']:.3f} "
                   f"macro {fr['macro']['auc']:.3f}")
  return "\n".join(lines)


def write_report(config, workdir, metrics, gt, preds, store, test_ids,
                 per_video, writer=None) -> None:
  """Writes every report file (atomically) and prints the summary table."""
  with atomic_write(os.path.join(workdir, "metrics.json")) as f:
    json.dump(metrics, f, indent=2, default=_json_default)
  metrics_io.write_intervals_csv(os.path.join(workdir, "ground_truth.csv"), gt)
  metrics_io.write_intervals_csv(os.path.join(workdir, "predictions.csv"),
                                 preds["model"])
  if "baseline" in preds:
    metrics_io.write_intervals_csv(
        os.path.join(workdir, "baseline_predictions.csv"), preds["baseline"])
  if config.eval.plots:
    for v in test_ids:
      meta = store.videos[v]
      plots.plot_video(
          os.path.join(workdir, "plots", f"{meta.video}.png"), meta,
          per_video[meta.video]["model"]["scores"],
          per_video[meta.video]["model"]["thresholds"],
          [r for r in preds["model"] if r.video == meta.video],
          config.eval.postprocess, per_video[meta.video]["model"]["params"])
  if writer is not None:
    for kind in preds:
      for protocol in config.eval.protocols:
        writer.add_scalar(f"f1_{protocol}/{kind}",
                          metrics[kind][protocol]["overall"]["f1"], 0)
    writer.flush()
  print(summary_table(metrics), flush=True)
  print(f"report written to {workdir}: metrics.json, predictions.csv, "
        "plots/", flush=True)
