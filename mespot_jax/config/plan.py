"""What a run would do, said before it does anything (`--dry_run`).

    print(plan.describe(config, workdir))

Reads the config and, at most, the names of folders on disk (whether the
dataset is built, whether the workdir holds a checkpoint to resume); it
opens no data and imports no JAX.
"""
import glob
import os

from mespot_jax.config import blocks
from mespot_jax.config import vocab


def data_dir(config) -> str:
  """`dataset.data_dir`, else $TFDS_DATA_DIR, else ~/tensorflow_datasets."""
  return (config.dataset.data_dir or os.environ.get("TFDS_DATA_DIR")
          or os.path.expanduser("~/tensorflow_datasets"))


def builder_config_name(config) -> str:
  """The builder config a run opens: `dataset.config` ("" = the builder's
  default), or `<config>_seed<N>` for a synthetic set at `dataset.seed`."""
  d = config.dataset
  if d.seed < 0:
    return d.config
  base = d.config or vocab.SYNTHETIC_DEFAULT_CONFIG[d.name]
  return f"{base}_seed{int(d.seed)}"


def built_version(config) -> str | None:
  """The built version folder of the configured dataset, or None."""
  name = builder_config_name(config) or "*"
  found = sorted(glob.glob(os.path.join(
      data_dir(config), config.dataset.name, name, "*", "dataset_info.json")))
  return os.path.dirname(found[-1]) if found else None


def _dataset_lines(config) -> list[str]:
  d = config.dataset
  cfg = builder_config_name(config) or "(the builder's default)"
  lines = [f"dataset   {d.name}/{cfg} in {data_dir(config)}"]
  built = built_version(config)
  if built:
    lines.append(f"          built: {built}")
  elif d.name in vocab.SYNTHETIC_DATASETS:
    lines.append("          not built yet: rendered and built on first use "
                 "(no download)")
  elif d.manual_dir:
    lines.append(f"          not built yet: built from the release in "
                 f"{d.manual_dir} on first use")
  else:
    lines.append("          not built yet, and no release given: set "
                 "--config.dataset.manual_dir=<the licensed release folder>"
                 " (the builder's README in data_builders/)")
  if d.get("label_set"):
    lines.append(f"          label set {d.label_set}: "
                 f"{', '.join(vocab.LABEL_SETS[d.label_set])}")
  if d.image_size:
    lines.append(f"          crops resized to {d.image_size}x{d.image_size}")
  return lines


def _fold_lines(config, task: str) -> list[str]:
  t = config.train
  if task == "recognition" and t.get("folds") == "kfold":
    kind = f"{t.num_folds} subject-exclusive stratified folds"
  else:
    kind = "leave-one-subject-out (one fold per subject)"
  held = (f"; held out only: {', '.join(map(str, t.test_folds))}"
          if t.test_folds else "")
  return [f"folds     {kind}{held}; {t.num_val_subjects} validation "
          f"subject(s) per fold, drawn from its training subjects"]


def _train_lines(config, trains: bool) -> list[str]:
  t = config.train
  if not trains:
    return ["training  none (training-free); thresholds fitted on each "
            "fold's training subjects"]
  steps = int(t.num_epochs) * int(t.steps_per_epoch)
  stop = ("no early stopping (last weights kept)"
          if t.early_stopping_metric == "none" else
          f"early stopping on validation {t.early_stopping_metric}, "
          f"patience {t.patience} epochs")
  per_step = ("per backend (1 on CPU, all on accelerators)"
              if t.folds_per_step == 0 else str(t.folds_per_step))
  return [f"training  {steps} steps per fold ({t.num_epochs} epochs x "
          f"{t.steps_per_epoch}), batch {t.batch_size}, {t.optimizer} lr "
          f"{t.learning_rate} ({t.lr_schedule}); {stop}",
          f"          folds per compiled step: {per_step}"]


def _output_lines(config, workdir: str, task: str, trains: bool
                  ) -> list[str]:
  files = ["config.json", "metrics.json", "tensorboard/"]
  if task == "spotting":
    files += ["predictions.csv", "ground_truth.csv", "scores/"]
    if config.eval.plots:
      files.append("plots/")
  else:
    files += ["predictions CSV", "confusion.png"]
  if trains:
    files += ["checkpoints/", "jax_cache/"]
  lines = [f"writes    {workdir}/: {', '.join(files)}"]
  if config.train.deploy:
    lines.append(f"          {workdir}/deploy/: a model trained on every "
                 "subject, for `python -m mespot_jax.score`")
  if config.train.oracle and trains:
    lines.append("          metrics.json's `oracle` block: the leaky "
                 "choices, reported apart, never the headline")
  ckpt = os.path.join(workdir, "checkpoints")
  if os.path.isdir(ckpt) and os.listdir(ckpt):
    lines.append(f"          resumes from the checkpoints in {ckpt}")
  return lines


def _decoder_line(config, trains: bool) -> str:
  """The decoder and what it fits, on which subjects."""
  d = config.decoder
  on = ("the validation subjects" if trains
        else "the training and validation subjects")
  what = {
      "runs": lambda: (f"{config.eval.postprocess} post-processing, "
                       f"thresholds by {config.eval.threshold_criterion}"),
      "apex": lambda: (f"apexes by non-maximum suppression, threshold "
                       f"{d.apex.threshold}, interval widths"),
      "peaks": lambda: (f"runs above a {d.peaks.threshold_rule} threshold "
                        "per video, its parameter"),
      "rethinking": lambda: ("Zhao et al.'s peak tests and interval rules,"
                             " their threshold scale tau"),
      "yu": lambda: ("Yu et al.'s peak tests and interval rules, their"
                     " threshold scale tau"),
      "label": lambda: f"argmax, calibration {config.eval.calibration}",
  }.get(str(d.name), lambda: "")()
  if d.name in ("rethinking", "yu") and d[d.name].params == "released":
    return f"{d.name}: {what} = 1 (the authors' values), nothing fitted"
  return f"{d.name}: {what}, fitted on {on}"


def _str_lines(config, workdir: str) -> list[str]:
  """Spot-then-recognise: its spotter's plan, then its recogniser's."""
  import ml_collections  # pylint: disable=g-import-not-at-top
  s = config.str
  spot, rec = blocks.get(s.spotter), blocks.get(s.recogniser)
  spot_trains = getattr(spot, "TRAINS", True)
  rec_config = ml_collections.ConfigDict(config.to_dict())
  rec_config.train.update(s.train.to_dict())
  classes = ", ".join(vocab.LABEL_SETS[s.label_set])
  lines = [f"spotter   {s.spotter} ({spot.TITLE}), decoded and scored as "
           "its spotting config",
           f"recogniser {s.recogniser} ({rec.TITLE})"]
  lines += _dataset_lines(config)
  lines += _fold_lines(config, "spotting")
  lines += ["spotter   " + x.strip() for x in
            _train_lines(config, spot_trains)[:1]]
  lines += [f"recogniser trained per fold on clips at the true micro "
            f"intervals of its training subjects ({s.clip_frames} frames, "
            f"label set {s.label_set}: {classes}); validated on its "
            "validation subjects'"]
  lines += ["          " + x.strip() for x in
            _train_lines(rec_config, True)[:1]]
  lines.append(f"decoding  {_decoder_line(config, spot_trains)}")
  lines.append(f"          then each spotted micro interval a clip (apex: "
               f"the spotter's highest score), classified by {s.recogniser}"
               f" (label: argmax, calibration {s.calibration}, fitted on "
               "the validation subjects)")
  lines.append(f"metrics   protocols {', '.join(config.eval.protocols)}; "
               "STR per dataset: micro spotting F1, analysis F1, STRS "
               "(docs/STR.md); no oracle row")
  return lines + _output_lines(config, workdir, "spotting", True)


def describe(config, workdir: str) -> str:
  """The plan of a run of `config` in `workdir`, as printed lines."""
  block = blocks.get(config.method)
  if block.TASK == "str":
    return "\n".join([f"method    {config.method} (str): {block.TITLE}"]
                     + _str_lines(config, workdir))
  trains = getattr(block, "TRAINS", True)
  title = getattr(block, "TITLE", "")
  lines = [f"method    {config.method} ({block.TASK})" +
           (f": {title}" if title else "")]
  lines += _dataset_lines(config)
  lines += _fold_lines(config, block.TASK)
  lines += _train_lines(config, trains)
  lines.append(f"decoding  {_decoder_line(config, trains)}")
  if block.TASK == "spotting":
    lines.append(f"metrics   protocols {', '.join(config.eval.protocols)}")
  else:
    lines.append("metrics   UF1/UAR over all folds")
  lines += _output_lines(config, workdir, block.TASK, trains)
  return "\n".join(lines)
