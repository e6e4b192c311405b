r"""Leakage audit: no per-fold choice may move when the test subject's labels do.

Usage:
  python -m mespot_jax.audit --config=configs/tiny.py [--workdir=DIR]
      [--folds=0,2] [--perturbations=shift,drop,permute] [--retrain=True]

For every fold (or those of --folds), the audit makes every choice that the
fold makes in a run: it trains the fold as a run does (`Method.train`;
early stopping, kept epoch, weights, per separately trained part as
`Method.trained` says: spot-then-recognise's spotter and recogniser),
makes the scorer's test-time choices (e.g. the 3D-CNN's k-th-frame
skips) and fits the decoder (interval widths, thresholds, ...) into its
record, exactly as `experiment.run` does. Then it does it all again with the fold's
TEST subject's labels altered, once per perturbation:

  shift    every interval of the test subject moved by a third of its video
  drop     every interval of the test subject removed
  permute  the test subject's intervals moved to other places: swapped
           between its videos, and mirrored in time within each video

A recognition method's clips (`PERTURBERS["recognition"]`): shift moves
every held-out clip to the next class, drop unlabels them (-1: no longer
units of the fold), permute rotates the labels among them. A k-fold fold
perturbs every subject of its held-out group. Spot-then-recognise's
(`PERTURBERS["str"]`): the intervals as for spotting, and their emotions
too (shift: the next emotion of the store's; permute: rotated among the
test subject's intervals).

What the scorer declares (`Method.CHOICES`), every field of each decoder
record (`decoders.Record`; the recogniser's too) plus the kept epoch, a digest of the kept
weights and one of the validation metrics that early stopping read must be
identical. It prints a table of the
choices checked per fold, writes `DIR/audit.json`, and exits 1 naming the
fold and the choice that moved (0 when none did). With --retrain=False the
weights of one training on the true labels serve every perturbation: the
epoch and weights are then not checked (quick, for big configs). The
oracle (`train.oracle`) is leaky by design and never a choice.
"""
import dataclasses
import hashlib
import json
import os
import shutil
import sys

import numpy as np

from mespot_jax import experiment
from mespot_jax import methods
from mespot_jax.data import datasets
from mespot_jax.data.frames import relabelled
from mespot_jax.data.schema import Interval
from mespot_jax.errors import InputError
from mespot_jax.io_utils import atomic_write

PERTURBATIONS = ("shift", "drop", "permute")


def _mirror(iv: Interval, num_frames: int) -> Interval:
  apex = num_frames + 1 - iv.apex if iv.apex > 0 else iv.apex
  return dataclasses.replace(iv, onset=num_frames + 1 - iv.offset,
                             offset=num_frames + 1 - iv.onset, apex=apex)


def _shift(iv: Interval, num_frames: int) -> Interval:
  d = max(1, num_frames // 3)
  n = iv.offset - iv.onset
  onset = (iv.onset - 1 + d) % max(1, num_frames - n) + 1
  apex = iv.apex - iv.onset + onset if iv.apex > 0 else iv.apex
  return dataclasses.replace(iv, onset=onset, offset=onset + n, apex=apex)


def perturb(store, subject: str, how: str):
  """`store` with the labels of `subject`'s videos altered (module doc)."""
  if how not in PERTURBATIONS:
    raise InputError(f"perturbation {how!r}; expected one of {PERTURBATIONS}")
  ids = [i for i, v in enumerate(store.videos) if v.subject == subject]
  new = list(store.videos)
  for j, i in enumerate(ids):
    v = store.videos[i]
    if how == "drop":
      ivs = ()
    elif how == "shift":
      ivs = tuple(_shift(iv, v.num_frames) for iv in v.intervals)
    else:  # another video's intervals (the next one), mirrored in time
      donor = store.videos[ids[(j + 1) % len(ids)]]
      ivs = tuple(_mirror(dataclasses.replace(
          iv, onset=min(iv.onset, v.num_frames),
          offset=min(iv.offset, v.num_frames)), v.num_frames)
                  for iv in donor.intervals)
    new[i] = dataclasses.replace(v, intervals=ivs)
  return relabelled(store, new)


def perturb_subjects(store, subjects, how: str):
  """`perturb` applied to each of `subjects` (a spotting store)."""
  for s in subjects:
    store = perturb(store, s, how)
  return store


def perturb_clips(store, subjects, how: str):
  """A `ClipStore` with the labels of `subjects`' clips altered (module
  doc)."""
  if how not in PERTURBATIONS:
    raise InputError(f"perturbation {how!r}; expected one of {PERTURBATIONS}")
  ids = store.video_indices(subjects)
  labels = store.labels.copy()
  old = labels[ids]
  if how == "shift":
    labels[ids] = (old + 1) % store.num_classes
  elif how == "drop":
    labels[ids] = -1
  else:
    labels[ids] = np.roll(old, 1)
  return store.with_labels(labels)


def perturb_emotions(store, subjects, how: str):
  """`perturb_subjects`, and the emotions of `subjects`' intervals altered
  too (spot-then-recognise's labels): shift gives each the next emotion
  of the store's, permute rotates them among the subjects' intervals."""
  store = perturb_subjects(store, subjects, how)
  ids = [i for i, v in enumerate(store.videos) if v.subject in set(subjects)]
  old = [iv.emotion for i in ids for iv in store.videos[i].intervals]
  if how == "drop" or not old:
    return store
  names = sorted({iv.emotion for v in store.videos for iv in v.intervals})
  new = ([names[(names.index(e) + 1) % len(names)] for e in old]
         if how == "shift" else old[-1:] + old[:-1])
  videos, it = list(store.videos), iter(new)
  for i in ids:
    videos[i] = dataclasses.replace(videos[i], intervals=tuple(
        dataclasses.replace(iv, emotion=next(it))
        for iv in videos[i].intervals))
  return relabelled(store, videos)


# How each task's store has its held-out labels altered.
PERTURBERS = {"spotting": perturb_subjects, "recognition": perturb_clips,
              "str": perturb_emotions}


def digest(tree) -> str:
  """A digest of the bytes of every leaf of a variables tree."""
  import jax  # pylint: disable=g-import-not-at-top
  h = hashlib.sha256()
  for leaf in jax.tree.leaves(tree):
    h.update(np.ascontiguousarray(np.asarray(leaf)).tobytes())
  return h.hexdigest()[:16]


def _train(method, store, fold, workdir):
  """The fold trained as a run trains it (`Method.train`): its variables
  and what each separately trained part chose (`Method.trained`)."""
  # Never resume: a checkpoint left by an earlier audit would skip the
  # training whose outcome is under test.
  shutil.rmtree(workdir, ignore_errors=True)
  result = method.train(store, [fold], workdir)
  return result.best_variables[0], method.trained(result, 0)


def fold_choices(method, store, fold, workdir, trained=None) -> dict:
  """Every choice the fold makes, as JSON-comparable values.

  Args:
    method: the `Method` (it holds the experiment config).
    store: the data (labels possibly altered).
    fold: the `Fold`.
    workdir: an empty folder for this training.
    trained: `_train`'s (variables, parts) to reuse instead of training.

  Returns:
    {choice name: value}: "epoch", "weights", "validation" (a digest of
    the validation metrics early stopping read; when trained here; per
    separately trained part, "epoch[spotter]", ...), each of the scorer's
    `method.CHOICES`, and every field of each decoder record per kind
    ("thresholds[model]"; spot-then-recognise's recogniser:
    "bias[recogniser]").
  """
  out = {}
  if trained is None:
    variables, parts = _train(method, store, fold, workdir)
    for part, t in parts.items():
      tag = f"[{part}]" if part else ""
      out[f"epoch{tag}"] = t.epoch
      out[f"weights{tag}"] = digest(t.variables)
      out[f"validation{tag}"] = hashlib.sha256(json.dumps(
          t.validation, default=float).encode()).hexdigest()[:16]
  else:
    variables = trained[0]
  res = experiment.evaluate_fold(method, store, fold, variables)
  for name in method.CHOICES:
    if name in res.choices:
      out[name] = res.choices[name]
  for kind, record in res.fitted.items():
    for name, value in record.to_dict().items():
      out[f"{name}[{kind}]"] = value
  return json.loads(json.dumps(out, default=float))


def audit(config, workdir: str, fold_indices=(), perturbations=PERTURBATIONS,
          retrain: bool = True, store=None) -> dict:
  """Runs the audit (module docstring); returns the audit.json record."""
  method = methods.get(config)
  store = (store if store is not None
           else datasets.open_store(config, method.task))
  folds = experiment.make_folds(config, store, method)
  if fold_indices:
    bad = [k for k in fold_indices if not 0 <= k < len(folds)]
    if bad:
      raise InputError(f"--folds {bad}: this config has folds 0.."
                       f"{len(folds) - 1}")
    folds = [folds[k] for k in fold_indices]
  rows, moved = [], []
  for fold in folds:
    base = os.path.join(workdir, f"fold_{fold.index}")
    # --retrain=False: the one training on the true labels serves the
    # reference too.
    trained = None if retrain else _train(
        method, store, fold, os.path.join(base, "true_labels"))
    ref = fold_choices(method, store, fold,
                       os.path.join(base, "true_labels"), trained)
    for how in perturbations:
      altered = PERTURBERS[method.task](store, fold.test_subjects, how)
      got = fold_choices(method, altered, fold,
                         os.path.join(base, how), trained)
      for name in sorted(got):
        same = got[name] == ref[name]
        rows.append({"fold": fold.index, "test_subject": fold.test_subject,
                     "perturbation": how, "choice": name, "identical": same,
                     "value": ref[name], "perturbed_value": got[name]})
        if not same:
          moved.append(rows[-1])
  return {"method": method.name, "passed": not moved, "checked": rows,
          "moved": moved, "retrain": retrain}


def format_table(record: dict) -> str:
  """One line per fold and perturbation: the choices checked, and what
  moved."""
  lines = [f"leakage audit of {record['method']}: "
           f"{'PASSED' if record['passed'] else 'FAILED'}",
           f"{'fold':<5}{'test':<8}{'labels':<9}{'choices checked':<67}"
           "moved"]
  groups = {}
  for r in record["checked"]:
    groups.setdefault((r["fold"], r["test_subject"], r["perturbation"]),
                      []).append(r)
  for (fold, subject, how), rs in groups.items():
    names = ", ".join(r["choice"] for r in rs)
    bad = ", ".join(r["choice"] for r in rs if not r["identical"]) or "-"
    lines.append(f"{fold:<5}{subject:<8}{how:<9}{names:<66} {bad}")
  return "\n".join(lines)


def main(argv):
  from absl import flags  # pylint: disable=g-import-not-at-top
  from ml_collections import config_flags  # pylint: disable=g-import-not-at-top
  if len(argv) > 1:
    print(f"error: unexpected arguments {argv[1:]}", file=sys.stderr)
    sys.exit(2)
  f = flags.FLAGS
  config = f.config
  if config is None:
    print("error: --config=configs/<experiment>.py is required",
          file=sys.stderr)
    sys.exit(2)
  name = os.path.splitext(os.path.basename(
      config_flags.get_config_filename(f["config"])))[0]
  workdir = f.workdir or os.path.join("runs", f"audit_{name}")
  try:
    from mespot_jax.config import check  # pylint: disable=g-import-not-at-top
    check.validate(config)  # before any training
    folds = tuple(int(k) for k in f.folds)
    record = audit(config, workdir, folds, tuple(f.perturbations),
                   f.retrain)
  except (InputError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  os.makedirs(workdir, exist_ok=True)
  with atomic_write(os.path.join(workdir, "audit.json")) as fh:
    json.dump(record, fh, indent=2)
  print(format_table(record))
  for r in record["moved"]:
    print(f"LEAK: fold {r['fold']} (test subject {r['test_subject']}): "
          f"{r['choice']} moved when its labels were {r['perturbation']}ed "
          f"({r['value']} -> {r['perturbed_value']})", file=sys.stderr)
  sys.exit(0 if record["passed"] else 1)


def _define_flags():
  from absl import flags  # pylint: disable=g-import-not-at-top
  from ml_collections import config_flags  # pylint: disable=g-import-not-at-top
  config_flags.DEFINE_config_file("config", None, "Experiment config file.",
                                  lock_config=True)
  flags.DEFINE_string("workdir", None, "Folder for the audit's trainings and "
                      "audit.json (default runs/audit_<config name>).")
  flags.DEFINE_list("folds", [], "Fold indices to audit (default: all).")
  flags.DEFINE_list("perturbations", list(PERTURBATIONS),
                    "How the test subject's labels are altered.")
  flags.DEFINE_bool("retrain", True, "Retrain each fold per perturbation "
                    "(checks the kept epoch and weights too).")


if __name__ == "__main__":
  from absl import app  # pylint: disable=g-import-not-at-top
  _define_flags()
  app.run(main)
