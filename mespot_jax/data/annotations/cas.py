"""CAS(ME)^2 part A: the header-less code_final workbook and rawpic/."""
import collections
import os
import re
from typing import Sequence

from mespot_jax.data.annotations.common import (
    CAS_WORKBOOK_PATTERNS,
    Release,
    Row,
    _assemble,
    _find_file,
    _frame_cell,
    _int_cell,
    _interval_type,
    _is_empty,
    _open_workbook,
    _text_cell,
    _videos_in,
    _where,
    new_policies)
from mespot_jax.data.schema import Interval
from mespot_jax.errors import InputError


def find_cas_me2_workbook(manual_dir: str) -> str:
  """Finds `CAS(ME)^2code_final.xlsx` (or `code_final.xlsx`) in `manual_dir`.

  Args:
    manual_dir: folder holding the workbook and `rawpic/`.

  Returns:
    The workbook path.
  """
  hits = _find_file(manual_dir, CAS_WORKBOOK_PATTERNS, "CAS(ME)^2 workbook")
  if not hits:
    raise InputError(f"{manual_dir}: no CAS(ME)^2 workbook; expected "
                     f"{' or '.join(CAS_WORKBOOK_PATTERNS)}")
  return hits[0]


def _sheet_rows(wb, path: str, names: Sequence[str],
                position: int) -> tuple[str, list]:
  """A sheet by name (ignoring case and spaces), else by position."""
  norm = lambda n: re.sub(r"\s+", "", n.lower())
  wanted = {norm(n) for n in names}
  title = next((t for t in wb.sheetnames if norm(t) in wanted),
               wb.sheetnames[position] if position < len(wb.sheetnames)
               else None)
  if title is None:
    raise InputError(f"{path}: no sheet {names!r} and only "
                     f"{len(wb.sheetnames)} sheets; expected three")
  return title, [(i + 1, r) for i, r in
                 enumerate(wb[title].iter_rows(values_only=True))
                 if not _is_empty(r)]


def read_cas_me2_workbook(path: str,
                          policies: collections.Counter) -> list[Row]:
  """Reads the three header-less sheets of the CAS(ME)^2 workbook.

  Columns of the first sheet (taken by position): subject index, sample
  (`disgust1_3`), onset, apex, offset, action units, emotion class, type,
  self-reported emotion. An offset of 0 is a missing offset: the apex is
  used; an offset before the apex becomes the apex (both counted).

  Args:
    path: the workbook.
    policies: counter updated with the quirks met.

  Returns:
    `(video, subject, interval)` per data row, in sheet order.
  """
  wb = _open_workbook(path)
  try:
    codes, code_rows = _sheet_rows(wb, path, (), 0)
    rule1, rule1_rows = _sheet_rows(wb, path, ("naming rule1",), 1)
    rule2, rule2_rows = _sheet_rows(wb, path, ("naming rule2",), 2)
  finally:
    wb.close()
  subjects = {}  # subject index -> subject number
  for i, r in rule1_rows:
    r = tuple(r) + (None,) * 3
    where = _where(path, rule1, i)
    subjects[_int_cell(r[2], "index", where)] = _int_cell(
        r[0], "subject number", where)
  video_codes = {}  # video name (`disgust1`) -> code (101)
  for i, r in rule2_rows:
    r = tuple(r) + (None,) * 2
    where = _where(path, rule2, i)
    video_codes[_text_cell(r[1]).lower()] = _int_cell(r[0], "video code",
                                                      where)
  out = []
  for i, r in code_rows:
    r = tuple(r) + (None,) * 9
    where = _where(path, codes, i)
    index = _int_cell(r[0], "subject index", where)
    sample = _text_cell(r[1])
    name, _, event = sample.rpartition("_")
    if not name or not event.isdigit():
      raise InputError(f"{where}: sample name is {sample!r}, expected "
                       "video_event such as 'disgust1_3'")
    if index not in subjects:
      raise InputError(f"{where}: subject index {index} is not in sheet "
                       f"{rule1!r}")
    if name.lower() not in video_codes:
      raise InputError(f"{where}: video {name!r} is not in sheet {rule2!r}")
    onset = _frame_cell(r[2], "onset", where, policies)
    apex = _frame_cell(r[3], "apex", where, policies, lowest=-1)
    offset = _frame_cell(r[4], "offset", where, policies)
    kind = _interval_type(r[7], "type", where)
    if offset == 0:
      policies["offset_zero_used_apex"] += 1
      offset = apex
    elif apex > 0 and offset < apex:
      policies["offset_before_apex_set_to_apex"] += 1
      offset = apex
    if onset == 0:
      policies["onset_zero_set_to_one"] += 1
      onset = 1
    if offset <= 0:
      raise InputError(f"{where}: offset and apex are both missing; expected "
                       "a frame number in one of them")
    number = subjects[index]
    out.append((f"{number}_{video_codes[name.lower()]:04d}", f"s{number}",
                Interval(type=kind, onset=onset, offset=offset, apex=apex,
                         emotion=_text_cell(r[6]), au=_text_cell(r[5]))))
  return out


def _cas_videos(manual_dir: str) -> tuple[dict[str, str], dict[str, str]]:
  """(video id -> path, video id -> subject) for `rawpic/sNN/NN_CCCC...`,
  falling back to video files in `rawpic/sNN/` or `rawvideo/sNN/`."""
  paths, subjects = {}, {}
  pattern = r"^(\d+_\d{4})"
  for top in ("rawpic", "rawvideo"):
    root = os.path.join(manual_dir, top)
    for sub in sorted(os.listdir(root)) if os.path.isdir(root) else []:
      found = _videos_in(os.path.join(root, sub), pattern)
      if top == "rawvideo":  # Only video files here, and only as fallback.
        found = {v: p for v, p in found.items() if not os.path.isdir(p)}
      for video, path in found.items():
        number, code = video.split("_")
        video = f"{int(number)}_{code}"  # As the workbook's ids are made.
        if video not in paths:
          paths[video], subjects[video] = path, sub
  if not paths:
    raise InputError(f"{manual_dir}: no video folder such as "
                     "'rawpic/s15/15_0101disgustingteeth/'; expected "
                     "manual_dir to hold 'rawpic/' beside the workbook")
  return paths, subjects


def parse_cas_me2(manual_dir: str) -> Release:
  """Parses a CAS(ME)^2 (part A) release: workbook, folders and policies.

  Args:
    manual_dir: folder holding the workbook and `rawpic/` (frame folders
      `s15/15_0101disgustingteeth/img1.jpg`, or video files named alike).

  Returns:
    The release with every video found on disk (labelled or not).
  """
  policies = new_policies()
  workbook = find_cas_me2_workbook(manual_dir)
  rows = read_cas_me2_workbook(workbook, policies)
  on_disk, subjects = _cas_videos(manual_dir)
  return _assemble(workbook, rows, on_disk, subjects, policies)
