"""Recognition CSVs: one row per clip, `clip,label[,subject,dataset]`.

A predictions file may also be the runner's `predictions.csv`
(`clip,label,pred,subject,dataset`): when a `pred` column is there it is
the predicted class and `label` is ignored. Labels are class names (or
integers as text). Rows of the two files are matched on the key columns
both have, of `dataset`, `subject`, `clip`.
"""
import csv

from mespot_jax.errors import InputError
from mespot_jax.metrics import recognition as rec_metrics

KEY_COLUMNS = ("dataset", "subject", "clip")


def read_labels_csv(path: str) -> tuple[list[dict], tuple[str, ...]]:
  """Reads a recognition CSV.

  Args:
    path: the CSV.

  Returns:
    (rows, columns): rows are dicts with `clip`, `label` (the `pred` column
    where there is one) and `subject`, `dataset` where present; columns are
    the key columns the file has.

  Raises:
    InputError: missing file or columns, an empty cell, a row twice.
  """
  try:
    f = open(path, newline="", encoding="utf-8")
  except OSError as e:
    raise InputError(f"{path}: cannot read ({e.strerror})") from None
  with f:
    reader = csv.DictReader(f)
    cols = [c.strip().lower() for c in (reader.fieldnames or [])]
    if "clip" not in cols or not ({"label", "pred"} & set(cols)):
      raise InputError(f"{path}: header {cols}; expected columns clip,label "
                       "(optionally subject, dataset, pred)")
    value = "pred" if "pred" in cols else "label"
    keys = tuple(k for k in KEY_COLUMNS if k in cols)
    rows, seen = [], set()
    for line, raw in enumerate(reader, start=2):
      r = {k.strip().lower(): (v or "").strip() for k, v in raw.items()
           if k is not None}
      if not r["clip"] or not r[value]:
        raise InputError(f"{path}, line {line}: empty clip or {value}; "
                         "expected both")
      key = tuple(r[k] for k in keys)
      if key in seen:
        raise InputError(f"{path}, line {line}: clip {key} is listed twice")
      seen.add(key)
      rows.append({**{k: r[k] for k in keys}, "label": r[value]})
  return rows, keys


def evaluate_files(gt_path: str, pred_path: str) -> dict:
  """UF1, UAR, accuracy, per-class F1 and the confusion of two CSVs.

  Every ground-truth clip needs a prediction and every prediction a
  ground-truth clip (matched on the key columns both files have).

  Returns:
    `metrics.recognition.uf1_uar` fields plus `accuracy`, `classes` (the
    truth's class names sorted, then any predicted only) and per-class
    dicts keyed by class name.
  """
  gt, gt_keys = read_labels_csv(gt_path)
  pred, pred_keys = read_labels_csv(pred_path)
  keys = tuple(k for k in KEY_COLUMNS if k in gt_keys and k in pred_keys)
  key = lambda r: tuple(r[k] for k in keys)
  by_key = {}
  for r in pred:
    if key(r) in by_key:
      raise InputError(f"{pred_path}: clip {key(r)} is listed twice when "
                       f"matched on {keys}")
    by_key[key(r)] = r["label"]
  missing = [key(r) for r in gt if key(r) not in by_key]
  if missing:
    raise InputError(f"{pred_path}: no prediction for {len(missing)} "
                     f"clip(s) of {gt_path}, e.g. {missing[0]}")
  extra = set(by_key) - {key(r) for r in gt}
  if extra:
    raise InputError(f"{pred_path}: {len(extra)} prediction(s) of clips not "
                     f"in {gt_path}, e.g. {sorted(extra)[0]}")
  classes = sorted({r["label"] for r in gt})
  classes += sorted(set(by_key.values()) - set(classes))
  y = [classes.index(r["label"]) for r in gt]
  p = [classes.index(by_key[key(r)]) for r in gt]
  res = rec_metrics.uf1_uar(y, p, len(classes))
  res["accuracy"] = (sum(a == b for a, b in zip(y, p)) / len(y)) if y else 0.0
  res["classes"] = classes
  res["per_class_f1"] = dict(zip(classes, res["per_class_f1"]))
  res["per_class_recall"] = dict(zip(classes, res["per_class_recall"]))
  return res
