"""Tests of the recognition release parsers, their policies and errors.

The well-formed parses are checked by each builder's test; here: the
header found by its cells, cell readers, the range policies of
`finish_clip` worked by hand, label sets, and errors that name the file and
row.
"""
import collections
import os
import shutil

import cv2
import numpy as np
import openpyxl
import pytest

from mespot_jax.data import labels as labels_lib
from mespot_jax.data.annotations import casme2, ckplus, clip_common, smic
from mespot_jax.errors import InputError

_BUILDERS = os.path.join(os.path.dirname(__file__), "..", "data_builders")
CASME2_DIR = os.path.join(_BUILDERS, "casme_ii", "dummy_data")
SMIC_DIR = os.path.join(_BUILDERS, "smic_e", "dummy_data")
CK_DIR = os.path.join(_BUILDERS, "ck_plus", "dummy_data")


def _workbook(path, rows, title="Sheet1"):
  wb = openpyxl.Workbook()
  wb.active.title = title
  for r in rows:
    wb.active.append(list(r))
  wb.save(path)
  return str(path)


def _frames(folder, numbers, name="img{}.jpg"):
  os.makedirs(folder)
  for n in numbers:
    cv2.imwrite(os.path.join(folder, name.format(n)),
                np.full((8, 8), 100, np.uint8))
  return str(folder)


def test_header_found_by_its_cells_in_any_order(tmp_path):
  path = _workbook(tmp_path / "t.xlsx", [
      ("preamble",), (), ("more text", "Subject"),
      ("Offset Frame", "Notes", "subject", "FILENAME", "OnsetFrame"),
      (9, "x", 1, "EP01", 3), (None, None, None, None, None),
      (12, "", "02", "EP02", 5)])
  policies = collections.Counter()
  rows = clip_common.read_table(
      path, {"subject": ("Subject",), "clip": ("Filename",),
             "onset": ("Onset Frame",), "offset": ("OffsetFrame",),
             "au": ("Action Units",)}, optional=("au",), policies=policies)
  # Row 3 has a `Subject` cell but not the others: not the header.
  assert policies["preamble_rows_skipped"] == 3
  assert [r for _, r in rows] == [
      dict(subject=1, clip="EP01", onset=3, offset=9, au=None),
      dict(subject="02", clip="EP02", onset=5, offset=12, au=None)]
  assert rows[1][0].endswith("sheet 'Sheet1' row 7")


def test_no_header_names_the_file_and_columns(tmp_path):
  path = _workbook(tmp_path / "t.xlsx", [("a", "b"), (1, 2)])
  with pytest.raises(InputError, match=r"t\.xlsx.*'Subject'"):
    clip_common.read_table(path, {"subject": ("Subject",)})


@pytest.mark.parametrize("cell,want,rounded", [
    (46, 46, 0), ("46", 46, 0), (566.4, 566, 1), (20.5, 21, 1),
    ("/", None, 0), (" / ", None, 0), ("", None, 0), (None, None, 0),
    (-1, None, 0), ("-", None, 0)])
def test_frame_cells(cell, want, rounded):
  policies = collections.Counter()
  assert clip_common.frame_or_none(cell, "ApexFrame", "w", policies) == want
  assert policies["fractional_frame_rounded"] == rounded


def test_bad_frame_cell_names_the_row():
  with pytest.raises(InputError, match="book row 4: column 'ApexFrame' is "
                     "'abc'"):
    clip_common.frame_or_none("abc", "ApexFrame", "book row 4",
                              collections.Counter())


@pytest.mark.parametrize("labels,want,counter", [
    # (onset, apex, offset) -> (onset, apex, offset, annotated); frames 10..19.
    ((12, 14, 16), (12, 14, 16, True), None),
    ((16, 14, 12), (12, 14, 16, True), "onset_after_offset_swapped"),
    ((12, None, 17), (12, 14, 17, False), "apex_missing_used_middle"),
    ((12, 18, 16), (12, 14, 16, False), "apex_outside_clip_used_middle"),
    ((12, 13, None), (12, 13, 19, True), "offset_missing_used_last_frame"),
    ((12, 13, 0), (12, 13, 19, True), "offset_missing_used_last_frame"),
    ((8, 12, 15), (10, 12, 15, True), "onset_before_first_frame_clamped"),
    ((15, 17, 25), (15, 17, 19, True), "offset_past_last_frame_clamped"),
])
def test_finish_clip_policies(tmp_path, labels, want, counter):
  folder = _frames(tmp_path / "clip", range(10, 20))  # same digit count
  policies = clip_common.new_policies()
  c = clip_common.finish_clip("casme_ii", "sub01", "EP01", folder, 200.0,
                              *labels, "happiness", "12", "w", policies)
  assert (c.onset, c.apex, c.offset, c.apex_annotated) == want
  assert (c.first_frame, c.num_frames, c.last_frame) == (10, 10, 19)
  assert {k for k, v in policies.items() if v} == {counter} - {None}


def test_numeric_frame_order_is_counted(tmp_path):
  folder = _frames(tmp_path / "clip", range(8, 12))
  policies = collections.Counter()
  assert clip_common.list_clip_frames(folder, policies) == (8, 4)
  assert policies["frame_order_numeric_not_lexical"] == 1


def test_label_outside_the_frames_names_the_folder(tmp_path):
  folder = _frames(tmp_path / "clip", range(1, 5))
  with pytest.raises(InputError, match=r"row 9: clip EP01 is labelled "
                     r"40\.\.44 but its folder .* holds frames 1\.\.4"):
    clip_common.finish_clip("casme_ii", "sub01", "EP01", folder, 200.0, 40,
                            42, 44, "", "", "row 9", collections.Counter())


def test_casme2_bad_onset_names_the_row(tmp_path):
  manual = tmp_path / "casme"
  shutil.copytree(CASME2_DIR, manual)
  book = manual / "CASME2-coding-20140508.xlsx"
  wb = openpyxl.load_workbook(book)
  wb.active.cell(row=3, column=4).value = "forty"
  wb.save(book)
  with pytest.raises(InputError, match=r"row 3: column 'OnsetFrame' is "
                     r"'forty'"):
    casme2.parse_casme2(str(manual))


def test_casme2_missing_frames_folder_is_an_error(tmp_path):
  shutil.copy(os.path.join(CASME2_DIR, "CASME2-coding-20140508.xlsx"),
              tmp_path)
  with pytest.raises(InputError, match="no folder of subject folders"):
    casme2.parse_casme2(str(tmp_path))


def test_smic_ambiguous_folders_name_the_candidates(tmp_path):
  manual = tmp_path / "smic"
  shutil.copytree(SMIC_DIR, manual)
  # VIS and NIR hold s1_ne_01 too; with HS renamed, no path names `hs`.
  os.rename(manual / "HS_long", manual / "high_speed")
  with pytest.raises(InputError, match="clip 's1_ne_01' has 3 frame "
                     "folders"):
    smic.parse_smic(str(manual), "hs")


def test_ckplus_bad_emotion_file_names_it(tmp_path):
  manual = tmp_path / "ck"
  shutil.copytree(CK_DIR, manual)
  path = manual / "Emotion" / "S005" / "001" / "S005_001_00000005_emotion.txt"
  path.write_text("  9.0000000e+00\n")
  with pytest.raises(InputError, match="S005_001_00000005_emotion.txt: "
                     "holds '9.0000000e\\+00'"):
    ckplus.parse_ckplus(str(manual))


def test_subject_numbers():
  for cell, n in ((1, 1), ("01", 1), ("sub01", 1), (6.0, 6), ("006", 6),
                  ("s12", 12), ("S005", 5)):
    assert clip_common.subject_number(cell, "Subject", "w") == n
  with pytest.raises(InputError, match="expected a subject number"):
    clip_common.subject_number("first", "Subject", "w")


@pytest.mark.parametrize("label_set,source,emotion,want", [
    ("3class", "casme_ii", "disgust", 0), ("3class", "casme_ii", "Repression",
                                           0),
    ("3class", "casme_ii", "happiness", 1), ("3class", "casme_ii", "surprise",
                                             2),
    # CASME II fear and sadness are not in the composite.
    ("3class", "casme_ii", "fear", -1), ("3class", "casme_ii", "others", -1),
    ("3class", "samm", "Contempt", 0), ("3class", "samm", "Sadness", 0),
    ("3class", "samm", "Other", -1), ("3class", "smic_hs", "negative", 0),
    ("3class", "smic_vis", "positive", 1), ("3class", "ck_plus", "happy", 1),
    ("3class", "ck_plus", "neutral", -1), ("3class", "ck_plus", "fear", 0),
    ("samm_5class", "samm", "Other", 1), ("samm_5class", "samm", "Anger", 2),
    ("samm_5class", "samm", "Disgust", -1),
    ("samm_5class", "casme_ii", "happiness", -1)])
def test_label_sets(label_set, source, emotion, want):
  assert labels_lib.map_emotion(label_set, source, emotion) == want


def test_label_set_class_orders():
  assert labels_lib.classes("3class") == ("negative", "positive", "surprise")
  assert labels_lib.classes("samm_5class") == (
      "happiness", "other", "anger", "contempt", "surprise")
