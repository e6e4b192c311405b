"""The training-free ROI optical-flow spotter on the synthetic default.

`synthetic_lv/casme2` (8 subjects x 2 videos x 20 s at 30 fps, 112 x 112
crops): Farneback flow of every frame against the frame k before it (k =
0.2 s micro, 0.6 s macro) on the crops resized to 64 x 64, head motion
removed with the nose ridge's mean flow, per-ROI magnitudes (brows without
the eyelids, nostrils, mouth corners), the largest per frame; a threshold
per type fitted on each fold's training and validation subjects. Nothing
is trained. Settings chosen on the development set
`synthetic_lv/casme2_dev` only (docs/FLOW_SPOTTERS.md).

The `:smoke` variant runs the same settings on the tiny synthetic dataset.
"""
from configs import common


def get_config(variant: str = ""):
  """The synthetic run; `variant="smoke"` for the smoke run."""
  c = common.get_config("flow_roi")
  c.dataset.name = "synthetic_lv"
  c.dataset.config = "casme2"
  b = c.flow_roi
  b.flow_size = 64
  c.train.num_val_subjects = 1
  return common.smoke(c) if variant == "smoke" else c
