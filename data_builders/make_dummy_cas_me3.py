r"""(Re)generates the dummy CAS(ME)^3 Part A release of the `cas_me3` builder.

Called by `make_dummy_releases.py` (kept apart so that file stays short).
The layout copies the release's Part A folder: the label tables in
`annotation/` (the ME table's sheet `label`, the MaE table's `Sheet1` with
its lower-case header, the combined table as its sheet saved as CSV) and
the frames in `data/part_A/spNO.<n>/<v>/color/<number>.jpg`, numbered as the
release numbers them (from 0, 1 or 100; one video skips two numbers). Rows
are made up; pixels are rendered from scikit-image's public `astronaut()`
(`make_dummy_releases.render_frames`). The quirks planted are listed next to
the rows; the expected parse is written by hand in
`tests/test_cas_me3_builder.py`.

  python -m mespot_jax.builders.make_dummy_cas_me3 [--out=DIR]
"""
import argparse
import bisect
import csv
import os

import openpyxl

from mespot_jax.io_utils import atomic_write
# The private helpers of the sibling script that makes the other releases.
# pylint: disable=protected-access
from . import make_dummy_releases as common

# (subject number, video folder) -> frame file numbers on disk.
VIDEOS = {
    (1, "a"): list(range(1, 11)) + list(range(13, 27)),  # 11, 12 dropped
    (1, "b"): list(range(100, 120)),  # numbers start at 100
    (2, "a"): list(range(0, 20)),     # numbers start at 0
    (2, "c"): list(range(1, 19)),     # no row in the tables read
    (3, "a"): list(range(1, 21)),
}
ME_HEADER = ("Subject", "Filename", "Onset", "Apex", "Offset", "AU",
             "Objective class", "emotion")
# Quirks: onset 11 is a dropped frame (snapped to 13); Filename `B` in upper
# case; spNO.3/m is not on disk; an empty apex; `others` is outside 3class.
ME_ROWS = (
    ("spNO.1", "a", 11, 14, 17, "L12", 1, "happy"),
    ("spNO.1", "B", 114, 116, 118, "4", 3, "disgust"),
    ("spNO.2", "a", 5, 7, 9, "1+2", 4, "surprise"),
    ("spNO.3", "a", 3, 5, 7, "4+7", 2, "fear"),
    ("spNO.3", "m", 2, 4, 6, "12", 1, "happy"),
    ("spNO.3", "a", 12, None, 15, "14", 7, "others"),
)
MAE_HEADER = ("sub", "seq", "onset", "apex", "offset", "AU", "emotion")
# Quirks: offset 0 (the apex is used); a fractional onset (11.5 -> 12) with
# an offset past the last frame (25 > 19); onset after offset (swapped).
MAE_ROWS = (
    ("spNO.1", "a", 2, 5, 9, "6+12", "happy"),
    ("spNO.1", "b", 103, 107, 0, "1+2+5", "surprise"),
    ("spNO.2", "a", 11.5, 15, 25, "4", "anger"),
    ("spNO.3", "a", 19, 17, 15, "9", "sad"),
)
COMBINED_HEADER = ("Subject", "Filename", "Onset", "Apex", "Offset", "AU",
                   "Expression type", "Objective class")
# The combined table disagrees with the two read: it lacks spNO.3/m and has
# a macro row of spNO.2/c (the kind of mismatch users report).
COMBINED_ROWS = tuple(
    r[:6] + ("Micro-expression", r[6]) for r in ME_ROWS if r[1] != "m") + tuple(
        r[:6] + ("Macro-expression", 1) for r in MAE_ROWS) + (
            ("spNO.2", "c", 3, 6, 10, "12", "Macro-expression", 1),)
ME_NAME = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
MAE_NAME = "cas(me)3_part_A_MaE_label_JpgIndex_v2_emotion.xlsx"
COMBINED_NAME = "CAS(ME)3_part_A_v2.csv"


def _positions(numbers, onset, apex, offset):
  """Planted (onset, apex, offset) as 1-based positions, for the warp."""
  onset, offset = min(onset, offset), max(onset, offset)
  lo = bisect.bisect_left(numbers, onset) + 1
  hi = bisect.bisect_right(numbers, offset)
  at = bisect.bisect_left(numbers, apex) + 1 if apex else (lo + hi) // 2
  return lo, at, hi


def make_cas_me3(out: str) -> None:
  """Writes the dummy CAS(ME)^3 Part A release into `out` (replacing it)."""
  common._fresh(out)
  notes = os.path.join(out, "annotation")
  os.makedirs(notes)
  for name, title, header, rows in ((ME_NAME, "label", ME_HEADER, ME_ROWS),
                                    (MAE_NAME, "Sheet1", MAE_HEADER,
                                     MAE_ROWS)):
    wb = openpyxl.Workbook()
    wb.active.title = title
    wb.active.append(list(header))
    for row in rows:
      wb.active.append(list(row))
    common._save_workbook(wb, os.path.join(notes, name))
  with atomic_write(os.path.join(notes, COMBINED_NAME)) as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(COMBINED_HEADER)
    writer.writerows(COMBINED_ROWS)
  for i, ((subject, video), numbers) in enumerate(VIDEOS.items()):
    rows = [r for r in ME_ROWS + MAE_ROWS
            if r[0] == f"spNO.{subject}" and r[1].lower() == video]
    ivs = [_positions(numbers, int(r[2] + 0.5), r[3], r[4] or r[3])
           for r in rows]
    folder = os.path.join(out, "data", "part_A", f"spNO.{subject}", video,
                          "color")
    os.makedirs(folder)
    frames = common.render_frames(len(numbers), ivs, common._CAS_CROP,
                                  common._CAS_SIZE, False, i)
    for number, frame in zip(numbers, frames):
      common._write_jpeg(os.path.join(folder, f"{number}.jpg"), frame)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=os.path.join(os.path.dirname(
      os.path.abspath(__file__)), "cas_me3", "dummy_data"))
  make_cas_me3(parser.parse_args().out)


if __name__ == "__main__":
  main()
