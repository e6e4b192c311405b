"""Pure, jittable per-fold steps; the trainer vmaps them over folds.

The steps know no method: a method hands them a `StepFns` (its model, how a
batch becomes the model's input, its loss and its output activation).
`to_float` and `apply_intensity` are helpers for image methods.
"""
import dataclasses
import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp

from mespot_jax.train.state import TrainState


def to_float(x_u8):
  """uint8 pixels -> float32 in [0, 1]."""
  return x_u8.astype(jnp.float32) / 255.0


def apply_intensity(x, aug_B3):
  """Per-sample gain, gamma and contrast (the paper's intensity augmentation).

  The same values apply to all frames of a sample, so no motion is faked.

  Args:
    x: (B, ...) float32 in [0, 1].
    aug_B3: (B, 3) gain, gamma, contrast (all ones = identity).

  Returns:
    Augmented x, clipped to [0, 1].
  """
  shape = (-1,) + (1,) * (x.ndim - 1)
  gain, gamma, contrast = (aug_B3[:, i].reshape(shape) for i in range(3))
  x = gain * jnp.power(jnp.maximum(x, 1e-6), gamma)
  mean = x.mean(axis=tuple(range(1, x.ndim)), keepdims=True)
  return jnp.clip((x - mean) * contrast + mean, 0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class StepFns:
  """What a method gives the generic steps.

  Hashable (a Flax module and module-level or cached functions), so the
  compiled steps built from it are cached and shared by runs in one
  process (tests, the deploy model after LOSO, the audit).

  Attributes:
    model: the Flax module.
    inputs: `(batch, train: bool) -> model input` (in training the batch
      also holds `step`, the fold's optimizer step count; dtype conversion, on
      device augmentation).
    loss: `(outputs, batch) -> scalar`; `outputs` is whatever the model
      returns (auxiliary heads included).
    scores: `outputs -> per-example scores` (the output activation).
  """
  model: Any
  inputs: Callable
  loss: Callable
  scores: Callable


def train_step(state: TrainState, batch, active, *, fns: StepFns, impl):
  """One optimizer step of one fold; a stopped fold (`active` False) keeps
  its state unchanged.

  Returns:
    (new_state, metrics) with metrics {"loss": scalar}.
  """
  key = jax.random.wrap_key_data(state.rng, impl=impl) if impl else \
      jax.random.wrap_key_data(state.rng)
  key, drop_key = jax.random.split(key)
  # Schedules come from the fold's step count inside the step (partnet's
  # gradient-reversal weight), never through the batch.
  x = fns.inputs({**batch, "step": state.step}, True)

  def compute_loss(params):
    outputs, updates = state.apply_fn(
        {"params": params, "batch_stats": state.batch_stats}, x, train=True,
        rngs={"dropout": drop_key}, mutable=["batch_stats"])
    return fns.loss(outputs, batch), updates

  (loss, updates), grads = jax.value_and_grad(
      compute_loss, has_aux=True)(state.params)
  # A model without batch norm has no statistics to update.
  batch_stats = (updates["batch_stats"] if jax.tree.leaves(state.batch_stats)
                 else state.batch_stats)
  new_state = state.apply_gradients(grads=grads, batch_stats=batch_stats,
                                    rng=jax.random.key_data(key))
  new_state = jax.tree.map(lambda n, o: jnp.where(active, n, o), new_state,
                           state)
  return new_state, {"loss": loss}


def eval_loss(variables, batch, *, fns: StepFns):
  """Validation loss and scores of one fold on a fixed batch (no
  augmentation)."""
  outputs = fns.model.apply(variables, fns.inputs(batch, False), train=False)
  return fns.loss(outputs, batch), fns.scores(outputs)


def predict(variables, batch, *, fns: StepFns):
  """Scores of one batch of inputs (`batch` as `fns.inputs` reads it)."""
  outputs = fns.model.apply(variables, fns.inputs(batch, False), train=False)
  return fns.scores(outputs)


@functools.lru_cache(maxsize=None)
def make_train_step(fns: StepFns, impl):
  """`jit(vmap(train_step))` over the fold axis, donating the state.

  Cached, so runs in one process (tests, deploy after LOSO) share the
  compiled step.
  """
  step = functools.partial(train_step, fns=fns, impl=impl)
  return jax.jit(jax.vmap(step), donate_argnums=0)


@functools.lru_cache(maxsize=None)
def make_eval_fn(fns: StepFns):
  """`jit(vmap(eval_loss))` over the fold axis (cached): (loss (K,),
  scores (K, B, ...))."""
  return jax.jit(jax.vmap(functools.partial(eval_loss, fns=fns)))


@functools.lru_cache(maxsize=None)
def make_predict_fn(fns: StepFns):
  """`jit((variables, batch) -> scores)` of one fold (cached)."""
  return jax.jit(functools.partial(predict, fns=fns))


def select(mask_K, new_tree, old_tree):
  """Per fold: `new` where mask else `old` (leading axis K)."""

  def pick(n, o):
    return jnp.where(mask_K.reshape((-1,) + (1,) * (n.ndim - 1)), n, o)

  return jax.tree.map(pick, new_tree, old_tree)
