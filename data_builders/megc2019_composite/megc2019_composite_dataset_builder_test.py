"""Builds `megc2019_composite` from its dummy releases and checks it.

As the other builder tests, by hand (`tfds.testing.DatasetBuilderTestCase`
needs TensorFlow). `dummy_data/` holds three miniature releases (`CASME2/`,
`SAMM/`, `SMIC/`, subsets of the other builders' dummies) and the label file
`combined_3class_gt.csv` (`COMPOSITE_*` in `make_dummy_releases.py`). The
expected clips and labels are written by hand from those rows.
"""
import collections
import os

import pytest
import tensorflow_datasets as tfds

from mespot_jax.builders.megc2019_composite import (
    megc2019_composite_dataset_builder as composite)
from mespot_jax import errors
from mespot_jax.data.annotations.clip_common import ClipAnnotation
from mespot_jax.data.clips import ClipSource

DUMMY = os.path.join(os.path.dirname(__file__), "dummy_data")
# With the label file: (subject, clip, emotion as released, label name).
WITH_FILE = [
    ("casme_ii/sub01", "EP02_01f", "happiness", "positive"),
    ("casme_ii/sub01", "EP03_02", "disgust", "negative"),
    ("casme_ii/sub02", "EP01_11f", "repression", "negative"),
    # `others` is outside the 3 classes, but the label file says 0: it wins
    # (counted in label_file_differs_from_emotion).
    ("casme_ii/sub03", "EP09_03", "others", "negative"),
    # casme2 sub02 EP19_01 is on disk but not in the label file: dropped.
    ("samm/006", "006_1_2", "Happiness", "positive"),
    ("samm/006", "006_1_5", "Anger", "negative"),
    ("samm/007", "007_6_1", "Surprise", "surprise"),
    ("smic_hs/s1", "s1_ne_01", "negative", "negative"),
    ("smic_hs/s1", "s1_po_02", "positive", "positive"),
    ("smic_hs/s2", "s2_sur_01", "surprise", "surprise"),
    # The row `smic, s4, s4_po_09, 1` names no clip on disk: counted.
]
# Without it, emotions are mapped: `others` is dropped, EP19_01 kept.
BY_EMOTION = WITH_FILE[:3] + [
    ("casme_ii/sub02", "EP19_01", "surprise", "surprise")] + WITH_FILE[4:]
# Policies of the three parsers over these clips (see their tests).
PARSERS = {"preamble_rows_skipped": 13, "fractional_frame_rounded": 1,
           "apex_missing_used_middle": 2, "offset_past_last_frame_clamped": 1,
           "frame_order_numeric_not_lexical": 1,
           "apex_not_released_used_middle": 3, "emotion_from_filename": 1,
           "frames_renumbered_used_firstf": 1}


def _build(data_root, manual_dir):
  builder = composite.Builder(data_dir=data_root, workers=1)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
  return ClipSource.open("megc2019_composite", data_root)


def _rows(source):
  return [(c.subject, c.clip, c.emotion, c.label_name) for c in source.clips]


def test_with_the_label_file(tmp_path):
  source = _build(str(tmp_path), DUMMY)
  assert _rows(source) == WITH_FILE
  assert [c.source_subject for c in source.clips[:2]] == ["sub01", "sub01"]
  assert [c.source for c in source.clips] == (
      ["casme_ii"] * 4 + ["samm"] * 3 + ["smic_hs"] * 3)
  assert source.metadata["label_file"] == "combined_3class_gt.csv"
  assert {k: v for k, v in source.policies.items() if v} == {
      **PARSERS, "labels_from_label_file": 10,
      "label_file_differs_from_emotion": 1, "label_file_row_without_clip": 1,
      "clip_not_in_label_file_dropped": 1}
  check = source.metadata["count_check"]
  assert not check["matches_published"]
  assert check["differences"]["casme_ii"]["negative"] == {
      "built": 3, "published": 88}
  assert check["differences"]["smic_hs"]["subjects"] == {
      "built": 2, "published": 16}
  assert len(source.subjects) == 7


def test_without_it_emotions_are_mapped(tmp_path):
  manual = tmp_path / "manual"
  manual.mkdir()
  for name in ("CASME2", "SAMM", "SMIC"):
    os.symlink(os.path.join(DUMMY, name), manual / name)
  source = _build(str(tmp_path / "tfds"), str(manual))
  assert _rows(source) == BY_EMOTION
  assert source.metadata["label_file"] == ""
  assert {k: v for k, v in source.policies.items() if v} == {
      **PARSERS, "labels_from_emotion": 11, "emotion_unmapped_dropped": 1}


def _clips(counts):
  """Fake clips: per source, (class -> n) spread over `subjects` people."""
  out = []
  for source, (classes, subjects) in counts.items():
    i = 0
    for label, name in enumerate(("negative", "positive", "surprise")):
      for _ in range(classes[name]):
        out.append((ClipAnnotation(source, f"s{i % subjects}", f"c{i}", "",
                                   200.0, 1, 1, 1, 1, 1, True, name), label))
        i += 1
  return out


def test_published_counts_check(tmp_path):
  # pylint: disable=protected-access
  builder = composite.Builder(data_dir=str(tmp_path))
  builder._check_counts(_clips(composite.PUBLISHED))
  assert builder.info.metadata["count_check"] == dict(
      matches_published=True, differences={})
  counts = {**composite.PUBLISHED, "samm": (
      {"negative": 90, "positive": 26, "surprise": 15}, 28)}
  builder._check_counts(_clips(counts))
  assert builder.info.metadata["count_check"]["differences"] == {
      "samm": {"negative": {"built": 90, "published": 92}}}
  total = sum(sum(c.values()) for c, _ in composite.PUBLISHED.values())
  assert total == 442
  assert sum(n for _, n in composite.PUBLISHED.values()) == 68


def test_label_file_header_and_errors(tmp_path):
  path = tmp_path / "labels.csv"
  path.write_text("dataset,subject,filename,label\ncasme2,sub01,EP02_01f,1\n"
                  "SMIC\ts3\ts3_ne_03\t0\n")
  policies = collections.Counter()
  assert composite.read_label_file(str(path), policies) == {
      ("casme_ii", 1, "ep02_01f"): 1, ("smic_hs", 3, "s3_ne_03"): 0}
  assert policies["label_file_header_skipped"] == 1
  path.write_text("casme2,sub01,EP02_01f,1\nsamm,006,006_1_2,5\n")
  with pytest.raises(errors.InputError, match="line 2"):
    composite.read_label_file(str(path), collections.Counter())
  assert composite.find_label_file(str(tmp_path)) is None
