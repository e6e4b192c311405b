"""Train state stacked over leave-one-subject-out folds.

Every leaf of a fold-stacked state has a leading axis K (folds). One
`jax.jit(jax.vmap(train_step))` advances all folds of a chunk together.
"""
import functools
from typing import Any

import flax
import jax
import jax.numpy as jnp
import optax
from flax.training import train_state


class TrainState(train_state.TrainState):
  """Flax TrainState with batch-norm statistics and a per-fold dropout key.

  `rng` holds raw key data (uint32) so it checkpoints as a plain array; the
  key implementation (e.g. `rbg`, cheap on CPU) is fixed by the trainer.
  """
  batch_stats: Any
  rng: jax.Array


@functools.lru_cache(maxsize=None)
def make_optimizer(name: str, learning_rate: float, schedule: str = "constant",
                   total_steps: int = 0) -> optax.GradientTransformation:
  """Optimizer by name (`adam`, `sgd`, `adamw`); cached so that compiled
  steps closing over it are shared between runs in one process.

  Args:
    name: optimizer.
    learning_rate: (peak) learning rate.
    schedule: "constant" (the papers' setting), "cosine": cosine decay to
      5% of `learning_rate` over `total_steps` updates (the step count lives
      in each fold's optimizer state, so a stopped fold's schedule stops
      too), or "plateau": the rate is a hyperparameter in each fold's
      optimizer state (`optax.inject_hyperparams`), starting at
      `learning_rate`, that the trainer lowers on a validation plateau
      (`set_learning_rate`, `train/plateau.py`).
    total_steps: updates the cosine schedule spans.
  """
  optimizers = {"adam": optax.adam, "sgd": optax.sgd, "adamw": optax.adamw}
  if name not in optimizers:
    raise ValueError(f"unknown train.optimizer {name!r}; one of "
                     f"{sorted(optimizers)}")
  if schedule == "plateau":
    return optax.inject_hyperparams(optimizers[name])(
        learning_rate=learning_rate)
  if schedule == "constant":
    lr = learning_rate
  elif schedule == "cosine":
    if total_steps < 1:
      raise ValueError("a cosine learning-rate schedule needs total_steps "
                       f">= 1, got {total_steps}")
    lr = optax.cosine_decay_schedule(learning_rate, total_steps, alpha=0.05)
  else:
    raise ValueError(f"unknown train.lr_schedule {schedule!r}; 'constant', "
                     "'cosine' or 'plateau'")
  return optimizers[name](lr)


def rng_impl(name: str) -> str | None:
  """The PRNG implementation for dropout: `rbg` on CPU when `auto`.

  `rbg` is much cheaper on CPU (docs/PERFORMANCE.md) but its bits are not
  invariant under `vmap`, so with it the dropout masks, and so the results,
  depend on `train.folds_per_step`. The default implementation (threefry)
  gives the same results however folds are chunked or sharded.
  """
  if name == "auto":
    return "rbg" if jax.default_backend() == "cpu" else None
  return None if name in ("default", "") else name


def init_stacked(model, tx, sample_x, fold_ids, seed: int, impl: str | None):
  """Initialises one state per fold, stacked on a leading axis.

  Args:
    model: the Flax module.
    tx: optimizer.
    sample_x: an input batch of one fold (shapes only matter): an array
      or a pytree of arrays (a model with several inputs).
    fold_ids: int array (K,) of fold indices (a fold's initial weights
      depend on its index only, so chunking folds changes nothing).
    seed: the run seed.
    impl: dropout key implementation.

  Returns:
    A `TrainState` whose leaves have a leading axis K.
  """

  leaves, treedef = jax.tree.flatten(sample_x)
  init = _init_fn(model, tx, seed, impl)
  return init(jnp.asarray(fold_ids, jnp.int32),
              (treedef, tuple(tuple(a.shape) for a in leaves)))


@functools.lru_cache(maxsize=None)
def _init_fn(model, tx, seed, impl):
  """A compiled, cached `fold_ids -> stacked state` initialiser."""

  def init_one(fold_id, spec):
    treedef, shapes = spec
    sample_x = jax.tree.unflatten(
        treedef, [jnp.zeros(s, jnp.float32) for s in shapes])
    key = jax.random.fold_in(jax.random.key(seed), fold_id)
    k_params, k_drop = jax.random.split(key)
    variables = model.init({"params": k_params, "dropout": k_params},
                           sample_x, train=False)
    drop_key = jax.random.key(
        jax.random.randint(k_drop, (), 0, 2 ** 31 - 1), impl=impl)
    return TrainState.create(
        apply_fn=model.apply, params=variables["params"], tx=tx,
        batch_stats=variables.get("batch_stats", flax.core.FrozenDict()),
        rng=jax.random.key_data(drop_key))

  return jax.jit(jax.vmap(init_one, in_axes=(0, None)),
                 static_argnums=1)


def set_learning_rate(state: TrainState, rate_K) -> TrainState:
  """A stacked state whose folds' rates are `rate_K` (schedule "plateau")."""
  hyper = dict(state.opt_state.hyperparams)
  old = hyper["learning_rate"]
  hyper["learning_rate"] = jax.device_put(
      jnp.asarray(rate_K, old.dtype), old.sharding)
  return state.replace(opt_state=state.opt_state._replace(hyperparams=hyper))


def learning_rate_of(state: TrainState):
  """(K,) the folds' current rates (schedule "plateau")."""
  return state.opt_state.hyperparams["learning_rate"]


def variables_of(state: TrainState) -> dict:
  """The model variables of a (stacked) state."""
  return {"params": state.params, "batch_stats": state.batch_stats}
