"""Classifies one clip with a recognition deploy model (`score --clip`).

`run_clip(workdir, clip, onset, apex, offset)` is what
`python -m mespot_jax.score --clip=PATH --onset=N --apex=N --offset=N`
calls (`mespot_jax.score` documents the command): the clip is prepared as
the training clips were (`stream_scoring.score_clip`, the deploy record's
preprocessing) and its label and class probabilities are returned,
printed and written to JSON.
"""
import json
import logging
import os
import time

from mespot_jax import deploy as deploy_lib
from mespot_jax import stream_scoring
from mespot_jax.data import video_io
from mespot_jax.errors import InputError
from mespot_jax.io_utils import atomic_write


def _probabilities(classes, p) -> dict:
  return {c: float(v) for c, v in zip(classes, p)}


def run_clip(workdir: str, clip: str, onset: int | None, apex: int | None,
             offset: int | None, json_path: str | None = None,
             fps: float | None = None, log_warnings: bool = True,
             echo: bool = True) -> dict:
  """Classifies one clip with the recognition deploy model of `workdir`.

  Args:
    workdir: run directory trained with `train.deploy=True`.
    clip: a video file or a folder of numbered frames.
    onset, apex, offset: frame numbers, inclusive (module docstring).
    json_path: JSON summary to write.
    fps: the clip's frame rate (a video file's by default; recorded, and
      compared with the training clips').
    log_warnings: log the summary's warnings.
    echo: print the label and probabilities.

  Returns:
    The summary dict (also written to `json_path`): `label`,
    `probabilities` (with the fitted calibration, the label's argmax),
    `model_probabilities` (without), the frames used and warnings.

  Raises:
    InputError: a spotting deploy model, a missing or unreadable clip,
      missing frames in a frame folder, key frames not given, out of order
      or outside the clip, no face in any frame, no deploy model in
      `workdir`, an output folder that does not exist.
  """
  _, info = deploy_lib.read_record(workdir)
  task = deploy_lib.record_task(info)
  if task != "recognition":
    raise InputError(
        f"{workdir}: its deploy model ({info.get('method')}) is a {task} "
        "model, which spots expressions in a long video; pass --video=PATH "
        "instead of --clip")
  stream_scoring.check_clip(clip, onset, apex, offset)
  if fps is not None and not fps > 0:
    raise InputError(f"--fps={fps}; expected > 0")
  stream_scoring.check_outputs(json=json_path)
  if fps is None and not os.path.isdir(clip):
    fps = video_io.probe(clip)["fps"]

  dep = deploy_lib.load_deployment(workdir)
  start = time.perf_counter()
  scored = stream_scoring.score_clip(dep, clip, onset, apex, offset,
                                     fps or 0.0)
  seconds = time.perf_counter() - start
  prepared = scored.clip
  if not prepared.face_found.any():
    raise InputError(f"{clip}: no face found in any of its "
                     f"{prepared.num_frames} frames; expected a clip of one "
                     "frontal face")
  warnings = []
  faceless = [k for k, n in zip(stream_scoring.KEY_FRAMES,
                                (onset, apex, offset))
              if not prepared.face_at(n)]
  if faceless:
    warnings.append(
        f"{clip}: no face found at the {', '.join(faceless)} frame(s); "
        "their crops are the tracker's stand-ins and the label may be "
        "wrong")
  length = offset - onset + 1
  trained = dep.info.get("train_clip_length")
  if trained and not trained[0] <= length <= trained[1]:
    warnings.append(
        f"{clip}: onset to offset spans {length} frames, the training clips "
        f"{trained[0]} to {trained[1]}; the frames sampled between them are "
        "further apart (or closer) than the model has seen")
  if (fps and dep.train_fps and
      not stream_scoring.fps_match(fps, dep.train_fps)):
    warnings.append(
        f"{clip}: {fps:g} fps is not a frame rate the model was trained on "
        f"({', '.join(f'{f:g}' for f in dep.train_fps)} fps)")
  if log_warnings:
    for w in warnings:
      logging.warning("%s", w)
  classes = list(dep.classes)
  record = dep.records["model"]
  summary = {
      "clip": clip, "name": stream_scoring.video_name(clip),
      "method": dep.method.name,
      "task": "recognition", "onset": int(onset), "apex": int(apex),
      "offset": int(offset), "fps": fps,
      "num_frames": prepared.num_frames,
      "frames_without_face": int((~prepared.face_found).sum()),
      "key_frames_without_face": faceless,
      "frame_numbers": [int(n) for n in prepared.frame_numbers],
      "label": scored.label, "classes": classes,
      "probabilities": _probabilities(classes, scored.calibrated),
      "model_probabilities": _probabilities(
          classes, scored.probabilities["model"]),
      "heads": {k: _probabilities(classes, p)
                for k, p in scored.probabilities.items() if k != "model"},
      "decoder": dep.decoder.name, "calibration": record.calibration,
      "bias": [float(b) for b in record.bias],
      "preprocess": dep.preprocess.to_dict(),
      "timing": {"seconds": seconds},
      "warnings": warnings,
  }
  if echo:
    print(f"label {scored.label}")
    for c, p in summary["probabilities"].items():
      print(f"{c} {p:.4f}")
  if json_path:
    with atomic_write(json_path) as f:
      json.dump(summary, f, indent=2)
  logging.info("%s: %s (%s)", summary["name"], scored.label, ", ".join(
      f"{c} {p:.3f}" for c, p in summary["probabilities"].items()))
  return summary
