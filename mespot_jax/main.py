"""Trains and evaluates a spotting experiment.

  python -m mespot_jax.main --config=configs/synthetic_3dcnn.py
      [--config.train.num_epochs=5] [--workdir=runs/synthetic]

Writes metrics.json, predictions.csv, plots, TensorBoard events and orbax
checkpoints to the workdir and resumes from it when it holds a checkpoint.
"""
import logging as std_logging
import os
import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from mespot_jax.errors import InputError

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Experiment config file (configs/*.py).", lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Run directory (default: runs/<config file name>). A "
    "directory holding a checkpoint is resumed.")


class _QuietLibraries(std_logging.Filter):
  """Drops the INFO chatter of orbax and TFDS (kept at WARNING and above)."""

  def filter(self, record):
    noisy = ("/orbax/", "/tensorflow_datasets/")
    return record.levelno >= std_logging.WARNING or not any(
        n in record.pathname for n in noisy)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  config = _CONFIG.value
  if config is None:
    raise app.UsageError("--config=configs/<experiment>.py is required")
  workdir = _WORKDIR.value or os.path.join(
      "runs", os.path.splitext(os.path.basename(
          config_flags.get_config_filename(flags.FLAGS["config"])))[0])
  logging.get_absl_handler().addFilter(_QuietLibraries())
  from mespot_jax import experiment  # pylint: disable=g-import-not-at-top
  try:
    experiment.run(config, workdir)
  except InputError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  app.run(main)
