"""MDMD (the MEGC2020 baseline) on CAS(ME)^3 Part A long videos (30 fps).

The settings of `configs/casme2_mdmd.py` (durations in seconds, so k and the
micro limit become frames at the dataset's own rate), on the licensed
release built by the `cas_me3` builder (`dataset.manual_dir`: the Part A
folder; data_builders/cas_me3/README.md). Flow on the aligned crops resized
to 112 x 112. Nothing is trained; the threshold parameters are fitted per
fold on its training subjects. docs/FLOW_SPOTTERS.md lists which values are
published and which are ours.

The `:smoke` variant runs these settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/cas_me3_mdmd.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The real-data run; `variant="smoke"`: on tiny synthetic data."""
  c = common.get_config("mdmd")
  c.dataset.name = "cas_me3"
  c.mdmd.flow_size = 112
  return common.smoke(c) if variant == "smoke" else c
