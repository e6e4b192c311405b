"""What the spotting and recognition sources share: opening a builder by
name (a config name or a `BuilderConfig` object), building it on demand,
and reading records."""
import importlib

import tensorflow_datasets as tfds

from mespot_jax import errors


def make_builder(name: str, data_dir: str, config, known: str, **kwargs):
  """The TFDS builder of a dataset by name.

  Args:
    name: builder name.
    data_dir: TFDS data folder.
    config: builder config name, a `BuilderConfig` object (e.g. a synthetic
      dataset at another seed), or None for the builder's default.
    known: the datasets to name in the error for an unknown one.
    **kwargs: passed to the builder (e.g. `workers=2`).

  Raises:
    InputError: no such dataset or config.
  """
  importlib.import_module("mespot_jax.builders")  # registers the builders
  if config is not None and not isinstance(config, str):
    return tfds.builder(name, data_dir=data_dir, config=config, **kwargs)
  full = f"{name}/{config}" if config else name
  try:
    return tfds.builder(full, data_dir=data_dir, **kwargs)
  except (tfds.core.registered.DatasetNotFoundError, ValueError) as e:
    raise errors.InputError(
        f"unknown dataset {full!r}: expected one of {known}: {e}") from e


def build_if_needed(make, name: str, data_dir: str, config,
                    **builder_kwargs):
  """`make(name, data_dir, config, **kwargs)`'s builder, built if it is not
  yet; a `download_config` entry of `builder_kwargs` goes to
  `download_and_prepare`."""
  download_config = builder_kwargs.pop("download_config", None)
  builder = make(name, data_dir, config, **builder_kwargs)
  if not builder.is_prepared():
    builder.download_and_prepare(download_config=download_config)
  return builder


def getitems(source, indices: list[int]) -> list[dict]:
  """Records at `indices` of an array_record data source, in one read."""
  if hasattr(source, "__getitems__"):
    return list(source.__getitems__(indices))
  return [source[i] for i in indices]


def text(x) -> str:
  """A Text feature's value as `str`."""
  return x.decode("utf-8") if isinstance(x, bytes) else str(x)
