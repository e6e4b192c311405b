"""Pure, jittable per-fold steps; the trainer vmaps them over folds."""
import functools

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


def train_step(state: TrainState, batch, active, *, loss_fn, impl):
  """One optimizer step of one fold; a stopped fold (`active` False) keeps
  its state unchanged.

  Returns:
    (new_state, metrics) with metrics {"loss": scalar}.
  """
  key = jax.random.wrap_key_data(state.rng, impl=impl) if impl else \
      jax.random.wrap_key_data(state.rng)
  key, drop_key = jax.random.split(key)
  x = apply_intensity(to_float(batch["x"]), batch["aug"])

  def compute_loss(params):
    logits, updates = state.apply_fn(
        {"params": params, "batch_stats": state.batch_stats}, x, train=True,
        rngs={"dropout": drop_key}, mutable=["batch_stats"])
    return loss_fn(logits, batch["y"]), updates

  (loss, updates), grads = jax.value_and_grad(
      compute_loss, has_aux=True)(state.params)
  new_state = state.apply_gradients(
      grads=grads, batch_stats=updates["batch_stats"],
      rng=jax.random.key_data(key))
  new_state = jax.tree.map(lambda n, o: jnp.where(active, n, o), new_state,
                           state)
  return new_state, {"loss": loss}


def eval_loss(variables, apply_fn, batch, *, loss_fn):
  """Validation loss and sigmoid scores (B, 2) of one fold on a fixed batch
  (no augmentation)."""
  logits = apply_fn(variables, to_float(batch["x"]), train=False)
  return loss_fn(logits, batch["y"]), jax.nn.sigmoid(logits)


def predict(variables, apply_fn, x_u8):
  """Sigmoid scores (B, 2) for uint8 inputs."""
  return jax.nn.sigmoid(apply_fn(variables, to_float(x_u8), train=False))


@functools.lru_cache(maxsize=None)
def make_train_step(loss_fn, impl):
  """`jit(vmap(train_step))` over the fold axis, donating the state.

  Cached, so runs in one process (tests, deploy after LOSO) share the
  compiled step.
  """
  step = functools.partial(train_step, loss_fn=loss_fn, impl=impl)
  return jax.jit(jax.vmap(step), donate_argnums=0)


@functools.lru_cache(maxsize=None)
def make_eval_fn(model, loss_fn):
  """`jit(vmap(eval_loss))` over the fold axis (cached): (loss (K,),
  scores (K, B, 2))."""
  return jax.jit(jax.vmap(lambda v, b: eval_loss(v, model.apply, b,
                                                 loss_fn=loss_fn)))


def select(mask_K, new_tree, old_tree):
  """Per fold: `new` where mask else `old` (leading axis K)."""

  def pick(n, o):
    return jnp.where(mask_K.reshape((-1,) + (1,) * (n.ndim - 1)), n, o)

  return jax.tree.map(pick, new_tree, old_tree)
