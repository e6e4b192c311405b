"""Yap et al. 3D-CNN on CAS(ME)^2 (Table 3: batch 16, lr 0.015, W 0.9).

The `:smoke` variant runs these settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/casme2_3dcnn.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The paper's settings; `variant="smoke"`: on tiny synthetic data."""
  c = common.get_config("yap3dcnn")
  y = c.yap3dcnn
  c.dataset.name = "cas_me2"
  c.train.learning_rate = 0.015
  y.loss.presence_weight = 0.9
  y.sampler.skip_fps = 30.0
  y.sampler.random_skips = ((3, 9), (16, 50))
  y.sampler.manual_skips = (10, 33)
  return common.smoke(c) if variant == "smoke" else c
