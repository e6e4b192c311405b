r"""(Re)generates the dummy releases of the builders.

Spotting: SAMM-LV, CAS(ME)^2 and CAS(ME)^3 Part A (in
`make_dummy_cas_me3.py`; its release also gives recognition clips).
Recognition: CASME II, SAMM (short clips), SMIC-E (HS, VIS, NIR), CK+ and
the MEGC2019 composite (the three micro-expression releases side by side,
with a composite label file).

The fixtures copy the official release layouts exactly (workbook sheets,
preamble, header-less sheets, folder and frame names) but hold only made-up
rows and made-up pixels: every frame is rendered from scikit-image's public
`astronaut()` photograph, cropped so that dlib still finds the face, shifted
by a fraction of a pixel per frame and, inside each planted interval, with a
small smooth warp around the mouth that peaks at the apex. The quirks listed
in each builder's README are planted on purpose; the expected parse is written by
hand in `tests/test_data_annotations.py` (spotting) and in each recognition
builder's test.

Output is deterministic (fixed zip timestamps and workbook properties).

  python -m mespot_jax.builders.make_dummy_releases [--out_root=data_builders]
"""
import argparse
import datetime
import io
import os
import shutil
import zipfile

import cv2
import numpy as np
import openpyxl
from skimage import data as skdata

from mespot_jax.io_utils import atomic_path, atomic_write

_FIXED_TIME = datetime.datetime(2024, 1, 1)

# SAMM-LV: video -> (number of frames, digits in frame names).
SAMM_VIDEOS = {"006_1": (30, 4), "006_2": (24, 5), "007_3": (26, 4),
               "011_1": (20, 5)}
SAMM_PREAMBLE = (
    "SAMM Long Videos - macro- and micro-movement coding (DUMMY FIXTURE)",
    "All rows below are made up; the layout copies the official release.",
    "Frame numbers start at 1 and refer to the images of each video folder.",
    "Apex frames that were not annotated are written as -1.",
    "Type: Macro, or Micro - 1/2 (shorter than half a second).",
    "Inducement Code: the stimulus shown when the movement occurred.",
    "Action Units: FACS codes; L and R mark the left and right side.",
    "Duration = Offset - Onset + 1 (frames).",
    "Notes: free text.",
)
SAMM_HEADER = ("Subject", "Filename", "Inducement Code", "Onset", "Apex",
               "Offset", "Duration", "Type", "Action Units", "Notes")
# Planted rows; quirks: onset 0, fractional frames (14.6, 20.5), apex -1,
# a two-digit event (006_1_10), an offset past the last frame (007_3 has 26
# frames), and video 011_1 without labels.
SAMM_ROWS = (
    (6, "006_1_1", 1, 0, 5, 12, 13, "Macro", "R12", ""),
    (6, "006_1_2", 2, 14.6, 17, 20.5, 6, "Micro - 1/2", "4", ""),
    (6, "006_1_10", 3, 24, -1, 27, 4, "Micro - 1/2", "L2", "apex unclear"),
    (6, "006_2_1", 1, 3, 8, 14, 12, "Macro", "12+25", ""),
    (7, "007_3_1", 4, 10, 20, 31, 22, "Macro", "1+2", "past the end"),
    (7, "007_3_2", 4, 2, 4, 6, 5, "Micro - 1/2", "7", ""),
)

# CAS(ME)^2: (subject folder, video folder) -> number of frames.
CAS_VIDEOS = {("s15", "15_0101disgustingteeth"): 28,
              ("s15", "15_0401girlcrashing"): 22,
              ("s16", "16_0101disgustingteeth"): 24,
              ("s16", "16_0102eatingworms"): 20,
              ("s17", "17_0102eatingworms"): 20}
# s19 has no folder on disk (a naming row without frames); s17 is the third
# subject on disk, so that leave-one-subject-out runs with one validation
# subject can train on the dummy release.
CAS_RULE1 = ((15, "s15", 1), (16, "s16", 2), (19, "s19", 3), (17, "s17", 4))
CAS_RULE2 = ((101, "disgust1"), (102, "disgust2"), (401, "anger1"))
# No header row. Quirks: an offset before its apex (disgust1_12), offset 0
# (anger1_1), a two-digit event; 16_0102 has no labels.
CAS_ROWS = (
    (1, "disgust1_1", 3, 6, 10, "4+7", "negative", "macro-expression",
     "disgust"),
    (1, "disgust1_3", 13, 15, 17, "12", "positive", "micro-expression",
     "happy"),
    (1, "disgust1_12", 19, 25, 23, "4", "negative", "macro-expression",
     "disgust"),
    (1, "anger1_1", 4, 9, 0, "4+5", "negative", "macro-expression", "anger"),
    (1, "anger1_2", 12, 14, 18, "1+2", "surprise", "micro-expression",
     "surprise"),
    (2, "disgust1_1", 5, 8, 14, "9", "negative", "macro-expression",
     "disgust"),
    (2, "disgust1_2", 16, 18, 21, "12", "positive", "micro-expression",
     "happy"),
    (4, "disgust2_1", 2, 6, 11, "4+9", "negative", "macro-expression",
     "disgust"),
    (4, "disgust2_2", 14, 15, 17, "12", "positive", "micro-expression",
     "happy"),
)

# Crop of astronaut() (x0, y0, x1, y1) around the face; then resized.
_SAMM_CROP, _SAMM_SIZE = (142, 62, 302, 182), (160, 120)
_CAS_CROP, _CAS_SIZE = (150, 65, 294, 173), (128, 96)
_MOUTH = (222.0, 152.0)  # In astronaut() coordinates.


def _strength(t: int, intervals) -> float:
  """Expression strength at frame t (1-based): a triangle peaking at apex."""
  best = 0.0
  for onset, apex, offset in intervals:
    apex = apex if onset <= apex <= offset else (onset + offset) / 2
    if onset <= t <= apex:
      best = max(best, (t - onset + 1) / (apex - onset + 1))
    elif apex < t <= offset:
      best = max(best, (offset - t + 1) / (offset - apex + 1))
  return best


def render_frames(num_frames: int, intervals, crop, size, grey: bool,
                  seed: int) -> list[np.ndarray]:
  """Synthetic face frames: a drifting crop, a mouth warp inside intervals.

  Args:
    num_frames: how many frames.
    intervals: (onset, apex, offset) tuples, 1-based, to animate.
    crop: (x0, y0, x1, y1) region of `astronaut()`.
    size: (width, height) of the output frames.
    grey: grey (HxW) or RGB (HxWx3) output.
    seed: phase of the drift, so that videos differ.

  Returns:
    `num_frames` uint8 images.
  """
  base = skdata.astronaut()
  if grey:
    base = cv2.cvtColor(base, cv2.COLOR_RGB2GRAY)
  ys, xs = np.mgrid[0:base.shape[0], 0:base.shape[1]].astype(np.float32)
  bump = np.exp(-((xs - _MOUTH[0]) ** 2 + (ys - _MOUTH[1]) ** 2) / 300.0)
  x0, y0, x1, y1 = crop
  sx, sy = size[0] / (x1 - x0), size[1] / (y1 - y0)
  frames = []
  for t in range(1, num_frames + 1):
    s = _strength(t, intervals)
    # Mouth corners pulled up and out: a smooth local displacement.
    warped = cv2.remap(base, xs - 4.0 * s * bump * np.sign(xs - _MOUTH[0]),
                       ys + 5.0 * s * bump, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REFLECT)
    dx = 1.5 * np.sin(0.7 * t + seed)
    dy = 1.0 * np.cos(0.5 * t + 2 * seed)
    m = np.float32([[sx, 0, -(x0 + dx) * sx], [0, sy, -(y0 + dy) * sy]])
    frames.append(cv2.warpAffine(warped, m, size, flags=cv2.INTER_AREA))
  return frames


def _write_jpeg(path: str, image: np.ndarray) -> None:
  if image.ndim == 3:
    image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
  ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
  assert ok
  with atomic_write(path, "wb") as f:
    f.write(buf.tobytes())


def _save_workbook(wb: openpyxl.Workbook, path: str) -> None:
  """Saves with fixed properties and zip timestamps (byte-reproducible)."""
  wb.properties.creator = "make_dummy_releases.py"
  wb.properties.created = wb.properties.modified = _FIXED_TIME
  raw = io.BytesIO()
  wb.save(raw)
  with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, \
      atomic_path(path) as tmp, \
      zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
      body = src.read(info.filename)
      if info.filename == "docProps/core.xml":  # openpyxl stamps "now".
        body = _pin_modified(body)
      fixed = zipfile.ZipInfo(info.filename, _FIXED_TIME.timetuple()[:6])
      fixed.compress_type = zipfile.ZIP_DEFLATED
      dst.writestr(fixed, body)


def _pin_modified(core_xml: bytes) -> bytes:
  text = core_xml.decode("utf-8")
  start = text.find("<dcterms:modified")
  if start >= 0:
    body = text.find(">", start) + 1
    end = text.find("</dcterms:modified>", body)
    text = text[:body] + "2024-01-01T00:00:00Z" + text[end:]
  return text.encode("utf-8")


def _fresh(folder: str) -> None:
  if os.path.isdir(folder):
    shutil.rmtree(folder)
  os.makedirs(folder)


def make_samm(out: str) -> None:
  """Writes the dummy SAMM-LV release into `out` (replacing it)."""
  _fresh(out)
  wb = openpyxl.Workbook()
  ws = wb.active
  ws.title = "FACS_Movement_Only"
  for line in SAMM_PREAMBLE:
    ws.append([line])
  ws.append(list(SAMM_HEADER))
  for row in SAMM_ROWS:
    ws.append(list(row))
  _save_workbook(wb, os.path.join(out, "SAMM_LongVideos_V3_Release.xlsx"))
  for i, (video, (n, digits)) in enumerate(SAMM_VIDEOS.items()):
    ivs = [(max(1, int(r[3] + 0.5)), r[4], int(r[5] + 0.5))
           for r in SAMM_ROWS if r[1].rsplit("_", 1)[0] == video]
    folder = os.path.join(out, "SAMM_longvideos", video)
    os.makedirs(folder)
    for t, frame in enumerate(render_frames(n, ivs, _SAMM_CROP, _SAMM_SIZE,
                                            True, i), start=1):
      _write_jpeg(os.path.join(folder, f"{video}_{t:0{digits}d}.jpg"), frame)


def make_cas(out: str) -> None:
  """Writes the dummy CAS(ME)^2 release into `out` (replacing it)."""
  _fresh(out)
  wb = openpyxl.Workbook()
  sheets = [wb.active, wb.create_sheet(), wb.create_sheet()]
  for ws, title, rows in zip(
      sheets, ("CASFEcode_final", "naming rule1", "naming rule2"),
      (CAS_ROWS, CAS_RULE1, CAS_RULE2)):
    ws.title = title
    for row in rows:
      ws.append(list(row))
  _save_workbook(wb, os.path.join(out, "CAS(ME)^2code_final.xlsx"))
  index = {str(r[1]): r[2] for r in CAS_RULE1}
  codes = {r[1]: r[0] for r in CAS_RULE2}
  for i, ((subject, video), n) in enumerate(CAS_VIDEOS.items()):
    ivs = [(r[2], r[3], r[4] or r[3]) for r in CAS_ROWS
           if r[0] == index[subject]
           and int(video[3:7]) == codes[r[1].rsplit("_", 1)[0]]]
    folder = os.path.join(out, "rawpic", subject, video)
    os.makedirs(folder)
    for t, frame in enumerate(render_frames(n, ivs, _CAS_CROP, _CAS_SIZE,
                                            False, i), start=1):
      _write_jpeg(os.path.join(folder, f"img{t}.jpg"), frame)


# ---------------------------------------------------------------- recognition
# Each recognition clip: rows of the release's table, and the frame files on
# disk per clip folder as (first number, count). Quirks planted (see each
# builder's test for the expected parse, written by hand):
CASME2_HEADER = ("Subject", "Filename", None, "OnsetFrame", "ApexFrame",
                 "OffsetFrame", None, "Action Units", "Estimated Emotion")
# Apex `/` (EP03_02), an offset past the last frame (EP01_11f), unpadded
# names crossing a digit (img8..img12), an unmapped emotion (others), a
# row without frames (EP05_02), a folder without a row (sub03/EP20_01).
CASME2_ROWS = ((1, "EP02_01f", None, 46, 48, 50, None, "12", "happiness"),
               (1, "EP03_02", None, 8, "/", 12, None, "4+7", "disgust"),
               ("02", "EP01_11f", None, 20, 22, 26, None, "14", "repression"),
               ("02", "EP19_01", None, 3, 4, 6, None, "1+2", "surprise"),
               (3, "EP09_03", None, 100, 101, 103, None, "R2", "others"),
               (3, "EP05_02", None, 10, 12, 14, None, "4", "fear"))
CASME2_DISK = {("sub01", "EP02_01f"): (45, 6), ("sub01", "EP03_02"): (8, 5),
               ("sub02", "EP01_11f"): (20, 5), ("sub02", "EP19_01"): (3, 5),
               ("sub03", "EP09_03"): (100, 4), ("sub03", "EP20_01"): (1, 3)}
SAMM_ME_HEADER = ("Subject", "Filename", "Inducement Code", "Onset Frame",
                  "Apex Frame", "Offset Frame", "Duration", "Micro",
                  "Action Units", "Estimated Emotion", "Objective Classes",
                  "Notes")
# 13 preamble rows (header on row 14); a fractional apex (6100.5), apex -1
# (007_6_1), frames starting before the onset (006_1_5 from 6098), a row
# without frames (011_2_4); one clip per 5-class and 3-class case.
SAMM_ME_ROWS = (
    (6, "006_1_2", 1, 5562, 5564, 5566, 5, "Micro", "R12", "Happiness", 1, ""),
    (6, "006_1_5", 1, 6099, 6100.5, 6103, 5, "Micro", "4+7", "Anger", 2, ""),
    (7, "007_3_1", 4, 998, 1001, 1003, 6, "Micro", "R14", "Contempt", 3, ""),
    (7, "007_6_1", 5, 4470, -1, 4474, 5, "Micro", "1+2", "Surprise", 6,
     "apex unclear"),
    (9, "009_2_3", 2, 300, 302, 304, 5, "Micro", "R2", "Other", 7, ""),
    (9, "009_3_1", 2, 1200, 1202, 1204, 5, "Micro", "9", "Disgust", 4, ""),
    (11, "011_2_4", 3, 50, 52, 54, 5, "Micro", "12", "Happiness", 1, ""))
SAMM_ME_DISK = {("006", "006_1_2"): (5562, 5), ("006", "006_1_5"): (6098, 6),
                ("007", "007_3_1"): (998, 6), ("007", "007_6_1"): (4470, 5),
                ("009", "009_2_3"): (300, 5), ("009", "009_3_1"): (1200, 5)}
SMIC_HEADER = ("Subject", "Filename", "OnsetF", "OffsetF", "Emotion",
               "FirstF")
# Per modality; the same clip names in VIS and NIR (found by the modality
# in the path). HS: an empty Emotion (from the name, s1_po_02), a folder
# numbered from 1 (s2_sur_01: labels moved by FirstF), names crossing a
# digit (image92..image101).
SMIC_ROWS = {
    "hs": ((1, "s1_ne_01", 515, 519, "negative", 512),
           (1, "s1_po_02", 1003, 1006, None, 1000),
           (2, "s2_sur_01", 54, 57, "surprise", 50),
           (3, "s3_ne_03", 95, 99, "negative", 92)),
    "vis": ((1, "s1_ne_01", 103, 106, "negative", 100),
            (2, "s2_po_01", 22, 25, "positive", 20),
            (3, "s3_sur_01", 42, 45, "surprise", 40)),
    "nir": ((1, "s1_ne_01", 103, 106, "negative", 100),
            (2, "s2_po_01", 22, 25, "positive", 20)),
}
SMIC_DISK = {
    "hs": {("s1", "s1_ne_01"): (512, 10), ("s1", "s1_po_02"): (1000, 9),
           ("s2", "s2_sur_01"): (1, 9), ("s3", "s3_ne_03"): (92, 10)},
    "vis": {("s1", "s1_ne_01"): (100, 8), ("s2", "s2_po_01"): (20, 8),
            ("s3", "s3_sur_01"): (40, 8)},
    "nir": {("s1", "s1_ne_01"): (100, 8), ("s2", "s2_po_01"): (20, 8)},
}
# CK+: (subject, sequence) -> (frames, emotion code or None, labelled frame).
CKPLUS = {("S005", "001"): (5, 3, 5), ("S005", "002"): (4, None, None),
          ("S010", "001"): (6, 5, 6), ("S010", "002"): (4, 7, 3),
          ("S011", "001"): (4, 1, 4)}
# The composite: a few clips of each release, and its label file (no
# header): one row labels an `others` clip negative (the file wins), one
# names a clip that is not on disk, and CASME II sub02/EP19_01 is missing
# from it.
COMPOSITE_CASME2 = CASME2_ROWS[:4] + CASME2_ROWS[4:5]
COMPOSITE_SAMM = SAMM_ME_ROWS[:2] + SAMM_ME_ROWS[3:4]
COMPOSITE_SMIC = SMIC_ROWS["hs"][:3]
COMPOSITE_LABELS = (("casme2", "sub01", "EP02_01f", 1),
                    ("casme2", "sub01", "EP03_02", 0),
                    ("casme2", "sub02", "EP01_11f", 0),
                    ("casme2", "sub03", "EP09_03", 0),
                    ("samm", "006", "006_1_2", 1),
                    ("samm", "006", "006_1_5", 0),
                    ("samm", "007", "007_6_1", 2),
                    ("smic", "s1", "s1_ne_01", 0),
                    ("smic", "s1", "s1_po_02", 1),
                    ("smic", "s2", "s2_sur_01", 2),
                    ("smic", "s4", "s4_po_09", 1))


def _table(path: str, sheet: str, preamble, header, rows) -> None:
  wb = openpyxl.Workbook()
  ws = wb.active
  ws.title = sheet
  for row in [(line,) for line in preamble] + [header] + list(rows):
    ws.append(list(row))
  _save_workbook(wb, path)


def _clip(folder: str, names, expr, crop, size, grey: bool, seed: int,
          png: bool = False) -> None:
  """Writes one clip's frames under the given names; `expr` = (onset, apex,
  offset) as 1-based positions in the folder."""
  os.makedirs(folder)
  for name, frame in zip(names, render_frames(len(names), [expr], crop, size,
                                              grey, seed)):
    path = os.path.join(folder, name)
    if png:
      ok, buf = cv2.imencode(".png", frame)
      assert ok
      with atomic_write(path, "wb") as f:
        f.write(buf.tobytes())
    else:
      _write_jpeg(path, frame)


def _expr(rows, key, first: int, count: int, onset_col: int, offset_col: int):
  row = next((r for r in rows if key(r)), None)
  if row is None:
    return (1, (count + 1) // 2, count)
  onset = max(1, min(count, int(row[onset_col]) - first + 1))
  offset = max(onset, min(count, int(row[offset_col]) - first + 1))
  return (onset, (onset + offset) // 2, offset)


def make_casme2(out: str, rows, disk) -> None:
  """Writes a dummy CASME II release into `out` (replacing it)."""
  _fresh(out)
  _table(os.path.join(out, "CASME2-coding-20140508.xlsx"), "Sheet1", (),
         CASME2_HEADER, rows)
  for i, ((subject, clip), (first, n)) in enumerate(disk.items()):
    expr = _expr(rows, lambda r: r[1] == clip, first, n, 3, 5)
    _clip(os.path.join(out, "CASME2_RAW_selected", subject, clip),
          [f"img{first + t}.jpg" for t in range(n)], expr, _CAS_CROP,
          _CAS_SIZE, False, i)


def make_samm_me(out: str, rows, disk) -> None:
  """Writes a dummy SAMM (short clip) release into `out` (replacing it)."""
  _fresh(out)
  preamble = ["SAMM micro-movement FACS codes (DUMMY FIXTURE, made-up rows)"]
  preamble += [f"Preamble line {i} of the official layout." for i in
               range(2, 14)]
  _table(os.path.join(out, "SAMM_Micro_FACS_Codes_v2.xlsx"), "MICRO_ONLY",
         preamble, SAMM_ME_HEADER, rows)
  for i, ((subject, clip), (first, n)) in enumerate(disk.items()):
    expr = _expr(rows, lambda r: r[1] == clip, first, n, 3, 5)
    _clip(os.path.join(out, "SAMM", subject, clip),
          [f"{subject}_{first + t:05d}.jpg" for t in range(n)], expr,
          _SAMM_CROP, _SAMM_SIZE, True, i)


def make_smic(out: str, rows, disk) -> None:
  """Writes a dummy SMIC-E release (HS, VIS, NIR) into `out`."""
  _fresh(out)
  for m, mrows in rows.items():
    _table(os.path.join(out, f"SMIC-{m.upper()}-E_annotation.xlsx"),
           "Sheet1", (), SMIC_HEADER, mrows)
    for i, ((subject, clip), (first, n)) in enumerate(disk[m].items()):
      row = next(r for r in mrows if r[1] == clip)
      shift = row[5] - first  # a folder numbered from 1: labels move
      expr = _expr(mrows, lambda r: r[1] == clip, first + shift, n, 2, 3)
      _clip(os.path.join(out, f"{m.upper()}_long", subject, clip),
            [f"image{first + t}.jpg" for t in range(n)], expr, _CAS_CROP,
            _CAS_SIZE, m == "nir", i)


def make_ckplus(out: str) -> None:
  """Writes a dummy CK+ release into `out` (replacing it)."""
  _fresh(out)
  for i, ((subject, seq), (n, code, at)) in enumerate(CKPLUS.items()):
    stem = f"{subject}_{seq}_"
    _clip(os.path.join(out, "cohn-kanade-images", subject, seq),
          [f"{stem}{t:08d}.png" for t in range(1, n + 1)], (1, n, n),
          _CAS_CROP, _CAS_SIZE, True, i, png=True)
    if code is not None:
      with atomic_write(os.path.join(out, "Emotion", subject, seq,
                                     f"{stem}{at:08d}_emotion.txt")) as f:
        f.write(f"   {code:.7e}\n")


def make_composite(out: str) -> None:
  """Writes a dummy MEGC2019 composite: three releases and a label file."""
  _fresh(out)
  keep = lambda disk, rows: {k: v for k, v in disk.items()
                             if any(r[1] == k[1] for r in rows)}
  make_casme2(os.path.join(out, "CASME2"), COMPOSITE_CASME2,
              keep(CASME2_DISK, COMPOSITE_CASME2))
  make_samm_me(os.path.join(out, "SAMM"), COMPOSITE_SAMM,
               keep(SAMM_ME_DISK, COMPOSITE_SAMM))
  make_smic(os.path.join(out, "SMIC"), {"hs": COMPOSITE_SMIC},
            {"hs": keep(SMIC_DISK["hs"], COMPOSITE_SMIC)})
  with atomic_write(os.path.join(out, "combined_3class_gt.csv")) as f:
    f.writelines(",".join(map(str, r)) + "\n" for r in COMPOSITE_LABELS)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out_root", default=os.path.dirname(
      os.path.abspath(__file__)), help="folder holding samm_lv/, cas_me2/")
  args = parser.parse_args()
  out = lambda name: os.path.join(args.out_root, name, "dummy_data")
  make_samm(out("samm_lv"))
  make_cas(out("cas_me2"))
  from . import make_dummy_cas_me3  # pylint: disable=g-import-not-at-top
  make_dummy_cas_me3.make_cas_me3(out("cas_me3"))
  make_casme2(out("casme_ii"), CASME2_ROWS, CASME2_DISK)
  make_samm_me(out("samm_me"), SAMM_ME_ROWS, SAMM_ME_DISK)
  make_smic(out("smic_e"), SMIC_ROWS, SMIC_DISK)
  make_ckplus(out("ck_plus"))
  make_composite(out("megc2019_composite"))


if __name__ == "__main__":
  main()
