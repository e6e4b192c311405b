r"""Scoring throughput: end to end (decode + align + score) and model alone.

  python benchmarks/score_throughput.py [--frames=120] \
      [--batch_sizes=64,128,256] [--size=112] [--out=score_throughput.json]

The paper-size model (configs/common.py, random init: weights do not change
the cost) scores a synthetic face video written to a temporary mp4. "end to
end" streams the file through `video_io.iter_frames` -> `VideoAligner` ->
`inference.iter_scores`; "model" runs the jitted scorer on pre-aligned
frames. The first call of each batch size (compilation) is not timed.
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

from configs import common
from mespot_jax import methods
from mespot_jax.methods import yap3dcnn
from mespot_jax.data import video_io
from mespot_jax.face import track
from mespot_jax.io_utils import atomic_write
from mespot_jax.synthetic import render
from mespot_jax.train import steps as steps_lib

_FRAMES = flags.DEFINE_integer("frames", 120, "Frames of the test video.")
_BATCH = flags.DEFINE_list("batch_sizes", ["64", "128", "256"],
                           "Scorer batch sizes.")
_SIZE = flags.DEFINE_integer("size", 112, "Aligned crop side.")
_SKIPS = flags.DEFINE_list("skips", ["6", "19"], "Test-time skips (frames).")
_OUT = flags.DEFINE_string("out", None, "JSON file for the results.")


def _timed(fn):
  start = time.perf_counter()
  n = fn()
  return n / max(time.perf_counter() - start, 1e-9)


def main(argv):
  del argv
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
