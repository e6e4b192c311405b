"""Every choice-valued config field checked in one place, before any data.

    check.validate(config)   # raises InputError naming field, value, allowed

`main`, `audit` and `experiment.run` call it first, so a misspelt value
(`--config.eval.calibration=prio`) costs a second, not a trained run. The
allowed values are the vocabularies the code itself reads
(`mespot_jax.config.vocab`) and each method's block module (`CHOICES`).
No JAX is imported.
"""
from typing import Any

from mespot_jax.config import blocks
from mespot_jax.config import vocab
from mespot_jax.errors import InputError

# Fields of every config, and of every config of a task.
SHARED = {
    "train.optimizer": vocab.OPTIMIZERS,
    "train.lr_schedule": vocab.LR_SCHEDULES,
    "train.dropout_rng_impl": vocab.DROPOUT_RNG_IMPLS,
}
SPOTTING = {
    "decoder.name": vocab.DECODERS["spotting"],
    "decoder.apex.threshold": vocab.APEX_THRESHOLDS,
    "decoder.peaks.threshold_rule": vocab.THRESHOLD_RULES,
    "decoder.rethinking.params": vocab.RELEASED_PARAMS,
    "decoder.yu.params": vocab.RELEASED_PARAMS,
    "eval.postprocess": vocab.POSTPROCESSORS,
    "eval.threshold_criterion": vocab.THRESHOLD_CRITERIA,
    "eval.protocols": vocab.Subset(vocab.PROTOCOLS),
    **{f"eval.{name}.{t}.{field}": allowed
       for name in vocab.POSTPROCESSORS for t in vocab.TYPES
       for field, allowed in (("normalise", vocab.NORMALISE),
                              ("widen_to", vocab.WIDEN_TO))},
}
RECOGNITION = {
    "decoder.name": vocab.DECODERS["recognition"],
    "dataset.label_set": ("", *vocab.LABEL_SETS),
    "train.folds": vocab.RECOGNITION_FOLDS,
    "eval.calibration": vocab.CALIBRATIONS,
}
# Counts that must be at least 1 (0 would train or score nothing).
POSITIVE = ("train.batch_size", "train.num_epochs", "train.steps_per_epoch",
            "train.val_samples")


class ConfigError(InputError):
  """A config value that is not allowed; the message names the field, the
  value and what is allowed."""


def _lookup(config, path: str) -> tuple[bool, Any]:
  node = config
  for key in path.split("."):
    try:
      node = node[key]
    except (KeyError, AttributeError, TypeError):
      return False, None
  return True, node


def _fmt(allowed) -> str:
  return ", ".join(repr(a) for a in allowed)


def check_choice(path: str, value, allowed) -> None:
  """Raises `ConfigError` unless `value` is allowed (a `vocab.Subset`
  takes a non-empty tuple of its values)."""
  if isinstance(allowed, vocab.Subset):
    values = (value,) if isinstance(value, str) else tuple(value or ())
    bad = [v for v in values if v not in allowed.allowed]
    if bad or not values:
      raise ConfigError(
          f"config field {path}={tuple(values)!r}: expected a non-empty "
          f"subset of {_fmt(allowed.allowed)}")
  elif value not in allowed:
    raise ConfigError(f"config field {path}={value!r} is not allowed; "
                      f"expected one of {_fmt(allowed)}")


def choices(config) -> dict:
  """{field path: allowed values} of every choice-valued field of `config`
  (shared, its task's, its method's)."""
  block = blocks.get(config.method)
  out = dict(SHARED)
  out["dataset.name"] = vocab.DATASETS.get(block.TASK, ())
  # Spot-then-recognise: `train`, `decoder` and `eval` are its spotter's.
  out.update(RECOGNITION if block.TASK == "recognition" else SPOTTING)
  for k, v in block.CHOICES.items():  # before its parts are looked up
    found, value = _lookup(config, f"{config.method}.{k}")
    if found and k in ("spotter", "recogniser"):
      check_choice(f"{config.method}.{k}", value, v)
  names = blocks.parts(config)
  trained = blocks.get(names[1]) if block.TASK == "str" else block
  out["train.early_stopping_metric"] = ("loss", "none",
                                        *trained.VAL_METRICS)
  for name in names:
    out.update({f"{name}.{k}": v
                for k, v in blocks.get(name).CHOICES.items()})
  return out


def validate(config) -> None:
  """Checks every choice-valued field of `config` and the few cross-field
  rules that would otherwise fail after training; raises `ConfigError`.

  Args:
    config: an experiment config (`mespot_jax.config.common.get_config`).
  """
  if "method" not in config:
    raise ConfigError("the config has no field `method`; build configs "
                      "with mespot_jax.config.common.get_config(method)")
  blocks.get(config.method)  # an unknown method fails here
  if config.method not in config:
    raise ConfigError(f"the config has no block {config.method!r} for its "
                      "method; build configs with mespot_jax.config.common."
                      "get_config(method)")
  for path, allowed in choices(config).items():
    found, value = _lookup(config, path)
    if found:
      check_choice(path, value, allowed)
  for path in POSITIVE:
    found, value = _lookup(config, path)
    if found and (not isinstance(value, int) or value < 1):
      raise ConfigError(f"config field {path}={value!r}: expected a whole "
                        "number >= 1")
  d = config.dataset
  classes = vocab.LABEL_SETS.get(d.get("label_set", ""))
  if classes and d.num_classes != len(classes):
    raise ConfigError(f"config field dataset.num_classes={d.num_classes} "
                      f"but dataset.label_set={d.label_set!r} has "
                      f"{len(classes)} classes {classes}; set "
                      f"--config.dataset.num_classes={len(classes)}")
  if d.seed >= 0 and d.name not in vocab.SYNTHETIC_DATASETS:
    raise ConfigError(f"config field dataset.seed={d.seed} renders a "
                      f"synthetic dataset; {d.name} is a recorded release "
                      "(leave dataset.seed at -1)")
