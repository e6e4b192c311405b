"""Interval CSV files: ground truth and predictions for spotting evaluation.

Format (one interval per row, header required, column order free, header
names matched without regard to case or surrounding spaces):

  video,type,onset,offset[,subject,apex,emotion,score]

- `type` is `micro` or `macro` in any case (stored lower-case).
- `onset` and `offset` are 1-based inclusive frame numbers, onset <= offset.
  Integral floats such as `12.0` (what pandas writes for an integer column
  with gaps) are accepted; `12.5` is not.
- `apex` is optional (empty or absent: -1 = unknown), `emotion` and `subject`
  are free text, `score` is an optional finite float (empty: no score).
- Unknown columns are ignored; blank lines are skipped.
- A file with a header and no rows is valid (zero intervals, e.g. a model
  that spotted nothing); a file without even a header is an error.

Every problem raises `InputError` naming the file and the 1-based line.
"""
import csv
import dataclasses
import math
import os
import re
from typing import Iterable

from mespot_jax import io_utils
from mespot_jax.errors import InputError

REQUIRED_COLUMNS = ("video", "type", "onset", "offset")
OPTIONAL_COLUMNS = ("subject", "apex", "emotion", "score")
INTERVAL_TYPES = ("micro", "macro")
_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# Column order of written files.
WRITE_COLUMNS = ("video", "subject", "type", "onset", "apex", "offset",
                 "emotion", "score")


@dataclasses.dataclass(frozen=True)
class IntervalRow:
  """One interval of a ground-truth or prediction CSV.

  Attributes:
    video: video name (the key that pairs predictions with ground truth).
    type: "micro" or "macro".
    onset: first frame, 1-based inclusive.
    offset: last frame, 1-based inclusive.
    subject: subject id, "" when unknown.
    apex: apex frame, -1 when unknown.
    emotion: emotion label, "" when unknown.
    score: confidence of a prediction, None when not given.
  """
  video: str
  type: str
  onset: int
  offset: int
  subject: str = ""
  apex: int = -1
  emotion: str = ""
  score: float | None = None


def _parse_frame(text: str, name: str, where: str) -> int:
  """Parses an integer frame number; integral floats such as 12.0 pass."""
  # Regexes rather than bare int()/float(), which also take "1_0" and "inf".
  if _INT_RE.fullmatch(text):
    return int(text)
  value = float(text) if _FLOAT_RE.fullmatch(text) else math.nan
  if not math.isfinite(value) or value != int(value):
    raise InputError(
        f"{where}: column '{name}' is {text!r}; expected an integer frame "
        "number")
  return int(value)


def _parse_row(fields: dict[str, str], where: str) -> IntervalRow:
  """Converts one CSV record (lower-cased column -> text) to an IntervalRow."""
  video = fields["video"]
  if not video:
    raise InputError(f"{where}: column 'video' is empty; expected a name")
  kind = fields["type"].lower()
  if kind not in INTERVAL_TYPES:
    raise InputError(
        f"{where}: column 'type' is {fields['type']!r}; expected 'micro' or "
        "'macro'")
  onset = _parse_frame(fields["onset"], "onset", where)
  offset = _parse_frame(fields["offset"], "offset", where)
  if onset < 1:
    raise InputError(
        f"{where}: onset {onset} < 1; expected 1-based frame numbers")
  if onset > offset:
    raise InputError(
        f"{where}: onset {onset} > offset {offset}; expected onset <= offset")
  apex_text = fields.get("apex", "")
  apex = _parse_frame(apex_text, "apex", where) if apex_text else -1
  score_text = fields.get("score", "")
  score = None
  if score_text:
    score = float(score_text) if _FLOAT_RE.fullmatch(score_text) else math.nan
    if not math.isfinite(score):
      raise InputError(
          f"{where}: column 'score' is {score_text!r}; expected a finite "
          "number or an empty cell")
  return IntervalRow(video=video, type=kind, onset=onset, offset=offset,
                     subject=fields.get("subject", ""), apex=apex,
                     emotion=fields.get("emotion", ""), score=score)


def read_intervals_csv(path: str) -> list[IntervalRow]:
  """Reads an interval CSV (see the module docstring for the format).

  Args:
    path: CSV file.

  Returns:
    The rows in file order.

  Raises:
    InputError: unreadable file, no header, a missing required column, or a
      bad row; the message names the file and the 1-based line.
  """
  try:
    f = open(path, newline="", encoding="utf-8-sig")  # BOM from Excel.
  except OSError as e:
    raise InputError(f"{path}: cannot open ({e.strerror})") from None
  rows = []
  with f:
    reader = csv.reader(f)
    try:
      header = next(reader, None)
      if header is None or not any(cell.strip() for cell in header):
        raise InputError(
            f"{path} line 1: empty file; expected a header with columns "
            f"{','.join(REQUIRED_COLUMNS)}")
      names = [cell.strip().lower() for cell in header]
      missing = [c for c in REQUIRED_COLUMNS if c not in names]
      if missing:
        raise InputError(
            f"{path} line 1: missing column(s) {','.join(missing)}; expected "
            f"at least {','.join(REQUIRED_COLUMNS)}")
      # First occurrence wins if a column name repeats.
      index = {}
      for i, name in enumerate(names):
        if name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
          index.setdefault(name, i)
      for record in reader:
        if not any(cell.strip() for cell in record):
          continue
        where = f"{path} line {reader.line_num}"
        fields = {name: (record[i].strip() if i < len(record) else "")
                  for name, i in index.items()}
        rows.append(_parse_row(fields, where))
    except csv.Error as e:
      raise InputError(
          f"{path} line {reader.line_num}: not valid CSV ({e})") from None
    except UnicodeDecodeError:
      raise InputError(
          f"{path}: not UTF-8 text; expected a CSV file") from None
  return rows


def write_intervals_csv(path: str, rows: Iterable[IntervalRow]) -> None:
  """Writes intervals as CSV (atomically), readable by `read_intervals_csv`.

  Args:
    path: destination; its folder is created if needed.
    rows: `IntervalRow`s (or any objects with the same attributes; missing
      optional attributes take the `IntervalRow` defaults).
  """
  defaults = {f.name: f.default for f in dataclasses.fields(IntervalRow)
              if f.default is not dataclasses.MISSING}
  with io_utils.atomic_write(os.fspath(path), "w", newline="",
                             encoding="utf-8") as f:
    writer = csv.writer(f)
    writer.writerow(WRITE_COLUMNS)
    for row in rows:
      values = {c: getattr(row, c, defaults.get(c)) for c in WRITE_COLUMNS}
      if values["score"] is None:
        values["score"] = ""
      else:
        # repr keeps every digit so a round trip is exact.
        values["score"] = repr(float(values["score"]))
      writer.writerow([values[c] for c in WRITE_COLUMNS])
