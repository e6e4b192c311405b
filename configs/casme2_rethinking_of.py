"""Zhao et al.'s optical-flow spotter (MEGC2022) on CAS(ME)^2 (30 fps).

The settings of `configs/synthetic_rethinking_of.py` with the authors' CAS(ME)^2 values (branch megc2022, their challenge submission);
durations in seconds, so windows and interval rules become frames at the
dataset's own rate. Flow on the aligned crops resized to 112 x 112.
Nothing is trained; tau (the common scale of the authors' thresholds) is
fitted per fold on its training subjects, or kept at 1 with
`--config.decoder.rethinking.params=released` (the authors' values).
docs/RETHINKING_OF.md lists each value's source and our deviations.

The `:smoke` variant runs these settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/casme2_rethinking_of.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common
from mespot_jax.config.blocks import rethinking_of


def get_config(variant: str = ""):
  """The real-data run; `variant="smoke"`: on tiny synthetic data."""
  c = common.get_config("rethinking_of")
  c.dataset.name = "cas_me2"
  c.rethinking_of.flow_size = 112
  rethinking_of.use_release(c, "casme2")
  return common.smoke(c) if variant == "smoke" else c
