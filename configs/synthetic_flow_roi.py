"""The training-free ROI optical-flow spotter on the synthetic default.

`synthetic_lv/casme2` (2.0.0: 8 subjects x 2 videos x 60 s at 30 fps at CAS(ME)^2's
density; settings below were chosen on the 1.2.0 development set, now
`casme2_dev_v1`, whose test rendering is `casme2_v1`; 112 x 112
crops): Farneback flow of every frame against the frame k before it (k =
0.4 s for both types) on the crops resized to 64 x 64, head motion
removed with the nose ridge's mean flow, per-ROI magnitudes (brows without
the eyelids, nostrils, mouth corners), the largest per frame; a threshold
per type fitted on each fold's training and validation subjects; peaks
less than 1 s apart joined, intervals starting 0.5 k before a peak. Nothing
is trained. k, the merge gap and the extension were chosen on the
development set `synthetic_lv/casme2_dev` only, by overall F1 in three
grids (docs/FLOW_SPOTTERS.md, `docs/results/dev_flow_roi_stage*.json`).

The `:smoke` variant runs the same settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/synthetic_flow_roi.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time: 0.3 min on a 2-core CPU; headline: overall F1 (one_to_one) 0.171 on
synthetic_lv/casme2 1.2.0 (now casme2_v1) (mean of run seeds 0, 1;
docs/results/synthetic_flow_roi_rows.json).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The synthetic run; `variant="smoke"` for the smoke run."""
  c = common.get_config("flow_roi")
  c.dataset.name = "synthetic_lv"
  c.dataset.config = "casme2"
  b = c.flow_roi
  b.flow_size = 64
  # Chosen on casme2_dev (the method's defaults: 0.2 / 0.6 s, 0, 1.0).
  b.k_s.micro = 0.4
  b.k_s.macro = 0.4
  c.decoder.peaks.merge_gap_s = 1.0
  c.decoder.peaks.extend = 0.5
  c.train.num_val_subjects = 1
  return common.smoke(c) if variant == "smoke" else c
