"""Experiment configs: plain data, loaded by path, checked before any data.

    config = mespot_jax.config.load("configs/synthetic_3dcnn.py", "smoke")

Experiment configs live in the repository's top-level `configs/` folder
(one file per experiment, `get_config(variant="")`), built on
`mespot_jax.config.common`; they import no JAX. `load` reads one by path
(or by its name in `configs/`), as `--config=configs/<x>.py[:variant]`
does; `check.validate` checks every choice-valued field; `plan.describe`
says what a run would do (`--dry_run`).
"""
import importlib.util
import os
import sys

from mespot_jax.errors import InputError

# The repository's experiment configs (an editable install or a clone).
CONFIG_DIR = os.environ.get("MESPOT_CONFIG_DIR") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "configs")


def config_path(name_or_path: str) -> str:
  """A config file's path: as given when it exists, else
  `CONFIG_DIR/<name>.py`."""
  if os.path.exists(name_or_path):
    return os.path.abspath(name_or_path)
  path = os.path.join(CONFIG_DIR, name_or_path.removesuffix(".py") + ".py")
  if not os.path.exists(path):
    raise InputError(f"no config {name_or_path!r}: not a file, and not in "
                     f"{CONFIG_DIR}")
  return path


def load_module(name_or_path: str):
  """Imports a config file by path (cached under `mespot_configs.<name>`,
  so a config importing another by `load_module` gets the same module)."""
  path = config_path(name_or_path)
  name = "mespot_configs." + os.path.splitext(os.path.basename(path))[0]
  module = sys.modules.get(name)
  if module is not None and getattr(module, "__file__", None) == path:
    return module
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[name] = module
  spec.loader.exec_module(module)
  return module


def load_sibling(config_file: str, name: str):
  """The config `name` in the folder of `config_file` (a config built on
  another: `load_sibling(__file__, "casme2_lbcnn")`)."""
  return load_module(os.path.join(os.path.dirname(
      os.path.abspath(config_file)), name + ".py"))


def load(name_or_path: str, variant: str = ""):
  """`get_config(variant)` of a config file (`"smoke"`, `"paper"`, ...)."""
  return load_module(name_or_path).get_config(variant)
