"""Tests of the shared recognition builder: its cache and its configs.

Uses the dummy `casme_ii` release (see its builder test for the records).
"""
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mespot_jax.builders.casme_ii import casme_ii_dataset_builder
from mespot_jax.data import recognition_builder
from mespot_jax.data import spotting_builder
from mespot_jax.data.clips import ClipSource
from mespot_jax.face import align

DUMMY = os.path.join(os.path.dirname(__file__), "..", "data_builders",
                     "casme_ii", "dummy_data")


def _build(data_dir, config=None, **kwargs):
  builder = casme_ii_dataset_builder.Builder(data_dir=str(data_dir),
                                             config=config, workers=1,
                                             **kwargs)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=DUMMY))
  return ClipSource.open("casme_ii", str(data_dir), config)


def test_leftovers_of_killed_builds_are_removed_and_bad_caches_redone(
    tmp_path, monkeypatch):
  _build(tmp_path)
  cache = tmp_path / "_aligned_clips" / "cache" / "112_grey_w5"
  names = sorted(n for n in os.listdir(cache) if n.endswith(".npz"))
  assert len(names) == 5
  # What a killed build leaves: temporaries of `io_utils.atomic_path` and
  # raw crops not yet packed; and a cache of another crop size.
  stale = [cache / f".{names[1]}.abc.tmp.npz", cache / f"{names[2]}.raw"]
  for p in stale:
    p.write_bytes(b"half written")
  np.savez(cache / names[0], info=np.asarray(
      '{"format": 1, "image_size": 64, "channels": 1}'))
  aligned = []
  real = spotting_builder.align_to_cache
  monkeypatch.setattr(spotting_builder, "align_to_cache",
                      lambda *a: aligned.append(a[1]) or real(*a))
  # Another config with the same crops shares the cache.
  source = _build(tmp_path, recognition_builder.RecognitionBuilderConfig(
      name="112_grey_again"))
  assert not any(p.exists() for p in stale)
  assert aligned == [str(cache / names[0])]
  assert len(source.clips) == 5


def test_mask_face_config_masks_the_stored_crops(tmp_path):
  config = recognition_builder.RecognitionBuilderConfig(
      name="112_grey_masked", mask_face=True)
  masked = _build(tmp_path, config)
  plain = _build(tmp_path, "112_grey")
  assert masked.mask_face and not plain.mask_face
  crop, lm = plain.frames(0, [46])[0], plain.landmarks(0, [46])[0]
  np.testing.assert_array_equal(masked.frames(0, [46])[0],
                                align.mask_crop(crop, lm))
  assert (masked.frames(0, [46])[0][0, 0] == 0).all()


@pytest.mark.parametrize("kwargs,match", [
    (dict(label_set="7class"), "label_set '7class'"),
    (dict(task="detection"), "task 'detection'")])
def test_config_errors(kwargs, match):
  with pytest.raises(ValueError, match=match):
    recognition_builder.RecognitionBuilderConfig(name="x", **kwargs)


def test_sized_configs():
  names = [c.name for c in recognition_builder.sized_configs(prefix="all_")]
  assert names == ["all_112_grey", "all_224_grey", "all_112_rgb"]
