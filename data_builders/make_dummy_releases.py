r"""(Re)generates the dummy SAMM-LV and CAS(ME)^2 releases of the builders.

The fixtures copy the official release layouts exactly (workbook sheets,
preamble, header-less sheets, folder and frame names) but hold only made-up
rows and made-up pixels: every frame is rendered from scikit-image's public
`astronaut()` photograph, cropped so that dlib still finds the face, shifted
by a fraction of a pixel per frame and, inside each planted interval, with a
small smooth warp around the mouth that peaks at the apex. The quirks listed
in DATA_FORMATS.md are planted on purpose; the expected parse is written by
hand in `tests/test_data_annotations.py`.

Output is deterministic (fixed zip timestamps and workbook properties).

  python -m data_builders.make_dummy_releases [--out_root=data_builders]
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


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out_root", default=os.path.dirname(
      os.path.abspath(__file__)), help="folder holding samm_lv/, cas_me2/")
  args = parser.parse_args()
  make_samm(os.path.join(args.out_root, "samm_lv", "dummy_data"))
  make_cas(os.path.join(args.out_root, "cas_me2", "dummy_data"))


if __name__ == "__main__":
  main()
