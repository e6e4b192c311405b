"""Tests of the `cas_me3` builder (CAS(ME)^3 Part A) on its dummy release.

The expected videos, intervals, emotions and quirk counts are written by
hand from the rows planted by `data_builders/make_dummy_cas_me3.py` (see its
comments), with the README's policies applied by hand: frame file numbers
become 1-based positions among the files on disk (spNO.1/a skips 11 and 12,
so 13 is position 11; spNO.1/b starts at 100, so 114 is position 15;
spNO.2/a starts at 0, so 5 is position 6); they do not come from the parser.
Both builds (long videos and clips) run once per module on 5 videos of 18-24
tiny frames.
"""
import collections
import os
import shutil

import openpyxl
import pytest
import tensorflow_datasets as tfds

from mespot_jax.builders.cas_me3 import cas_me3_dataset_builder
from mespot_jax.data import clips as clips_lib
from mespot_jax.data.annotations import casme3
from mespot_jax.data.source import Interval, SpottingSource
from mespot_jax.errors import InputError

DUMMY = os.path.join(os.path.dirname(__file__), "..", "data_builders",
                     "cas_me3", "dummy_data")
# video: (subject, frames on disk, first file number, intervals by onset).
EXPECTED = {
    "spNO.1_a": ("spNO.1", 24, 1, [
        # MaE (spNO.1, a, 2, 5, 9, 6+12, happy): no policy.
        Interval("macro", 2, 9, apex=5, emotion="happy", au="6+12"),
        # ME (spNO.1, a, 11, 14, 17): file 11 was dropped -> onset snapped
        # to file 13 = position 11; apex 14 -> 12; offset 17 -> 15.
        Interval("micro", 11, 15, apex=12, emotion="happy", au="L12")]),
    "spNO.1_b": ("spNO.1", 20, 100, [
        # MaE (spNO.1, b, 103, 107, 0): offset 0 -> apex 107; 103 -> 4.
        Interval("macro", 4, 8, apex=8, emotion="surprise", au="1+2+5"),
        # ME (spNO.1, B, 114, 116, 118): Filename B -> folder b.
        Interval("micro", 15, 19, apex=17, emotion="disgust", au="4")]),
    "spNO.2_a": ("spNO.2", 20, 0, [
        # ME (spNO.2, a, 5, 7, 9): numbers start at 0 -> positions 6..10.
        Interval("micro", 6, 10, apex=8, emotion="surprise", au="1+2"),
        # MaE (spNO.2, a, 11.5, 15, 25): 11.5 -> 12 (position 13), offset
        # 25 past the last file 19 -> position 20.
        Interval("macro", 13, 20, apex=16, emotion="anger", au="4")]),
    # Only the combined table (compared, not read) labels spNO.2/c.
    "spNO.2_c": ("spNO.2", 18, 1, []),
    "spNO.3_a": ("spNO.3", 20, 1, [
        Interval("micro", 3, 7, apex=5, emotion="fear", au="4+7"),
        # ME (spNO.3, a, 12, <empty>, 15): apex unknown.
        Interval("micro", 12, 15, apex=-1, emotion="others", au="14"),
        # MaE (spNO.3, a, 19, 17, 15): onset after offset -> swapped.
        Interval("macro", 15, 19, apex=17, emotion="sad", au="9")]),
}
# Only the quirks planted; every other policy of the parser stays 0.
POLICIES = {
    "fractional_frame_rounded": 1, "apex_unknown_kept": 1,
    "offset_zero_used_apex": 1, "onset_after_offset_swapped": 1,
    "offset_past_last_frame_clamped": 1, "video_without_labels_kept": 1,
    "labelled_video_missing_dropped": 1,  # ME row of spNO.3/m
    "video_name_case_folded": 1, "frame_numbers_with_gaps": 1,
    "frames_missing_in_gaps": 2, "label_frame_in_gap_snapped": 1,
    "label_rows_not_in_other_table": 1, "other_table_rows_not_read": 1,
}
LABEL_FILES = {
    "read": ["cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx",
             "cas(me)3_part_A_MaE_label_JpgIndex_v2_emotion.xlsx"],
    "read_counts": dict(rows=10, micro=6, macro=4, videos=5, subjects=3),
    "compared": "CAS(ME)3_part_A_v2.csv",
    "compared_counts": dict(rows=10, micro=5, macro=5, videos=5, subjects=3),
    "only_read": ["spNO.3_m micro 2-6"],
    "only_compared": ["spNO.2_c macro 3-10"],
    "ignored": [], "videos_on_disk": 5,
}
# Micro clips in natural order: (name, subject, frames, apex file number,
# 3class label).
CLIPS = [("spNO.1_a_13_17", "spNO.1", 5, 14, 1),      # happy: positive
         ("spNO.1_b_114_118", "spNO.1", 5, 116, 0),   # disgust: negative
         ("spNO.2_a_5_9", "spNO.2", 5, 7, 2),         # surprise
         ("spNO.3_a_3_7", "spNO.3", 5, 5, 0),         # fear: negative
         ("spNO.3_a_12_15", "spNO.3", 4, 13, -1)]     # others; apex middle


def _build(data_dir, config, manual_dir=DUMMY):
  builder = cas_me3_dataset_builder.Builder(data_dir=data_dir, config=config,
                                            workers=1)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
  return builder


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp("tfds"))


@pytest.fixture(scope="module")
def spotting(data_dir):
  return _build(data_dir, "112_grey")


@pytest.fixture(scope="module")
def clip_builder(data_dir):
  return _build(data_dir, "clips_112_grey")


def test_parse_gives_the_planted_videos_intervals_and_quirks(caplog):
  with caplog.at_level("WARNING"):
    release = casme3.parse_cas_me3(DUMMY)
  got = {v.video: (v.subject, v.num_frames, v.first_frame, v.intervals)
         for v in release.videos}
  assert got == EXPECTED
  assert {k: v for k, v in release.policies.items() if v} == POLICIES
  assert release.label_files == LABEL_FILES
  # The difference between the tables is logged, naming both sides.
  assert "label tables differ" in caplog.text
  assert "spNO.3_m micro 2-6" in caplog.text
  assert "spNO.2_c macro 3-10" in caplog.text


def test_spotting_build_stores_the_planted_labels(spotting, data_dir):
  source = SpottingSource.open("cas_me3", data_dir)
  assert source.subjects == ["spNO.1", "spNO.2", "spNO.3"]
  got = {v.video: (v.subject, v.num_frames, v.first_frame, list(v.intervals))
         for v in source.videos}
  assert got == EXPECTED
  assert all(v.fps == 30.0 for v in source.videos)
  assert spotting.info.splits["frames"].num_examples == 102
  types = collections.Counter(iv.type for v in source.videos
                              for iv in v.intervals)
  assert types == {"micro": 5, "macro": 4}
  emotions = collections.Counter(iv.emotion for v in source.videos
                                 for iv in v.intervals)
  assert emotions == {"happy": 2, "surprise": 2, "disgust": 1, "anger": 1,
                      "fear": 1, "others": 1, "sad": 1}
  policies = {k: v for k, v in source.policies.items() if v}
  assert policies == POLICIES  # every face was found (no_face_frames 0)
  assert spotting.info.metadata["label_files"] == LABEL_FILES


def test_clips_build_one_video_per_micro_interval(clip_builder, data_dir):
  source = clips_lib.ClipSource.open("cas_me3", data_dir, "clips_112_grey")
  got = [(c.clip, c.subject, c.num_frames, c.apex, c.label)
         for c in source.clips]
  assert got == CLIPS
  assert clip_builder.info.splits["frames"].num_examples == 24
  meta = clip_builder.info.metadata
  assert meta["class_counts"] == {"cas_me3": {
      "negative": 2, "positive": 1, "surprise": 1, "unmapped": 1}}
  assert meta["policies"]["apex_missing_used_middle"] == 1
  assert meta["policies"]["emotion_unmapped_kept"] == 1


def _release_copy(tmp_path, tables=True, frames=True):
  root = tmp_path / "part_A"
  if tables:
    shutil.copytree(os.path.join(DUMMY, "annotation"), root / "annotation")
  if frames:
    shutil.copytree(os.path.join(DUMMY, "data"), root / "data")
  root.mkdir(exist_ok=True)
  return root


def test_the_combined_table_alone_is_read_with_its_types(tmp_path):
  root = _release_copy(tmp_path)
  for name in LABEL_FILES["read"]:
    os.remove(root / "annotation" / name)
  release = casme3.parse_cas_me3(str(root))
  assert release.label_files["read"] == [LABEL_FILES["compared"]]
  got = {v.video: [(iv.type, iv.onset, iv.offset, iv.emotion)
                   for iv in v.intervals] for v in release.videos}
  assert got["spNO.2_c"] == [("macro", 3, 10, "")]  # no emotion column
  assert sum(len(v) for v in got.values()) == 10


def _one_line_error(fn, *words):
  with pytest.raises(InputError) as e:
    fn()
  message = str(e.value)
  assert "\n" not in message
  for w in words:
    assert w in message, message


def test_a_malformed_release_names_what_to_fix(tmp_path):
  # No frames beside the tables: through the builder, before any aligning.
  no_frames = _release_copy(tmp_path / "a", frames=False)
  _one_line_error(lambda: _build(str(tmp_path / "tfds"), "112_grey",
                                 str(no_frames)),
                  "spNO.1/a/color/1.jpg", "unzip")
  # No table at all.
  no_tables = _release_copy(tmp_path / "b", tables=False)
  _one_line_error(lambda: casme3.parse_cas_me3(str(no_tables)),
                  "ME_label_JpgIndex", ".csv")
  # Only an .xls copy: openpyxl cannot read it.
  (no_tables / "CAS(ME)3_part_A_v2.xls").write_bytes(b"\xd0\xcf\x11\xe0")
  _one_line_error(lambda: casme3.parse_cas_me3(str(no_tables)),
                  "CAS(ME)3_part_A_v2.xls", "save it as .xlsx or .csv")
  # A table without an Onset column, and a subject cell that is no subject.
  bad = _release_copy(tmp_path / "c")
  path = bad / "annotation" / LABEL_FILES["read"][0]
  wb = openpyxl.load_workbook(path)
  wb.active["C1"] = "Start"
  wb.save(path)
  _one_line_error(lambda: casme3.parse_cas_me3(str(bad)), "'Onset'",
                  LABEL_FILES["read"][0])
  wb.active["C1"], wb.active["A3"] = "Onset", "subject one"
  wb.save(path)
  _one_line_error(lambda: casme3.parse_cas_me3(str(bad)), "row 3",
                  "'subject one'", "spNO.1")


def test_registered_by_name_for_configs_and_inspect(tmp_path):
  """`mespot_jax.builders` registers it, so configs name it: spotting by
  default, recognition clips through `clips_*`."""
  from mespot_jax.config import vocab  # pylint: disable=g-import-not-at-top
  from mespot_jax.data import tfds_utils  # pylint: disable=g-import-not-at-top
  assert "cas_me3" in vocab.SPOTTING_DATASETS
  assert "cas_me3" in vocab.RECOGNITION_DATASETS
  spot = tfds_utils.make_builder("cas_me3", str(tmp_path), None, "")
  clip = tfds_utils.make_builder("cas_me3", str(tmp_path), "clips_112_grey",
                                 "")
  assert (spot.builder_config.name, spot.task) == ("112_grey", "spotting")
  assert clips_lib.is_recognition(clip) and not clips_lib.is_recognition(spot)
