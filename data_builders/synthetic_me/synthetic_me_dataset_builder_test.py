"""Builder test of `synthetic_me` on its tiny config, TensorFlow-free.

As `synthetic_lv`'s test (`tfds.testing.DatasetBuilderTestCase` needs
TensorFlow): the builder is registered, it builds with downloads mocked
out, the splits have the expected sizes, the labels match the planted
expressions and are balanced per subject, and frames show the face and its
motion.
"""
import collections
import os
import tempfile
import unittest
from unittest import mock

import numpy as np
import tensorflow_datasets as tfds

import mespot_jax.builders  # pylint: disable=unused-import
from mespot_jax.builders.synthetic_me import synthetic_me_dataset_builder
from mespot_jax.data.clips import ClipSource
from mespot_jax.synthetic import clips as clips_lib

_DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")


def _no_download(*args, **kwargs):
  raise AssertionError(f"synthetic_me must not download: {args} {kwargs}")


class SyntheticMeBuilderTest(unittest.TestCase):
  """Builds `synthetic_me/tiny` and checks its clips."""

  @classmethod
  def setUpClass(cls):
    cls._tmp = tempfile.TemporaryDirectory()
    cls.builder = synthetic_me_dataset_builder.Builder(
        data_dir=cls._tmp.name, config="tiny", workers=1)
    with mock.patch.multiple(
        "tensorflow_datasets.core.download.DownloadManager",
        download_and_extract=_no_download, download=_no_download,
        download_dir=_DUMMY):
      cls.builder.download_and_prepare(
          download_config=tfds.download.DownloadConfig(
              compute_stats=tfds.download.ComputeStatsMode.SKIP))
    cls.source = ClipSource.open("synthetic_me", cls._tmp.name, "tiny")

  @classmethod
  def tearDownClass(cls):
    cls._tmp.cleanup()

  def test_registered_with_configs(self):
    self.assertIn("synthetic_me",
                  tfds.list_builders(with_community_datasets=False))
    names = [c.name for c in synthetic_me_dataset_builder.Builder
             .BUILDER_CONFIGS]
    self.assertEqual(names, ["default", "5class", "tiny"])
    self.assertEqual(self.builder.info.file_format.value, "array_record")

  def test_splits_and_labels(self):
    s = self.source
    self.assertEqual(len(s.clips), 24)
    self.assertEqual(self.builder.info.splits["frames"].num_examples, 480)
    self.assertEqual(s.subjects, ["s01", "s02", "s03", "s04"])
    self.assertEqual(s.classes, clips_lib.CLASSES)
    per = collections.Counter((c.subject, c.label) for c in s.clips)
    self.assertEqual(set(per.values()), {2})  # 2 per class per subject
    for c in s.clips:
      self.assertEqual(c.label_name, c.emotion)
      self.assertEqual(s.classes[c.label], c.emotion)
      self.assertTrue(1 < c.onset < c.apex < c.offset <= c.num_frames)
      kinds = clips_lib.KINDS_OF_CLASS["3class"][c.emotion]
      self.assertIn(c.au, {clips_lib.expressions.KINDS[k][0] for k in kinds})

  def test_frames_show_a_moving_face(self):
    s = self.source
    c = s.clips[0]
    clip = s.load_clip(0).astype(np.float32)
    self.assertEqual(clip.shape, (20, 32, 32, 1))
    self.assertGreater(float(clip.std()), 5.0)
    on, apex = s.key_frames(0)[:2].astype(np.float32)
    # The expression moves the face between onset and apex.
    self.assertGreater(float(np.abs(apex - on).mean()), 0.5)
    self.assertTrue(s.face_found(0, c.frame_numbers).all())

  def test_deterministic(self):
    p = self.builder.clip_params()[3][2]
    a = next(clips_lib.iter_clip_frames(p))
    b = next(clips_lib.iter_clip_frames(p))
    np.testing.assert_array_equal(a, b)


class FiveClassTest(unittest.TestCase):
  """The 5-class config's plan (no build: the labels are in the params)."""

  def test_five_classes_balanced_and_drawn_from_their_kinds(self):
    b = synthetic_me_dataset_builder.Builder(
        data_dir=tempfile.gettempdir(), config="5class")
    self.assertEqual(b.classes, ("happiness", "other", "anger", "contempt",
                                 "surprise"))
    params = b.clip_params()
    self.assertEqual(len(params), 120)
    per = collections.Counter((subject, p.label) for _, subject, p in params)
    self.assertEqual(set(per.values()), {3})  # 15 clips / 5 classes
    aus = collections.defaultdict(set)
    for _, _, p in params:
      kind = clips_lib.plan_clip(p).events[0].kind
      aus[p.class_name].add(clips_lib.expressions.KINDS[kind][0])
    self.assertEqual(aus["contempt"], {"AU14"})
    self.assertEqual(aus["anger"], {"AU4"})
    self.assertEqual(aus["happiness"], {"AU12"})
    self.assertEqual(aus["other"], {"AU9", "AU15"})
    self.assertEqual(aus["surprise"], {"AU1+2", "AU26"})

  def test_contempt_is_one_sided_and_long_videos_never_plant_it(self):
    kinds = clips_lib.expressions.KIND_NAMES
    self.assertNotIn("lip_corner_unilateral", kinds)
    self.assertEqual(len(kinds), 6)
    from mespot_jax.synthetic import render  # pylint: disable=g-import-not-at-top
    lms = render.subject_style(0, 0, False).landmarks
    field = clips_lib.expressions.kind_field("lip_corner_unilateral", lms,
                                             (200, 200))
    moved = np.linalg.norm(field, axis=-1)
    left, right = (moved[int(lms[p, 1]), int(lms[p, 0])] for p in (48, 54))
    self.assertGreater(right, 0.5)
    self.assertLess(left, 0.2 * right)


class SeededConfigTest(unittest.TestCase):
  """`dataset.seed` renders other clips from the same recipe."""

  def test_seed_changes_people_and_expressions_not_sizes(self):
    from mespot_jax.data import datasets  # pylint: disable=g-import-not-at-top
    import ml_collections  # pylint: disable=g-import-not-at-top
    config = ml_collections.ConfigDict({"dataset": {
        "name": "synthetic_me", "config": "5class", "seed": 3}})
    cfg = datasets.builder_config(config)
    self.assertEqual((cfg.name, cfg.seed, cfg.class_set),
                     ("5class_seed3", 3, "5class"))
    tmp = tempfile.gettempdir()
    plain = synthetic_me_dataset_builder.Builder(data_dir=tmp,
                                                 config="5class")
    seeded = synthetic_me_dataset_builder.Builder(data_dir=tmp, config=cfg)
    a, b = plain.clip_params(), seeded.clip_params()
    self.assertEqual([x[:2] for x in a], [x[:2] for x in b])  # same ids
    self.assertNotEqual([clips_lib.plan_clip(p).events for *_, p in a],
                        [clips_lib.plan_clip(p).events for *_, p in b])
    with self.assertRaises(ValueError):
      synthetic_me_dataset_builder.seeded_config("nope", 1)


if __name__ == "__main__":
  unittest.main()
