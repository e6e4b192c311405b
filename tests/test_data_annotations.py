"""Tests of the SAMM-LV and CAS(ME)^2 workbook parsers and quirk policies.

The expected intervals are written by hand from the rows planted by
`data_builders/make_dummy_releases.py` (see its comments), with each policy
applied by hand: onset 0 -> 1, 14.6 -> 15, 20.5 -> 21 (half up), offset 31
past the 26 frames of 007_3 -> 26, CAS offset 0 -> apex, offset 23 before
apex 25 -> 25.
"""
import os
import shutil

import openpyxl
import pytest

from mespot_jax.data import annotations
from mespot_jax.data import video_io
from mespot_jax.data.schema import Interval
from mespot_jax.errors import InputError

_BUILDERS = os.path.join(os.path.dirname(__file__), "..", "data_builders")
SAMM_DIR = os.path.join(_BUILDERS, "samm_lv", "dummy_data")
CAS_DIR = os.path.join(_BUILDERS, "cas_me2", "dummy_data")
SAMM_BOOK = "SAMM_LongVideos_V3_Release.xlsx"
CAS_BOOK = "CAS(ME)^2code_final.xlsx"

SAMM_EXPECTED = {
    # video: (subject, frames, intervals)
    "006_1": ("006", 30, [
        Interval("macro", 1, 12, apex=5, au="R12"),
        Interval("micro", 15, 21, apex=17, au="4"),
        Interval("micro", 24, 27, apex=-1, au="L2")]),
    "006_2": ("006", 24, [Interval("macro", 3, 14, apex=8, au="12+25")]),
    "007_3": ("007", 26, [
        Interval("micro", 2, 6, apex=4, au="7"),
        Interval("macro", 10, 26, apex=20, au="1+2")]),
    "011_1": ("011", 20, []),
}
CAS_EXPECTED = {
    "15_0101": ("s15", 28, "15_0101disgustingteeth", [
        Interval("macro", 3, 10, apex=6, emotion="negative", au="4+7"),
        Interval("micro", 13, 17, apex=15, emotion="positive", au="12"),
        Interval("macro", 19, 25, apex=25, emotion="negative", au="4")]),
    "15_0401": ("s15", 22, "15_0401girlcrashing", [
        Interval("macro", 4, 9, apex=9, emotion="negative", au="4+5"),
        Interval("micro", 12, 18, apex=14, emotion="surprise", au="1+2")]),
    "16_0101": ("s16", 24, "16_0101disgustingteeth", [
        Interval("macro", 5, 14, apex=8, emotion="negative", au="9"),
        Interval("micro", 16, 21, apex=18, emotion="positive", au="12")]),
    "16_0102": ("s16", 20, "16_0102eatingworms", []),
    "17_0102": ("s17", 20, "17_0102eatingworms", [
        Interval("macro", 2, 11, apex=6, emotion="negative", au="4+9"),
        Interval("micro", 14, 17, apex=15, emotion="positive", au="12")]),
}


def _copy(src, tmp_path):
  dst = os.path.join(tmp_path, "release")
  shutil.copytree(src, dst)
  return dst


def _edit(path, sheet, edits=(), append=()):
  """Sets `(row, column, value)` cells and appends rows, then saves."""
  wb = openpyxl.load_workbook(path)
  ws = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet]
  for row, col, value in edits:
    ws.cell(row=row, column=col, value=value)
  for row in append:
    ws.append(list(row))
  wb.save(path)


def _nonzero(policies):
  return {k: v for k, v in policies.items() if v}


def test_samm_dummy_parses_to_planted_intervals():
  release = annotations.parse_samm_lv(SAMM_DIR)
  assert os.path.basename(release.workbook) == SAMM_BOOK
  assert [v.video for v in release.videos] == list(SAMM_EXPECTED)
  for v in release.videos:
    subject, frames, intervals = SAMM_EXPECTED[v.video]
    assert (v.subject, v.num_frames, v.intervals) == (subject, frames,
                                                      intervals), v.video
    assert v.frames_dir == os.path.join(SAMM_DIR, "SAMM_longvideos", v.video)


def test_samm_quirk_counts_are_as_planted():
  policies = annotations.parse_samm_lv(SAMM_DIR).policies
  assert _nonzero(policies) == {
      "fractional_frame_rounded": 2, "onset_zero_set_to_one": 1,
      "apex_unknown_kept": 1, "offset_past_last_frame_clamped": 1,
      "video_without_labels_kept": 1}
  assert set(policies) == set(annotations.POLICIES)  # zeros are reported


def test_cas_dummy_parses_to_planted_intervals():
  release = annotations.parse_cas_me2(CAS_DIR)
  assert os.path.basename(release.workbook) == CAS_BOOK
  assert [v.video for v in release.videos] == list(CAS_EXPECTED)
  for v in release.videos:
    subject, frames, folder, intervals = CAS_EXPECTED[v.video]
    assert (v.subject, v.num_frames, v.intervals) == (subject, frames,
                                                      intervals), v.video
    assert v.frames_dir == os.path.join(CAS_DIR, "rawpic", subject, folder)


def test_cas_quirk_counts_are_as_planted():
  policies = annotations.parse_cas_me2(CAS_DIR).policies
  assert _nonzero(policies) == {
      "offset_zero_used_apex": 1, "offset_before_apex_set_to_apex": 1,
      "video_without_labels_kept": 1}


def test_frame_folders_sort_numerically():
  # img10 must follow img9 (a lexical sort would put it after img1).
  folder = CAS_EXPECTED["15_0101"][2]
  files = video_io.list_frame_files(os.path.join(CAS_DIR, "rawpic", "s15",
                                                 folder))
  assert [os.path.basename(p) for _, p in files[8:11]] == [
      "img9.jpg", "img10.jpg", "img11.jpg"]


@pytest.mark.parametrize("name", ["SAMMLV_gt.xlsx",
                                  "SAMM_LongVideos_V1_Release.xlsx",
                                  "my_labels.xlsx"])
def test_samm_workbook_found_under_other_names(tmp_path, name):
  root = _copy(SAMM_DIR, tmp_path)
  os.rename(os.path.join(root, SAMM_BOOK), os.path.join(root, name))
  assert annotations.find_samm_workbook(root) == os.path.join(root, name)
  assert len(annotations.parse_samm_lv(root).videos) == 4


def test_cas_renamed_workbook_and_other_first_sheet_name(tmp_path):
  root = _copy(CAS_DIR, tmp_path)
  path = os.path.join(root, "code_final.xlsx")
  os.rename(os.path.join(root, CAS_BOOK), path)
  wb = openpyxl.load_workbook(path)
  wb.worksheets[0].title = "CASMEcode_final"
  wb.save(path)
  release = annotations.parse_cas_me2(root)
  assert release.workbook == path
  assert release.videos[0].intervals == CAS_EXPECTED["15_0101"][3]


def test_samm_missing_column_names_file_and_header_row(tmp_path):
  root = _copy(SAMM_DIR, tmp_path)
  path = os.path.join(root, SAMM_BOOK)
  _edit(path, "FACS_Movement_Only", [(10, 4, "Start")])  # was "Onset"
  with pytest.raises(InputError, match=r"FACS_Movement_Only.*row 10.*Onset"
                     ) as e:
    annotations.parse_samm_lv(root)
  assert path in str(e.value)


def test_samm_non_numeric_onset_names_file_and_row(tmp_path):
  root = _copy(SAMM_DIR, tmp_path)
  path = os.path.join(root, SAMM_BOOK)
  _edit(path, "FACS_Movement_Only", [(12, 4, "about 14")])
  with pytest.raises(InputError, match=r"row 12: column 'Onset' is 'about 14'"
                     ) as e:
    annotations.parse_samm_lv(root)
  assert path in str(e.value)


def test_samm_bad_filename_and_type_are_errors(tmp_path):
  root = _copy(SAMM_DIR, tmp_path)
  path = os.path.join(root, SAMM_BOOK)
  _edit(path, "FACS_Movement_Only", [(13, 8, "Blink")])
  with pytest.raises(InputError, match=r"row 13: column 'Type' is 'Blink'"):
    annotations.parse_samm_lv(root)
  _edit(path, "FACS_Movement_Only", [(13, 8, "Micro"), (11, 2, "0061")])
  with pytest.raises(InputError, match=r"row 11: column 'Filename'"):
    annotations.parse_samm_lv(root)


def test_cas_non_numeric_onset_names_file_and_row(tmp_path):
  root = _copy(CAS_DIR, tmp_path)
  path = os.path.join(root, CAS_BOOK)
  _edit(path, 0, [(3, 3, "n/a")])
  with pytest.raises(InputError, match=r"'CASFEcode_final' row 3: column "
                     r"'onset' is 'n/a'") as e:
    annotations.parse_cas_me2(root)
  assert path in str(e.value)


def test_cas_unknown_video_name_is_an_error(tmp_path):
  root = _copy(CAS_DIR, tmp_path)
  _edit(os.path.join(root, CAS_BOOK), 0, [(2, 2, "fear9_1")])
  with pytest.raises(InputError, match=r"row 2: video 'fear9'.*naming rule2"):
    annotations.parse_cas_me2(root)


def test_order_and_range_policies(tmp_path):
  root = _copy(SAMM_DIR, tmp_path)
  _edit(os.path.join(root, SAMM_BOOK), "FACS_Movement_Only", append=[
      # onset after offset: swapped; apex 2 outside 5..9: unknown.
      (6, "006_2_2", 1, 9, 2, 5, 5, "Micro - 1/2", "", ""),
      # onset past the 24 frames of 006_2: dropped.
      (6, "006_2_3", 1, 30, 31, 35, 6, "Macro", "", ""),
      # a video that is not on disk: dropped, counted.
      (8, "008_1_1", 1, 3, 4, 5, 3, "Macro", "", "")])
  release = annotations.parse_samm_lv(root)
  video = next(v for v in release.videos if v.video == "006_2")
  assert video.intervals == [Interval("macro", 3, 14, apex=8, au="12+25"),
                             Interval("micro", 5, 9, apex=-1)]
  p = release.policies
  assert p["onset_after_offset_swapped"] == 1
  assert p["apex_outside_interval_set_unknown"] == 1
  assert p["label_past_last_frame_dropped"] == 1
  assert p["labelled_video_missing_dropped"] == 1
  assert "008_1" not in [v.video for v in release.videos]


def test_video_file_replaces_a_missing_frame_folder(tmp_path):
  root = _copy(SAMM_DIR, tmp_path)
  folder = os.path.join(root, "SAMM_longvideos", "006_2")
  avi = folder + ".avi"
  assert video_io.write_video(avi, video_io.iter_frames(folder), 200.0) == 24
  shutil.rmtree(folder)
  video = next(v for v in annotations.parse_samm_lv(root).videos
               if v.video == "006_2")
  assert video.frames_dir == avi
  assert video.num_frames == 24
  assert video.intervals == SAMM_EXPECTED["006_2"][2]


def test_missing_workbook_and_folders_are_errors(tmp_path):
  with pytest.raises(InputError, match="no SAMM-LV workbook"):
    annotations.parse_samm_lv(str(tmp_path))
  with pytest.raises(InputError, match="no CAS"):
    annotations.parse_cas_me2(str(tmp_path))
  root = _copy(CAS_DIR, tmp_path)
  shutil.rmtree(os.path.join(root, "rawpic"))
  with pytest.raises(InputError, match="rawpic"):
    annotations.parse_cas_me2(root)
