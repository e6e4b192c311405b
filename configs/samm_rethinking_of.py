"""Zhao et al.'s optical-flow spotter (MEGC2022) on SAMM Long Videos (200 fps).

The settings of `configs/synthetic_rethinking_of.py` with the authors' SAMM-LV values (branch main, `main_casme2.main()`'s SAMM settings: flow gaps 1.65 / 1.5 px);
durations in seconds, so windows and interval rules become frames at the
dataset's own rate. Flow on the aligned crops resized to 112 x 112.
Nothing is trained; tau (the common scale of the authors' thresholds) is
fitted per fold on its training subjects, or kept at 1 with
`--config.decoder.rethinking.params=released` (the authors' values).
docs/RETHINKING_OF.md lists each value's source and our deviations.

The `:smoke` variant runs these settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/samm_rethinking_of.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common
from mespot_jax.config.blocks import rethinking_of


def get_config(variant: str = ""):
  """The real-data run; `variant="smoke"`: on tiny synthetic data."""
  c = common.get_config("rethinking_of")
  c.dataset.name = "samm_lv"
  c.rethinking_of.flow_size = 112
  rethinking_of.use_release(c, "samm")
  return common.smoke(c) if variant == "smoke" else c
