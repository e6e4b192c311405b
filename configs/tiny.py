"""A CPU-sized config for tests: tiny synthetic data, tiny model, few steps.

The 3D-CNN with the CAS(ME)^2-like skips at 30 fps on `synthetic_lv/tiny`:
the shared smoke settings (`common.smoke`) plus a higher learning rate.
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The tests' config (it is its own smoke variant)."""
  del variant
  c = common.smoke(common.get_config("yap3dcnn"))
  y = c.yap3dcnn
  y.loss.presence_weight = 0.9
  y.sampler.skip_fps = 30.0
  y.sampler.random_skips = ((3, 9), (16, 30))
  y.sampler.manual_skips = (6, 19)
  c.train.learning_rate = 0.01
  return c
