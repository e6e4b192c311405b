"""The method registry: `config.method` names a method, `get` builds it.

    method = methods.get(config)

A new method is one module (a subclass of a task base such as
`methods.spotting.SpottingMethod`, `methods.recognition.RecognitionMethod`)
and one line in `METHODS` ("module:Class", imported when first asked for,
so that one method's imports never slow down or break another's). Tests
may `register` methods of their own.
"""
import importlib

from mespot_jax.errors import InputError
from mespot_jax.methods.base import FoldOutput, Method  # pylint: disable=unused-import

METHODS: dict[str, str | type[Method]] = {
    "yap3dcnn": "mespot_jax.methods.yap3dcnn:Yap3DCNN",
    "convlstm": "mespot_jax.methods.convlstm:ConvLSTM",
    "tran_lstm": "mespot_jax.methods.tran_lstm:TranLSTMMethod",
    "lbcnn": "mespot_jax.methods.lbcnn:LBCNN",
    "mdmd": "mespot_jax.methods.mdmd:MDMD",
    "flow_roi": "mespot_jax.methods.flow_roi:FlowROI",
    "rethinking_of": "mespot_jax.methods.rethinking_of:RethinkingOF",
    "yu_of": "mespot_jax.methods.yu_of:YuOF",
    "partnet": "mespot_jax.methods.partnet:PartNetMethod",
    "str": "mespot_jax.methods.spot_then_recognise:SpotThenRecognise",
}


def get_class(name: str) -> type[Method]:
  """The method class registered under `name`."""
  if name not in METHODS:
    raise InputError(f"config method={name!r} is not a known method; "
                     f"expected one of {sorted(METHODS)}")
  entry = METHODS[name]
  if isinstance(entry, str):
    module, cls = entry.split(":")
    entry = METHODS[name] = getattr(importlib.import_module(module), cls)
  return entry


def get(config) -> Method:
  """The method of an experiment config (`config.method`)."""
  cls = get_class(config.method)
  if cls.name not in config:
    raise InputError(f"the config has no block {cls.name!r} for method "
                     f"{cls.name!r}; build configs with mespot_jax.config."
                     "common.get_config(method)")
  return cls(config)


def register(cls: type[Method]) -> type[Method]:
  """Adds a method class to the registry (usable as a decorator)."""
  METHODS[cls.name] = cls
  return cls
