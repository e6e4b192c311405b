"""Opening (and building when allowed) the dataset a config names.

    store = datasets.open_store(config, task)

`task` is the method's task; each task has its kind of store (`STORES`):
spotting reads a built spotting dataset into a `FrameStore` (frames and
per-frame labels of long videos); recognition reads a built recognition
dataset (one video per clip, the same schema) into a `ClipStore`, a view of
the frame store by intervals (each clip's onset, apex, offset and frames
between, `dataset.clip_frames` of them, grey with `dataset.grey`). A
synthetic dataset can be rendered at another seed (`dataset.seed`), built
and cached under its own config name.
"""
import importlib
import os

from mespot_jax.config import plan
from mespot_jax.config import vocab
from mespot_jax.data.clip_store import ClipStore
from mespot_jax.data.clips import ClipSource
from mespot_jax.data.frames import FrameStore
from mespot_jax.data.source import SpottingSource
from mespot_jax.errors import InputError


# `dataset.data_dir`, else $TFDS_DATA_DIR, else ~/tensorflow_datasets: the
# one rule, shared with the `--dry_run` plan (which opens no data).
default_data_dir = plan.data_dir


def builder_config(config):
  """The builder config to open: a name, or a synthetic dataset rendered at
  `dataset.seed` (its own config, cached like the others)."""
  d = config.dataset
  if d.seed < 0:
    return d.config or None
  if d.name not in vocab.SYNTHETIC_DATASETS:
    raise InputError(f"dataset.seed={d.seed} renders a synthetic dataset; "
                     f"{d.name} is a recorded release (leave dataset.seed "
                     "at -1)")
  # Each synthetic builder renders any seed (`seeded_config(base, seed)`).
  syn = importlib.import_module(
      f"mespot_jax.builders.{d.name}.{d.name}_dataset_builder")
  try:
    return syn.seeded_config(
        d.config or vocab.SYNTHETIC_DEFAULT_CONFIG[d.name], int(d.seed))
  except ValueError as e:
    raise InputError(f"dataset.config={d.config!r}: {e}") from None


def _open(source_cls, config, **open_kwargs):
  """Opens the configured dataset with `source_cls` (`open_kwargs` to its
  `open` / `prepare`), building it first when allowed
  (`dataset.prepare`)."""
  d = config.dataset
  data_dir = default_data_dir(config)
  cfg = builder_config(config)
  if not d.prepare:
    return source_cls.open(d.name, data_dir, cfg, **open_kwargs)
  kwargs = {}
  if d.manual_dir:
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    kwargs["download_config"] = tfds.download.DownloadConfig(
        manual_dir=os.path.expanduser(d.manual_dir))
  return source_cls.prepare(d.name, data_dir, cfg, **open_kwargs, **kwargs)


def open_spotting(config) -> SpottingSource:
  """Opens the configured spotting dataset (built first when allowed)."""
  return _open(SpottingSource, config)


def open_recognition(config) -> ClipSource:
  """Opens the configured recognition dataset (built first when allowed),
  its emotions mapped by `dataset.label_set` ("": the build's)."""
  return _open(ClipSource, config,
               label_set=config.dataset.get("label_set", ""))


def _spotting_store(config) -> FrameStore:
  return FrameStore.from_source(open_spotting(config),
                                config.dataset.image_size,
                                config.dataset.in_memory_max_gib)


def _recognition_store(config) -> ClipStore:
  d = config.dataset
  return ClipStore.from_source(open_recognition(config), d.clip_frames,
                               d.image_size, d.grey)


# Spot-then-recognise reads long videos; its clips are a view of them.
STORES = {"spotting": _spotting_store, "recognition": _recognition_store,
          "str": _spotting_store}


def open_store(config, task: str):
  """The data of a task's experiment (`STORES[task]`)."""
  if task not in STORES:
    raise InputError(f"no dataset reader for task {task!r}; expected one of "
                     f"{sorted(STORES)}")
  return STORES[task](config)
