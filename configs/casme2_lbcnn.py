"""Pan et al.'s LBCNN on CAS(ME)^2 (30 fps).

The paper's settings: every input (the face and each of the four ROIs)
resized to 224 x 224, the shallow AlexNet-like backbone (three conv, two
pooling, two fully connected layers), a 3-class softmax (neutral, micro,
macro), micro, macro and neutral frames sampled uniformly, leave one
subject out. The paper gives no optimiser, learning rate, batch size,
schedule, channel counts or post-processing: this config uses Adam at 1e-3,
batch 32, up to 50 epochs of 200 steps with early stopping on the
validation subjects' UAR (patience 5), the backbone widths of
`methods/lbcnn.py` and its post-processing (probabilities smoothed and
thresholded as they are, a micro run at most 0.5 s). docs/LBCNN.md lists
every choice.

The `:smoke` variant runs these settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/casme2_lbcnn.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common


def paper_config(dataset: str):
  """The paper's settings on a real long-video dataset (`samm_lbcnn` too)."""
  c = common.get_config("lbcnn")
  c.dataset.name = dataset
  c.dataset.image_size = 224
  c.lbcnn.roi_size = 224
  c.train.learning_rate = 1e-3
  c.train.batch_size = 32
  c.train.num_epochs = 50
  c.train.steps_per_epoch = 200
  c.train.early_stopping_metric = "uar"
  c.train.patience = 5
  return c


def get_config(variant: str = ""):
  """The paper's settings; `variant="smoke"`: on tiny synthetic data."""
  c = paper_config("cas_me2")
  return common.smoke(c) if variant == "smoke" else c
