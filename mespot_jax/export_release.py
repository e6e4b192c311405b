"""Writes a synthetic rendering as an official release (frames and truth).

  python -m mespot_jax.export_release --dataset=synthetic_lv \
      --config=casme2 [--seed=N] --layout=cas_me2|samm_lv --out=DIR

The rendering's full frames (not the aligned crops) and its labels go into
the real release's folder layout and workbook format
(each builder's README in `data_builders/`), so the `cas_me2` / `samm_lv` builders read
it as they read the real data (`--manual_dir=DIR`), and another project's
spotting code runs on videos whose truth is known. Beside the workbook,
`truth.csv` lists every interval: `video` (as the release's builder names
it), `folder` (relative to DIR), `subject, type, onset, apex, offset,
emotion` (1-based inclusive frames; `type` micro or macro).

- `cas_me2`: subject k (0-based) is subject number 15 + k (folder
  `rawpic/s<number>/`), video v is `synthetic<v+1>` with code 101 + v
  (folder `<number>_<code 4 digits>synthetic<v+1>/img<n>.jpg`, colour);
  `CAS(ME)^2code_final.xlsx` with the three header-less sheets.
- `samm_lv`: subject k is subject 6 + k, video v is `<SSS>_<v+1>`
  (`SAMM_longvideos/006_1/006_1_0001.jpg`, grey, 4 digits or more);
  `SAMM_LongVideos_V1_Release.xlsx`, sheet `FACS_Movement_Only`, nine
  preamble rows, the header on row 10.

Everything is written into a temporary folder beside DIR and renamed to
DIR at the end: an interrupted export (Ctrl-C, SIGTERM, an error) leaves
nothing behind, and DIR must not exist yet.
"""
import csv
import functools
import os
import shutil
import sys
import tempfile

from absl import app
from absl import logging
from absl import flags
import cv2
import numpy as np
import tqdm

from mespot_jax import errors
from mespot_jax import io_utils
from mespot_jax.synthetic import render

LAYOUTS = ("cas_me2", "samm_lv")
TRUTH_COLUMNS = ("video", "folder", "subject", "type", "onset", "apex",
                 "offset", "emotion")

def _video_params(dataset: str, config: str, seed: int | None):
  """`(video id, subject id, VideoParams)` of a synthetic rendering."""
  if dataset != "synthetic_lv":
    raise errors.InputError(f"--dataset={dataset}: only synthetic_lv can be "
                            "exported; expected synthetic_lv")
  # pylint: disable=g-import-not-at-top
  from mespot_jax.builders.synthetic_lv import synthetic_lv_dataset_builder as syn
  try:
    cfg = syn.variant_config(config, seed=seed)
  except ValueError as e:
    raise errors.InputError(f"--config={config} --seed={seed}: {e}") from None
  builder = syn.Builder(data_dir=tempfile.gettempdir(), config=cfg)
  return builder.video_params()


def _cas_names(subject: int, video: int) -> dict:
  number, code = 15 + subject, 101 + video
  name = f"synthetic{video + 1}"
  return dict(number=number, index=subject + 1, code=code, name=name,
              video=f"{number}_{code:04d}", subject=f"s{number}",
              folder=f"rawpic/s{number}/{number}_{code:04d}{name}")


def _samm_names(subject: int, video: int) -> dict:
  number = 6 + subject
  vid = f"{number:03d}_{video + 1}"
  return dict(number=number, video=vid, subject=f"{number:03d}",
              folder=f"SAMM_longvideos/{vid}")


def _frame_name(layout: str, names: dict, n: int, num_frames: int) -> str:
  if layout == "cas_me2":
    return f"img{n}.jpg"
  return f"{names['video']}_{n:0{max(4, len(str(num_frames)))}d}.jpg"


def _write_cas_workbook(path: str, videos: list) -> None:
  import openpyxl  # pylint: disable=g-import-not-at-top
  wb = openpyxl.Workbook()
  codes = wb.active
  codes.title = "CASFEcode_final"
  rule1, rule2 = wb.create_sheet("naming rule1"), wb.create_sheet(
      "naming rule2")
  subjects, video_names = {}, {}
  for names, events in videos:
    subjects[names["number"]] = names["index"]
    video_names[names["code"]] = names["name"]
    for k, e in enumerate(events, start=1):
      codes.append([names["index"], f"{names['name']}_{k}", e.onset, e.apex,
                    e.offset, e.au.removeprefix("AU"), e.emotion,
                    f"{e.type}-expression", e.emotion])
  for number, index in sorted(subjects.items()):
    rule1.append([number, f"s{number}", index])
  for code, name in sorted(video_names.items()):
    rule2.append([code, name])
  wb.save(path)


def _write_samm_workbook(path: str, videos: list) -> None:
  import openpyxl  # pylint: disable=g-import-not-at-top
  wb = openpyxl.Workbook()
  ws = wb.active
  ws.title = "FACS_Movement_Only"
  preamble = ["SAMM Long Videos: synthetic rendering (mespot_jax."
              "export_release)", "Frames are 1-based and inclusive.",
              "Apex not annotated is written as -1.", "", "", "", "", "", ""]
  for line in preamble:
    ws.append([line or None])
  ws.append(["Subject", "Filename", "Inducement Code", "Onset", "Apex",
             "Offset", "Duration", "Type", "Action Units", "Notes"])
  for names, events in videos:
    for k, e in enumerate(events, start=1):
      ws.append([names["number"], f"{names['video']}_{k}", 1, e.onset, e.apex,
                 e.offset, e.offset - e.onset + 1,
                 "Macro" if e.type == "macro" else "Micro - 1/2",
                 e.au.removeprefix("AU"), f"synthetic {e.emotion}"])
  wb.save(path)


def export(dataset: str, config: str, seed: int | None, layout: str,
           out: str, jpeg_quality: int = 95, progress: bool = True) -> dict:
  """Renders a synthetic dataset into an official release layout.

  Args:
    dataset: `synthetic_lv`.
    config: its builder config (`casme2`, `samm`, `tiny`, ...).
    seed: render at this seed (None: the config's).
    layout: `cas_me2` or `samm_lv`.
    out: the release folder to create; must not exist.
    jpeg_quality: JPEG quality of the frames.
    progress: show a progress bar over frames.

  Returns:
    `{"out", "videos", "frames", "intervals"}`.
  """
  if layout not in LAYOUTS:
    raise errors.InputError(f"--layout={layout}: expected one of "
                            f"{', '.join(LAYOUTS)}")
  if not 1 <= jpeg_quality <= 100:
    raise errors.InputError(f"--jpeg_quality={jpeg_quality}: expected 1-100")
  out = os.path.abspath(os.path.expanduser(out))
  if os.path.exists(out):
    raise errors.InputError(f"{out}: already exists; expected a new folder "
                            "(remove it or choose another --out)")
  parent = os.path.dirname(out)
  if not os.path.isdir(parent):
    raise errors.InputError(f"{parent}: no such folder; expected the parent "
                            "of --out to exist")
  params = _video_params(dataset, config, seed)
  fps = {"cas_me2": 30.0, "samm_lv": 200.0}[layout]
  if params and params[0][2].fps != fps:
    logging.warning("%s renders at %g fps; the %s builder reads its frames "
                    "as %g fps (the frame numbers of the truth still hold)",
                    config, params[0][2].fps, layout, fps)
  naming = _cas_names if layout == "cas_me2" else _samm_names
  tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(out)}.",
                         suffix=".incomplete")
  try:
    videos, rows = [], []
    total = sum(p.num_frames for _, _, p in params)
    bar = tqdm.tqdm(total=total, unit="frame", disable=not progress,
                    desc=f"export {config} as {layout}")
    with bar:
      for _, _, p in params:
        names = naming(p.subject, p.video)
        renderer = render.Renderer(p)
        events = renderer.plan.events
        folder = os.path.join(tmp, names["folder"])
        os.makedirs(folder)
        for n, frame in enumerate(renderer, start=1):
          if layout == "samm_lv" and frame.ndim == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
          elif frame.ndim == 3:
            frame = frame[..., ::-1]  # RGB -> OpenCV's BGR
          elif layout == "cas_me2":
            frame = np.repeat(frame[..., None], 3, -1)  # the release is RGB
          name = _frame_name(layout, names, n, p.num_frames)
          if not cv2.imwrite(os.path.join(folder, name), frame,
                             [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]):
            raise errors.InputError(f"{folder}/{name}: cannot write the frame")
          bar.update(1)
        videos.append((names, events))
        rows += [dict(video=names["video"], folder=names["folder"],
                      subject=names["subject"], type=e.type, onset=e.onset,
                      apex=e.apex, offset=e.offset, emotion=e.emotion)
                 for e in events]
    if layout == "cas_me2":
      _write_cas_workbook(os.path.join(tmp, "CAS(ME)^2code_final.xlsx"),
                          videos)
    else:
      _write_samm_workbook(
          os.path.join(tmp, "SAMM_LongVideos_V1_Release.xlsx"), videos)
    with open(os.path.join(tmp, "truth.csv"), "w", newline="") as f:
      w = csv.DictWriter(f, TRUTH_COLUMNS)
      w.writeheader()
      w.writerows(rows)
    os.chmod(tmp, 0o777 & ~io_utils.current_umask())
    os.rename(tmp, out)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  return dict(out=out, videos=len(videos), frames=total, intervals=len(rows))


def _define_flags() -> dict:
  """The command line's flags, defined only when run as a program (its
  flag names are also those of `inspect_dataset`, which tests import)."""
  return dict(
      dataset=flags.DEFINE_string("dataset", "synthetic_lv", "Synthetic "
                                  "spotting dataset (only synthetic_lv)."),
      config=flags.DEFINE_string("config", "casme2", "Its builder config."),
      seed=flags.DEFINE_integer("seed", None, "Render at this seed (default: "
                                "the config's own)."),
      layout=flags.DEFINE_string("layout", None, "Release layout: cas_me2 "
                                 "or samm_lv."),
      out=flags.DEFINE_string("out", None, "Release folder to create (must "
                              "not exist)."),
      quality=flags.DEFINE_integer("jpeg_quality", 95, "JPEG quality, "
                                   "1-100."))


def main(argv, f: dict):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  if not f["layout"].value or not f["out"].value:
    raise app.UsageError("--layout and --out are required")
  try:
    with io_utils.exit_on_signals():
      summary = export(f["dataset"].value, f["config"].value,
                       f["seed"].value, f["layout"].value, f["out"].value,
                       f["quality"].value)
  except errors.InputError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  print(f"wrote {summary['out']}: {summary['videos']} videos, "
        f"{summary['frames']} frames, {summary['intervals']} intervals "
        "(truth.csv)")


if __name__ == "__main__":
  _FLAGS = _define_flags()
  app.run(functools.partial(main, f=_FLAGS))
