"""Model registry: configs name a model, `get_model` builds it.

    model = get_model(config.model)   # or get_model(config)

`config.model` (an `ml_collections.ConfigDict`) holds `name` plus the
model's constructor fields; every other field is passed as a keyword.
"""
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from mespot_jax.errors import InputError
from mespot_jax.models.convlstm import ShallowConvLSTM
from mespot_jax.models.lbcnn import LBCNN
from mespot_jax.models.tran_lstm import TranLSTM
from mespot_jax.models.yap3dcnn import Yap3DCNN

MODELS = {
    "lbcnn": LBCNN,
    "shallow_convlstm": ShallowConvLSTM,
    "tran_lstm": TranLSTM,
    "yap3dcnn": Yap3DCNN,
}


def _plain(name: str, value: Any) -> Any:
  """Config values to constructor values (hashable, real dtypes)."""
  if name == "dtype" and isinstance(value, str):
    return jnp.dtype(value)
  if isinstance(value, list):
    return tuple(value)
  return value


def get_model(model_config) -> nn.Module:
  """Builds the model a config names.

  Args:
    model_config: ConfigDict (or dict) with `name` and the model's fields;
      a full experiment config with a `model` field is also accepted.

  Returns:
    An unbound Flax module.

  Raises:
    InputError: unknown model name or a field the model does not have.
  """
  if "model" in model_config and "name" not in model_config:
    model_config = model_config["model"]
  cfg = dict(model_config.items())
  name = cfg.pop("name", None)
  if name not in MODELS:
    raise InputError(f"config model.name={name!r} is not a known model; "
                     f"expected one of {sorted(MODELS)}")
  cls = MODELS[name]
  fields = {f for f in cls.__dataclass_fields__ if f not in ("parent", "name")}
  for key in cfg:
    if key not in fields:
      raise InputError(f"config field model.{key} is not a field of model "
                       f"{name!r}; expected one of {sorted(fields)}")
  return cls(**{k: _plain(k, v) for k, v in cfg.items()})
