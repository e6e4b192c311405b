"""Yu et al.'s optical-flow spotter (MEGC2022 first) on CAS(ME)^2 (30 fps).

The settings of `configs/synthetic_yu_of.py` with the authors' CAS values
(`cas_util.py`, their CAS(ME)^3 challenge settings: 13 point ROIs, 2 Hz
low-pass, flow gaps 2.0 / 2.05 / 2.3 px); durations in seconds, so windows
and interval rules become frames at the dataset's own rate. Flow on the
aligned crops resized to 112 x 112. Nothing is trained; tau (the common
scale of the authors' thresholds) is fitted per fold on its training
subjects, or kept at 1 with `--config.decoder.yu.params=released` (the
authors' values). docs/YU_OF.md lists each value's source and our
deviations.

The `:smoke` variant runs these settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/casme2_yu_of.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common
from mespot_jax.config.blocks import yu_of


def get_config(variant: str = ""):
  """The real-data run; `variant="smoke"`: on tiny synthetic data."""
  c = common.get_config("yu_of")
  c.dataset.name = "cas_me2"
  c.yu_of.flow_size = 112
  yu_of.use_release(c, "cas")
  return common.smoke(c) if variant == "smoke" else c
