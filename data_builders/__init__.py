"""TFDS dataset builders of mespot-jax, imported as `mespot_jax.builders`.

The folder stays at the repository's top level (`data_builders/`, the
`tfds new` layout); the package `mespot_jax.builders` is a link to it, so
the builders install under the toolkit's own name and no generic
top-level package `data_builders` is installed. Import them only as
`mespot_jax.builders.<name>` (a second import name would register each
builder twice with TFDS).

Importing this package registers every builder with TFDS by name, so
`tfds.builder(name)` finds them: spotting `synthetic_lv`, `samm_lv`,
`cas_me2`, `cas_me3` (also recognition, its `clips_*` configs); recognition `casme_ii`, `samm_me`, `smic_e` (also spotting, its
`*_spotting` configs), `ck_plus`, `megc2019_composite`, `synthetic_me`
(synthetic clips).
"""
import importlib
import logging

for _name in ("synthetic_lv", "samm_lv", "cas_me2", "cas_me3", "casme_ii",
              "samm_me", "smic_e", "ck_plus", "megc2019_composite",
              "synthetic_me"):
  try:
    importlib.import_module(f"{__name__}.{_name}.{_name}_dataset_builder")
  except ModuleNotFoundError as e:  # a builder not written yet
    if _name not in str(e):
      raise
    logging.debug("builder %s not available: %s", _name, e)
