"""Shared parts of the release parsers: records, policies, cell readers.

Every quirk policy is counted in a `policies` Counter (names in `POLICIES`)
that the builders store in the dataset metadata. Frame numbers are 1-based
and inclusive; apex -1 means unknown.
"""
import collections
import dataclasses
import fnmatch
import math
import os
import re
from typing import Any, Sequence

from mespot_jax.data import video_io
from mespot_jax.data.schema import Interval
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
    first_frame: the release's number of the first frame (CAS(ME)^3's
      numbers start anywhere).
  """
  video: str
  subject: str
  frames_dir: str
  num_frames: int
  intervals: list[Interval]
  first_frame: int = 1


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
