"""Shared parts of the recognition release parsers (CASME II, SAMM, SMIC, CK+).

A recognition release is a table of clips (one row each: subject, clip
name, onset, apex, offset, emotion) and one frame folder per clip. The
parsers in `casme2.py`, `samm_me.py`, `smic.py` and `ckplus.py` read their
table with `read_table` (the header row is found by its cells, columns by
name), find the frame folders, and turn each row into a `ClipAnnotation`
with `finish_clip`, which applies the frame-range policies in one place.
Every policy is counted in a `policies` Counter (names below) that the
builders store in `info.metadata["policies"]`.

Frame numbers are those of the release's file names (`img46.jpg` is frame
46; `006_05562.jpg` is frame 5562), read as numbers and never sorted
lexically.
"""
import collections
import csv
import dataclasses
import math
import os
import re
from typing import Any, Iterable, Sequence

from mespot_jax.data import video_io
from mespot_jax.data.annotations.common import (
    _is_empty, _open_workbook, _text_cell, _where, natural_key)
from mespot_jax.errors import InputError

# Policies shared by every recognition parser (each parser adds its own).
CLIP_POLICIES = (
    "preamble_rows_skipped",            # rows above the header row
    "fractional_frame_rounded",         # round half up
    "apex_missing_used_middle",         # apex `/`, empty or -1: middle frame
    "apex_outside_clip_used_middle",    # apex outside onset..offset
    "onset_after_offset_swapped",
    "offset_missing_used_last_frame",   # offset `/`, empty, 0 or -1
    "onset_before_first_frame_clamped",  # onset := first frame on disk
    "offset_past_last_frame_clamped",   # offset := last frame on disk
    "clip_folder_missing_dropped",      # a row whose frames are not on disk
    "clip_folder_unlabelled_ignored",   # a frame folder without a row
    "duplicate_row_dropped",            # same subject and clip twice
    "frame_order_numeric_not_lexical",  # clips whose names sort differently
)
# Cells that mean "not annotated" in a frame column.
_MISSING = {"", "/", "-", "--", "n/a", "na", "none", "null"}


@dataclasses.dataclass(frozen=True)
class ClipAnnotation:
  """One recognition clip of a release, its policies applied.

  Attributes:
    source: source dataset (`casme_ii`, `samm`, `smic_hs`, `ck_plus`, ...).
    subject: subject id as released (`sub01`, `006`, `s1`, `S005`).
    clip: clip name as released (`EP02_01f`, `006_1_2`, `s1_ne_01`, `001`).
    frames_dir: the clip's frame folder.
    fps: frame rate.
    first_frame: number of the first frame file on disk.
    num_frames: frame files on disk (consecutive numbers).
    onset: onset frame number (release numbering, inside the clip).
    apex: apex frame number (the middle frame where not annotated).
    offset: offset frame number.
    apex_annotated: False where the apex is the middle frame by policy.
    emotion: the emotion as released (`happiness`, `Anger`, `negative`).
    au: action units as released.
  """
  source: str
  subject: str
  clip: str
  frames_dir: str
  fps: float
  first_frame: int
  num_frames: int
  onset: int
  apex: int
  offset: int
  apex_annotated: bool
  emotion: str
  au: str = ""

  @property
  def last_frame(self) -> int:
    return self.first_frame + self.num_frames - 1


@dataclasses.dataclass
class ClipRelease:
  """A parsed recognition release: its clips (sorted) and policy counts."""
  table: str
  clips: list[ClipAnnotation]
  policies: collections.Counter


def new_policies(extra: Iterable[str] = ()) -> collections.Counter:
  """A Counter holding every shared policy name (and `extra`) at zero."""
  return collections.Counter({n: 0 for n in (*CLIP_POLICIES, *extra)})


def norm(name: Any) -> str:
  """Header cell -> comparison key: lower case, letters and digits only."""
  return re.sub(r"[^a-z0-9]", "", _text_cell(name).lower())


def read_table(path: str, columns: dict[str, Sequence[str]],
               optional: Sequence[str] = (), sheet: str | None = None,
               policies: collections.Counter | None = None
               ) -> list[tuple[str, dict[str, Any]]]:
  """Reads a workbook sheet whose header row is found by its cells.

  The header is the first row holding a cell for every required column
  (any of its aliases, compared by `norm`), so preamble rows and column
  order may differ between copies; rows above it are counted in
  `preamble_rows_skipped`.

  Args:
    path: the `.xlsx` workbook, or a sheet saved as `.csv`.
    columns: column key -> accepted header names (`{"onset": ("OnsetFrame",
      "Onset Frame")}`).
    optional: keys of `columns` that may be absent (their value is None).
    sheet: sheet name; default: the first sheet that has such a header.
    policies: counter updated with `preamble_rows_skipped`.

  Returns:
    `(where, {key: cell})` per non-empty data row; `where` names the file,
    sheet and 1-based row for error messages.
  """
  wb = None if path.lower().endswith(".csv") else _open_workbook(path)
  try:
    if wb is None:  # A sheet exported as CSV: one sheet, cells as text.
      titles = ["csv"]
    else:
      titles = [sheet] if sheet else list(wb.sheetnames)
      if sheet and sheet not in wb.sheetnames:
        raise InputError(f"{path}: no sheet {sheet!r} (has {wb.sheetnames})")
    for title in titles:
      rows = (_csv_rows(path) if wb is None
              else list(wb[title].iter_rows(values_only=True)))
      found = _find_header(rows, columns, optional)
      if found is not None:
        break
    else:
      wanted = ", ".join(repr(v[0]) for k, v in columns.items()
                         if k not in optional)
      raise InputError(f"{path}: no sheet has a header row with the cells "
                       f"{wanted}; expected the release's annotation table")
  finally:
    if wb is not None:
      wb.close()
  at, col = found
  if policies is not None:
    policies["preamble_rows_skipped"] += at
  out = []
  for i in range(at + 1, len(rows)):
    r = tuple(rows[i]) + (None,) * (max(
        (c for c in col.values() if c is not None), default=0) + 1)
    if _is_empty(r):
      continue
    out.append((_where(path, title, i + 1),
                {k: (None if c is None else r[c]) for k, c in col.items()}))
  return out


def _csv_rows(path: str) -> list[tuple]:
  """The rows of a CSV file (a sheet saved as CSV; UTF-8, BOM allowed)."""
  try:
    with open(path, newline="", encoding="utf-8-sig") as f:
      return [tuple(r) for r in csv.reader(f)]
  except (OSError, UnicodeDecodeError, csv.Error) as e:
    raise InputError(f"{path}: cannot read the CSV file ({e}); expected a "
                     "UTF-8 sheet saved as CSV") from e


def _find_header(rows, columns, optional):
  for at, row in enumerate(rows):
    cells = [norm(v) for v in row]
    col = {}
    for key, aliases in columns.items():
      keys = {norm(a) for a in aliases}
      hits = [i for i, c in enumerate(cells) if c in keys]
      col[key] = hits[0] if hits else None
    if all(col[k] is not None for k in columns if k not in optional):
      return at, col
  return None


def frame_or_none(value: Any, column: str, where: str,
                  policies: collections.Counter) -> int | None:
  """A frame-number cell -> int, or None where it says "not annotated".

  `/`, `-`, an empty cell and -1 are "not annotated"; fractions round half
  up (counted).

  Args:
    value: the cell.
    column: column name, for errors.
    where: file, sheet and row, for errors.
    policies: counter updated with `fractional_frame_rounded`.

  Returns:
    The frame number, or None.
  """
  if value is None or (isinstance(value, str)
                       and value.strip().lower() in _MISSING):
    return None
  number = value
  if isinstance(value, str):
    try:
      number = float(value.strip())
    except ValueError:
      number = None
  if (isinstance(number, bool) or not isinstance(number, (int, float))
      or not math.isfinite(number) or number < -1):
    raise InputError(f"{where}: column {column!r} is {value!r}, expected a "
                     "frame number (or '/' where not annotated)")
  if number == -1:
    return None
  if number != int(number):
    policies["fractional_frame_rounded"] += 1
    return int(math.floor(number + 0.5))
  return int(number)


def list_clip_frames(folder: str, policies: collections.Counter
                     ) -> tuple[int, int]:
  """First frame number and frame count of a clip folder.

  Args:
    folder: a folder of numbered images (consecutive numbers).
    policies: counter updated with `frame_order_numeric_not_lexical` when
      the names sort differently as text (`img9` after `img10`).

  Returns:
    `(first_frame, num_frames)`.
  """
  files = video_io.list_frame_files(folder)
  names = [os.path.basename(p) for _, p in files]
  if names != sorted(names):
    policies["frame_order_numeric_not_lexical"] += 1
  return files[0][0], len(files)


def image_folders(root: str) -> dict[str, list[str]]:
  """Lower-cased folder name -> paths of every folder under `root` that
  directly holds images, in sorted order."""
  out = collections.defaultdict(list)
  for path, dirs, files in os.walk(root):
    dirs.sort()
    if any(os.path.splitext(f)[1].lower() in video_io.IMAGE_EXTENSIONS
           for f in files):
      out[os.path.basename(path).lower()].append(path)
  return out


def finish_clip(source: str, subject: str, clip: str, frames_dir: str,
                fps: float, onset: int | None, apex: int | None,
                offset: int | None, emotion: str, au: str, where: str,
                policies: collections.Counter,
                apex_policy: str = "apex_missing_used_middle"
                ) -> ClipAnnotation:
  """Joins a row with its frames on disk, applying the range policies.

  In order: a missing offset becomes the last frame on disk; onset after
  offset is swapped; onset before the first frame and offset past the last
  are clamped to the frames on disk; a missing apex, or one outside
  onset..offset, becomes the middle frame `(onset + offset) // 2`. Each is
  counted.

  Args:
    source: source dataset name.
    subject: subject id as released.
    clip: clip name as released.
    frames_dir: the clip's frame folder.
    fps: frame rate.
    onset: onset frame, or None where missing (then the first frame).
    apex: apex frame, or None where not annotated.
    offset: offset frame, or None where missing.
    emotion: emotion as released.
    au: action units as released.
    where: file and row, for errors.
    policies: the counter.
    apex_policy: the counter name for a missing apex (SMIC has none).

  Returns:
    The clip.
  """
  first, count = list_clip_frames(frames_dir, policies)
  last = first + count - 1
  if onset is None:
    raise InputError(f"{where}: the onset frame is missing; expected a "
                     "frame number")
  if offset is None or offset == 0:
    policies["offset_missing_used_last_frame"] += 1
    offset = last
  if onset > offset:
    policies["onset_after_offset_swapped"] += 1
    onset, offset = offset, onset
  if onset > last or offset < first:
    raise InputError(
        f"{where}: clip {clip} is labelled {onset}..{offset} but its folder "
        f"{frames_dir} holds frames {first}..{last}; expected the label "
        "inside the frames on disk")
  if onset < first:
    policies["onset_before_first_frame_clamped"] += 1
    onset = first
  if offset > last:
    policies["offset_past_last_frame_clamped"] += 1
    offset = last
  annotated = apex is not None
  if apex is None:
    policies[apex_policy] += 1
    apex = (onset + offset) // 2
  elif not onset <= apex <= offset:
    policies["apex_outside_clip_used_middle"] += 1
    apex, annotated = (onset + offset) // 2, False
  return ClipAnnotation(source=source, subject=subject, clip=clip,
                        frames_dir=frames_dir, fps=fps, first_frame=first,
                        num_frames=count, onset=onset, apex=apex,
                        offset=offset, apex_annotated=annotated,
                        emotion=emotion, au=au)


def dedupe_and_sort(clips: list[ClipAnnotation],
                    policies: collections.Counter) -> list[ClipAnnotation]:
  """Drops repeated (subject, clip) rows (counted), sorts naturally."""
  seen, out = set(), []
  for c in clips:
    key = (c.subject.lower(), c.clip.lower())
    if key in seen:
      policies["duplicate_row_dropped"] += 1
      continue
    seen.add(key)
    out.append(c)
  return sorted(out, key=lambda c: (natural_key(c.subject),
                                    natural_key(c.clip)))


def subject_number(value: Any, column: str, where: str) -> int:
  """A subject cell (`1`, `01`, `sub01`, `s1`, 6.0) -> its number."""
  text = _text_cell(value)
  m = re.fullmatch(r"[A-Za-z]*\s*0*(\d+)", text)
  if not m:
    raise InputError(f"{where}: column {column!r} is {value!r}, expected a "
                     "subject number such as 1, 01 or sub01")
  return int(m.group(1))


def subject_dirs(folder: str, pattern: re.Pattern) -> dict[int, str]:
  """Subject number -> subfolder of `folder` whose name matches `pattern`
  (group 1 = the number)."""
  out = {}
  for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
    m = pattern.match(name)
    if m and os.path.isdir(os.path.join(folder, name)):
      out.setdefault(int(m.group(1)), os.path.join(folder, name))
  return out


def find_frames_root(manual_dir: str, pattern: re.Pattern,
                     prefer: Sequence[str], what: str) -> str:
  """The folder holding a release's subject folders.

  Looks in `manual_dir` and two levels below it for folders that hold
  subfolders matching `pattern`; among several, one whose name contains a
  `prefer` word (earlier words first) wins, then the first in sorted order.

  Args:
    manual_dir: where to look.
    pattern: subject folder names (`sub01`, `006`).
    prefer: words ranking the candidates (`selected`, `raw`).
    what: the release, for the error message.

  Returns:
    The folder.
  """
  levels, frontier = [manual_dir], [manual_dir]
  for _ in range(2):
    frontier = [os.path.join(p, d) for p in frontier
                for d in sorted(os.listdir(p))
                if os.path.isdir(os.path.join(p, d))]
    levels += frontier
  found = [p for p in levels if subject_dirs(p, pattern)]
  if not found:
    raise InputError(f"{manual_dir}: no folder of subject folders for "
                     f"{what}; see the builder's README for the layout")
  return min(found, key=lambda p: (
      [w not in os.path.basename(p).lower() for w in prefer], p))


def clip_folders(root: str, pattern: re.Pattern) -> dict[tuple[int, str],
                                                          str]:
  """(subject number, lower-cased clip folder name) -> path, for the clip
  folders inside the subject folders of `root`."""
  return {(n, d.lower()): os.path.join(path, d)
          for n, path in subject_dirs(root, pattern).items()
          for d in sorted(os.listdir(path))
          if os.path.isdir(os.path.join(path, d))}


def release_from_rows(workbook: str, rows, on_disk: dict, *, source: str,
                      fps: float, subject_id, check_name, frame_columns,
                      policies: collections.Counter) -> ClipRelease:
  """The clips of a workbook whose rows name a subject and a clip folder.

  Shared by the parsers whose table has `subject`, `clip`, `onset`, `apex`,
  `offset`, `emotion` and `au` columns and whose frames are in
  `<subject folder>/<clip name>/` (CASME II, SAMM): a row whose folder is
  not on disk is dropped, a folder no row names is ignored (both counted),
  and each clip goes through `finish_clip`.

  Args:
    workbook: the table's path (kept in the release).
    rows: `read_table` rows, (where, {column: cell}).
    on_disk: `clip_folders` of the frames root.
    source: source dataset name.
    fps: the release's frame rate.
    subject_id: subject number -> subject id as released ("sub01", "006").
    check_name: `(clip name, where)`; raises InputError for a bad name.
    frame_columns: the workbook's names of the onset, apex and offset
      columns (for messages).
    policies: the release's counter.

  Returns:
    The release, clips de-duplicated and sorted.
  """
  used, clips = set(), []
  for where, r in rows:
    number = subject_number(r["subject"], "Subject", where)
    name = _text_cell(r["clip"])
    check_name(name, where)
    folder = on_disk.get((number, name.lower()))
    if folder is None:
      policies["clip_folder_missing_dropped"] += 1
      continue
    used.add((number, name.lower()))
    onset, apex, offset = (
        frame_or_none(r[k], col, where, policies)
        for k, col in zip(("onset", "apex", "offset"), frame_columns))
    clips.append(finish_clip(
        source, subject_id(number), name, folder, fps, onset, apex, offset,
        _text_cell(r["emotion"]), _text_cell(r["au"]), where, policies))
  policies["clip_folder_unlabelled_ignored"] += len(set(on_disk) - used)
  return ClipRelease(workbook, dedupe_and_sort(clips, policies), policies)
