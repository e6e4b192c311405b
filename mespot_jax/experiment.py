"""One experiment, for any registered method: the runner (docs/INTERFACES.md).

`run(config, workdir)` is what `python -m mespot_jax.main` calls. It knows
no method by name; `config.method` picks a plug-in (`mespot_jax.methods`)
that supplies what differs. The steps:

    dataset -> subject-exclusive folds (LOSO, or the task's) -> train
    every fold (stacked, vmapped, sharded, checkpointed, resumed from
    `workdir`) -> per fold: the scorer's choices from the training and
    validation subjects, scores of the fitting, validation and held-out
    units, the decoder fitted on the fitting units (a frozen record),
    predictions of the held-out units (and the method's second stage on
    them, `finish_fold`: spot-then-recognise classifies what it spotted)
    -> evaluation -> report.

Several processes (`mespot_jax.distributed`) run this same function; the
checkpoints under `workdir` are written by all of them, the report (every
file but the checkpoints) by process 0 only.

The oracle (`train.oracle`) repeats the last steps with each fold's epoch
and fitted choices picked on its own test subject, as leaky code does, and
reports the result apart (`metrics["oracle"]`), never as the headline.
"""
import dataclasses
import logging
import os
import shutil

import jax
import ml_collections

from mespot_jax import distributed
from mespot_jax import methods
from mespot_jax.config import check
from mespot_jax.data import datasets
from mespot_jax.data import folds as folds_lib
from mespot_jax.errors import InputError
from mespot_jax.io_utils import atomic_write


def make_folds(config, store, method=None) -> list[folds_lib.Fold]:
  """The folds of a run: the method's (`Method.make_folds`; LOSO unless
  its task makes others)."""
  return (method or methods.get(config)).make_folds(store)


def evaluate_fold(method, store, fold, variables,
                  fit_on_test: bool = False) -> methods.FoldOutput:
  """The scorer's choices, the scores, the decoder's records and the
  predictions of one trained fold.

  Args:
    method: the `Method`.
    store: the data.
    fold: the `Fold`.
    variables: the fold's model variables.
    fit_on_test: the oracle: fit on the test units (leaky by design).

  Returns:
    The `FoldOutput`.
  """
  choices = method.fold_choices(store, fold)
  val_ids = store.video_indices(fold.val_subjects)
  test_ids = store.video_indices(fold.test_subjects)
  fit_ids = [] if fit_on_test else method.fit_ids(store, fold)
  scored = list(dict.fromkeys(fit_ids + ([] if fit_on_test else val_ids)
                              + test_ids))
  scores = method.score(variables, store, scored, choices)
  out = methods.FoldOutput(fold, choices, {}, scores, {},
                           [] if fit_on_test else val_ids, test_ids)
  if fit_on_test:
    return method.finish_fold(variables, store,
                              fit_on_test_units(method, store, out))
  fitted = method.fit(store, fold, fit_ids, scores)
  return method.finish_fold(variables, store, dataclasses.replace(
      out, fitted=fitted,
      predictions=method.predict(store, test_ids, scores, fitted)))


def fit_on_test_units(method, store, out) -> methods.FoldOutput:
  """The oracle's fit of a scored fold: its decoder fitted on its test
  units (`Method.oracle_fit`, leaky by design), and their predictions.
  Reuses the fold's test scores."""
  fitted = method.oracle_fit(store, out.fold, out.test_ids, out.scores)
  predictions = method.predict(store, out.test_ids, out.scores, fitted)
  return methods.FoldOutput(out.fold, out.choices, fitted, out.scores,
                            predictions, [], out.test_ids)


def run(config: ml_collections.ConfigDict, workdir: str,
        store=None) -> dict:
  """Trains and evaluates every fold; writes the report to `workdir`.

  Args:
    config: the experiment config.
    workdir: run directory (resumed when it holds a checkpoint).
    store: data to use instead of opening `config.dataset` (tests).

  Returns:
    The metrics dict also written to `workdir/metrics.json`.
  """
  from mespot_jax.report import provenance  # pylint: disable=g-import-not-at-top
  from mespot_jax.report import report as report_lib  # pylint: disable=g-import-not-at-top
  check.validate(config)
  method = methods.get(config)
  if config.train.deploy and jax.process_count() > 1:
    raise InputError("train.deploy=True runs in one process; train the "
                     "deploy model without --multihost")
  os.makedirs(workdir, exist_ok=True)
  # Process 0 writes the report; the others write theirs to a scratch dir.
  out_dir = distributed.report_dir(workdir)
  with atomic_write(os.path.join(out_dir, "config.json")) as f:
    f.write(config.to_json_best_effort(indent=2))
  store_opened = store is None
  if store is None:
    # Process 0 builds a missing dataset before the others open it.
    if not distributed.is_primary():
      distributed.barrier("mespot_open_store")
    store = datasets.open_store(config, method.task)
    if distributed.is_primary():
      distributed.barrier("mespot_open_store")
  if config.train.deploy:  # refused now, not after every fold trained
    from mespot_jax import deploy  # pylint: disable=g-import-not-at-top
    deploy.check_deployable(config, method, store)
  folds = make_folds(config, store, method)
  logging.info("%s with %s: %d videos, %d folds, %dx%dx%d crops",
               method.name, config.dataset.name, len(store.videos),
               len(folds), store.image_size, store.image_size, store.channels)
  writer = report_lib.make_writer(out_dir)
  result = method.train(store, folds, workdir, writer)
  outputs, rows = [], []
  for fold, variables in zip(folds, result.best_variables):
    out = evaluate_fold(method, store, fold, variables)
    method.save_scores(out_dir, store, out)
    row = {"fold": fold.index, "test_subject": fold.test_subject,
           "val_subjects": list(fold.val_subjects),
           "best_epoch": result.best_epoch[fold.index],
           "best_val_loss": result.best_val_loss[fold.index],
           **method.fold_row(store, out)}
    logging.info("fold %d (test %s): %s", fold.index, fold.test_subject,
                 ", ".join(f"{k} {v:.3f}" for k, v in row.items()
                           if k.endswith(("_f1", "_uf1"))))
    outputs.append(out)
    rows.append(row)
  metrics = {"method": method.name, "dataset": config.dataset.name,
             "dataset_config": config.dataset.config,
             "dataset_seed": config.dataset.seed,
             "backend": jax.default_backend(), "folds": rows,
             **method.evaluate(store, outputs)}
  if result.oracle_variables is not None:
    metrics["oracle"] = oracle_block(method, store, folds, result, outputs)
  metrics["history"] = result.history
  # What a rerun needs to match these numbers (versions, devices, cores).
  metrics[provenance.KEY] = provenance.collect(config, store_opened)
  method.write_metrics(out_dir, metrics, writer)
  method.write_report(out_dir, metrics, store, outputs, writer)
  if out_dir != workdir:
    writer.close()
    shutil.rmtree(out_dir, ignore_errors=True)
  if config.train.deploy:
    from mespot_jax import deploy  # pylint: disable=g-import-not-at-top
    deploy.train_deploy_model(config, workdir, store, method)
  return metrics


def oracle_block(method, store, folds, result, outputs) -> dict:
  """What leaky code would report: each fold's epoch picked by its test
  subject's metric (`history[*]["oracle_<metric>"]`) and its fitted
  choices fitted on its test subject; plus the thresholds alone (on the
  honest weights, whose test scores `outputs` already hold)."""
  thresholds_only = [fit_on_test_units(method, store, o) for o in outputs]
  both = [evaluate_fold(method, store, f, v, fit_on_test=True)
          for f, v in zip(folds, result.oracle_variables)]
  return {
      "note": ("ORACLE, not a result: choices picked on each fold's test "
               "subject, as leaky code does; the gap to the honest metrics "
               "is how much such a number is inflated"),
      "epoch": result.oracle_epoch,
      "epoch_and_fitted_on_test": method.oracle_metrics(store, both),
      "fitted_on_test": method.oracle_metrics(store, thresholds_only),
  }
