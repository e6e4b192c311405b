r"""Throughput of the Yap et al. 3D-CNN: training step and inference.

Measures, for each block formulation (`--impls`: 'grouped', 'shifted',
'fused', 'auto'; see `resolve_block_impl`) and with and without dropout:
  * train samples/s: one jitted step = forward + backward + Adam update,
    batch `--train_batch` (16 in the paper), dropout keys from the cheap
    'rbg' generator as the trainer uses on CPU;
  * inference samples/s at batch `--infer_batch` (offline scoring);
  * XLA's cost-analysis flops per step and the implied fraction of a stated
    roofline (`--peak_gflops`, default 200: this 2-core CPU's float32
    matrix-product peak, see shared/PERFORMANCE_NOTES.md).

Each figure is the median of `--steps` timed calls after one warm-up call
(which also compiles). 'shifted' is the formulation 'auto' picked on CPU
before the fused first block (the "before"); the last column gives each
row's speed relative to the 'shifted' row of the same mode and dropout,
measured in the same run, so it holds on a shared, noisy machine. Smoke run:

  python benchmarks/model_throughput.py --steps=3 --image_size=64

Reference on this CPU at 112x112 (PERFORMANCE_NOTES): PyTorch 37.5 train
samples/s (eager), 233 inference samples/s (torch.compile).
"""
import json
import statistics
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import optax

from mespot_jax.io_utils import atomic_write
from mespot_jax.models.yap3dcnn import Yap3DCNN
from mespot_jax.train.losses import yap_weighted_bce

_IMAGE_SIZE = flags.DEFINE_integer("image_size", 112, "Crop side in pixels.")
_TRAIN_BATCH = flags.DEFINE_integer("train_batch", 16, "Training batch size.")
_INFER_BATCH = flags.DEFINE_integer("infer_batch", 256, "Inference batch size.")
_STEPS = flags.DEFINE_integer("steps", 5, "Timed calls per measurement.")
_IMPLS = flags.DEFINE_list("impls", ["shifted", "fused", "auto"],
                           "Block formulations to measure ('grouped' is "
                           "slow on CPU).")
_DROPOUTS = flags.DEFINE_list("dropouts", ["0.2", "0.0"],
                              "Dropout rates to measure (training).")
_PEAK = flags.DEFINE_float("peak_gflops", 200.0,
                           "Roofline: peak float32 GFLOP/s of the device.")
_OUT = flags.DEFINE_string("out", None, "Optional JSON output path.")


def _flops(compiled) -> float:
  cost = compiled.cost_analysis()
  if isinstance(cost, (list, tuple)):   # older JAX: one dict per device
    cost = cost[0] if cost else {}
  return float((cost or {}).get("flops", float("nan")))


def _time(fn, steps: int) -> float:
  """Median seconds per call; `fn()` must block until done."""
  times = []
  for _ in range(steps):
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)
  return statistics.median(times)


def _data(batch: int, size: int, seed: int):
  kx, ky = jax.random.split(jax.random.key(seed))
  x = jax.random.uniform(kx, (batch, 2, 2, size, size, 1))
  y = (jax.random.uniform(ky, (batch, 2)) > 0.7).astype(jnp.float32)
  return x, y


def bench_train(impl: str, dropout: float, size: int, batch: int,
                steps: int) -> dict:
  """Times forward + backward + Adam on one batch."""
  model = Yap3DCNN(depthwise_impl=impl, dropout_rate=dropout)
  x, y = _data(batch, size, 0)
  variables = model.init(jax.random.key(0), x[:1], train=False)
  tx = optax.adam(1e-3)
  state = (variables["params"], variables["batch_stats"],
           tx.init(variables["params"]))

  def step(state, x, y, rng):
    params, stats, opt = state
    rng, drop = jax.random.split(rng)

    def loss_fn(p):
      logits, upd = model.apply({"params": p, "batch_stats": stats}, x,
                                train=True, rngs={"dropout": drop},
                                mutable=["batch_stats"])
      return yap_weighted_bce(logits, y), upd["batch_stats"]

    (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt = tx.update(grads, opt, params)
    return (optax.apply_updates(params, updates), stats, opt), rng, loss

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
  sec = _time(run, steps)
  return {"mode": "train", "impl": impl, "dropout": dropout, "batch": batch,
          "samples_per_s": batch / sec, "step_s": sec,
          "flops_per_step": _flops(compiled), "compile_s": compile_s}


def bench_infer(impl: str, size: int, batch: int, steps: int) -> dict:
  """Times a forward pass with running batch statistics."""
  model = Yap3DCNN(depthwise_impl=impl)
  x, _ = _data(batch, size, 2)
  variables = model.init(jax.random.key(0), x[:1], train=False)
  t0 = time.perf_counter()
  compiled = jax.jit(lambda v, x: model.apply(v, x, train=False)).lower(
      variables, x).compile()
  compile_s = time.perf_counter() - t0
  run = lambda: compiled(variables, x).block_until_ready()
  run()
  sec = _time(run, steps)
  return {"mode": "infer", "impl": impl, "dropout": 0.0, "batch": batch,
          "samples_per_s": batch / sec, "step_s": sec,
          "flops_per_step": _flops(compiled), "compile_s": compile_s}


def main(argv):
  del argv
  size, steps = _IMAGE_SIZE.value, _STEPS.value
  rows = []
  for impl in _IMPLS.value:
    for rate in _DROPOUTS.value:
      rows.append(bench_train(impl, float(rate), size, _TRAIN_BATCH.value,
                              steps))
    rows.append(bench_infer(impl, size, _INFER_BATCH.value, steps))
  for r in rows:
    r["roofline_fraction"] = (r["flops_per_step"] / r["step_s"]
                              / (_PEAK.value * 1e9))
  result = {"backend": jax.default_backend(), "device": str(jax.devices()[0]),
            "image_size": size, "steps": steps, "peak_gflops": _PEAK.value,
            "results": rows}
  print(json.dumps(result, indent=1))
  base = {(r["mode"], r["dropout"]): r["samples_per_s"] for r in rows
          if r["impl"] == "shifted"}
  print(f"\n{'mode':6} {'impl':8} {'drop':>5} {'batch':>5} {'samples/s':>10} "
        f"{'GFLOP/step':>10} {'roofline':>8} {'compile s':>9} {'vs shifted':>10}")
  for r in rows:
    ref = base.get((r["mode"], r["dropout"]))
    ratio = f"{r['samples_per_s'] / ref:9.2f}x" if ref else f"{'-':>10}"
    print(f"{r['mode']:6} {r['impl']:8} {r['dropout']:5.2f} {r['batch']:5d} "
          f"{r['samples_per_s']:10.1f} {r['flops_per_step'] / 1e9:10.2f} "
          f"{100 * r['roofline_fraction']:7.1f}% {r['compile_s']:9.1f} {ratio}")
  if _OUT.value:
    with atomic_write(_OUT.value) as f:
      json.dump(result, f, indent=1)


if __name__ == "__main__":
  app.run(main)
