"""Tran et al.'s LSTM spotter on SAMM Long Videos (not in the paper).

The paper's CASME II durations carried over in seconds: L = 0.767 s
(153 frames at SAMM's 200 fps) and M = 1.067 s of positions (213), one
LSTM layer of 20 units, micro-expressions only, HOG-TOP (the paper's best
on SMIC-E) with overlap targets, the per-video threshold heuristic. Each
position reads L frames, so at 200 fps the descriptors cost about 6.7 times
CASME II's per second of video: compute them on an accelerator (they are
cached per video afterwards).

The `:smoke` variant runs these settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/samm_lstm.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """SAMM-LV settings; `variant="smoke"`: on tiny synthetic data."""
  c = common.get_config("tran_lstm")
  c.dataset.name = "samm_lv"
  b = c.tran_lstm
  b.feature = "hog_top"
  b.target = "overlap"
  b.types = ("micro",)
  b.span_s = 23 / 30
  b.window_s = 32 / 30
  c.decoder.apex.threshold = "paper"
  c.train.learning_rate = 1e-3
  c.train.num_epochs = 150
  c.train.steps_per_epoch = 100
  c.eval.protocols = ("megc2020", "one_to_one", "apex_in_interval")
  return common.smoke(c) if variant == "smoke" else c
