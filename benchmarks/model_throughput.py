r"""Throughput of the Yap et al. 3D-CNN against its PyTorch peer, one run.

Measures ours, for each formulation in `--impls` (`impl` or `impl/layout`:
impl 'grouped' | 'shifted' | 'fused' | 'auto' of `resolve_block_impl`,
layout 'NTHWC' | 'NHWTC' | 'auto' of `resolve_layout`; 'before' is the
CPU model as it was before 2026-12-01, `BEFORE`):
  * train samples/s: one jitted step = forward + backward + Adam update,
    batch `--train_batch` (16 in the paper), dropout keys from the cheap
    'rbg' generator as the trainer uses on CPU;
  * inference samples/s at each batch of `--infer_batches` (scoring);
  * XLA's cost-analysis flops per step and the implied fraction of a stated
    roofline (`--peak_gflops`, default 200: this 2-core CPU's float32
    matrix-product peak, see docs/PERFORMANCE.md).
Then, when `torch` is importable (the optional `bench` extra), the same
for the PyTorch peer (benchmarks/torch_peer.py, in a process of its own
right after ours, given our initial weights and checked to give our
outputs before timing): training eager,
channels-last; inference eager and `torch.compile`d. Every row's last
column is its speed over the best peer figure of the same mode measured in
this run. Without torch, ours alone are printed, and it says so.

Each figure is the median of `--steps` timed calls after one warm-up call
(which also compiles). Run under the CPU lock, nothing else running:

  flock /tmp/mespot_cpu.lock python benchmarks/model_throughput.py \
      --out=benchmarks/results/model_throughput.json
  python benchmarks/model_throughput.py --steps=2 --image_size=32 --nopeer \
      --impls=auto --infer_batches=8      # smoke
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np
import optax

import bench_util
from mespot_jax.io_utils import atomic_write
from mespot_jax.models.yap3dcnn import Yap3DCNN

_IMAGE_SIZE = flags.DEFINE_integer("image_size", 112, "Crop side in pixels.")
_TRAIN_BATCH = flags.DEFINE_integer("train_batch", 16, "Training batch size.")
_INFER_BATCHES = flags.DEFINE_list("infer_batches", ["32", "256"],
                                   "Inference batch sizes.")
_STEPS = flags.DEFINE_integer("steps", 5, "Timed calls per measurement.")
_IMPLS = flags.DEFINE_list("impls", ["before", "auto"],
                           "Formulations to measure: 'before' (BEFORE), or "
                           "impl or impl/layout with the other options at "
                           "their defaults ('grouped' is slow on CPU).")
_PEER = flags.DEFINE_bool("peer", True, "Also time the PyTorch peer when "
                          "torch is importable.")
_PEER_STEPS = flags.DEFINE_integer("peer_steps", 0, "Timed calls of the "
                                   "peer (0: --steps).")
_DROPOUTS = flags.DEFINE_list("dropouts", ["0.2"],
                              "Dropout rates to measure (training).")
_PEAK = flags.DEFINE_float("peak_gflops", 200.0,
                           "Roofline: peak float32 GFLOP/s of the device.")
_OUT = flags.DEFINE_string("out", None, "Optional JSON output path.")


def _data(batch: int, size: int, seed: int):
  kx, ky = jax.random.split(jax.random.key(seed))
  x = jax.random.uniform(kx, (batch, 2, 2, size, size, 1))
  y = (jax.random.uniform(ky, (batch, 2)) > 0.7).astype(jnp.float32)
  return x, y


# The CPU formulation before 2026-12-01: every block 'fused', frames before
# H and W, batch norm run as in training at inference, nn.Dropout's masks.
BEFORE = dict(depthwise_impl="fused", layout="NTHWC", fold_bn_eval=False,
              dropout_bits="bernoulli")


def _model(spec: str, **kw) -> Yap3DCNN:
  if spec == "before":
    return Yap3DCNN(**BEFORE, **kw)
  impl, _, layout = spec.partition("/")
  return Yap3DCNN(depthwise_impl=impl, layout=layout or "auto", **kw)


def bench_train(impl: str, dropout: float, size: int, batch: int,
                steps: int) -> dict:
  """Times forward + backward + Adam on one batch."""
  model = _model(impl, dropout_rate=dropout)
  x, y = _data(batch, size, 0)
  variables = model.init(jax.random.key(0), x[:1], train=False)
  tx = optax.adam(1e-3)
  state = (variables["params"], variables["batch_stats"],
           tx.init(variables["params"]))

  step = bench_util.yap_adam_step(model, tx)

  rng = jax.random.key(1, impl="rbg")
  t0 = time.perf_counter()
  compiled = jax.jit(step, donate_argnums=(0, 3)).lower(
      state, x, y, rng).compile()
  compile_s = time.perf_counter() - t0
  box = [state, rng]

  def run():
    box[0], box[1], loss = compiled(box[0], x, y, box[1])
    loss.block_until_ready()

  run()  # warm-up
  sec = bench_util.median_seconds(run, steps)
  return {"framework": "jax", "mode": "train", "impl": impl, "dropout": dropout, "batch": batch,
          "samples_per_s": batch / sec, "step_s": sec,
          "flops_per_step": bench_util.xla_flops(compiled), "compile_s": compile_s}


def bench_infer(impl: str, size: int, batch: int, steps: int) -> dict:
  """Times a forward pass with running batch statistics."""
  model = _model(impl)
  x, _ = _data(batch, size, 2)
  variables = model.init(jax.random.key(0), x[:1], train=False)
  t0 = time.perf_counter()
  compiled = jax.jit(lambda v, x: model.apply(v, x, train=False)).lower(
      variables, x).compile()
  compile_s = time.perf_counter() - t0
  run = lambda: compiled(variables, x).block_until_ready()
  run()
  sec = bench_util.median_seconds(run, steps)
  return {"framework": "jax", "mode": "infer", "impl": impl, "dropout": 0.0, "batch": batch,
          "samples_per_s": batch / sec, "step_s": sec,
          "flops_per_step": bench_util.xla_flops(compiled), "compile_s": compile_s}


def _peer_rows(size: int, steps: int) -> tuple[list, str]:
  """The PyTorch peer's rows, or ([], why not).

  The peer runs in a process of its own, right after ours (the two
  frameworks' thread pools never share a process), given our initial
  variables and checked to give our logits before it is timed.
  """
  if importlib.util.find_spec("torch") is None:
    return [], "torch not importable; install the bench extra"
  model = Yap3DCNN()
  x, _ = _data(2, size, 3)
  variables = model.init(jax.random.key(0), x[:1], train=False)
  flat = {"/".join(str(getattr(k, "key", k)) for k in path): np.asarray(leaf)
          for path, leaf in jax.tree_util.tree_flatten_with_path(
              {**variables, "check": {
                  "x": x, "logits": model.apply(variables, x, train=False)}})[0]}
  with tempfile.TemporaryDirectory() as tmp:
    np.savez(os.path.join(tmp, "v.npz"), **flat)
    out = os.path.join(tmp, "rows.json")
    subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(__file__),
                                      "torch_peer.py"),
         os.path.join(tmp, "v.npz"), out, str(size), str(_TRAIN_BATCH.value),
         ",".join(_INFER_BATCHES.value), ",".join(_DROPOUTS.value),
         str(steps)], check=True)
    with open(out) as f:
      return json.load(f), ""


def main(argv):
  del argv
  size, steps = _IMAGE_SIZE.value, _STEPS.value
  rows = []
  for impl in _IMPLS.value:
    for rate in _DROPOUTS.value:
      rows.append(bench_train(impl, float(rate), size, _TRAIN_BATCH.value,
                              steps))
    for b in (int(v) for v in _INFER_BATCHES.value):
      rows.append(bench_infer(impl, size, b, steps))
  for r in rows:
    r["roofline_fraction"] = (r["flops_per_step"] / r["step_s"]
                              / (_PEAK.value * 1e9))
  peer, why = ([], "not requested (--nopeer)")
  if _PEER.value:
    peer, why = _peer_rows(size, _PEER_STEPS.value or steps)
  best = {}
  for r in peer:
    best[r["mode"]] = max(best.get(r["mode"], 0.0), r["samples_per_s"])
  for r in rows + peer:
    if r["mode"] in best:
      r["vs_best_peer"] = r["samples_per_s"] / best[r["mode"]]
  result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "backend": jax.default_backend(), "device": str(jax.devices()[0]),
            "cpu_count": os.cpu_count(), "jax": jax.__version__,
            "image_size": size, "steps": steps, "peak_gflops": _PEAK.value,
            "peer": why or "torch " + peer[0]["torch"],
            "best_peer": best, "results": rows + peer}
  print(json.dumps(result, indent=1))
  if not peer:
    print(f"\nPyTorch peer not measured: {why}. Ours alone:")
  print(f"\n{'framework':9} {'mode':6} {'impl':18} {'drop':>5} {'batch':>5} "
        f"{'samples/s':>10} {'GFLOP/step':>10} {'roofline':>8} "
        f"{'vs best peer':>12}")
  for r in rows + peer:
    ratio = (f"{r['vs_best_peer']:11.2f}x" if "vs_best_peer" in r
             else f"{'-':>12}")
    gflop = r.get("flops_per_step", float("nan")) / 1e9
    roof = 100 * r.get("roofline_fraction", float("nan"))
    print(f"{r['framework']:9} {r['mode']:6} {r['impl']:18} "
          f"{r['dropout']:5.2f} {r['batch']:5d} {r['samples_per_s']:10.1f} "
          f"{gflop:10.2f} {roof:7.1f}% {ratio}")
  if _OUT.value:
    with atomic_write(_OUT.value) as f:
      json.dump(result, f, indent=1)


if __name__ == "__main__":
  app.run(main)
