r"""Scores a new video or clip with a deploy model.

Usage:
  python -m mespot_jax.score --workdir=RUN --video=PATH [--out=intervals.csv]
      [--plot=scores.png] [--json=summary.json] [--fps=F] [--gt=GT.csv]
      [--annotate=out.mp4] [--batch_size=N]
  python -m mespot_jax.score --workdir=RUN --clip=PATH --onset=N --apex=N
      --offset=N [--json=summary.json] [--fps=F]

A spotting deploy model (yap3dcnn, lbcnn, tran_lstm, mdmd, flow_roi)
spots intervals in a long video (`--video`, below). A recognition deploy
model (convlstm, partnet) classifies one clip (`--clip`, `run_clip`):
PATH is a video file or a folder of numbered frames, and onset, apex and
offset are frame numbers, inclusive (a frame folder's file numbers,
`img46.png` being frame 46 as in the datasets' annotations; a video
file's frames counted from 1). Every frame of PATH is aligned as the
recognition builders align a clip, the deploy record's preprocessing
(`preprocess` in deploy.json: clip frames, crop size, grey, mask) makes
the model's input as training made it, and the label (the argmax after
the fitted calibration bias) and the class probabilities are printed:

  label surprise
  negative 0.1210
  positive 0.2035
  surprise 0.6755

--json writes them with the frames used and any warnings (key frames
without a face, a clip longer or shorter than the training clips).
Asking a spotting model for a clip or a recognition model for a video is
refused with one line.

RUN was trained with `python -m mespot_jax.main --config=... --workdir=RUN
--config.train.deploy=True`. For `--video`, PATH is a video file
(mp4/avi/...) or a folder of numbered frames (then --fps is required).
The video is streamed: decode
-> face alignment -> the deploy model's method's scorer (e.g. the 3D-CNN's
two-stream pairs), so memory stays bounded for any length; only the
per-frame scores (T x 2 floats) are kept. Any spotting method scores
through the same interface. The scores are post-processed with the run's
thresholds into intervals, written in the
evaluate CLI's CSV format (video name = file stem, one score per interval).
--gt evaluates this one video (one_to_one and megc2020); --annotate writes
a copy of the video with the scores and spotted intervals drawn on it.

What cannot be trusted is not scored, and is said so:
* Frames without a face (the aligner found none: the person left, turned
  away, was hidden) get no score (NaN), as do the frames whose score reads
  one (the method's `invalid_frames`: for the 3D-CNN, a pair partner
  without a face). No interval spans them; the plot and the annotated video
  shade them; the JSON counts them (`frames_without_face`,
  `frames_without_score`) and a warning says so when they are many.
* A damaged file: frames are read as a build reads them
  (`stream_scoring.open_video`: `video_io.FrameReader(on_error="repeat")`,
  in grey for a model of grey faces); frames that cannot be decoded in
  the middle are stand-ins without a score, a file that ends before the
  frame count its container lists is scored as far as it goes, and both are recorded in the JSON
  (`frames_expected`, `frames_decoded`, `frames_missing`,
  `undecodable_frames`) and warned about. Exit status 0; 2 if nothing
  decodes.
Warnings go to the JSON and the log; the command line prints them as
`warning: ...` lines at the end. Bad input (checked before the model is
loaded) prints one line and exits with status 2.
"""
import json
import logging
import os
import sys
import time

import numpy as np

from mespot_jax import clip_scoring
from mespot_jax import deploy as deploy_lib
from mespot_jax import stream_scoring
from mespot_jax.config import vocab
from mespot_jax.data import video_io
from mespot_jax.errors import InputError
from mespot_jax.io_utils import atomic_write
from mespot_jax.metrics import intervals as interval_metrics
from mespot_jax.metrics import io as metrics_io
from mespot_jax.spotting import interval_rules
from mespot_jax.stream_scoring import ScoredVideo, score_frames
from mespot_jax.train import inference

run_clip = clip_scoring.run_clip  # `score.run_clip` (the --clip mode)
video_name = stream_scoring.video_name

PROTOCOLS = ("one_to_one", "megc2020")
NORMALISE_MODES = ("per_video", "absolute")
# Chosen by measurement on the synthetic held-out folds (docs/SCORING.md).
DEFAULT_NORMALISE = "per_video"
TYPES = vocab.TYPES
# Warn when at least this fraction of the frames has no face.
MANY_FACELESS = 0.05


def _video_fps(path: str, fps: float | None) -> tuple[float, int]:
  """(fps, container frame count) of a video file or frame folder."""
  if not os.path.exists(path):
    raise InputError(f"{path}: no such video file or frame folder")
  info = video_io.probe(path)
  if fps is None:
    fps = info["fps"]
    if fps is None:
      raise InputError(f"{path}: a frame folder has no frame rate; pass "
                       "--fps=F (frames per second of the recording)")
  if not fps > 0:
    raise InputError(f"{path}: frame rate {fps}; expected --fps > 0")
  return float(fps), int(info["num_frames"])


def _runs(mask_T) -> list[list[int]]:
  """1-based inclusive [first, last] runs of True frames."""
  return [list(r) for r in interval_rules.runs_above(
      np.asarray(mask_T, np.float64), 0.5)]


def _runs_text(runs, most: int = 5) -> str:
  text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs[:most])
  return text + (f" and {len(runs) - most} more" if len(runs) > most else "")


def _read_gt(path: str, name: str) -> list:
  rows = metrics_io.read_intervals_csv(path)
  mine = [r for r in rows if r.video == name]
  if rows and not mine:
    videos = sorted({r.video for r in rows})
    raise InputError(f"{path}: no ground-truth row for video {name!r}; the "
                     f"file has {videos[:5]}{'...' if len(videos) > 5 else ''}")
  return mine


def _input_warnings(video: str, stats, scored: ScoredVideo) -> list[str]:
  """Warnings about a damaged file and frames without a face."""
  out = []
  if not stats.complete:
    what = []
    if stats.frames_missing:
      what.append(f"frames {scored.frames + 1}-{stats.frames_expected} are "
                  "not scored")
    if stats.read_errors:
      what.append("the frames that could not be decoded have no score")
    out.append(f"{stats.describe()}; {'; '.join(what)}")
  faceless = ~scored.face_found_T & scored.decoded_T
  if faceless.any() and faceless.mean() >= MANY_FACELESS:
    out.append(
        f"{video}: no face found in {int(faceless.sum())} of its "
        f"{scored.frames} frames ({100 * faceless.mean():.0f}%; frames "
        f"{_runs_text(_runs(faceless))}); they have no score and no interval "
        "spans them")
  return out


def run(workdir: str, video: str, out: str | None = None,
        plot: str | None = None, json_path: str | None = None,
        fps: float | None = None, gt: str | None = None,
        annotate: str | None = None, batch_size: int | None = None,
        progress: bool = True, log_warnings: bool = True,
        normalise: str = DEFAULT_NORMALISE) -> dict:
  """Scores one video with the deploy model of `workdir`.

  Args:
    workdir: run directory trained with `train.deploy=True`.
    video: a video file or a folder of numbered frames.
    out: interval CSV to write (evaluate CLI format).
    plot: PNG of the scores and intervals.
    json_path: JSON summary to write.
    fps: frame rate (overrides the file's; required for frame folders).
    gt: ground-truth interval CSV; rows of this video are evaluated.
    annotate: video file to write with scores and intervals drawn.
    batch_size: frames per scorer call (default: the run's
      `eval.score_batch_size`).
    progress: show a progress bar.
    log_warnings: log the summary's warnings (the command line prints
      them itself, last).
    normalise: "per_video" (each video's scores min-max normalised, the
      paper's automated method and the config's thresholds) or "absolute"
      (the validation videos' raw score range and thresholds fitted with
      it, from deploy.json: a video without expressions can come back
      empty).

  Returns:
    The summary dict (also written to `json_path`).

  Raises:
    InputError: a missing or unreadable video (or one where no frame
      decodes), no face in any frame, no deploy model in `workdir`, a frame
      folder without `fps`, a bad GT, an output folder that does not exist.
  """
  # Every input is checked before the model loads (its INFO lines would
  # bury a one-line error).
  _, info = deploy_lib.read_record(workdir)
  if deploy_lib.record_task(info) != "spotting":
    raise InputError(
        f"{workdir}: its deploy model ({info.get('method')}) is a "
        f"{deploy_lib.record_task(info)} model, which classifies one clip; "
        "pass --clip=PATH --onset=N --apex=N --offset=N instead of --video")
  fps, container_frames = _video_fps(video, fps)
  reader = stream_scoring.open_video(video,
                                     deploy_lib.record_preprocess(info))
  name = stream_scoring.video_name(video)
  gt_rows = _read_gt(gt, name) if gt else None
  if batch_size is not None and batch_size < 0:
    raise InputError(f"--batch_size={batch_size}; expected >= 1")
  if normalise not in NORMALISE_MODES:
    raise InputError(f"--normalise={normalise!r}; expected one of "
                     f"{', '.join(NORMALISE_MODES)}")
  stream_scoring.check_outputs(out=out, plot=plot, json=json_path,
                               annotate=annotate)

  dep = deploy_lib.load_deployment(workdir)
  record = dep.record_absolute if normalise == "absolute" else dep.record
  warnings = []
  if not stream_scoring.fps_match(fps, dep.train_fps):
    warnings.append(
        f"{video}: {fps:g} fps is not a frame rate the model was trained "
        f"on ({', '.join(f'{f:g}' for f in dep.train_fps)} fps); skips and "
        "post-processing durations are rescaled by seconds")
  batch_size = inference.resolve_batch_size(
      batch_size or dep.config.eval.score_batch_size)
  if batch_size < 1:
    raise InputError(f"--batch_size={batch_size}; expected >= 1")

  start = time.perf_counter()
  scored = score_frames(dep, reader, fps, batch_size, container_frames,
                        progress=progress)
  seconds = time.perf_counter() - start
  num_frames, stats = scored.frames, reader.stats
  if scored.with_face == 0:
    raise InputError(f"{video}: no face found in any of its {num_frames} "
                     "frames; expected a video of one frontal face")
  warnings += _input_warnings(video, stats, scored)
  if log_warnings:
    for w in warnings:
      logging.warning("%s", w)

  scores = scored.scores_T2
  rows = dep.decoder.decode(scores, fps, record, name)
  signal, thresholds = dep.decoder.signal(scores, fps, record)
  decoded = stats.as_dict()
  summary = {
      "video": video, "name": name, "method": dep.method.name, "fps": fps,
      "num_frames": num_frames,
      "frames_expected": decoded["frames_expected"],
      "frames_decoded": decoded["frames_decoded"],
      "frames_missing": decoded["frames_missing"],
      "undecodable_frames": decoded["gaps"],
      "frames_without_face": num_frames - scored.with_face,
      "frames_without_face_runs": _runs(~scored.face_found_T),
      "frames_without_score": {
          typ: {"frames": int(np.isnan(scores[:, k]).sum()),
                "runs": _runs(np.isnan(scores[:, k]))}
          for k, typ in enumerate(TYPES)},
      **dep.method.video_choices(dep.choices, fps),
      "decoder": dep.decoder.name, "fitted": record.to_dict(),
      "thresholds": [float(t) for t in thresholds],
      "never_predicted": dep.decoder.never(record),
      "normalise": normalise,
      # The raw scores' range: a flat curve shows as a narrow one (which
      # per-video normalisation would stretch to 0..1).
      "raw_score_range": {
          typ: ([float(np.nanmin(scores[:, k])), float(np.nanmax(
              scores[:, k]))] if np.isfinite(scores[:, k]).any() else None)
          for k, typ in enumerate(TYPES)},
      "intervals": [{"type": r.type, "onset": r.onset, "offset": r.offset,
                     "score": r.score, "onset_s": (r.onset - 1) / fps,
                     "offset_s": r.offset / fps} for r in rows],
      "timing": {"seconds": seconds, "frames_per_second":
                 num_frames / max(seconds, 1e-9)},
      "warnings": warnings,
  }
  if gt_rows is not None:
    summary["evaluation"] = {}
    for p in PROTOCOLS:
      res = interval_metrics.evaluate(gt_rows, rows, p,
                                      dep.config.eval.iou_threshold)
      res.pop("per_video", None)
      summary["evaluation"][p] = res
      for typ in ("micro", "macro", "overall"):
        r = res[typ]
        print(f"{p:10s} {typ:7s} tp {r['tp']:3d} fp {r['fp']:3d} fn "
              f"{r['fn']:3d}  precision {r['precision']:.3f} recall "
              f"{r['recall']:.3f} f1 {r['f1']:.3f}")

  if out:
    metrics_io.write_intervals_csv(out, rows)
  else:
    for r in rows:
      print(f"{r.type} {r.onset}-{r.offset} score {r.score:.3f}")
  if plot:
    from mespot_jax.report import plots  # pylint: disable=g-import-not-at-top
    meta = _PlotMeta(name, fps, gt_rows or [])
    plots.plot_video(plot, meta, scores, signal, thresholds, rows,
                     dep.decoder.name)
  if annotate:
    from mespot_jax.report import plots  # pylint: disable=g-import-not-at-top
    summary["annotated_frames"] = plots.annotate_video(
        video, annotate, fps, scored.scores_T2, rows, scored.face_found_T,
        scored.decoded_T)
  if json_path:
    with atomic_write(json_path) as f:
      json.dump(summary, f, indent=2)
  logging.info("%s: %d frames at %.1f frames/s, %d interval(s)", name,
               num_frames, summary["timing"]["frames_per_second"], len(rows))
  return summary


class _PlotMeta:
  """What `plots.plot_video` reads of a video: name, fps, true intervals."""

  def __init__(self, video, fps, intervals):
    self.video, self.fps, self.intervals = video, fps, intervals


class _QuietLibraries(logging.Filter):
  """Drops orbax's INFO chatter about restoring the model (as main.py)."""

  def filter(self, record):
    return record.levelno >= logging.WARNING or "/orbax/" not in (
        record.pathname)


# Flags of the video (spotting) mode only.
_VIDEO_ONLY = ("out", "plot", "gt", "annotate", "batch_size")


def _check_flags(f) -> None:
  """--video or --clip (with its key frames), and no flag of the other."""
  if f.video and f.clip:
    raise InputError("pass --video=PATH (a spotting deploy model) or "
                     "--clip=PATH (a recognition one), not both")
  if not (f.video or f.clip):
    raise InputError("pass --video=PATH (a spotting deploy model) or "
                     "--clip=PATH --onset=N --apex=N --offset=N (a "
                     "recognition one)")
  if f.video:
    given = [k for k in ("onset", "apex", "offset")
             if getattr(f, k) is not None]
    if given:
      raise InputError(f"{', '.join('--' + k for k in given)} go with "
                       "--clip=PATH (a recognition deploy model), not --video")
  else:
    given = [k for k in _VIDEO_ONLY if getattr(f, k) is not None]
    if f.normalise != DEFAULT_NORMALISE:
      given.append("normalise")
    if given:
      raise InputError(f"{', '.join('--' + k for k in given)} go with "
                       "--video=PATH (a spotting deploy model), not --clip")


def main(argv):
  from absl import flags  # pylint: disable=g-import-not-at-top
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  del argv
  f = flags.FLAGS
  absl_logging.get_absl_handler().addFilter(_QuietLibraries())
  # FFmpeg's own messages ("moov atom not found", "error while decoding MB
  # ...") say less than the warnings below; OPENCV_FFMPEG_LOGLEVEL=16 (or
  # any level) shows them again. Read when the first video is opened.
  os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
  try:
    _check_flags(f)
    if f.clip:
      summary = clip_scoring.run_clip(
          f.workdir, f.clip, f.onset, f.apex, f.offset, json_path=f.json,
          fps=f.fps, log_warnings=False)
    else:
      summary = run(f.workdir, f.video, out=f.out, plot=f.plot,
                    json_path=f.json, fps=f.fps, gt=f.gt,
                    annotate=f.annotate, batch_size=f.batch_size,
                    log_warnings=False, normalise=f.normalise)
  except InputError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  # Last on stderr, after the progress bar and any decoder messages.
  for w in summary["warnings"]:
    print(f"warning: {w}", file=sys.stderr)


def _define_flags():
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.DEFINE_string("workdir", None, "Run directory with a deploy model.")
  flags.DEFINE_string("video", None, "Video file or folder of frames to "
                      "spot in (a spotting deploy model).")
  flags.DEFINE_string("clip", None, "Video file or folder of frames of one "
                      "clip to classify (a recognition deploy model).")
  flags.DEFINE_integer("onset", None, "The clip's onset frame number.")
  flags.DEFINE_integer("apex", None, "The clip's apex frame number.")
  flags.DEFINE_integer("offset", None, "The clip's offset frame number.")
  flags.DEFINE_string("out", None, "Interval CSV to write.")
  flags.DEFINE_string("plot", None, "PNG plot of the scores to write.")
  flags.DEFINE_string("json", None, "JSON summary to write.")
  flags.DEFINE_float("fps", None, "Frame rate (required for frame folders).")
  flags.DEFINE_string("gt", None, "Ground-truth CSV to evaluate against.")
  flags.DEFINE_string("annotate", None, "Annotated video to write (.mp4).")
  flags.DEFINE_integer("batch_size", None, "Frames per scorer call.")
  flags.DEFINE_string(
      "normalise", DEFAULT_NORMALISE, "per_video: each video's scores "
      "min-max normalised (the paper; every video gets intervals); absolute: "
      "the training data's raw score range and thresholds fitted with it (a "
      "video without expressions can come back empty).")
  flags.mark_flags_as_required(["workdir"])


if __name__ == "__main__":
  from absl import app  # pylint: disable=g-import-not-at-top
  _define_flags()
  app.run(main)
