"""Yap et al. 3D-CNN on CAS(ME)^2 (Table 3: batch 16, lr 0.015, W 0.9)."""
from configs import common


def get_config():
  c = common.get_config()
  c.dataset.name = "cas_me2"
  c.train.learning_rate = 0.015
  c.loss.presence_weight = 0.9
  c.sampler.skip_fps = 30.0
  c.sampler.random_skips = ((3, 9), (16, 50))
  c.sampler.manual_skips = (10, 33)
  return c
