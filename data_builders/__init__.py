"""TFDS dataset builders of mespot-jax.

Importing this package registers every builder with TFDS by name
(`synthetic_lv`, `samm_lv`, `cas_me2`), so `tfds.builder(name)` finds them.
"""
import importlib
import logging

for _name in ("synthetic_lv", "samm_lv", "cas_me2"):
  try:
    importlib.import_module(f"data_builders.{_name}.{_name}_dataset_builder")
  except ModuleNotFoundError as e:  # a builder not written yet
    if _name not in str(e):
      raise
    logging.debug("builder %s not available: %s", _name, e)
