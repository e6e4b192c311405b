"""Losses on logits, chosen by name from `LOSSES`.

Equation 2 of Yap et al. (weighted binary cross-entropy over the two
multi-label outputs [micro, macro]):

    loss_b = sum_i M_i * [ W * t_i * -log s_i + (1 - W) * (1 - t_i) * -log(1 - s_i) ]

with `s = sigmoid(logits)`. The paper prints `W t log s - (1-W)(1-t) log(1-s)`,
a sign typo: as printed the first term rewards confident misses; the loss
here is positive and minimised. `M = (0.1, 0.9)` (micro, macro) and
`W = 0.75` (SAMM-LV) or `0.9` (CAS(ME)^2) in the paper. `-log s` and
`-log(1-s)` are computed as `-log_sigmoid(z)` and `-log_sigmoid(-z)`, which
stay finite for any logit.

Batch reduction: a weighted mean over examples, `sum_b e_b loss_b /
sum_b e_b`, where `e_b` are optional per-example weights (0 for padding
rows); an all-zero mask gives 0, not NaN.

Every entry of `LOSSES` has the signature
`fn(logits_BC, labels_BC, example_weights_B=None, *, **fields) -> scalar`;
its keyword-only parameters are its config fields, and `get_loss` binds
them from a config block, rejecting any other field.
"""
import functools
import inspect
from typing import Callable, Sequence

import jax
import jax.numpy as jnp

from mespot_jax.errors import InputError

PAPER_CLASS_WEIGHTS = (0.1, 0.9)


def _batch_mean(loss_B: jnp.ndarray,
                example_weights_B: jnp.ndarray | None) -> jnp.ndarray:
  if example_weights_B is None:
    return jnp.mean(loss_B)
  e = jnp.asarray(example_weights_B, loss_B.dtype).reshape(loss_B.shape)
  return jnp.sum(e * loss_B) / jnp.maximum(jnp.sum(e), 1e-12)


def yap_weighted_bce(logits_BC: jnp.ndarray, labels_BC: jnp.ndarray,
                     example_weights_B: jnp.ndarray | None = None, *,
                     presence_weight: float = 0.75,
                     class_weights: Sequence[float] = PAPER_CLASS_WEIGHTS,
                     weighted: bool = True) -> jnp.ndarray:
  """Equation 2: class- and presence-weighted binary cross-entropy.

  Args:
    logits_BC: (B, C) logits.
    labels_BC: (B, C) targets in [0, 1].
    example_weights_B: optional (B,) weights or 0/1 mask for padded rows.
    presence_weight: W, the weight of positive targets (1 - W for negatives).
    class_weights: M, one weight per output (C values).
    weighted: False is the paper's "no weighted loss" ablation: plain mean
      binary cross-entropy over the outputs (W and M ignored).

  Returns:
    Scalar float32 loss.
  """
  z = jnp.asarray(logits_BC, jnp.float32)
  t = jnp.asarray(labels_BC, jnp.float32)
  nll_pos = -jax.nn.log_sigmoid(z)    # -log s
  nll_neg = -jax.nn.log_sigmoid(-z)   # -log(1 - s)
  if not weighted:
    loss_B = jnp.mean(t * nll_pos + (1.0 - t) * nll_neg, axis=-1)
    return _batch_mean(loss_B, example_weights_B)
  m = jnp.asarray(class_weights, jnp.float32)
  if m.shape != (z.shape[-1],):
    raise ValueError(f"class_weights has {m.shape} entries; the model has "
                     f"{z.shape[-1]} outputs")
  w = presence_weight
  per_class = w * t * nll_pos + (1.0 - w) * (1.0 - t) * nll_neg
  return _batch_mean(jnp.sum(m * per_class, axis=-1), example_weights_B)


def bce(logits_BC: jnp.ndarray, labels_BC: jnp.ndarray,
        example_weights_B: jnp.ndarray | None = None) -> jnp.ndarray:
  """Plain binary cross-entropy, mean over outputs and (weighted) examples.

  Args:
    logits_BC: (B, C) logits.
    labels_BC: (B, C) targets in [0, 1].
    example_weights_B: optional (B,) weights or 0/1 mask.

  Returns:
    Scalar float32 loss.
  """
  return yap_weighted_bce(logits_BC, labels_BC, example_weights_B,
                          weighted=False)


LOSSES = {
    "yap_weighted_bce": yap_weighted_bce,
    "bce": bce,
}


def _fields(fn) -> set[str]:
  """The keyword-only parameters of a loss: its config fields."""
  return {n for n, p in inspect.signature(fn).parameters.items()
          if p.kind is inspect.Parameter.KEYWORD_ONLY}


def get_loss(loss_config) -> Callable:
  """The loss a config names, its fields bound (as `models.get_model`).

  Args:
    loss_config: ConfigDict or dict with `name` and the loss's fields (its
      keyword-only parameters).

  Returns:
    `fn(logits, labels, example_weights_B=None) -> scalar`. Equal configs
    give the same function object, so compiled steps closing over it are
    shared between runs in one process.

  Raises:
    InputError: unknown name, or a field the loss does not take.
  """
  cfg = dict(loss_config.items())
  items = tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple)) else v)
                       for k, v in cfg.items()))
  return _get_loss(items)


@functools.lru_cache(maxsize=None)
def _get_loss(items):
  cfg = dict(items)
  name = cfg.pop("name", None)
  if name not in LOSSES:
    raise InputError(f"config loss.name={name!r} is not a known loss; "
                     f"expected one of {sorted(LOSSES)}")
  fn = LOSSES[name]
  fields = _fields(fn)
  for key in cfg:
    if key not in fields:
      raise InputError(f"config field loss.{key} is not a field of loss "
                       f"{name!r}; expected one of {sorted(fields)}")
  return functools.partial(fn, **cfg) if cfg else fn
