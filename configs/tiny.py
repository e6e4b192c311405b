"""A CPU-sized config for tests: tiny synthetic data, tiny model, few steps."""
from configs import common


def get_config(variant: str = ""):
  """The tests' config (it is its own smoke variant)."""
  del variant
  c = common.get_config("yap3dcnn")
  y = c.yap3dcnn
  c.dataset.name = "synthetic_lv"
  c.dataset.config = "tiny"
  c.dataset.loader_threads = 1
  y.model.channels = (4, 8, 8)
  y.model.dense_features = 16
  y.loss.presence_weight = 0.9
  y.sampler.skip_fps = 30.0
  y.sampler.random_skips = ((3, 9), (16, 30))
  y.sampler.manual_skips = (6, 19)
  c.train.batch_size = 4
  c.train.learning_rate = 0.01
  c.train.num_epochs = 3
  c.train.steps_per_epoch = 3
  c.train.patience = 2
  c.train.num_val_subjects = 1
  c.train.val_samples = 8
  c.eval.score_batch_size = 32
  c.eval.plots = False
  return c
