"""Yap et al. 3D-CNN on SAMM Long Videos (Table 3: batch 16, lr 0.007, W 0.75).

The `:smoke` variant runs these settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/samm_3dcnn.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The paper's settings; `variant="smoke"`: on tiny synthetic data."""
  c = common.get_config("yap3dcnn")
  y = c.yap3dcnn
  c.dataset.name = "samm_lv"
  c.train.learning_rate = 0.007
  y.loss.presence_weight = 0.75
  y.sampler.skip_fps = 200.0
  y.sampler.random_skips = ((25, 75), (200, 400))
  y.sampler.manual_skips = (30, 310)
  return common.smoke(c) if variant == "smoke" else c
