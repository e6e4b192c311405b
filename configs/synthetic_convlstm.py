"""Shukla et al.'s shallow ConvLSTM on the synthetic recognition set.

`synthetic_me` (its default config: 8 subjects x 15 clips, 3 classes,
64x64 grey crops) is built on first use. Leave-one-subject-out folds, 9
frames per clip (onset, apex, offset and frames between), the paper's Adam
at 1e-4 and batch 16, early stopping on the validation UF1 (validation
subjects drawn from each fold's training subjects).

Sized for an accelerator. On CPU one training step of the paper-sized model
is slow: measured on the 2-core development machine (shared), batch 16 x 9
frames, the gradient of `ShallowConvLSTM` took 86 s at 32x32 with 32
filters (2 s with 8 filters) while the forward pass took 0.16 s; the
backward pass of `nn.scan` over the ConvLSTM cell is what is slow on
XLA:CPU (the same cell unrolled, or `nn.scan(..., unroll=9)`, takes 1.4 s).
For a CPU run shrink it: `--config.dataset.image_size=32
--config.convlstm.model.filters=8 --config.train.num_epochs=10`.

The `:smoke` variant (`--config=configs/synthetic_convlstm.py:smoke`) runs
the same settings on `synthetic_me/tiny` for a few steps.
"""
from configs import common


def get_config(variant: str = ""):
  """The config; `variant="smoke"` for the smoke run."""
  c = common.get_config("convlstm")
  c.dataset.name = "synthetic_me"
  c.dataset.config = "default"
  c.dataset.image_size = 64
  c.train.folds = "loso"
  c.train.learning_rate = 1e-4
  c.train.batch_size = 16
  c.train.num_epochs = 50
  c.train.steps_per_epoch = 20
  c.train.patience = 8
  c.train.num_val_subjects = 1
  return common.smoke(c) if variant == "smoke" else c
