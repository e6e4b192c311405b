"""Shukla et al.'s shallow ConvLSTM on the synthetic recognition set.

`synthetic_me` (its default config: 8 subjects x 15 clips, 3 classes,
64x64 grey crops) is built on first use. Leave-one-subject-out folds, 9
frames per clip (onset, apex, offset and frames between), the paper's Adam
at 1e-4 and batch 16, early stopping on the validation UF1 (validation
subjects drawn from each fold's training subjects).

Sized for an accelerator: on the 2-core development CPU one training step
of batch 16 x 9 frames at 32x32 took about 1.4 s with the scan unrolled
(`models/convlstm.py`; 86 s rolled), measured once, so the full run here
would take hours. For a CPU run shrink it:
`--config.dataset.image_size=32 --config.convlstm.model.filters=8
--config.train.num_epochs=10`.

The `:smoke` variant (`--config=configs/synthetic_convlstm.py:smoke`) runs
the same settings on `synthetic_me/tiny` for a few steps.
"""
from configs import common


def get_config(variant: str = ""):
  """The config; variants "5class" and "smoke" (the smoke run)."""
  chosen = common.variants(variant, ("5class", "smoke"))
  c = common.get_config("convlstm")
  c.dataset.name = "synthetic_me"
  c.dataset.config = "default"
  c.dataset.image_size = 64
  c.train.folds = "loso"
  c.train.learning_rate = 1e-4
  # Halved on a validation plateau (the paper; its patience is not given,
  # and Keras' default of 10 would never act before early stopping).
  c.train.lr_schedule = "plateau"
  c.train.lr_plateau_patience = 4
  c.train.batch_size = 16
  c.train.num_epochs = 50
  c.train.steps_per_epoch = 20
  c.train.patience = 8
  c.train.num_val_subjects = 1
  if "5class" in chosen:
    c.dataset.config, c.dataset.num_classes = "5class", 5
  return common.smoke(c) if "smoke" in chosen else c
