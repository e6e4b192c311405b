"""The README's main command: Yap et al. 3D-CNN on the synthetic default.

`synthetic_lv` (its default config: 8 subjects x 2 videos x 20 s at 30 fps,
CAS(ME)^2-like durations) is built on first use (about a minute). Crops are
resized to 64x64 and training is short so that the whole LOSO run (8 folds)
finishes in under 10 minutes on a 2-core CPU; the paper's sizes are
`--config.dataset.image_size=112 --config.train.num_epochs=100`.
"""
from configs import common


def get_config():
  c = common.get_config()
  c.dataset.name = "synthetic_lv"
  c.dataset.config = "casme2"
  c.dataset.image_size = 64
  c.loss.presence_weight = 0.9
  c.train.learning_rate = 0.005
  c.sampler.skip_fps = 30.0
  c.sampler.random_skips = ((3, 9), (16, 50))
  c.sampler.manual_skips = (10, 33)
  c.train.num_epochs = 12
  c.train.steps_per_epoch = 25
  c.train.patience = 3
  c.train.num_val_subjects = 1
  c.train.val_samples = 64
  return c
