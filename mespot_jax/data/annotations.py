"""Parsers for the SAMM-LV and CAS(ME)^2 annotation workbooks.

Both releases are licensed and come with known quirks (see the READMEs of
`data_builders/samm_lv` and `data_builders/cas_me2`). Each quirk has one
policy here, applied in one place and counted in a `policies` Counter that
the builders store in the dataset metadata, so a user sees what was changed.

Public entry points:
  - `parse_samm_lv(manual_dir) -> Release`
  - `parse_cas_me2(manual_dir) -> Release`
  - `find_samm_workbook`, `find_cas_me2_workbook`, `read_samm_workbook`,
    `read_cas_me2_workbook` for the workbook alone.
Frame numbers are 1-based and inclusive; apex -1 means unknown.
"""
import collections
import dataclasses
import fnmatch
import math
import os
import re
from typing import Any, Sequence

from mespot_jax.data import video_io
from mespot_jax.data.source import Interval
from mespot_jax.errors import InputError

SAMM_SHEET = "FACS_Movement_Only"
SAMM_COLUMNS = ("Subject", "Filename", "Onset", "Apex", "Offset", "Type")
SAMM_WORKBOOK_PATTERNS = ("SAMM_LongVideos_V*_Release.xlsx", "*SAMM*LV*.xlsx",
                          "SAMMLV_gt.xlsx")
CAS_WORKBOOK_PATTERNS = ("CAS(ME)^2code_final.xlsx", "code_final.xlsx",
                         "*code_final*.xlsx")

# Every policy name, so that metadata shows zeros for quirks not met.
POLICIES = (
    "fractional_frame_rounded",        # round half up
    "onset_zero_set_to_one",           # frame 0 does not exist
    "apex_unknown_kept",               # apex -1 stays -1
    "offset_zero_used_apex",           # CAS(ME)^2: offset 0 = missing
    "offset_before_apex_set_to_apex",  # offset := apex
    "onset_after_offset_swapped",      # swap onset and offset
    "apex_outside_interval_set_unknown",  # apex := -1
    "offset_past_last_frame_clamped",  # offset := last frame
    "label_past_last_frame_dropped",   # onset past the last frame: dropped
    "video_without_labels_kept",       # kept, all neutral
    "labelled_video_missing_dropped",  # labels of a video not on disk
)


@dataclasses.dataclass(frozen=True)
class VideoAnnotation:
  """One long video of a release and its labelled intervals.

  Attributes:
    video: video id (`006_1` for SAMM-LV, `15_0101` for CAS(ME)^2).
    subject: subject id (`006`, `s15`).
    frames_dir: the frame folder, or a video file (`.mp4`/`.avi`) when the
      user holds the release as videos.
    num_frames: frames on disk (a video file's header count).
    intervals: labelled intervals sorted by onset, policies applied.
  """
  video: str
  subject: str
  frames_dir: str
  num_frames: int
  intervals: list[Interval]


# (video id, subject id, interval) read from one workbook row.
Row = tuple[str, str, Interval]


@dataclasses.dataclass
class Release:
  """A parsed release: its videos (in natural order) and policy counts."""
  workbook: str
  videos: list[VideoAnnotation]
  policies: collections.Counter


def new_policies() -> collections.Counter:
  """Returns a Counter holding every policy name at zero."""
  return collections.Counter({name: 0 for name in POLICIES})


def natural_key(text: str) -> tuple:
  """Sort key that orders digit runs by value (`006_2` < `006_10`)."""
  return tuple(int(t) if t.isdigit() else t
               for t in re.split(r"(\d+)", text))


# ---------------------------------------------------------------- cells


def _where(path: str, sheet: str, row: int) -> str:
  return f"{path}: sheet {sheet!r} row {row}"


def _frame_cell(value: Any, column: str, where: str,
                policies: collections.Counter, lowest: int = 0) -> int:
  """A frame number cell -> int; fractions round half up (counted)."""
  number = value
  if isinstance(value, str):
    try:
      number = float(value.strip())
    except ValueError:
      number = None
  if (isinstance(number, bool) or not isinstance(number, (int, float))
      or not math.isfinite(number) or number < lowest):
    raise InputError(f"{where}: column {column!r} is {value!r}, expected a "
                     f"frame number >= {lowest}")
  if number != int(number):
    policies["fractional_frame_rounded"] += 1
    return int(math.floor(number + 0.5))
  return int(number)


def _int_cell(value: Any, column: str, where: str) -> int:
  """An integer id cell (subject number, video code)."""
  if isinstance(value, str) and value.strip().isdigit():
    return int(value.strip())
  if (isinstance(value, (int, float)) and not isinstance(value, bool)
      and value == int(value)):
    return int(value)
  raise InputError(f"{where}: column {column!r} is {value!r}, expected an "
                   "integer")


def _text_cell(value: Any) -> str:
  """Text cell; numbers that are integers lose their `.0`."""
  if value is None:
    return ""
  if isinstance(value, float) and value == int(value):
    value = int(value)
  return str(value).strip()


def _interval_type(value: Any, column: str, where: str) -> str:
  """`Macro`, `Micro - 1/2`, `macro-expression` ... -> `macro`/`micro`."""
  text = _text_cell(value).lower()
  for kind in ("micro", "macro"):
    if text.startswith(kind):
      return kind
  raise InputError(f"{where}: column {column!r} is {value!r}, expected a type "
                   "starting with 'Macro' or 'Micro'")


def _is_empty(row: Sequence[Any]) -> bool:
  return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _open_workbook(path: str):
  import openpyxl  # pylint: disable=g-import-not-at-top
  try:
    return openpyxl.load_workbook(path, read_only=True, data_only=True)
  except Exception as e:  # zipfile/KeyError/InvalidFileException...
    raise InputError(f"{path}: cannot read the workbook ({e}); expected an "
                     ".xlsx file") from e


def _find_file(folder: str, patterns: Sequence[str], what: str) -> list[str]:
  """Files in `folder` (then its subfolders) matching a pattern, in order."""
  if not os.path.isdir(folder):
    raise InputError(f"{folder}: manual_dir does not exist; expected the "
                     f"folder holding the {what}")
  for root in [folder] + sorted(
      os.path.join(folder, d) for d in os.listdir(folder)
      if os.path.isdir(os.path.join(folder, d))):
    names = sorted(n for n in os.listdir(root) if not n.startswith((".", "~$")))
    for pattern in patterns:
      hits = [n for n in names if fnmatch.fnmatch(n.lower(), pattern.lower())]
      if hits:
        return [os.path.join(root, n) for n in hits]
  return []


# ---------------------------------------------------------------- disk

def _videos_in(folder: str, pattern: str) -> dict[str, str]:
  """Video id -> path for subfolders (or, failing that, video files) of
  `folder` whose name matches `pattern` (group 1 = the video id)."""
  out, files = {}, {}
  for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
    path = os.path.join(folder, name)
    stem, ext = os.path.splitext(name)
    if os.path.isdir(path) and (m := re.match(pattern, name)):
      out.setdefault(m.group(1), path)
    elif (ext.lower() in video_io.VIDEO_EXTENSIONS
          and (m := re.match(pattern, stem))):
      files.setdefault(m.group(1), path)
  for video, path in files.items():  # A frame folder wins over a video.
    out.setdefault(video, path)
  return out


# ---------------------------------------------------------------- SAMM-LV


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


# ---------------------------------------------------------------- CAS(ME)^2


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


# ---------------------------------------------------------------- shared


def clamp_to_frames(intervals: Sequence[Interval], num_frames: int,
                    policies: collections.Counter) -> list[Interval]:
  """Range policy: labels past the video's last frame.

  An interval whose onset lies past the last frame is dropped; one whose
  offset does is clamped to the last frame (an apex beyond it becomes -1).

  Args:
    intervals: intervals with onset <= offset.
    num_frames: frames of the video.
    policies: counter updated with what was done.

  Returns:
    The kept intervals.
  """
  out = []
  for iv in intervals:
    if iv.onset > num_frames:
      policies["label_past_last_frame_dropped"] += 1
      continue
    if iv.offset > num_frames:
      policies["offset_past_last_frame_clamped"] += 1
      iv = dataclasses.replace(iv, offset=num_frames)
      if iv.apex > num_frames:
        policies["apex_outside_interval_set_unknown"] += 1
        iv = dataclasses.replace(iv, apex=-1)
    out.append(iv)
  return out


def _apply_policies(intervals: list[Interval], num_frames: int,
                    policies: collections.Counter) -> list[Interval]:
  """Order, apex and range policies shared by both releases, sorted."""
  out = []
  for iv in intervals:
    if iv.onset > iv.offset:
      policies["onset_after_offset_swapped"] += 1
      iv = dataclasses.replace(iv, onset=iv.offset, offset=iv.onset)
    if iv.apex == -1:
      policies["apex_unknown_kept"] += 1
    elif not iv.onset <= iv.apex <= iv.offset:
      policies["apex_outside_interval_set_unknown"] += 1
      iv = dataclasses.replace(iv, apex=-1)
    out.append(iv)
  out = clamp_to_frames(out, num_frames, policies)
  return sorted(out, key=lambda iv: (iv.onset, iv.offset, iv.type))


def _assemble(workbook: str, rows: list[Row], on_disk: dict[str, str],
              subjects: dict[str, str],
              policies: collections.Counter) -> Release:
  """Joins labels with the videos on disk, applying the range policies."""
  if not on_disk:
    raise InputError(f"{workbook}: no video of the release was found beside "
                     "the workbook; see the builder's README for the layout")
  labels = collections.defaultdict(list)
  for video, subject, interval in rows:
    labels[video].append(interval)
    if video in on_disk:
      subjects[video] = subject  # The workbook's subject wins.
    else:
      policies["labelled_video_missing_dropped"] += 1
  out = []
  for video in sorted(on_disk, key=natural_key):
    path = on_disk[video]
    num_frames = video_io.probe(path)["num_frames"]
    if num_frames <= 0:
      raise InputError(f"{path}: the video reports {num_frames} frames; "
                       "expected a readable video or frame folder")
    if not labels.get(video):
      policies["video_without_labels_kept"] += 1
    ivs = _apply_policies(labels.get(video, []), num_frames, policies)
    out.append(VideoAnnotation(video, subjects[video], path, num_frames, ivs))
  return Release(workbook, out, policies)
