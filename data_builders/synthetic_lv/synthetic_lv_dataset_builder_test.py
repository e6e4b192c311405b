"""Builder test of `synthetic_lv` on its tiny config, TensorFlow-free.

`tfds.testing.DatasetBuilderTestCase` cannot be used here: importing it
imports `tfds.testing.test_case.TestCase`, a subclass of `tf.test.TestCase`
(and `dill`), and TensorFlow is not installed; its build test also reads the
splits back with `as_dataset` (a `tf.data` pipeline) inside a TF graph/eager
decorator. This test makes the same checks without TF: the builder is a
registered `GeneratorBasedBuilder` with a valid `info`, it builds with the
download manager mocked onto `dummy_data/` (nothing may be downloaded),
every split has the expected number of examples, and a reloaded builder
reads the same data back with `as_data_source`.
"""
import os
import tempfile
import unittest
from unittest import mock

import numpy as np
import tensorflow_datasets as tfds

from mespot_jax.builders.synthetic_lv import synthetic_lv_dataset_builder

_DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")


def _no_download(*args, **kwargs):
  raise AssertionError(f"synthetic_lv must not download: {args} {kwargs}")


class SyntheticLvBuilderTest(unittest.TestCase):
  """Builds `synthetic_lv/tiny` and checks its splits."""
  DATASET_CLASS = synthetic_lv_dataset_builder.Builder
  BUILDER_CONFIG_NAMES_TO_TEST = ["tiny"]
  SPLITS = {"videos": 3, "frames": 270}  # 3 subjects x 1 video x 90 frames

  @classmethod
  def setUpClass(cls):
    cls._tmp = tempfile.TemporaryDirectory()
    cls.tmp_dir = cls._tmp.name

  @classmethod
  def tearDownClass(cls):
    cls._tmp.cleanup()

  def _make_builder(self, config):
    return self.DATASET_CLASS(data_dir=self.tmp_dir, config=config, workers=1)

  def test_baseclass_and_registration(self):
    self.assertTrue(issubclass(self.DATASET_CLASS,
                               tfds.core.GeneratorBasedBuilder))
    self.assertIn("synthetic_lv",
                  tfds.list_builders(with_community_datasets=False))
    builder = tfds.builder("synthetic_lv/tiny", data_dir=self.tmp_dir)
    self.assertIsInstance(builder, self.DATASET_CLASS)

  def test_info_and_configs(self):
    builder = self._make_builder("tiny")
    info = builder.info
    self.assertTrue(info.disable_shuffling)
    self.assertEqual(info.file_format.value, "array_record")
    self.assertEqual(info.features["frame"].shape, (32, 32, 1))
    default = self.DATASET_CLASS(data_dir=self.tmp_dir)
    self.assertEqual(default.builder_config.name, "casme2")
    names = [c.name for c in self.DATASET_CLASS.BUILDER_CONFIGS]
    self.assertEqual(len(names), len(set(names)))
    for c in self.DATASET_CLASS.BUILDER_CONFIGS:
      self.assertTrue(c.description)
    # 2.0.0: the ladder, the clean control, and 1.2.0's recipes kept.
    for name in ("casme2", "casme2_dev", "samm", "clean", "casme2_micro_half",
                 "casme2_micro_x2", "casme2_micro_x4", "casme2_v1",
                 "casme2_dev_v1", "samm_v1", "tiny"):
      self.assertIn(name, names)
    self.assertEqual(str(self.DATASET_CLASS.VERSION), "3.0.0")

  def test_download_and_prepare_as_data_source(self):
    for config in self.BUILDER_CONFIG_NAMES_TO_TEST:
      builder = self._make_builder(config)
      with mock.patch.multiple(
          "tensorflow_datasets.core.download.DownloadManager",
          download_and_extract=_no_download, download=_no_download,
          download_dir=_DUMMY):
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(
                compute_stats=tfds.download.ComputeStatsMode.SKIP))
      for b in (builder, self._make_builder(config)):  # then reloaded
        self.assertTrue(b.is_prepared())
        self._check(b)

  def _check(self, builder):
    sources = builder.as_data_source()
    for split, n in self.SPLITS.items():
      self.assertLen(sources[split], n)
      self.assertEqual(builder.info.splits[split].num_examples, n)
    videos = [sources["videos"][i] for i in range(3)]
    self.assertEqual([v["video"] for v in videos],
                     [b"s01_1", b"s02_1", b"s03_1"])
    self.assertEqual([int(v["frame_offset"]) for v in videos], [0, 90, 180])
    self.assertTrue(all(len(v["onset"]) >= 1 for v in videos))
    last = sources["frames"][269]
    self.assertEqual((int(last["video_index"]), int(last["frame_number"])),
                     (2, 90))
    self.assertEqual(last["frame"].shape, (32, 32, 1))
    self.assertGreater(float(np.std(last["frame"])), 5.0)  # a face, not zeros
    meta = builder.info.metadata
    self.assertEqual((meta["image_size"], meta["channels"]), (32, 1))
    self.assertIn("no_face_frames", meta["policies"])
    self.assertEqual(meta["aligner"]["frames"], 270)

  def assertLen(self, container, n):  # pylint: disable=invalid-name
    self.assertEqual(len(container), n)


if __name__ == "__main__":
  unittest.main()
