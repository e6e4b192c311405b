"""MDMD (the MEGC2020 baseline) on the synthetic default.

`synthetic_lv/casme2` (2.0.0: 8 subjects x 2 videos x 60 s at 30 fps at CAS(ME)^2's
density; settings below were chosen on the 1.2.0 development set, now
`casme2_dev_v1`, whose test rendering is `casme2_v1`; 112 x 112
crops), Farneback flow on the crops resized to 64 x 64, 6 x 6 blocks, 8
direction bins, k = 0.3 s (micro) and 0.6 s (macro), the baseline's
per-video threshold mean + p (max - mean) with p fitted per type on each
fold's training and validation subjects. Nothing is trained. Settings
chosen on the development set `synthetic_lv/casme2_dev` only
(docs/FLOW_SPOTTERS.md: k from a 3 x 3 grid by overall F1,
`docs/results/dev_mdmd.json`). Flow features are cached per video under the
data folder (`mespot_flow_features/`).

The `:smoke` variant runs the same settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/synthetic_mdmd.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time: 0.4 min on a 2-core CPU; headline: overall F1 (one_to_one) 0.351 on
synthetic_lv/casme2 1.2.0 (now casme2_v1) (mean of run seeds 0, 1;
docs/results/synthetic_mdmd_rows.json).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The synthetic run; `variant="smoke"` for the smoke run."""
  c = common.get_config("mdmd")
  c.dataset.name = "synthetic_lv"
  c.dataset.config = "casme2"
  b = c.mdmd
  b.flow_size = 64
  b.k_s.micro = 0.3  # chosen on casme2_dev (the method's default: 0.2)
  c.train.num_val_subjects = 1
  c.train.deploy = False
  return common.smoke(c) if variant == "smoke" else c
