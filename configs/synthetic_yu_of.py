"""Yu et al.'s optical-flow spotter (MEGC2022 first) on the synthetic default.

`synthetic_lv/casme2` (8 subjects x 2 videos x 60 s at 30 fps, 112 x 112
crops): Farneback flow (the authors' parameters) of every frame against
the first frame of its 200-frame window (windows every 100 frames), on
the crops resized to 64 x 64; per ROI (20 px boxes at 3 points of each
brow, 5 of the mouth, both nostril wings; eyes masked) the mean of its
largest flow vectors less the nose tip's; per window the ideal 2 Hz
low-pass and the EMD detrend; the authors' peak tests and interval rules
(`mespot_jax.decoders.yu`) with their released CAS values (`cas_util.py`),
the common threshold scale tau fitted per type on each fold's training
and validation subjects. `--config.decoder.yu.params=released` keeps the
authors' values (tau = 1), nothing fitted. Nothing is trained.
docs/YU_OF.md.

The `:smoke` variant runs the same settings on the tiny synthetic dataset
(windows of 2 s).

Run:
  python -m mespot_jax.main --config=configs/synthetic_yu_of.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The synthetic run; `variant="smoke"` for the smoke run."""
  c = common.get_config("yu_of")
  c.dataset.name = "synthetic_lv"
  c.dataset.config = "casme2"
  c.yu_of.flow_size = 64
  c.train.num_val_subjects = 1
  return common.smoke(c) if variant == "smoke" else c
