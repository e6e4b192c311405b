"""The leave-one-subject-out training loop: all folds in compiled chunks.

It knows no method: the method (`mespot_jax.methods`) hands it its step
functions (model, inputs, loss, activation), an example input, a sampler of
training and validation batches and its validation metrics.

Folds are a leading axis of a stacked train state. `folds_per_step` folds
share one `jit(vmap(train_step))` call (a chunk); chunks run one after the
other on the same compiled step. On several devices the fold axis of a
chunk is sharded with `NamedSharding(mesh, P("fold"))` over a global mesh of
every process's devices (several hosts: `mespot_jax.distributed`); each
process feeds its own shards from its own copy of the sampler (the same
batches in every process) and reads back the other processes' shards of the
losses with an all-gather.

While the step runs (JAX dispatches it asynchronously), the next batch of
the epoch is drawn from the sampler and put on the devices; the time spent
blocked on the sampler is in `TrainResult.timing`.

Per fold, early stopping (`train.early_stopping`) watches one of the
method's validation metrics (`train.early_stopping_metric`) on a fixed
validation set drawn from that fold's training subjects (never the test
subject): a fold that has not improved for `patience` epochs stops
changing (its updates are masked out) while the others go on, and its best
variables are kept. With `early_stopping_metric="none"` every fold trains
all epochs and keeps its last variables (the metrics are still recorded).

The oracle (`train.oracle`): the same metric measured each epoch on a fixed
batch of the fold's TEST subject, and the weights of the epoch where it
peaked. That is how leaky code picks its epoch; the report shows what it
would give, labelled as an oracle. It never feeds back into training or
into the honest choices.

Every epoch ends with an orbax checkpoint (state, kept variables, oracle
variables, early-stopping state, data iterator state); a run always
resumes from the latest checkpoint in its workdir.
"""
import dataclasses
import logging
import math
import os
import time

import grain
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from tqdm import tqdm

from mespot_jax import distributed
from mespot_jax.train import checkpoint as ckpt_lib
from mespot_jax.train import early_stopping
from mespot_jax.train import plateau
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
    history: per epoch {"epoch", "train_loss": [K], "val_<metric>": [K] for
      each validation metric (`val_loss` first), "active": [K]}, plus
      "oracle_<metric>": [K] when the oracle is on.
    best_epoch: per fold, the epoch of the kept weights.
    best_val_loss: per fold, the validation loss of the kept weights.
    oracle_variables: per fold, the weights of the epoch whose oracle
      metric (test subject) was best; None without the oracle.
    oracle_epoch: per fold, that epoch; None without the oracle.
    timing: seconds of this call's training steps: "steps" (how many),
      "total_s" (wall time of the step loop, validation excluded) and
      "data_wait_s" (blocked drawing batches from the sampler and putting
      them on the devices); None when nothing trained.
  """
  best_variables: list
  history: list
  best_epoch: list
  best_val_loss: list
  oracle_variables: list | None = None
  oracle_epoch: list | None = None
  timing: dict | None = None
  parts: dict | None = None


@dataclasses.dataclass(frozen=True)
class FoldTraining:
  """What training chose for one fold (the leakage audit compares it).

  Attributes:
    epoch: the epoch of the kept weights.
    variables: the kept weights.
    validation: per epoch, the validation metrics early stopping read
      ({"val_<metric>": value}; the oracle's test-subject metric is leaky
      by design and left out).
  """
  epoch: int
  variables: dict
  validation: list


def fold_training(result: TrainResult, k: int) -> FoldTraining:
  """The k-th fold's `FoldTraining` of `result`."""
  return FoldTraining(int(result.best_epoch[k]), result.best_variables[k],
                      [{n: v[k] for n, v in h.items() if n.startswith("val_")}
                       for h in result.history])


def sampler_of(method, store, folds):
  """The method's sampler of the folds, or None for a method with nothing
  to train (a training-free scorer has no training part)."""
  return method.make_sampler(store, folds) if method.trains else None


def untrained_result(config, folds) -> TrainResult:
  """What `train_folds` returns for a method with nothing to train
  (`Method.trains` False): empty variables per fold, epoch 0, no history;
  the oracle (when on) gets the same variables, so only its fitted
  choices are picked on the test subject."""
  k = len(folds)
  variables = [{"params": {}, "batch_stats": {}} for _ in range(k)]
  with_oracle = bool(config.train.oracle) and all(f.test_subject
                                                  for f in folds)
  return TrainResult(variables, [], [0] * k, [float("nan")] * k,
                     list(variables) if with_oracle else None,
                     [0] * k if with_oracle else None)


def folds_per_step(requested: int, num_folds: int) -> int:
  """Folds per compiled step: `requested`, or 1 on CPU / all elsewhere.

  On CPU vmapping folds is no faster than looping (docs/PERFORMANCE.md);
  on accelerators it fills the chip. With several processes the CPU default
  is one fold per device (the folds are spread over the hosts). With
  several devices the chunk is rounded up to a multiple of the device
  count so it shards evenly.
  """
  cpu_default = jax.device_count() if jax.process_count() > 1 else 1
  n = requested or (cpu_default if jax.default_backend() == "cpu"
                    else num_folds)
  n = max(1, min(n, num_folds))
  devices = jax.device_count()
  if devices > 1 and n > 1:
    n = int(math.ceil(n / devices) * devices)
  return n


def _fold_sharding(chunk: int):
  """The fold axis over every process's devices, when the chunk divides
  evenly; with several processes otherwise replicated (each process then
  runs every fold of the chunk); None in one process."""
  devices = jax.device_count()
  if devices > 1 and chunk % devices == 0:
    mesh = Mesh(np.array(jax.devices()), ("fold",))
    return NamedSharding(mesh, P("fold"))
  if jax.process_count() > 1:
    return NamedSharding(Mesh(np.array(jax.devices()), ("fold",)), P())
  return None


def _put(tree, sharding):
  """A tree on the devices: sharded, or committed to the first local
  device. Committed from the start, a step's inputs are placed alike on
  every call (its outputs are committed), so it compiles once, not again
  on the second call."""
  return jax.device_put(
      tree, sharding if sharding is not None else jax.local_devices()[0])


def _put_batch(batch, sharding):
  """A batch on the devices: sharded, or on the default device (so the
  copy to the device overlaps the step that is running)."""
  return jax.device_put(batch, sharding)


def _pad_folds(a: np.ndarray, k_pad: int) -> np.ndarray:
  """A (K, ...) array padded to k_pad rows by repeating the last one."""
  if a.shape[0] < k_pad:
    a = np.concatenate([a, np.repeat(a[-1:], k_pad - a.shape[0], 0)])
  return a


def _chunk_batch(batch, c, chunk, k_pad):
  """Rows [c*chunk, (c+1)*chunk) of a (K, ...) batch, padded to k_pad."""
  return {k: _pad_folds(v, k_pad)[c * chunk:(c + 1) * chunk]
          for k, v in batch.items()}


def _host_rows(tree_list, chunk, k):
  """Per fold host copies of the rows of chunk-stacked trees."""
  host = [distributed.to_host(b) for b in tree_list]
  out = []
  for f in range(k):
    c, r = divmod(f, chunk)
    out.append(jax.tree.map(lambda a, r=r: np.asarray(a[r]), host[c]))
  return out


def train_folds(config, method, sampler, folds, workdir: str, writer=None,
                crash_after_steps: int | None = None) -> TrainResult:
  """Trains every fold with early stopping; resumes from `workdir`.

  Args:
    config: the experiment ConfigDict (uses `seed`, `train.*`).
    method: a `methods.base.Method` (step functions, example input,
      validation metrics).
    sampler: the method's sampler over exactly `folds` (`train_dataset`,
      `val_batch`, `oracle_batch`).
    folds: the folds, `Fold` records.
    workdir: run directory; checkpoints go to `workdir/checkpoints`.
    writer: optional tensorboardX SummaryWriter.
    crash_after_steps: testing aid; raise `SimulatedCrash` after this many
      steps of this call (after the checkpoints written so far).

  Returns:
    A `TrainResult`.
  """
  if not getattr(method, "trains", True):
    return untrained_result(config, folds)
  tc = config.train
  fns = method.step_fns
  k = len(folds)
  chunk = folds_per_step(tc.folds_per_step, k)
  n_chunks = int(math.ceil(k / chunk))
  k_pad = n_chunks * chunk
  fold_ids = [f.index for f in folds]
  fold_ids += [fold_ids[-1]] * (k_pad - k)
  sharding = _fold_sharding(chunk)
  impl = state_lib.rng_impl(tc.dropout_rng_impl)
  sharded = sharding is not None and sharding.spec == P("fold")
  logging.info("%d folds in %d chunk(s) of %d per compiled step on %d %s "
               "device(s) in %d process(es)%s", k, n_chunks, chunk,
               jax.device_count(), jax.default_backend(), jax.process_count(),
               ", fold axis sharded" if sharded else "")
  watched = tc.early_stopping_metric
  modes = dict(method.metric_modes, loss="min")
  if watched != "none" and watched not in modes:
    raise ValueError(f"train.early_stopping_metric={watched!r}; method "
                     f"{method.name!r} offers {sorted(modes)} or 'none'")
  mode = "none" if watched == "none" else modes[watched]
  oracle_name = method.oracle_metric if watched == "none" else watched
  with_oracle = bool(tc.oracle) and all(f.test_subject for f in folds)

  tx = state_lib.make_optimizer(tc.optimizer, tc.learning_rate,
                                tc.lr_schedule,
                                tc.num_epochs * tc.steps_per_epoch)
  sample_x = method.example_input(sampler.store)
  states, bests, oracles = [], [], []
  for c in range(n_chunks):
    s = state_lib.init_stacked(fns.model, tx, sample_x,
                               fold_ids[c * chunk:(c + 1) * chunk],
                               config.seed, impl)
    states.append(_put(s, sharding))
    # Copies: the state's buffers are donated to the train step.
    bests.append(_put(jax.tree.map(jnp.copy, state_lib.variables_of(s)),
                      sharding))
    if with_oracle:
      oracles.append(_put(jax.tree.map(jnp.copy, state_lib.variables_of(s)),
                          sharding))

  stop = early_stopping.init(k, k_pad)
  oracle_stop = early_stopping.init(k, k_pad)
  on_plateau = tc.lr_schedule == "plateau"
  lr_state = plateau.init(k_pad)
  best_val_loss = np.full(k_pad, np.inf)
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

  def ckpt_tree():
    tree = {"states": states, "bests": bests}
    if with_oracle:
      tree["oracles"] = oracles
    return tree

  if latest is not None:
    tree, meta = ckpt.restore(latest, ckpt_tree())
    if meta["fold_ids"] != fold_ids:
      raise ValueError(
          f"the checkpoint in {workdir} was made for folds {meta['fold_ids']}, "
          f"this run has {fold_ids}: use a new --workdir")
    states, bests = tree["states"], tree["bests"]
    oracles = tree.get("oracles", oracles)
    stop = early_stopping.State.from_json(meta["early_stopping"])
    oracle_stop = early_stopping.State.from_json(meta["oracle_stopping"])
    best_val_loss = np.array(meta["best_val_loss"], np.float64)
    if on_plateau:
      lr_state = plateau.State.from_json(meta["lr_plateau"])
    history = meta["history"]
    start_epoch = meta["epoch"] + 1
    data_iter.set_state(meta["data_state"])
    logging.info("resumed from %s at epoch %d", ckpt.directory, start_epoch)

  train_step = steps_lib.make_train_step(fns, impl)
  eval_fn = steps_lib.make_eval_fn(fns)
  val_batch = sampler.val_batch(tc.val_samples)
  oracle_batch = sampler.oracle_batch(tc.val_samples) if with_oracle else None
  names = [f.test_subject or "deploy" for f in folds]

  def evaluate(batch):
    """(loss (K_pad,), {metric: (K_pad,)}) of the current weights."""
    out = [eval_fn(state_lib.variables_of(states[c]),
                   _put(_chunk_batch(batch, c, chunk, k_pad), sharding))
           for c in range(n_chunks)]
    out = distributed.to_host(out)
    loss = np.concatenate([l for l, _ in out]).astype(np.float64)
    scores = np.concatenate([p for _, p in out])
    padded = {key: _pad_folds(np.asarray(v), k_pad)
              for key, v in batch.items()}
    return {"loss": loss, **method.val_metrics(scores, padded)}

  def keep(trees, mask):
    for c in range(n_chunks):
      sl = slice(c * chunk, (c + 1) * chunk)
      trees[c] = steps_lib.select(jnp.asarray(mask[sl]),
                                  state_lib.variables_of(states[c]), trees[c])

  def next_batch():
    """The next batch from the sampler, one device-put tree per chunk."""
    batch = next(data_iter)
    return [_put_batch(_chunk_batch(batch, c, chunk, k_pad), sharding)
            for c in range(n_chunks)]

  steps_run = 0
  data_wait_s = steps_s = 0.0
  bar = tqdm(total=total_steps, initial=start_epoch * spe, unit="step",
             desc=f"training {k} fold(s)", dynamic_ncols=True, disable=None)
  try:
    for epoch in range(start_epoch, tc.num_epochs):
      active = stop.active
      if not active.any():
        break
      losses = np.zeros(k_pad)
      t = epoch_t0 = time.perf_counter()
      batches = next_batch()
      data_wait_s += time.perf_counter() - t
      for s in range(spe):
        step_losses = []
        for c in range(n_chunks):
          sl = slice(c * chunk, (c + 1) * chunk)
          if not active[sl].any():  # stopped folds: nothing would change
            step_losses.append(np.zeros(chunk))
            continue
          states[c], metrics = train_step(states[c], batches[c],
                                          jnp.asarray(active[sl]))
          step_losses.append(metrics["loss"])
        # Prefetch while the step runs; never past the epoch's last step, so
        # the iterator state saved with the epoch's checkpoint is exact.
        if s + 1 < spe:
          t = time.perf_counter()
          batches = next_batch()
          data_wait_s += time.perf_counter() - t
        step_loss = np.concatenate(distributed.to_host(step_losses))
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
      steps_s += time.perf_counter() - epoch_t0
      # A fold that stopped before this epoch has no training loss in it.
      train_loss = np.where(active, losses / spe, np.nan)

      val = evaluate(val_batch)
      watched_value = val["loss"] if mode == "none" else val[watched]
      stop, improved = early_stopping.update(stop, watched_value, epoch,
                                             tc.patience, mode)
      keep(bests, improved)
      best_val_loss = np.where(improved, val["loss"], best_val_loss)
      record = {"epoch": epoch,
                "train_loss": [None if np.isnan(x) else float(x)
                               for x in train_loss[:k]]}
      if on_plateau:
        record["learning_rate"] = (tc.learning_rate
                                   * lr_state.scale[:k]).tolist()
        lr_state = plateau.update(
            lr_state, watched_value, active, "min" if mode == "none" else mode,
            tc.lr_plateau_patience, tc.lr_plateau_factor,
            tc.lr_plateau_min_scale)
        for c in range(n_chunks):
          sl = slice(c * chunk, (c + 1) * chunk)
          states[c] = state_lib.set_learning_rate(
              states[c], tc.learning_rate * lr_state.scale[sl])
      record.update({f"val_{m}": v[:k].tolist() for m, v in val.items()})
      if with_oracle:
        oracle = evaluate(oracle_batch)
        # Only epochs a fold trained in: a stopped fold's weights are fixed.
        oracle_stop = dataclasses.replace(oracle_stop, active=active.copy())
        oracle_stop, oracle_better = early_stopping.update(
            oracle_stop, oracle[oracle_name], epoch, tc.num_epochs + 1,
            modes[oracle_name])
        keep(oracles, oracle_better)
        record[f"oracle_{oracle_name}"] = oracle[oracle_name][:k].tolist()
      record["active"] = active[:k].tolist()
      history.append(record)
      for f in np.flatnonzero(active[:k] & ~stop.active[:k]):
        logging.info("fold %d (test %s): early stop at epoch %d, best epoch "
                     "%d (val loss %.4f)", f, names[f], epoch,
                     stop.best_epoch[f], best_val_loss[f])
      mean_train = float(np.nanmean(train_loss[:k]))
      mean_val = float(val["loss"][:k][active[:k]].mean())
      bar.set_postfix(train=f"{mean_train:.4f}", val=f"{mean_val:.4f}",
                      active=f"{int(stop.active[:k].sum())}/{k}")
      logging.info("epoch %d: train loss %.4f, val loss %.4f (mean over the "
                   "%d fold(s) trained this epoch), %d/%d folds go on", epoch,
                   mean_train, mean_val, active[:k].sum(),
                   stop.active[:k].sum(), k)
      if writer is not None:
        for f in np.flatnonzero(active[:k]):
          writer.add_scalar(f"train_loss/{names[f]}", train_loss[f], epoch)
          writer.add_scalar(f"val_loss/{names[f]}", val["loss"][f], epoch)
        writer.add_scalar("train_loss/mean", mean_train, epoch)
        writer.add_scalar("val_loss/mean", mean_val, epoch)
        writer.flush()
      last = epoch == tc.num_epochs - 1 or not stop.active.any()
      if last or (epoch + 1) % tc.checkpoint_every_epochs == 0:
        ckpt.save(epoch, ckpt_tree(), {
            "epoch": epoch, "fold_ids": fold_ids,
            "early_stopping": stop.to_json(),
            "oracle_stopping": oracle_stop.to_json(),
            "best_val_loss": best_val_loss.tolist(), "history": history,
            "lr_plateau": lr_state.to_json(),
            "data_state": data_iter.get_state()})
  finally:
    # Also on an exception (Ctrl-C included): finish the checkpoint being
    # written so the next run resumes from it.
    bar.close()
    ckpt.close()

  return TrainResult(
      _host_rows(bests, chunk, k), history, stop.best_epoch[:k].tolist(),
      best_val_loss[:k].tolist(),
      _host_rows(oracles, chunk, k) if with_oracle else None,
      oracle_stop.best_epoch[:k].tolist() if with_oracle else None,
      {"steps": steps_run, "data_wait_s": data_wait_s,
       "total_s": steps_s})
