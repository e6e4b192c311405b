"""Spot-then-recognise on the synthetic long videos: MDMD, then the ConvLSTM.

`synthetic_lv/casme2` (8 subjects x 2 videos x 60 s at 30 fps; every
planted expression carries an emotion class: negative, positive or
surprise). Leave-one-subject-out folds. The spotter is MDMD with the
settings of `configs/synthetic_mdmd.py` (training-free, its per-video
threshold fitted on each fold's training and validation subjects). The
recogniser is Shukla et al.'s ConvLSTM at the size of
`configs/synthetic_convlstm.py` (8 filters, 9 frames per clip), trained per
fold on clips cut at the TRUE micro-expression intervals of that fold's
training subjects (validated on its validation subjects), at the crops'
stored size. Each spotted micro interval of the held-out subject becomes
a clip (apex: the frame of MDMD's highest score in it) that the ConvLSTM
classifies. Reported per dataset: micro spotting F1, analysis F1 and
STRS (docs/STR.md). No oracle row yet.

The `:smoke` variant runs the same settings on the tiny synthetic dataset.

Run:
  python -m mespot_jax.main --config=configs/synthetic_str.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the full config has not been run
yet).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The synthetic run; `variant="smoke"` for the smoke run."""
  c = common.str_config("mdmd", "convlstm")
  c.dataset.name = "synthetic_lv"
  c.dataset.config = "casme2"
  c.mdmd.flow_size = 64  # as configs/synthetic_mdmd.py
  c.mdmd.k_s.micro = 0.3
  c.train.num_val_subjects = 1
  c.convlstm.model.filters = 8  # as configs/synthetic_convlstm.py
  t = c.str.train
  t.learning_rate, t.batch_size = 1e-3, 16
  t.num_epochs, t.steps_per_epoch, t.patience = 40, 20, 10
  return common.smoke(c) if variant == "smoke" else c
