"""Shukla et al.'s shallow ConvLSTM on the MEGC2019 composite (3 classes).

CASME II + SAMM + SMIC-HS clips (`megc2019_composite`, licensed:
`--config.dataset.manual_dir=DIR`), 68 subjects, leave-one-subject-out as
the challenge prescribes; UF1 and UAR from counts summed over all folds,
also per source dataset. The model and training settings are those of
`samm_convlstm.py`.

Run:
  python -m mespot_jax.main --config=configs/megc2019_convlstm.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The config; `variant="smoke"` for the smoke run."""
  c = common.get_config("convlstm")
  c.dataset.name = "megc2019_composite"
  c.dataset.config = ""
  c.dataset.num_classes = 3
  c.dataset.image_size = 90
  c.dataset.clip_frames = 9
  c.train.folds = "loso"
  c.train.learning_rate = 1e-4
  # Halved on a validation plateau (the paper; its patience is not given,
  # and Keras' default of 10 would never act before early stopping).
  c.train.lr_schedule = "plateau"
  c.train.lr_plateau_patience = 5
  c.train.batch_size = 16
  c.train.num_epochs = 50
  c.train.steps_per_epoch = 20
  c.train.patience = 10
  c.train.num_val_subjects = 3
  return common.smoke(c) if variant == "smoke" else c
