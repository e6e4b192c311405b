r"""Feature throughput: LBP-TOP, HOG-TOP, HIGO-TOP in JAX against NumPy.

  python benchmarks/feature_throughput.py [--frames=150] [--size=48] \
      [--span=23] [--grid=4,4] [--bins=8] [--numpy_positions=16] \
      [--out=benchmarks/results/feature_throughput.json]

A feature frame is one position of a video: the descriptor of frames
i .. i + span - 1 (`mespot_jax.features.video`). JAX: `video_features`
over a random uint8 video of `frames` frames (`size` x `size`), in float64
(scikit-image's codes exactly) and in float32, with per-frame work shared
between positions (`sliding`, the default) and with the per-position
descriptor vmapped over positions (`positions`, the definition); the first
call (compilation) is not timed. NumPy: the same definition written with scikit-image and
NumPy one position at a time (`local_binary_pattern` on every XY, XT and
YT slice and `numpy.bincount` per block; `numpy.gradient` and
`numpy.bincount` for the gradient descriptors), on `numpy_positions`
positions. All in one run, so the ratios compare like with like; the
NumPy outputs are checked against the JAX ones.
"""
import json
import platform
import time

from absl import app
from absl import flags
import jax
import numpy as np
from skimage.feature import local_binary_pattern

from mespot_jax.features import common
from mespot_jax.features import video as video_lib
from mespot_jax.io_utils import atomic_write

_FRAMES = flags.DEFINE_integer("frames", 150, "Frames of the test video.")
_SIZE = flags.DEFINE_integer("size", 48, "Crop side.")
_SPAN = flags.DEFINE_integer("span", 23, "Frames per position (L).")
_GRID = flags.DEFINE_list("grid", ["4", "4"], "Blocks (rows, cols).")
_BINS = flags.DEFINE_integer("bins", 8, "Orientation bins.")
_NP_POS = flags.DEFINE_integer("numpy_positions", 16,
                               "Positions timed with NumPy.")
# (method, precision) of the JAX runs; the first is compared with NumPy.
VARIANTS = (("sliding", "float64"), ("sliding", "float32"),
            ("positions", "float64"), ("positions", "float32"))
_OUT = flags.DEFINE_string(
    "out", "benchmarks/results/feature_throughput.json", "JSON results.")


def _numpy_descriptor(v, kind, grid, bins):
  """One position's descriptor with scikit-image and NumPy."""
  v = np.asarray(v)
  t, h, w = v.shape
  blocks = common.block_map(h, w, grid)
  nb = grid[0] * grid[1]
  if kind == "lbp_top":
    nbins = 59
    codes = [np.stack([local_binary_pattern(v[k], 8, 1, "nri_uniform")
                       for k in range(t)]),
             np.stack([local_binary_pattern(v[:, y], 8, 1, "nri_uniform")
                       for y in range(h)], axis=1),
             np.stack([local_binary_pattern(v[:, :, x], 8, 1, "nri_uniform")
                       for x in range(w)], axis=2)]
    weights = [None] * 3
  else:
    nbins = bins
    gt, gy, gx = np.gradient(v.astype(np.float64))
    codes, weights = [], []
    for a, b in ((gy, gx), (gt, gx), (gt, gy)):
      theta = np.mod(np.arctan2(a, b), np.pi)
      codes.append(np.minimum(np.floor(theta * bins / np.pi), bins - 1))
      mag = np.hypot(a, b)
      weights.append(mag if kind == "hog_top" else (mag > 0).astype(float))
  out = []
  for c, wt in zip(codes, weights):
    idx = (blocks[None] * nbins + c.astype(np.int64)).ravel()
    hist = np.bincount(idx, None if wt is None else wt.ravel(),
                       minlength=nb * nbins).reshape(nb, nbins)
    tot = hist.sum(1, keepdims=True)
    out.append(np.divide(hist, tot, out=np.zeros_like(hist, float),
                         where=tot > 0))
  return np.stack(out, 1).reshape(-1)


def main(argv):
  del argv
  grid = tuple(int(g) for g in _GRID.value)
  span, bins = _SPAN.value, _BINS.value
  rng = np.random.default_rng(0)
  frames = rng.integers(0, 256, (_FRAMES.value, _SIZE.value, _SIZE.value, 1)
                        ).astype(np.uint8)
  n_pos = video_lib.num_positions(len(frames), span)
  rows = []
  for kind in video_lib.KINDS:
    row = {"kind": kind}
    ref = None
    for method, precision in VARIANTS:
      run = lambda m=method, p=precision: video_lib.video_features(
          frames, span, kind, grid, bins, p, chunk=64, method=m)
      out = run()  # compiles
      start = time.perf_counter()
      out = run()
      row[f"jax_{method}_{precision}_frames_per_s"] = n_pos / (
          time.perf_counter() - start)
      if (method, precision) == VARIANTS[0]:
        ref = out
    start = time.perf_counter()
    got = [_numpy_descriptor(frames[i:i + span, :, :, 0], kind, grid, bins)
           for i in range(_NP_POS.value)]
    row["numpy_frames_per_s"] = _NP_POS.value / (time.perf_counter() - start)
    row["numpy_max_abs_diff"] = float(np.abs(np.stack(got) -
                                             ref[:_NP_POS.value]).max())
    for method, precision in VARIANTS:
      name = f"jax_{method}_{precision}"
      row[f"ratio_{name}_to_numpy"] = (row[f"{name}_frames_per_s"] /
                                       row["numpy_frames_per_s"])
    rows.append(row)
    print(f"{kind:9s} numpy {row['numpy_frames_per_s']:7.1f} frames/s; " +
          "; ".join(f"{m} {p} {row[f'jax_{m}_{p}_frames_per_s']:7.1f} "
                    f"({row[f'ratio_jax_{m}_{p}_to_numpy']:.2f}x)"
                    for m, p in VARIANTS) +
          f"  (max |diff| {row['numpy_max_abs_diff']:.1e})")
  result = {
      "date": time.strftime("%Y-%m-%d"), "backend": jax.default_backend(),
      "devices": [str(d) for d in jax.devices()],
      "machine": platform.processor() or platform.machine(),
      "frames": _FRAMES.value, "size": _SIZE.value, "span": span,
      "grid": list(grid), "bins": bins, "positions": n_pos,
      "numpy_positions": _NP_POS.value, "rows": rows}
  if _OUT.value:
    with atomic_write(_OUT.value) as f:
      json.dump(result, f, indent=2)


if __name__ == "__main__":
  app.run(main)
