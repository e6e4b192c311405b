r"""Throughput of the LBCNN next to the 3D-CNN: training step and inference.

  python benchmarks/lbcnn_throughput.py [--steps=5] [--train_batch=16]
      [--infer_batch=32] [--out=benchmarks/results/lbcnn_throughput.json]
      [--markdown=benchmarks/results/lbcnn_throughput.md]

Rows, all measured in one run through the trainer's own compiled functions
(`train.steps.make_train_step`: one fold, forward + backward + Adam, the
method's on-device input step included: for the LBCNN the ROI crops; and
`make_predict_fn`, the offline scorer's call):
  * lbcnn at the synthetic config's sizes (face 48, ROIs 24, its widths);
  * lbcnn at the paper's sizes (face and ROIs 224, `methods/lbcnn.py`'s
    default backbone: 11/5/3 kernels, first stride 4);
  * yap3dcnn at the synthetic config's crop (48) and the paper's (112).
Samples are one frame (LBCNN: the face and its four ROIs) or one two-stream
sample (3D-CNN: four frames). FLOPs are XLA's cost analysis of the
compiled step, per sample. Each time is the median of `--steps` calls after
a warm-up call. Random weights and inputs: throughput only.
"""
import json
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

import bench_util
from mespot_jax.config import common
from mespot_jax.config import load_module as load_config
from mespot_jax import methods
from mespot_jax.io_utils import atomic_write
from mespot_jax.train import state as state_lib, steps as steps_lib

synthetic_3dcnn = load_config("synthetic_3dcnn")
synthetic_lbcnn = load_config("synthetic_lbcnn")

_STEPS = flags.DEFINE_integer("steps", 5, "Timed calls per measurement.")
_TRAIN_BATCH = flags.DEFINE_integer("train_batch", 16, "Training batch.")
_INFER_BATCH = flags.DEFINE_integer("infer_batch", 32, "Inference batch.")
_OUT = flags.DEFINE_string("out", None, "JSON output path.")
_MD = flags.DEFINE_string("markdown", None, "Markdown table output path.")


class _Store:
  """What `example_input` reads of a store."""

  def __init__(self, size):
    self.image_size, self.channels = size, 1


def _median_s(fn, steps: int) -> float:
  fn()  # warm-up
  return bench_util.median_seconds(fn, steps)


def _boxes(size, n):
  """Plausible ROI boxes of an aligned face of side `size`."""
  unit = np.array([[0.1, 0.2, 0.45, 0.4], [0.55, 0.2, 0.9, 0.4],
                   [0.3, 0.3, 0.7, 0.7], [0.25, 0.65, 0.75, 0.9]])
  return np.tile((unit * size).astype(np.float32), (n, 1, 1))


def _batch(method, size, n, rng):
  """One fold's batch of `n` samples (leading fold axis of 1)."""
  if method.name == "lbcnn":
    b = {"x": rng.integers(0, 255, (n, size, size, 1), np.uint8),
         "rois": _boxes(size, n), "y": rng.integers(0, 3, n).astype(np.int32)}
  else:
    b = {"x": rng.integers(0, 255, (n, 2, 2, size, size, 1), np.uint8),
         "y": rng.integers(0, 2, (n, 2)).astype(np.float32)}
  b["aug"] = np.ones((n, 3), np.float32)
  return b


def bench(label, config, size, train_batch, infer_batch, steps) -> list:
  """Train and inference rows of one method at one crop size."""
  method = methods.get(config)
  fns = method.step_fns
  impl = state_lib.rng_impl("auto")
  tx = state_lib.make_optimizer("adam", 1e-3)
  sample = method.example_input(_Store(size))
  state = [state_lib.init_stacked(fns.model, tx, sample, [0], 0, impl)]
  rng = np.random.default_rng(0)
  batch = jax.tree.map(lambda a: a[None], _batch(method, size, train_batch,
                                                 rng))
  active = jnp.ones((1,), bool)
  step = steps_lib.make_train_step(fns, impl)
  t0 = time.perf_counter()
  compiled = step.lower(state[0], batch, active).compile()
  train_compile = time.perf_counter() - t0
  train_flops = bench_util.xla_flops(compiled)

  def train():
    state[0], m = step(state[0], batch, active)
    jax.block_until_ready(m)

  train_s = _median_s(train, steps)
  variables = state_lib.variables_of(jax.tree.map(lambda a: a[0], state[0]))
  pbatch = _batch(method, size, infer_batch, rng)
  pbatch.pop("y")
  predict = steps_lib.make_predict_fn(fns)
  t0 = time.perf_counter()
  pcompiled = predict.lower(variables, pbatch).compile()
  infer_compile = time.perf_counter() - t0
  infer_flops = bench_util.xla_flops(pcompiled)
  infer_s = _median_s(lambda: jax.block_until_ready(
      predict(variables, pbatch)), steps)
  params = sum(a.size for a in jax.tree.leaves(variables["params"]))
  common_row = {"model": label, "method": method.name, "crop": size,
                "params": int(params)}
  return [
      dict(common_row, mode="train", batch=train_batch,
           samples_per_s=train_batch / train_s, step_s=train_s,
           gflop_per_sample=train_flops / train_batch / 1e9,
           compile_s=train_compile),
      dict(common_row, mode="infer", batch=infer_batch,
           samples_per_s=infer_batch / infer_s, step_s=infer_s,
           gflop_per_sample=infer_flops / infer_batch / 1e9,
           compile_s=infer_compile)]


def _cases():
  syn_lb = synthetic_lbcnn.get_config()
  paper_lb = common.get_config("lbcnn")  # the paper-sized default block
  syn_3d = synthetic_3dcnn.get_config()
  paper_3d = common.get_config("yap3dcnn")
  return [("lbcnn synthetic (face 48, ROIs 24)", syn_lb, 48),
          ("lbcnn paper (face and ROIs 224)", paper_lb, 224),
          ("yap3dcnn synthetic (48)", syn_3d, 48),
          ("yap3dcnn paper (112)", paper_3d, 112)]


def markdown(result) -> str:
  lines = [f"Measured {result['date']} on {result['device']} "
           f"(`python benchmarks/lbcnn_throughput.py`, median of "
           f"{result['steps']} calls).", "",
           "| model | params | train samples/s (batch "
           f"{result['train_batch']}) | train GFLOP/sample | inference "
           f"samples/s (batch {result['infer_batch']}) | inference "
           "GFLOP/sample |", "|---|---|---|---|---|---|"]
  rows = result["results"]
  for label in dict.fromkeys(r["model"] for r in rows):
    tr, inf = (next(r for r in rows if r["model"] == label and r["mode"] == m)
               for m in ("train", "infer"))
    lines.append(f"| {label} | {tr['params']:,} | {tr['samples_per_s']:.1f} "
                 f"| {tr['gflop_per_sample']:.3f} | "
                 f"{inf['samples_per_s']:.1f} | "
                 f"{inf['gflop_per_sample']:.3f} |")
  return "\n".join(lines) + "\n"


def main(argv):
  del argv
  rows = []
  for label, config, size in _cases():
    rows += bench(label, config, size, _TRAIN_BATCH.value, _INFER_BATCH.value,
                  _STEPS.value)
    print(json.dumps(rows[-2:], indent=1), flush=True)
  result = {"backend": jax.default_backend(), "device": str(jax.devices()[0]),
            "date": time.strftime("%Y-%m-%d"), "steps": _STEPS.value,
            "train_batch": _TRAIN_BATCH.value,
            "infer_batch": _INFER_BATCH.value, "results": rows}
  table = markdown(result)
  print(table)
  if _OUT.value:
    with atomic_write(_OUT.value) as f:
      json.dump(result, f, indent=1)
  if _MD.value:
    with atomic_write(_MD.value) as f:
      f.write(table)


if __name__ == "__main__":
  app.run(main)
