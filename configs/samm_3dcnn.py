"""Yap et al. 3D-CNN on SAMM Long Videos (Table 3: batch 16, lr 0.007, W 0.75)."""
from configs import common


def get_config():
  c = common.get_config()
  c.dataset.name = "samm_lv"
  c.train.learning_rate = 0.007
  c.loss.presence_weight = 0.75
  c.sampler.skip_fps = 200.0
  c.sampler.random_skips = ((25, 75), (200, 400))
  c.sampler.manual_skips = (30, 310)
  return c
