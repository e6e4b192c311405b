"""Trains and evaluates an experiment (any method, spotting or recognition).

  python -m mespot_jax.main --config=configs/synthetic_3dcnn.py
      [--config.train.num_epochs=5] [--workdir=runs/synthetic]
      [--compilation_cache=DIR] [--multihost] [--dry_run]

The config is resolved and every choice-valued field checked first
(`mespot_jax.config.check`): a value that is not allowed exits 2 with one
line naming the field, the value and the allowed ones, before any data is
opened. `--dry_run` stops there and prints the plan (method, dataset and
whether it is built, folds, steps, what will be written) in seconds.

Writes metrics.json, predictions.csv, plots, TensorBoard events and orbax
checkpoints to the workdir and resumes from it when it holds a checkpoint.
XLA's compiled programs are kept in `<workdir>/jax_cache` (JAX's persistent
compilation cache; `$JAX_COMPILATION_CACHE_DIR` when set), so a resumed run
does not compile again.

Several hosts (`mespot_jax.distributed`): with `--multihost`, or when the
environment describes a job of several processes (SLURM, Open MPI, or
JAX_COORDINATOR_ADDRESS + JAX_NUM_PROCESSES + JAX_PROCESS_ID), every
process runs this same command with the same --workdir (a shared file
system); the fold axis is sharded over all processes' devices, checkpoints
are written by all of them and reports by process 0.
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
_CACHE = flags.DEFINE_string(
    "compilation_cache", None, "JAX persistent compilation cache folder "
    "(default: $JAX_COMPILATION_CACHE_DIR when set, else "
    "<workdir>/jax_cache; 'none' turns it off).")
_DRY_RUN = flags.DEFINE_bool(
    "dry_run", False, "Check the config and print the plan of the run "
    "(method, dataset and whether it is built, folds, steps, outputs); "
    "opens no data, trains nothing, exits 0 (2 on a bad value).")
_MULTIHOST = flags.DEFINE_bool(
    "multihost", False, "Start jax.distributed (several hosts: TPU pods, "
    "SLURM, or JAX_COORDINATOR_ADDRESS/JAX_NUM_PROCESSES/JAX_PROCESS_ID); "
    "also started without the flag when the environment describes several "
    "processes.")


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
  from mespot_jax.config import check  # pylint: disable=g-import-not-at-top
  try:
    check.validate(config)
  except InputError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  if _DRY_RUN.value:
    from mespot_jax.config import plan  # pylint: disable=g-import-not-at-top
    try:
      print(plan.describe(config, workdir), flush=True)
    except BrokenPipeError:  # `--dry_run | head`: the reader has enough
      sys.stdout = open(os.devnull, "w")  # pylint: disable=consider-using-with
    return
  logging.get_absl_handler().addFilter(_QuietLibraries())
  from mespot_jax import distributed  # pylint: disable=g-import-not-at-top
  distributed.initialize(_MULTIHOST.value)
  cache = (_CACHE.value or os.environ.get("JAX_COMPILATION_CACHE_DIR")
           or os.path.join(workdir, "jax_cache"))
  if cache != "none":
    import jax  # pylint: disable=g-import-not-at-top
    jax.config.update("jax_compilation_cache_dir", os.path.abspath(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
  from mespot_jax import experiment  # pylint: disable=g-import-not-at-top
  try:
    experiment.run(config, workdir)
  except InputError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  app.run(main)
