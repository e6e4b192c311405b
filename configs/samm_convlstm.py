"""Shukla et al.'s shallow ConvLSTM on SAMM, 3 or 5 classes (section 3).

SAMM clips (`samm_me`, licensed: `--config.dataset.manual_dir=DIR`), 9
frames per clip at 90x90 grey, 5-fold subject-exclusive stratified folds
(no subject in two folds, each fold with the dataset's class
proportions), Adam at 1e-4, batch 16, 50 epochs with early stopping on the
validation UF1 of validation subjects drawn from each fold's training
subjects (the paper validates on its test fold, which we do not do), and
minority-class augmentation.

Classes: the variant `--config=configs/samm_convlstm.py:5class` (or
`--config.dataset.config=5class --config.dataset.num_classes=5`) for
samm_5class (happiness, other, anger, contempt, surprise); the default is
samm_3class (negative, positive, surprise). The learning rate is halved
on a validation plateau (methods/convlstm.py). Variants combine:
`:5class,smoke`.

Run:
  python -m mespot_jax.main --config=configs/samm_convlstm.py
(`:smoke`: the same settings on tiny data, about a minute).
Run time and headline: not measured here (the licensed release is not on this
machine).
"""
from mespot_jax.config import common


def get_config(variant: str = ""):
  """The config; variants "5class" and "smoke" (the smoke run)."""
  chosen = common.variants(variant, ("5class", "smoke"))
  c = common.get_config("convlstm")
  c.dataset.name = "samm_me"
  c.dataset.config = "3class"
  c.dataset.num_classes = 3
  c.dataset.image_size = 90
  c.dataset.clip_frames = 9
  c.train.folds = "kfold"
  c.train.num_folds = 5
  c.train.learning_rate = 1e-4
  # Halved on a validation plateau (the paper; its patience is not given,
  # and Keras' default of 10 would never act before early stopping).
  c.train.lr_schedule = "plateau"
  c.train.lr_plateau_patience = 5
  c.train.batch_size = 16
  c.train.num_epochs = 50
  c.train.steps_per_epoch = 10
  c.train.patience = 10
  c.train.num_val_subjects = 2
  if "5class" in chosen:
    c.dataset.config, c.dataset.num_classes = "5class", 5
  return common.smoke(c) if "smoke" in chosen else c
