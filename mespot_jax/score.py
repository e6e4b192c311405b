r"""Spots micro- and macro-expressions in a new video with a deploy model.

Usage:
  python -m mespot_jax.score --workdir=RUN --video=PATH [--out=intervals.csv]
      [--plot=scores.png] [--json=summary.json] [--fps=F] [--gt=GT.csv]
      [--annotate=out.mp4] [--batch_size=N]

RUN was trained with `python -m mespot_jax.main --config=... --workdir=RUN
--config.train.deploy=True`. PATH is a video file (mp4/avi/...) or a folder
of numbered frames (then --fps is required). The video is streamed: decode
-> face alignment -> the deploy model's method's scorer (e.g. the 3D-CNN's two-stream pairs),
so memory stays bounded for any length; only the per-frame scores (T x 2
floats) are kept. Any spotting method scores through the same interface. The scores are
post-processed with the run's thresholds into intervals, written in the
evaluate CLI's CSV format (video name = file stem, one score per interval).
--gt evaluates this one video (one_to_one and megc2020); --annotate writes
a copy of the video with the scores and spotted intervals drawn on it.
Bad input prints one line and exits with status 2.
"""
import json
import logging
import os
import sys
import time

import cv2
import numpy as np
from tqdm import tqdm

from mespot_jax import deploy as deploy_lib
from mespot_jax.data import video_io
from mespot_jax.data.frames import resize_crops
from mespot_jax.errors import InputError
from mespot_jax.face import align, track
from mespot_jax.io_utils import atomic_write
from mespot_jax.metrics import intervals as interval_metrics
from mespot_jax.metrics import io as metrics_io
from mespot_jax.train import inference

PROTOCOLS = ("one_to_one", "megc2020")
_COLOURS_BGR = {"micro": (0, 140, 255), "macro": (255, 120, 0)}


def video_name(path: str) -> str:
  """The name a video's intervals are written under: the file stem."""
  return os.path.splitext(os.path.basename(os.path.normpath(path)))[0]


def _fps_match(fps: float, known) -> bool:
  return any(abs(fps - f) <= 0.01 * f for f in known)


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


class _FaceCounter:
  """Prepares aligned crops as the training data was (mask, resize) while
  counting frames with a face."""

  def __init__(self, aligned, bar, dep):
    self._aligned = aligned
    self._bar = bar
    self._dep = dep
    self.frames = 0
    self.with_face = 0

  def __iter__(self):
    for a in self._aligned:
      self.frames += 1
      self.with_face += bool(a.face_found)
      self._bar.update(1)
      crop = align.mask_crop(a.crop, a.landmarks) if self._dep.mask_face \
          else a.crop
      yield resize_crops(crop[None], self._dep.image_size)[0]


def score_frames(dep, frames, fps: float, batch_size: int, total=None,
                 aligner=None, progress: bool = True):
  """Aligns and scores a stream of frames with the deploy model's method.

  Args:
    dep: a `deploy.Deployment`.
    frames: iterator of `uint8` video frames (RGB or grey).
    fps: frame rate of the video.
    batch_size: frames per jitted scorer call.
    total: expected frame count (progress bar only).
    aligner: a `track.VideoAligner` (default: one at the model's crop size).
    progress: show a tqdm bar (frames per second).

  Returns:
    (scores_T2 float32, frames, frames with a face).
  """
  aligner = aligner or track.VideoAligner(dep.align_size or dep.image_size,
                                         dep.grey)
  bar = tqdm(total=total or None, unit="frame", desc="scoring",
             dynamic_ncols=True, disable=None if progress else True)
  counter = _FaceCounter(aligner.align_stream(frames), bar, dep)
  scores = dep.method.score_stream(dep.variables, iter(counter), fps,
                                   dep.choices, batch_size)
  bar.close()
  return scores, counter.frames, counter.with_face


def _read_gt(path: str, name: str) -> list:
  rows = metrics_io.read_intervals_csv(path)
  mine = [r for r in rows if r.video == name]
  if rows and not mine:
    videos = sorted({r.video for r in rows})
    raise InputError(f"{path}: no ground-truth row for video {name!r}; the "
                     f"file has {videos[:5]}{'...' if len(videos) > 5 else ''}")
  return mine


def _annotate(path: str, out: str, fps: float, scores_T2, rows) -> int:
  """Second streaming pass: draws scores and spotted intervals on frames."""
  active = np.zeros((len(scores_T2), 2), bool)
  for r in rows:
    active[r.onset - 1:r.offset, 0 if r.type == "micro" else 1] = True

  def frames():
    for i, frame in enumerate(video_io.iter_frames(path)):
      if i >= len(scores_T2):
        break
      img = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR)
      h, w = img.shape[:2]
      for k, typ in enumerate(("micro", "macro")):
        colour = _COLOURS_BGR[typ]
        y = 18 + 20 * k
        cv2.putText(img, f"{typ} {scores_T2[i, k]:.2f}", (6, y),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
        bar_w = int(round(float(scores_T2[i, k]) * min(100, w // 3)))
        cv2.rectangle(img, (110, y - 10), (110 + bar_w, y - 2), colour, -1)
        if active[i, k]:
          pad = 2 + 4 * k
          cv2.rectangle(img, (pad, pad), (w - 1 - pad, h - 1 - pad), colour, 3)
          cv2.putText(img, typ.upper(), (6, h - 10 - 20 * k),
                      cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2, cv2.LINE_AA)
      yield cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

  return video_io.write_video(out, frames(), fps)


def run(workdir: str, video: str, out: str | None = None,
        plot: str | None = None, json_path: str | None = None,
        fps: float | None = None, gt: str | None = None,
        annotate: str | None = None, batch_size: int | None = None,
        progress: bool = True) -> dict:
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

  Returns:
    The summary dict (also written to `json_path`).

  Raises:
    InputError: a missing or unreadable video, no face in any frame, no
      deploy model in `workdir`, a frame folder without `fps`, a bad GT.
  """
  dep = deploy_lib.load_deployment(workdir)
  fps, container_frames = _video_fps(video, fps)
  name = video_name(video)
  gt_rows = _read_gt(gt, name) if gt else None
  warnings = []
  if not _fps_match(fps, dep.train_fps):
    msg = (f"{video}: {fps:g} fps is not a frame rate the model was trained "
           f"on ({', '.join(f'{f:g}' for f in dep.train_fps)} fps); skips and "
           "post-processing durations are rescaled by seconds")
    logging.warning(msg)
    warnings.append(msg)
  batch_size = inference.resolve_batch_size(
      batch_size or dep.config.eval.score_batch_size)
  if batch_size < 1:
    raise InputError(f"--batch_size={batch_size}; expected >= 1")

  start = time.perf_counter()
  scores, num_frames, with_face = score_frames(
      dep, video_io.iter_frames(video), fps, batch_size, container_frames,
      progress=progress)
  seconds = time.perf_counter() - start
  if num_frames == 0:
    raise InputError(f"{video}: no frame could be read")
  if with_face == 0:
    raise InputError(f"{video}: no face found in any of its {num_frames} "
                     "frames; expected a video of one frontal face")

  rows = dep.method.predict_video(scores, fps, name, dep.choices, dep.fitted)
  post = dep.config.eval.postprocess
  summary = {
      "video": video, "name": name, "method": dep.method.name, "fps": fps,
      "num_frames": num_frames,
      "frames_without_face": num_frames - with_face,
      **dep.method.video_choices(dep.choices, fps),
      "thresholds": list(dep.fitted["thresholds"]), "postprocess": post,
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
    plots.plot_video(plot, meta, scores, dep.fitted["thresholds"], rows, post,
                     dep.choices["post"])
  if annotate:
    summary["annotated_frames"] = _annotate(video, annotate, fps, scores, rows)
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


def main(argv):
  from absl import flags  # pylint: disable=g-import-not-at-top
  del argv
  f = flags.FLAGS
  try:
    run(f.workdir, f.video, out=f.out, plot=f.plot, json_path=f.json,
        fps=f.fps, gt=f.gt, annotate=f.annotate, batch_size=f.batch_size)
  except InputError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


def _define_flags():
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.DEFINE_string("workdir", None, "Run directory with a deploy model.")
  flags.DEFINE_string("video", None, "Video file or folder of frames.")
  flags.DEFINE_string("out", None, "Interval CSV to write.")
  flags.DEFINE_string("plot", None, "PNG plot of the scores to write.")
  flags.DEFINE_string("json", None, "JSON summary to write.")
  flags.DEFINE_float("fps", None, "Frame rate (required for frame folders).")
  flags.DEFINE_string("gt", None, "Ground-truth CSV to evaluate against.")
  flags.DEFINE_string("annotate", None, "Annotated video to write (.mp4).")
  flags.DEFINE_integer("batch_size", None, "Frames per scorer call.")
  flags.mark_flags_as_required(["workdir", "video"])


if __name__ == "__main__":
  from absl import app  # pylint: disable=g-import-not-at-top
  _define_flags()
  app.run(main)
