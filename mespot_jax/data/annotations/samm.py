"""SAMM Long Videos: the FACS_Movement_Only workbook and frame folders."""
import collections
import os

from mespot_jax.data.annotations.common import (
    Release,
    Row,
    SAMM_COLUMNS,
    SAMM_SHEET,
    SAMM_WORKBOOK_PATTERNS,
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


def find_samm_workbook(manual_dir: str) -> str:
  """Finds the SAMM-LV workbook in `manual_dir` (by name, then by sheet).

  Args:
    manual_dir: folder holding the workbook and `SAMM_longvideos/`.

  Returns:
    The workbook path.
  """
  hits = _find_file(manual_dir, SAMM_WORKBOOK_PATTERNS, "SAMM-LV workbook")
  if not hits:
    for path in _find_file(manual_dir, ("*.xlsx",), "SAMM-LV workbook"):
      wb = _open_workbook(path)
      try:
        if SAMM_SHEET in wb.sheetnames:
          hits.append(path)
      finally:
        wb.close()
  if not hits:
    raise InputError(
        f"{manual_dir}: no SAMM-LV workbook; expected "
        f"{' or '.join(SAMM_WORKBOOK_PATTERNS)} or any .xlsx with a sheet "
        f"{SAMM_SHEET!r}")
  return hits[-1]  # Sorted names: the latest release (V3 > V2 > V1) wins.


def read_samm_workbook(path: str, policies: collections.Counter) -> list[Row]:
  """Reads the `FACS_Movement_Only` sheet of a SAMM-LV workbook.

  The header row is found by its `Subject` cell and columns by name, so
  preamble length and column order may differ between releases. Fractional
  frames are rounded half up; an onset of 0 becomes 1 (both counted).

  Args:
    path: the workbook.
    policies: counter updated with the quirks met.

  Returns:
    `(video, subject, interval)` per data row, in sheet order.
  """
  wb = _open_workbook(path)
  try:
    if SAMM_SHEET not in wb.sheetnames:
      raise InputError(f"{path}: no sheet {SAMM_SHEET!r} (has "
                       f"{wb.sheetnames}); expected the SAMM-LV workbook")
    rows = list(wb[SAMM_SHEET].iter_rows(values_only=True))
  finally:
    wb.close()
  header_at = next((i for i, r in enumerate(rows)
                    if any(_text_cell(v).lower() == "subject" for v in r)),
                   None)
  if header_at is None:
    raise InputError(f"{path}: sheet {SAMM_SHEET!r} has no header row with a "
                     "'Subject' cell")
  names = [_text_cell(v) for v in rows[header_at]]
  col = {}
  for name in SAMM_COLUMNS + ("Action Units",):
    matches = [i for i, n in enumerate(names) if n.lower() == name.lower()]
    if not matches and name != "Action Units":
      raise InputError(f"{_where(path, SAMM_SHEET, header_at + 1)}: no column "
                       f"{name!r} in header {names}")
    col[name] = matches[0] if matches else None
  out = []
  for i in range(header_at + 1, len(rows)):
    r = tuple(rows[i]) + (None,) * len(names)
    if _is_empty(r):
      continue
    where = _where(path, SAMM_SHEET, i + 1)
    subject = _int_cell(r[col["Subject"]], "Subject", where)
    filename = _text_cell(r[col["Filename"]])
    video, _, event = filename.rpartition("_")
    if not video or not event.isdigit():
      raise InputError(f"{where}: column 'Filename' is {filename!r}, expected "
                       "subject_video_event such as '006_1_2'")
    onset = _frame_cell(r[col["Onset"]], "Onset", where, policies)
    apex = _frame_cell(r[col["Apex"]], "Apex", where, policies, lowest=-1)
    offset = _frame_cell(r[col["Offset"]], "Offset", where, policies)
    kind = _interval_type(r[col["Type"]], "Type", where)
    if onset == 0:
      policies["onset_zero_set_to_one"] += 1
      onset = 1
    au = "" if col["Action Units"] is None else _text_cell(
        r[col["Action Units"]])
    out.append((video, f"{subject:03d}", Interval(
        type=kind, onset=onset, offset=offset, apex=apex, au=au)))
  return out


def parse_samm_lv(manual_dir: str) -> Release:
  """Parses a SAMM-LV release: workbook, frame folders and quirk policies.

  Args:
    manual_dir: folder holding the workbook and `SAMM_longvideos/` (frame
      folders `006_1/006_1_0001.jpg`, or video files `006_1.mp4`).

  Returns:
    The release with every video found on disk (labelled or not).
  """
  policies = new_policies()
  workbook = find_samm_workbook(manual_dir)
  rows = read_samm_workbook(workbook, policies)
  root = os.path.join(manual_dir, "SAMM_longvideos")
  if not os.path.isdir(root):
    raise InputError(f"{manual_dir}: no folder 'SAMM_longvideos'; expected "
                     "manual_dir to hold it beside the workbook")
  on_disk = _videos_in(root, r"^(\d{3}_\d+)$")
  subjects = {video: video.split("_")[0] for video in on_disk}
  return _assemble(workbook, rows, on_disk, subjects, policies)
