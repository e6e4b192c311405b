"""Tran et al.'s LSTM spotter on CAS(ME)^2 (the paper's "CASME2 part A").

The paper's settings: L = 23 frames at 30 fps (`span_s` = 23/30), M = 32
positions (30-35), one LSTM layer of 20 units, micro-expressions only,
the per-video threshold heuristic (mean of the maximum and the non-zero
minimum score), the paper's own apex-in-interval metric besides the MEGC
protocols. The paper's best on this dataset is HIGO-TOP with overlap
targets (Table 2); `--config.tran_lstm.feature` and `.target` switch.
The block grid and the crop size are not given in the paper (4 x 4 blocks
of the 112 x 112 aligned crop here).

The `:smoke` variant runs these settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/casme2_lstm.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The paper's settings; `variant="smoke"`: on tiny synthetic data."""
  c = common.get_config("tran_lstm")
  c.dataset.name = "cas_me2"
  b = c.tran_lstm
  b.feature = "higo_top"
  b.target = "overlap"
  b.types = ("micro",)
  b.span_s = 23 / 30
  b.window_s = 32 / 30
  c.decoder.apex.threshold = "paper"
  c.train.learning_rate = 1e-3  # Keras' Adam default (the paper used Keras)
  c.train.num_epochs = 150  # the paper's maximum; early stopping decides
  c.train.steps_per_epoch = 100
  c.eval.protocols = ("megc2020", "one_to_one", "apex_in_interval")
  return common.smoke(c) if variant == "smoke" else c
