"""The leave-one-subject-out training loop: all folds in compiled chunks.

Folds are a leading axis of a stacked train state. `folds_per_step` folds
share one `jit(vmap(train_step))` call (a chunk); chunks run one after the
other on the same compiled step. On several devices the fold axis of a
chunk is sharded with `NamedSharding(mesh, P("fold"))`.

Per fold, early stopping watches the loss on a fixed validation set drawn
from that fold's training subjects (never the test subject): a fold whose
validation loss has not improved for `patience` epochs stops changing (its
updates are masked out) while the others go on, and its best variables are
kept. With `train.early_stopping_metric="none"` every fold trains all
epochs and keeps its last variables (the validation loss and AUC are still
recorded). Every epoch ends with an orbax checkpoint (state, best variables,
early-stopping state, data iterator state); a run always resumes from the
latest checkpoint in its workdir.
"""
import dataclasses
import logging
import math
import os

import grain
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from tqdm import tqdm

from mespot_jax.metrics import frame as frame_metrics
from mespot_jax.train import checkpoint as ckpt_lib
from mespot_jax.train import state as state_lib
from mespot_jax.train import steps as steps_lib


class NonFiniteLossError(RuntimeError):
  """A fold's loss became NaN or infinite."""


class SimulatedCrash(RuntimeError):
  """Raised by `crash_after_steps` (tests of resumption)."""


@dataclasses.dataclass
class TrainResult:
  """What training hands to scoring.

  Attributes:
    best_variables: list per fold of {"params", "batch_stats"} (host arrays).
    history: per epoch {"epoch", "train_loss": [K], "val_loss": [K],
      "val_auc": [K], "active": [K]}; `val_auc` is `weighted_auc`.
    best_epoch: per fold, the epoch of the kept weights.
    best_val_loss: per fold, the validation loss of the kept weights.
  """
  best_variables: list
  history: list
  best_epoch: list
  best_val_loss: list


def folds_per_step(requested: int, num_folds: int) -> int:
  """Folds per compiled step: `requested`, or 1 on CPU / all elsewhere.

  On CPU vmapping folds is no faster than looping (PERFORMANCE_NOTES.md);
  on accelerators it fills the chip. With several devices the chunk is
  rounded up to a multiple of the device count so it shards evenly.
  """
  n = requested or (1 if jax.default_backend() == "cpu" else num_folds)
  n = max(1, min(n, num_folds))
  devices = jax.device_count()
  if devices > 1 and n > 1:
    n = int(math.ceil(n / devices) * devices)
  return n


def _fold_sharding(chunk: int):
  devices = jax.device_count()
  if devices > 1 and chunk % devices == 0:
    mesh = Mesh(np.array(jax.devices()), ("fold",))
    return NamedSharding(mesh, P("fold"))
  return None


def _put(tree, sharding):
  return jax.device_put(tree, sharding) if sharding is not None else tree


def _pad_folds(a: np.ndarray, k_pad: int) -> np.ndarray:
  """A (K, ...) array padded to k_pad rows by repeating the last one."""
  if a.shape[0] < k_pad:
    a = np.concatenate([a, np.repeat(a[-1:], k_pad - a.shape[0], 0)])
  return a


def _chunk_batch(batch, c, chunk, k_pad):
  """Rows [c*chunk, (c+1)*chunk) of a (K, ...) batch, padded to k_pad."""
  return {k: _pad_folds(v, k_pad)[c * chunk:(c + 1) * chunk]
          for k, v in batch.items()}


def weighted_auc(scores_KB2: np.ndarray, labels_KB2: np.ndarray,
                 class_weights) -> np.ndarray:
  """Per fold: the mean of the micro and macro ROC AUCs of the validation
  samples, weighted as the loss weights the types (M_i of equation 2); a
  type with one class only among the samples counts as chance (0.5)."""
  w = np.asarray(class_weights, np.float64)
  w = w / w.sum()
  out = []
  for f in range(len(scores_KB2)):
    aucs = [frame_metrics.roc_auc(labels_KB2[f, :, j], scores_KB2[f, :, j])
            for j in range(2)]
    out.append(sum(wj * (0.5 if np.isnan(a) else a)
                   for wj, a in zip(w, aucs)))
  return np.array(out)


def train_folds(config, model, loss_fn, sampler, folds, workdir: str,
                writer=None, crash_after_steps: int | None = None
                ) -> TrainResult:
  """Trains every fold with early stopping; resumes from `workdir`.

  Args:
    config: the experiment ConfigDict (uses `seed`, `train.*`).
    model: Flax module.
    loss_fn: `(logits, labels) -> scalar`.
    sampler: a `PairSampler` over exactly `folds`.
    folds: the folds, `Fold` records.
    workdir: run directory; checkpoints go to `workdir/checkpoints`.
    writer: optional tensorboardX SummaryWriter.
    crash_after_steps: testing aid; raise `SimulatedCrash` after this many
      steps of this call (after the checkpoints written so far).

  Returns:
    A `TrainResult`.
  """
  tc = config.train
  k = len(folds)
  chunk = folds_per_step(tc.folds_per_step, k)
  n_chunks = int(math.ceil(k / chunk))
  k_pad = n_chunks * chunk
  fold_ids = [f.index for f in folds]
  fold_ids += [fold_ids[-1]] * (k_pad - k)
  sharding = _fold_sharding(chunk)
  impl = state_lib.rng_impl(tc.dropout_rng_impl)
  logging.info("%d folds in %d chunk(s) of %d per compiled step on %d %s "
               "device(s)%s", k, n_chunks, chunk, jax.device_count(),
               jax.default_backend(), ", fold axis sharded" if sharding else "")

  tx = state_lib.make_optimizer(tc.optimizer, tc.learning_rate,
                                tc.lr_schedule,
                                tc.num_epochs * tc.steps_per_epoch)
  size, channels = sampler.store.image_size, sampler.store.channels
  sample_x = jnp.zeros((1, 2, 2, size, size, channels), jnp.float32)
  states, bests = [], []
  for c in range(n_chunks):
    s = state_lib.init_stacked(model, tx, sample_x,
                               fold_ids[c * chunk:(c + 1) * chunk],
                               config.seed, impl)
    states.append(_put(s, sharding))
    # A copy: the state's buffers are donated to the train step.
    bests.append(_put(jax.tree.map(jnp.copy, state_lib.variables_of(s)),
                      sharding))

  active = np.array([True] * k + [False] * (k_pad - k))
  best_val_loss = np.full(k_pad, np.inf)
  best_auc = np.full(k_pad, -np.inf)
  class_weights = tuple(config.loss.class_weights)
  if tc.early_stopping_metric not in ("loss", "auc", "none"):
    raise ValueError("train.early_stopping_metric must be 'loss', 'auc' or "
                     f"'none', got {tc.early_stopping_metric!r}")
  bad_epochs = np.zeros(k_pad, np.int64)
  best_epoch = np.full(k_pad, -1)
  history, start_epoch = [], 0

  spe = tc.steps_per_epoch
  total_steps = tc.num_epochs * spe
  dataset = sampler.train_dataset(tc.batch_size, total_steps)
  data_iter = iter(dataset.to_iter_dataset(grain.ReadOptions(
      num_threads=max(1, config.dataset.loader_threads),
      prefetch_buffer_size=4)))

  ckpt = ckpt_lib.Checkpointer(os.path.join(workdir, "checkpoints"),
                               tc.max_checkpoints)
  latest = ckpt.latest_step()
  if latest is not None:
    tree, meta = ckpt.restore(latest, {"states": states, "bests": bests})
    if meta["fold_ids"] != fold_ids:
      raise ValueError(
          f"the checkpoint in {workdir} was made for folds {meta['fold_ids']}, "
          f"this run has {fold_ids}: use a new --workdir")
    states, bests = tree["states"], tree["bests"]
    active = np.array(meta["active"])
    best_val_loss = np.array(meta["best_val_loss"], np.float64)
    best_auc = np.array(meta["best_auc"], np.float64)
    bad_epochs = np.array(meta["bad_epochs"])
    best_epoch = np.array(meta["best_epoch"])
    history = meta["history"]
    start_epoch = meta["epoch"] + 1
    data_iter.set_state(meta["data_state"])
    logging.info("resumed from %s at epoch %d", ckpt.directory, start_epoch)

  train_step = steps_lib.make_train_step(loss_fn, impl)
  eval_fn = steps_lib.make_eval_fn(model, loss_fn)
  val_batch = sampler.val_batch(tc.val_samples)
  names = [f.test_subject or "deploy" for f in folds]

  steps_run = 0
  bar = tqdm(total=total_steps, initial=start_epoch * spe, unit="step",
             desc=f"training {k} fold(s)", dynamic_ncols=True, disable=None)
  try:
    for epoch in range(start_epoch, tc.num_epochs):
      if not active.any():
        break
      losses = np.zeros(k_pad)
      for s in range(spe):
        batch = next(data_iter)
        step_losses = []
        for c in range(n_chunks):
          sl = slice(c * chunk, (c + 1) * chunk)
          if not active[sl].any():  # stopped folds: nothing would change
            step_losses.append(np.zeros(chunk))
            continue
          b = _put(_chunk_batch(batch, c, chunk, k_pad), sharding)
          states[c], metrics = train_step(states[c], b, jnp.asarray(active[sl]))
          step_losses.append(metrics["loss"])
        step_loss = np.concatenate([np.asarray(l) for l in step_losses])
        bad = ~np.isfinite(step_loss) & active
        if bad.any():
          f = int(np.flatnonzero(bad)[0])
          raise NonFiniteLossError(
              f"non-finite training loss {step_loss[f]} in fold {f} (test "
              f"subject {names[f]}) at epoch {epoch}, step {epoch * spe + s}; "
              "lower train.learning_rate or check the input frames")
        losses += np.where(active, step_loss, 0.0)
        bar.update(1)
        steps_run += 1
        if crash_after_steps is not None and steps_run >= crash_after_steps:
          raise SimulatedCrash(f"simulated crash after {steps_run} steps")
      # A fold that stopped before this epoch has no training loss in it.
      was_active = active.copy()
      train_loss = np.where(was_active, losses / spe, np.nan)

      val_out = [eval_fn(state_lib.variables_of(states[c]),
                         _put(_chunk_batch(val_batch, c, chunk, k_pad),
                              sharding)) for c in range(n_chunks)]
      val_loss = np.concatenate([np.asarray(l) for l, _ in val_out]
                                ).astype(np.float64)
      val_auc = weighted_auc(
          np.concatenate([np.asarray(p) for _, p in val_out]),
          _pad_folds(np.asarray(val_batch["y"]), k_pad), class_weights)
      if tc.early_stopping_metric == "loss":
        improved = active & (val_loss < best_val_loss)
      elif tc.early_stopping_metric == "auc":
        improved = active & (val_auc > best_auc)
      else:  # "none": every epoch replaces the kept weights; no stop
        improved = active.copy()
      for c in range(n_chunks):
        sl = slice(c * chunk, (c + 1) * chunk)
        bests[c] = steps_lib.select(jnp.asarray(improved[sl]),
                                    state_lib.variables_of(states[c]), bests[c])
      best_val_loss = np.where(improved, val_loss, best_val_loss)
      best_auc = np.where(improved, val_auc, best_auc)
      best_epoch = np.where(improved, epoch, best_epoch)
      bad_epochs = np.where(improved, 0, bad_epochs + active)
      stopping = active & (bad_epochs >= tc.patience)
      for f in np.flatnonzero(stopping[:k]):
        logging.info("fold %d (test %s): early stop at epoch %d, best epoch %d "
                     "(val loss %.4f, weighted AUC %.3f)", f, names[f], epoch,
                     best_epoch[f], best_val_loss[f], best_auc[f])
      record = {"epoch": epoch,
                "train_loss": [None if np.isnan(x) else float(x)
                               for x in train_loss[:k]],
                "val_loss": val_loss[:k].tolist(),
                "val_auc": val_auc[:k].tolist(),
                "active": active[:k].tolist()}
      history.append(record)
      active = active & ~stopping
      mean_train = float(np.nanmean(train_loss[:k]))
      mean_val = float(val_loss[:k][was_active[:k]].mean())
      bar.set_postfix(train=f"{mean_train:.4f}", val=f"{mean_val:.4f}",
                      active=f"{int(active[:k].sum())}/{k}")
      logging.info("epoch %d: train loss %.4f, val loss %.4f (mean over the "
                   "%d fold(s) trained this epoch), %d/%d folds go on", epoch,
                   mean_train, mean_val, was_active[:k].sum(),
                   active[:k].sum(), k)
      if writer is not None:
        for f in np.flatnonzero(was_active[:k]):
          writer.add_scalar(f"train_loss/{names[f]}", train_loss[f], epoch)
          writer.add_scalar(f"val_loss/{names[f]}", val_loss[f], epoch)
        writer.add_scalar("train_loss/mean", mean_train, epoch)
        writer.add_scalar("val_loss/mean", mean_val, epoch)
        writer.flush()
      last = epoch == tc.num_epochs - 1 or not active.any()
      if last or (epoch + 1) % tc.checkpoint_every_epochs == 0:
        ckpt.save(epoch, {"states": states, "bests": bests}, {
            "epoch": epoch, "fold_ids": fold_ids, "active": active.tolist(),
            "best_val_loss": best_val_loss.tolist(),
            "best_auc": best_auc.tolist(), "bad_epochs": bad_epochs.tolist(),
            "best_epoch": best_epoch.tolist(), "history": history,
            "data_state": data_iter.get_state()})
  finally:
    # Also on an exception (Ctrl-C included): finish the checkpoint being
    # written so the next run resumes from it.
    bar.close()
    ckpt.close()

  host_bests = [jax.device_get(b) for b in bests]
  per_fold = []
  for f in range(k):
    c, r = divmod(f, chunk)
    per_fold.append(jax.tree.map(lambda a: np.asarray(a[r]), host_bests[c]))
  return TrainResult(per_fold, history, best_epoch[:k].tolist(),
                     best_val_loss[:k].tolist())
