"""CAS(ME)^3 Part A: its label tables and `data/part_A/spNO.<n>/<v>/color/`.

Labels come from the two JpgIndex tables of the release, which carry the
emotions: `cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx` (micro) and
`cas(me)3_part_A_MaE_label_JpgIndex_v2_emotion.xlsx` (macro). Without them,
from the combined table `CAS(ME)3_part_A_v2.xlsx` (both types, no emotion).
When both kinds are there, the combined table is compared with the rows read
and what differs is counted and logged: users report tables that disagree
(462 vs 463 videos). Any table may be its sheet saved as `.csv`; `.xls` is
not read (openpyxl reads `.xlsx` only).

Frame numbers in the tables are the jpg file numbers ("JpgIndex"), which
may start anywhere (0, 1, 100, ...) and skip dropped frames; they are mapped
here to 1-based positions among the files on disk. Every repair is counted
in `policies` (names: `common.POLICIES` and `POLICIES` below).
"""
import bisect
import collections
import dataclasses
import fnmatch
import os
import re

from absl import logging

from mespot_jax.data import video_io
from mespot_jax.data.annotations import clip_common
from mespot_jax.data.annotations.common import (
    Release, VideoAnnotation, _frame_cell, _interval_type, _text_cell,
    natural_key, new_policies)
from mespot_jax.data.schema import Interval
from mespot_jax.errors import InputError

SOURCE = "cas_me3"
FPS = 30.0
# Label tables by kind, most specific first; among several hits of a
# pattern the last name in sorted order (the latest version) is read.
TABLES = {
    "micro": ("*part_a_me_label*.xlsx", "*part_a_me_label*.csv"),
    "macro": ("*part_a_mae_label*.xlsx", "*part_a_mae_label*.csv"),
    "combined": ("*part_a_v*.xlsx", "*part_a_v*.csv"),
}
COLUMNS = {
    "subject": ("Subject", "sub"),
    "video": ("Filename", "seq", "video"),
    "onset": ("Onset", "OnsetFrame", "Onset Frame"),
    "apex": ("Apex", "ApexFrame", "Apex Frame"),
    "offset": ("Offset", "OffsetFrame", "Offset Frame"),
    "au": ("AU", "AUs", "Action Units"),
    "emotion": ("emotion", "Estimated Emotion"),
    "type": ("Expression type", "Type"),
}
OPTIONAL = ("apex", "au", "emotion", "type")
# Policies of this release, beside those of `common.POLICIES`.
POLICIES = (
    "video_name_case_folded",         # Filename `A` -> folder `a`
    "duplicate_row_dropped",          # same video, type, onset and offset
    "frame_numbers_with_gaps",        # videos whose file numbers skip
    "frames_missing_in_gaps",         # numbers missing inside those videos
    "label_frame_in_gap_snapped",     # onset/offset not on disk: moved inward
    "label_inside_gap_dropped",       # no frame on disk inside the label
    "onset_before_first_frame_clamped",
    "label_before_first_frame_dropped",
    "apex_frame_missing_set_unknown",  # apex number not on disk: -1
    "label_rows_not_in_other_table",  # rows read, absent from the other
    "other_table_rows_not_read",      # rows of the other table, not read
)
_SUBJECT_DIR = re.compile(r"^spNO\.(\d+)$", re.IGNORECASE)
_SKIP_DIRS = ("color", "depth")

# (subject number, video letter, type, onset, apex, offset, emotion, au),
# frame numbers as in the table (JpgIndex).
LabelRow = tuple[int, str, str, int, int, int, str, str]


@dataclasses.dataclass
class Cas3Release(Release):
  """A parsed release, plus what spotting and clips need beyond `Release`.

  Attributes:
    numbers: video id -> its frame file numbers on disk, sorted.
    label_files: which tables were read and compared, and their counts.
  """
  numbers: dict = dataclasses.field(default_factory=dict)
  label_files: dict = dataclasses.field(default_factory=dict)


def subject_id(number: int) -> str:
  return f"spNO.{number}"


def video_id(number: int, letter: str) -> str:
  """`spNO.1_a`: the subject folder and the video folder."""
  return f"{subject_id(number)}_{letter}"


def _walk(manual_dir: str, depth: int):
  """(folder, subfolders, files) down to `depth` levels, breadth first (the
  shallowest match wins), not entering the subject or frame folders
  (millions of frames in the real release)."""
  queue = collections.deque([(manual_dir, 0)])
  while queue:
    folder, level = queue.popleft()
    try:
      names = sorted(os.listdir(folder))
    except OSError:
      continue
    dirs = [n for n in names if os.path.isdir(os.path.join(folder, n))]
    yield folder, dirs, [n for n in names if n not in dirs]
    if level < depth:
      queue.extend((os.path.join(folder, d), level + 1) for d in dirs
                   if not _SUBJECT_DIR.match(d)
                   and d.lower() not in _SKIP_DIRS)


def find_tables(manual_dir: str) -> dict[str, list[str]]:
  """The label tables under `manual_dir` (three levels down), by kind.

  Args:
    manual_dir: the release folder (`part_A/`, its parent, or a folder
      holding the tables beside `data/`).

  Returns:
    kind (`micro`, `macro`, `combined`; `xls` for `.xls` copies, which are
    listed as ignored) -> paths sorted by name.

  Raises:
    InputError: `manual_dir` is missing, or only `.xls` tables are there.
  """
  if not os.path.isdir(manual_dir):
    raise InputError(f"{manual_dir}: manual_dir does not exist; expected the "
                     "CAS(ME)^3 Part A folder (annotation/ and data/part_A/)")
  found, xls = collections.defaultdict(list), []
  for folder, _, files in _walk(manual_dir, 3):
    for name in files:
      low = name.lower()
      if low.startswith((".", "~$")):
        continue
      if low.endswith(".xls") and "part_a" in low:
        xls.append(os.path.join(folder, name))
      for kind, patterns in TABLES.items():
        if any(fnmatch.fnmatch(low, p) for p in patterns):
          found[kind].append(os.path.join(folder, name))
          break
  if xls and found:
    found["xls"] = xls  # reported as ignored
  elif xls:
    raise InputError(
        f"{xls[0]}: .xls tables cannot be read (openpyxl reads .xlsx only); "
        "open it and save it as .xlsx or .csv (UTF-8) in the same folder")
  return {k: sorted(v, key=os.path.basename) for k, v in found.items()}


def read_table(path: str, kind: str | None,
               policies: collections.Counter) -> list[LabelRow]:
  """Reads one label table (`.xlsx`, or its sheet saved as `.csv`).

  The header row is found by its cells and columns by name (`Subject` or
  `sub`, `Filename` or `seq`, `Onset`, `Apex`, `Offset`, and where present
  `AU`, `emotion`, `Expression type`). An offset of 0 is a missing offset:
  the apex is used (counted); an empty apex is unknown (-1).

  Args:
    path: the table.
    kind: `micro` or `macro` for the ME / MaE tables; None for the combined
      table, whose `Expression type` column gives it.
    policies: counter updated with the quirks met.

  Returns:
    One `LabelRow` per data row, in table order.
  """
  optional = OPTIONAL if kind else tuple(k for k in OPTIONAL if k != "type")
  out = []
  for where, cells in clip_common.read_table(path, COLUMNS, optional):
    subject = _text_cell(cells["subject"])
    m = re.search(r"(\d+)$", subject)
    if not m:
      raise InputError(f"{where}: column 'Subject' is {subject!r}, expected "
                       "a subject such as 'spNO.1'")
    video = _text_cell(cells["video"])
    if not video:
      raise InputError(f"{where}: column 'Filename' is empty; expected a "
                       "video folder name such as 'a'")
    if video.lower() != video:
      policies["video_name_case_folded"] += 1
    onset = _frame_cell(cells["onset"], "Onset", where, policies)
    apex = clip_common.frame_or_none(cells["apex"], "Apex", where, policies)
    apex = -1 if apex is None else apex
    offset = _frame_cell(cells["offset"], "Offset", where, policies)
    if offset == 0 and onset > 0:
      if apex < 0:
        raise InputError(f"{where}: offset and apex are both missing; "
                         "expected a frame number in one of them")
      policies["offset_zero_used_apex"] += 1
      offset = apex
    typ = kind or _interval_type(cells["type"], "Expression type", where)
    out.append((int(m.group(1)), video.lower(), typ, onset, apex, offset,
                _text_cell(cells["emotion"]), _text_cell(cells["au"])))
  return out


def _key(row: LabelRow) -> tuple:
  return row[:4] + row[5:6]  # subject, video, type, onset, offset


def _counts(rows: list[LabelRow]) -> dict:
  types = collections.Counter(r[2] for r in rows)
  return dict(rows=len(rows), micro=types["micro"], macro=types["macro"],
              videos=len({r[:2] for r in rows}),
              subjects=len({r[0] for r in rows}))


def read_labels(manual_dir: str, policies: collections.Counter
                ) -> tuple[list[LabelRow], dict]:
  """The label rows to use, and which tables were read and compared.

  Args:
    manual_dir: the release folder.
    policies: counter updated with the quirks met and the differences
      between the tables.

  Returns:
    (rows without duplicates, `label_files` summary: `read`, `compared`,
    counts of each, and the first rows only in one of them).
  """
  tables = find_tables(manual_dir)
  pair = [tables[k][-1] for k in ("micro", "macro") if k in tables]
  if pair:
    read, kinds = pair, [k for k in ("micro", "macro") if k in tables]
    other = tables.get("combined", [None])[-1]
  elif "combined" in tables:
    read, kinds, other = [tables["combined"][-1]], [None], None
  else:
    raise InputError(
        f"{manual_dir}: no CAS(ME)^3 label table; expected "
        "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx and/or "
        "cas(me)3_part_A_MaE_label_JpgIndex_v2_emotion.xlsx (or "
        "CAS(ME)3_part_A_v2.xlsx; a sheet saved as .csv also works)")
  rows, seen = [], set()
  for path, kind in zip(read, kinds):
    for row in read_table(path, kind, policies):
      if _key(row) in seen:
        policies["duplicate_row_dropped"] += 1
        continue
      seen.add(_key(row))
      rows.append(row)
  summary = dict(read=[os.path.basename(p) for p in read],
                 read_counts=_counts(rows),
                 ignored=[os.path.basename(p) for k in tables
                          for p in tables[k] if p not in read and p != other])
  if other is not None:
    try:
      others = read_table(other, None, collections.Counter())
    except InputError as e:  # only compared: it does not stop the build
      logging.warning("cas_me3: the table to compare is unreadable: %s", e)
      summary.update(compared=os.path.basename(other), compared_error=str(e))
      other = None
  if other is not None:
    theirs = {_key(r) for r in others}
    only_read = [r for r in rows if _key(r) not in theirs]
    only_other = sorted({_key(r) for r in others} - seen)
    policies["label_rows_not_in_other_table"] += len(only_read)
    policies["other_table_rows_not_read"] += len(only_other)
    show = lambda k: f"{video_id(k[0], k[1])} {k[2]} {k[3]}-{k[4]}"
    summary.update(compared=os.path.basename(other),
                   compared_counts=_counts(others),
                   only_read=[show(_key(r)) for r in only_read[:20]],
                   only_compared=[show(k) for k in only_other[:20]])
    if only_read or only_other:
      logging.warning(
          "cas_me3: the label tables differ: read %s (%s), compared %s (%s);"
          " %d rows only in those read, %d only in %s (first: %s / %s)",
          summary["read"], summary["read_counts"], summary["compared"],
          summary["compared_counts"], len(only_read), len(only_other),
          summary["compared"], summary["only_read"][:3],
          summary["only_compared"][:3])
  logging.info("cas_me3: labels read from %s: %s", summary["read"],
               summary["read_counts"])
  return rows, summary


def find_frames_root(manual_dir: str) -> str:
  """The folder holding the subject folders `spNO.<n>/` (four levels down:
  `part_A/data/part_A/spNO.1`, `data/part_A_split/part_A/spNO.1`, ...)."""
  for folder, dirs, _ in _walk(manual_dir, 4):
    if any(_SUBJECT_DIR.match(d) for d in dirs):
      return folder
  raise InputError(
      f"{manual_dir}: no subject folder such as 'data/part_A/spNO.1/a/"
      "color/1.jpg' (searched four levels down); unzip the release's "
      "per-subject archives into manual_dir first")


def videos_on_disk(root: str) -> dict[tuple[int, str], str]:
  """(subject number, video letter) -> frame folder: `spNO.1/a/color/`, or
  `spNO.1/a/` itself where it holds the images."""
  out = {}
  for sub in sorted(os.listdir(root)):
    m = _SUBJECT_DIR.match(sub)
    if not m or not os.path.isdir(os.path.join(root, sub)):
      continue
    for name in sorted(os.listdir(os.path.join(root, sub))):
      folder = os.path.join(root, sub, name)
      if not os.path.isdir(folder):
        continue
      color = os.path.join(folder, "color")
      out.setdefault((int(m.group(1)), name.lower()),
                     color if os.path.isdir(color) else folder)
  return out


def to_positions(row: LabelRow, numbers: list[int],
                 policies: collections.Counter) -> Interval | None:
  """A label's file numbers -> 1-based positions among `numbers` (sorted).

  Args:
    row: the label (release numbers).
    numbers: the video's frame file numbers on disk.
    policies: counter updated with each repair.

  Returns:
    The interval in positions, or None where no frame of it is on disk.
  """
  _, _, typ, onset, apex, offset, emotion, au = row
  if onset > offset:
    policies["onset_after_offset_swapped"] += 1
    onset, offset = offset, onset
  if onset > numbers[-1]:
    policies["label_past_last_frame_dropped"] += 1
    return None
  if offset < numbers[0]:
    policies["label_before_first_frame_dropped"] += 1
    return None
  on_disk = set(numbers)
  if onset < numbers[0]:
    policies["onset_before_first_frame_clamped"] += 1
  elif onset not in on_disk:
    policies["label_frame_in_gap_snapped"] += 1
  if offset > numbers[-1]:
    policies["offset_past_last_frame_clamped"] += 1
  elif offset not in on_disk:
    policies["label_frame_in_gap_snapped"] += 1
  lo = bisect.bisect_left(numbers, onset)
  hi = bisect.bisect_right(numbers, offset) - 1
  if lo > hi:
    policies["label_inside_gap_dropped"] += 1
    return None
  position = -1
  if apex < 0:
    policies["apex_unknown_kept"] += 1
  elif not onset <= apex <= offset:
    policies["apex_outside_interval_set_unknown"] += 1
  elif apex not in on_disk:
    policies["apex_frame_missing_set_unknown"] += 1
  else:
    position = bisect.bisect_left(numbers, apex) + 1
  return Interval(type=typ, onset=lo + 1, offset=hi + 1, apex=position,
                  emotion=emotion, au=au)


def parse_cas_me3(manual_dir: str) -> Cas3Release:
  """Parses a CAS(ME)^3 Part A release: tables, frame folders, policies.

  Args:
    manual_dir: the release folder (see `find_tables`, `find_frames_root`).

  Returns:
    Every video found on disk (labelled or not), intervals in positions,
    and the frame numbers of each video.
  """
  policies = new_policies()
  policies.update({name: 0 for name in POLICIES})
  # CAS(ME)^2's repairs that do not apply: 0 is a file number here, and an
  # apex outside its interval becomes unknown instead.
  del policies["onset_zero_set_to_one"], policies[
      "offset_before_apex_set_to_apex"]
  rows, summary = read_labels(manual_dir, policies)
  root = find_frames_root(manual_dir)
  on_disk = videos_on_disk(root)
  labels = collections.defaultdict(list)
  for row in rows:
    if row[:2] in on_disk:
      labels[row[:2]].append(row)
    else:
      policies["labelled_video_missing_dropped"] += 1
  videos, numbers_of = [], {}
  for key in sorted(on_disk, key=lambda k: (k[0], natural_key(k[1]))):
    folder = on_disk[key]
    numbers = [n for n, _ in video_io.list_frame_files(folder,
                                                       allow_gaps=True)]
    missing = numbers[-1] - numbers[0] + 1 - len(numbers)
    if missing:
      policies["frame_numbers_with_gaps"] += 1
      policies["frames_missing_in_gaps"] += missing
    if not labels.get(key):
      policies["video_without_labels_kept"] += 1
    intervals = [iv for iv in (to_positions(r, numbers, policies)
                               for r in labels.get(key, [])) if iv]
    intervals.sort(key=lambda iv: (iv.onset, iv.offset, iv.type))
    video = video_id(*key)
    numbers_of[video] = numbers
    videos.append(VideoAnnotation(video, subject_id(key[0]), folder,
                                  len(numbers), intervals,
                                  first_frame=numbers[0]))
  summary["videos_on_disk"] = len(videos)
  return Cas3Release(workbook=", ".join(summary["read"]), videos=videos,
                     policies=policies, numbers=numbers_of,
                     label_files=summary)


def micro_clips(release: Cas3Release,
                policies: collections.Counter
                ) -> list[clip_common.ClipAnnotation]:
  """The micro-expression intervals of a parsed release as recognition
  clips: the frames onset..offset of their long video.

  Args:
    release: from `parse_cas_me3`.
    policies: counter updated with `apex_missing_used_middle`.

  Returns:
    One clip per micro interval, named `<video>_<onset>_<offset>` in file
    numbers (`spNO.1_a_1234_1245`); `first_frame`, `onset`, `apex`,
    `offset` are file numbers, `num_frames` the files between them.
  """
  out = []
  for v in release.videos:
    numbers = release.numbers[v.video]
    for iv in v.intervals:
      if iv.type != "micro":
        continue
      annotated = iv.apex != -1
      if not annotated:
        policies["apex_missing_used_middle"] += 1
      apex = iv.apex if annotated else (iv.onset + iv.offset) // 2
      first, last = numbers[iv.onset - 1], numbers[iv.offset - 1]
      out.append(clip_common.ClipAnnotation(
          source=SOURCE, subject=v.subject, clip=f"{v.video}_{first}_{last}",
          frames_dir=v.frames_dir, fps=FPS, first_frame=first,
          num_frames=iv.offset - iv.onset + 1, onset=first,
          apex=numbers[apex - 1], offset=last, apex_annotated=annotated,
          emotion=iv.emotion, au=iv.au))
  return out
