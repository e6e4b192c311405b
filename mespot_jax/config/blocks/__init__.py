"""Each method's config block, as plain data (no JAX import).

`mespot_jax/config/blocks/<method>.py` defines `TITLE`, `TASK`,
`default_config()`, `smoke(block)`, `CHOICES` (choice-valued fields and
their allowed values), `VAL_METRICS` and, for a training-free method,
`TRAINS = False`; spot-then-recognise's (`str`) also `parts(config)`, the
other blocks its config holds (the spotter's and the recogniser's). A method registered at run time (tests) is asked through
its class instead (`Method.default_config`, `Method.smoke`, `Method.task`,
`Method.metric_modes`; a subclass of a built-in method inherits its
block's `CHOICES`).
"""
import importlib
import sys
import types

from mespot_jax.errors import InputError

# The registered methods whose blocks live here (and whose classes the
# registry `mespot_jax.methods.METHODS` imports on demand).
NAMES = ("yap3dcnn", "convlstm", "tran_lstm", "lbcnn", "mdmd", "flow_roi",
         "partnet", "rethinking_of", "yu_of", "str")


# A block whose module is not named after its method (a module `str`
# would shadow the builtin in this package).
MODULES = {"str": "str_task"}


def module_name(method: str) -> str:
  """The file name (no .py) of a built-in method's block module."""
  return MODULES.get(method, method)


def parts(config) -> tuple[str, ...]:
  """The method blocks of `config`: its method's and, for a method made
  of others (spot-then-recognise), theirs."""
  module = get(config.method)
  return (str(config.method),
          *getattr(module, "parts", lambda _: ())(config))


def get(method: str):
  """The block module of `method`: TASK, default_config, smoke, CHOICES,
  VAL_METRICS."""
  if method in NAMES:
    return importlib.import_module(
        f"mespot_jax.config.blocks.{module_name(method)}")
  # Methods registered at run time live in the imported registry (reading
  # it here imports no JAX that is not already imported).
  methods = sys.modules.get("mespot_jax.methods")
  known = set(NAMES) | set(methods.METHODS if methods else ())
  if method not in known:
    raise InputError(f"config method={method!r} is not a known method; "
                     f"expected one of {sorted(known)}")
  cls = methods.get_class(method)
  parent = cls.block_module()  # a subclass of a built-in method
  return types.SimpleNamespace(
      TITLE=cls.__doc__.strip().splitlines()[0] if cls.__doc__ else "",
      TASK=cls.task, default_config=cls.default_config, smoke=cls.smoke,
      CHOICES=parent.CHOICES if parent else {},
      VAL_METRICS=tuple(cls.metric_modes),
      TRAINS=cls.trains)
