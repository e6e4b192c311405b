r"""Scores predicted expression intervals (or clip labels) against the truth.

Usage:
  python -m mespot_jax.evaluate --gt=GT.csv --pred=PRED.csv \
      [--protocol=megc2020|megc2020_pairs|one_to_one|str|apex_in_interval] \
      [--iou=0.5] \
      [--out=result.json]
  python -m mespot_jax.evaluate --task=recognition --gt=GT.csv \
      --pred=PRED.csv [--out=result.json]

Recognition (`--task=recognition`): CSVs `clip,label[,subject,dataset]`
(a run's `predictions.csv` with its `pred` column serves as either file;
see mespot_jax/metrics/recognition_io.py); prints UF1, UAR and accuracy
(UF1 and UAR from the counts of all clips) and the per-class F1; the JSON
adds the confusion matrix.

Spotting (the default task):

Both CSVs have the columns `video,type,onset,offset` (type `micro` or
`macro`, any case; frames 1-based and inclusive) and optionally `subject`,
`apex`, `emotion`, `score`; other columns are ignored. A header-only CSV
means zero intervals. Predictions for a video absent from the ground truth
count as false positives.

Protocols (details in mespot_jax/metrics/intervals.py):
  megc2020    official MEGC2020 helper, quirks kept (disjoint intervals get
              inter = 1; single-frame intervals get IoU 0; a ground truth is
              found by any prediction; TP = found ground truths, FP =
              predictions - TP, summed with no clamping, so it can be
              negative); adds the helper's precision_large and f1_large
              (correct (prediction, truth) pairs / predictions).
  megc2020_pairs
              the LBCNN authors' released counting: same IoU, TP = pairs
              with IoU >= threshold, FP = predictions - TP, FN = ground
              truths - TP (both can be negative); only to reproduce their
              table.
  one_to_one  MEGC2021+ VOC-style greedy matching, predictions by descending
              score (file order when there is no score column).
  str         spot-then-recognise: one_to_one spotting, then emotion analysis
              on the matched pairs; adds f1_analysis and STRS.
  apex_in_interval
              Tran et al.: a predicted apex (the `apex` column, else the
              middle frame) inside an untaken ground truth is a TP, else an
              FP; f1 is the mean of the per-video F1s (f1_summed: of the
              summed counts).

Prints a table and, with --out, writes JSON {"micro", "macro", "overall"},
each with tp, fp, fn, precision, recall, f1 (plus correct_pairs,
precision_large, f1_large for `megc2020` and the STR fields for `str`).
A bad CSV or an unknown --protocol prints one line `error: ...` (the CSV
error names the file and line) and exits with status 2.
"""
import json
import sys

from absl import app
from absl import flags

from mespot_jax import io_utils
from mespot_jax.errors import InputError
from mespot_jax.metrics import intervals
from mespot_jax.metrics import io
from mespot_jax.metrics import recognition_io

_TASK = flags.DEFINE_string("task", "spotting",
                            "spotting (intervals) or recognition (clips).")
_GT = flags.DEFINE_string("gt", None, "Ground-truth interval CSV.")
_PRED = flags.DEFINE_string("pred", None, "Predicted interval CSV.")
# A string checked in `run`, not DEFINE_enum: a bad value must give the
# one-line `error: ...` and status 2 of the other input errors, not absl's
# FATAL flag-parsing message.
_PROTOCOL = flags.DEFINE_string(
    "protocol", "one_to_one",
    f"Evaluation protocol, one of: {', '.join(intervals.PROTOCOLS)}.")
_IOU = flags.DEFINE_float(
    "iou", 0.5, "A match needs IoU >= this threshold, in (0, 1].")
_OUT = flags.DEFINE_string(
    "out", None, "Optional JSON file for the results (written atomically).")
flags.mark_flags_as_required(["gt", "pred"])

_KEYS = ("micro", "macro", "overall")


def format_table(result: dict, protocol: str, iou_threshold: float) -> str:
  """Renders the micro / macro / overall results as a short text table.

  Args:
    result: output of `intervals.evaluate`.
    protocol: protocol name, for the title line.
    iou_threshold: IoU threshold, for the title line.

  Returns:
    The table, lines joined with newlines.
  """
  lines = [f"protocol {protocol}, IoU >= {iou_threshold:g}",
           f"{'type':<8}{'TP':>6}{'FP':>6}{'FN':>6}"
           f"{'precision':>11}{'recall':>8}{'F1':>8}"]
  for key in _KEYS:
    r = result[key]
    lines.append(f"{key:<8}{r['tp']:>6}{r['fp']:>6}{r['fn']:>6}"
                 f"{r['precision']:>11.4f}{r['recall']:>8.4f}{r['f1']:>8.4f}")
  if protocol == "str":
    lines.append(f"{'type':<8}{'pairs':>6}{'right':>6}{'F1_analysis':>14}"
                 f"{'STRS':>8}")
    for key in _KEYS:
      r = result[key]
      lines.append(f"{key:<8}{r['analysis_pairs']:>6}"
                   f"{r['analysis_correct']:>6}{r['f1_analysis']:>14.4f}"
                   f"{r['strs']:>8.4f}")
  if protocol == "megc2020":
    lines.append(f"{'type':<8}{'pairs':>6}{'P_large':>11}{'F1_large':>10}")
    for key in _KEYS:
      r = result[key]
      lines.append(f"{key:<8}{r['correct_pairs']:>6}"
                   f"{r['precision_large']:>11.4f}{r['f1_large']:>10.4f}")
  return "\n".join(lines)


def run(gt_path: str, pred_path: str, protocol: str, iou_threshold: float,
        out_path: str | None) -> dict:
  """Reads both CSVs, evaluates, prints the table and writes the JSON.

  Args:
    gt_path: ground-truth CSV.
    pred_path: prediction CSV.
    protocol: one of `intervals.PROTOCOLS` (`megc2020`, `megc2020_pairs`,
      `one_to_one`, `str`, `apex_in_interval`).
    iou_threshold: IoU threshold.
    out_path: JSON destination, or None.

  Returns:
    The JSON-ready dict {"micro", "macro", "overall"}.

  Raises:
    InputError: unknown protocol (before any file is read), bad CSV, or an
      unwritable `out_path`.
  """
  if protocol not in intervals.PROTOCOLS:
    raise InputError(f"--protocol={protocol!r}: unknown protocol; expected "
                     f"one of {', '.join(intervals.PROTOCOLS)}")
  gt = io.read_intervals_csv(gt_path)
  pred = io.read_intervals_csv(pred_path)
  result = intervals.evaluate(gt, pred, protocol=protocol,
                              iou_threshold=iou_threshold)
  print(format_table(result, protocol, iou_threshold))
  summary = {key: result[key] for key in _KEYS}
  if out_path:
    try:
      with io_utils.atomic_write(out_path) as f:
        json.dump(summary, f, indent=2, sort_keys=True)
        f.write("\n")
    except OSError as e:
      raise InputError(f"{out_path}: cannot write ({e.strerror})") from None
  return summary


def run_recognition(gt_path: str, pred_path: str,
                    out_path: str | None) -> dict:
  """Scores two recognition CSVs; prints UF1/UAR/accuracy, writes JSON.

  Raises:
    InputError: a bad CSV, unmatched clips, or an unwritable `out_path`.
  """
  res = recognition_io.evaluate_files(gt_path, pred_path)
  print(f"recognition: {res['num_samples']} clips, classes "
        f"{', '.join(res['classes'])}")
  print(f"UF1 {res['uf1']:.4f}  UAR {res['uar']:.4f}  "
        f"accuracy {res['accuracy']:.4f}")
  print("per-class F1: " + ", ".join(
      f"{c} {'-' if f is None else format(f, '.4f')}"
      for c, f in res["per_class_f1"].items()))
  if out_path:
    try:
      with io_utils.atomic_write(out_path) as f:
        json.dump(res, f, indent=2, sort_keys=True)
        f.write("\n")
    except OSError as e:
      raise InputError(f"{out_path}: cannot write ({e.strerror})") from None
  return res


_TASKS = {
    "spotting": lambda: run(_GT.value, _PRED.value, _PROTOCOL.value,
                            _IOU.value, _OUT.value),
    "recognition": lambda: run_recognition(_GT.value, _PRED.value,
                                           _OUT.value),
}


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  try:
    if _TASK.value not in _TASKS:
      raise InputError(f"--task={_TASK.value!r}; expected one of "
                       f"{', '.join(_TASKS)}")
    _TASKS[_TASK.value]()
  except InputError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  app.run(main)
