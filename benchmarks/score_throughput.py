r"""Scoring throughput: end to end (decode + align + score) and model alone.

  python benchmarks/score_throughput.py [--frames=120] \
      [--batch_sizes=64,128,256] [--size=112] [--out=score_throughput.json]
  python benchmarks/score_throughput.py --resolutions=640x480@30,2040x1088@200 \
      [--frames=300] [--out=benchmarks/results/score_resolutions.json]

The paper-size model (configs/common.py, random init: weights do not change
the cost) scores a synthetic face video written to a temporary mp4. "end to
end" streams the file through `video_io.iter_frames` -> `VideoAligner` ->
`inference.iter_scores`; "model" runs the jitted scorer on pre-aligned
frames. The first call of each batch size (compilation) is not timed.

`--resolutions` (`WxH@FPS`, e.g. CAS(ME)^2's 640x480 at 30 fps and
SAMM-LV's 2040x1088 at 200 fps) instead runs `mespot_jax.score.score_frames`
(what `python -m mespot_jax.score` runs: FrameReader -> VideoAligner ->
mask/resize -> the method's `score_stream`) on a synthetic face video of
that size (face box `--face_frac` of the frame height) and measures, in that
one streamed pass, the seconds spent in each stage: decode (the reader),
face tracking (landmarks: detection on the first frame, the shape predictor
on every frame), alignment (smoothing and the warp to the crop) and scoring
(crop preparation and the model's pair scoring). Each stage's frames/s is
frames / its own seconds; its ratio to real time is that over the video's
fps (>= 1: keeps up). The model is compiled on an untimed first pass.
"""
import json
import os
import tempfile
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

from mespot_jax.config import common
from mespot_jax import methods
from mespot_jax.methods import yap3dcnn
from mespot_jax.data import video_io
from mespot_jax.face import track
from mespot_jax.io_utils import atomic_write
from mespot_jax.synthetic import render
from mespot_jax.train import inference
from mespot_jax.train import steps as steps_lib

_FRAMES = flags.DEFINE_integer("frames", 120, "Frames of the test video.")
_BATCH = flags.DEFINE_list("batch_sizes", ["64", "128", "256"],
                           "Scorer batch sizes.")
_SIZE = flags.DEFINE_integer("size", 112, "Aligned crop side.")
_SKIPS = flags.DEFINE_list("skips", ["6", "19"], "Test-time skips (frames).")
_OUT = flags.DEFINE_string("out", None, "JSON file for the results.")
_RES = flags.DEFINE_list("resolutions", [], "WxH@FPS videos to score end to "
                         "end, stage by stage (see the module docstring).")
_FACE_FRAC = flags.DEFINE_float("face_frac", 0.35, "Face box width over the "
                                "frame height (--resolutions).")
_SCORE_BATCH = flags.DEFINE_integer("score_batch", 0, "Scorer batch "
                                    "(--resolutions; 0: per backend).")


class _Timed:
  """Iterates `inner`, adding the seconds spent in its `next` to `box[key]`."""

  def __init__(self, inner, box, key, stats=None):
    self._it, self._box, self._key = iter(inner), box, key
    self.stats = stats

  def __iter__(self):
    return self

  def __next__(self):
    t0 = time.perf_counter()
    try:
      return next(self._it)
    finally:
      self._box[self._key] += time.perf_counter() - t0


def _score_pass(dep, path, fps, batch, detector, predictor):
  """One streamed `score_frames` pass; seconds per stage (exclusive)."""
  from mespot_jax import score as score_lib  # pylint: disable=g-import-not-at-top
  box = dict(decode=0.0, tracking=0.0, aligned=0.0)
  reader = video_io.FrameReader(path, on_error="repeat")
  frames = _Timed(reader, box, "decode")
  aligner = track.VideoAligner(dep.align_size, dep.grey, detector=detector,
                               predictor=predictor)
  observe, align_stream = aligner._observe, aligner.align_stream  # pylint: disable=protected-access

  def timed_observe(*a, **k):
    t0 = time.perf_counter()
    try:
      return observe(*a, **k)
    finally:
      box["tracking"] += time.perf_counter() - t0
  aligner._observe = timed_observe  # pylint: disable=protected-access
  aligner.align_stream = lambda fr: _Timed(align_stream(fr), box, "aligned")
  t0 = time.perf_counter()
  scored = score_lib.score_frames(dep, frames, fps, batch, aligner=aligner,
                                  progress=False)
  total = time.perf_counter() - t0
  return {"frames": scored.frames, "with_face": scored.with_face,
          "total_s": total, "decode_s": box["decode"],
          "tracking_s": box["tracking"],
          "alignment_s": box["aligned"] - box["tracking"] - box["decode"],
          "scoring_s": total - box["aligned"],
          "detector_calls": int(aligner.stats["detector_calls"])}


def resolutions_main(specs, n: int) -> dict:
  """The `--resolutions` mode: stage-by-stage end-to-end scoring."""
  import types  # pylint: disable=g-import-not-at-top
  cfg = common.get_config("yap3dcnn")
  method = methods.get(cfg)
  size = _SIZE.value
  variables = method.step_fns.model.init(
      jax.random.PRNGKey(0), jnp.zeros((1, 2, 2, size, size, 1)), train=False)
  b = cfg.yap3dcnn.sampler
  # The paper's manual skips at their frame rate, rescaled to each video's.
  dep = types.SimpleNamespace(
      method=method, variables=variables, image_size=size, align_size=size,
      grey=True, mask_face=False,
      choices={"skips": {"fps": float(b.skip_fps),
                         "skips": [int(v) for v in b.manual_skips]}})
  detector, predictor = None, None
  rows = []
  with tempfile.TemporaryDirectory() as tmp:
    for spec in specs:
      wh, _, fps = spec.partition("@")
      w, h = (int(v) for v in wh.lower().split("x"))
      fps = float(fps)
      p = render.VideoParams(seed=0, subject=0, video=0, fps=fps,
                             num_frames=n, frame_hw=(h, w),
                             face_size=int(round(_FACE_FRAC.value * h)))
      path = os.path.join(tmp, f"{w}x{h}.mp4")
      t0 = time.perf_counter()
      video_io.write_video(path, render.iter_video_frames(p), fps)
      render_s = time.perf_counter() - t0
      if detector is None:
        warm = track.VideoAligner(size, grey=True)
        detector, predictor = warm.detector, warm.predictor
      batch = _SCORE_BATCH.value
      _score_pass(dep, path, fps, batch, detector, predictor)  # compiles
      r = _score_pass(dep, path, fps, batch, detector, predictor)
      for stage in ("decode", "tracking", "alignment", "scoring", "total"):
        r[f"{stage}_fps"] = r["frames"] / max(r[f"{stage}_s"], 1e-9)
        r[f"{stage}_x_realtime"] = r[f"{stage}_fps"] / fps
      r.update(width=w, height=h, fps=fps, face_size=p.face_size,
               skips=list(method.video_skips(dep.choices, fps)),
               batch_size=inference.resolve_batch_size(batch),
               render_s=render_s)
      rows.append(r)
  return {"mode": "resolutions", "date": time.strftime(
      "%Y-%m-%d %H:%M UTC", time.gmtime()), "backend": jax.default_backend(),
          "cpu_count": os.cpu_count(), "size": size, "frames": n,
          "results": rows}


def _print_resolutions(result):
  print(f"{result['backend']}, {result['size']}x{result['size']} grey crops, "
        f"{result['frames']} frames per video; frames/s (x real time)")
  print(f"{'video':>16} {'decode':>14} {'tracking':>14} {'alignment':>14} "
        f"{'scoring':>14} {'end to end':>14}")
  for r in result["results"]:
    cells = [f"{r[k + '_fps']:6.1f} ({r[k + '_x_realtime']:4.2f}x)"
             for k in ("decode", "tracking", "alignment", "scoring", "total")]
    name = f"{r['width']}x{r['height']}@{r['fps']:g}"
    print(f"{name:>16} " + " ".join(f"{c:>14}" for c in cells))


def _timed(fn):
  start = time.perf_counter()
  n = fn()
  return n / max(time.perf_counter() - start, 1e-9)


def main(argv):
  del argv
  if _RES.value:
    result = resolutions_main(_RES.value, _FRAMES.value)
    _print_resolutions(result)
    if _OUT.value:
      with atomic_write(_OUT.value) as f:
        json.dump(result, f, indent=2)
    return
  size, n = _SIZE.value, _FRAMES.value
  skips = tuple(int(s) for s in _SKIPS.value)
  fns = methods.get(common.get_config("yap3dcnn")).step_fns
  model = fns.model
  variables = model.init(jax.random.PRNGKey(0),
                         jnp.zeros((1, 2, 2, size, size, 1)), train=False)
  predict_fn = steps_lib.make_predict_fn(fns)
  p = render.VideoParams(seed=0, subject=0, video=0, fps=30.0, num_frames=n)
  rows = []
  with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "bench.mp4")
    video_io.write_video(path, render.iter_video_frames(p), p.fps)
    aligner = track.VideoAligner(size, grey=True)
    crops = [a.crop for a in aligner.align_stream(video_io.iter_frames(path))]
    for b in (int(x) for x in _BATCH.value):
      for _ in yap3dcnn.iter_pair_scores(predict_fn, variables, iter(crops[:b]),
                                     skips, b):
        pass  # compile
      model_fps = _timed(lambda: sum(len(s) for s in yap3dcnn.iter_pair_scores(
          predict_fn, variables, iter(crops), skips, b)))

      def end_to_end():
        al = track.VideoAligner(size, grey=True, detector=aligner.detector,
                                predictor=aligner.predictor)
        frames = (a.crop for a in al.align_stream(video_io.iter_frames(path)))
        return sum(len(s) for s in yap3dcnn.iter_pair_scores(
            predict_fn, variables, frames, skips, b))
      rows.append({"batch_size": b, "model_fps": model_fps,
                   "end_to_end_fps": _timed(end_to_end)})
  result = {"backend": jax.default_backend(), "devices": jax.device_count(),
            "size": size, "frames": n, "skips": list(skips),
            "video_hw": list(p.frame_hw), "results": rows}
  print(f"{jax.default_backend()}, {size}x{size} grey crops, {n} frames of "
        f"{p.frame_hw[1]}x{p.frame_hw[0]} video")
  print(f"{'batch':>6} {'model frames/s':>15} {'end-to-end frames/s':>20}")
  for r in rows:
    print(f"{r['batch_size']:6d} {r['model_fps']:15.1f} "
          f"{r['end_to_end_fps']:20.1f}")
  if _OUT.value:
    with atomic_write(_OUT.value) as f:
      json.dump(result, f, indent=2)


if __name__ == "__main__":
  app.run(main)
