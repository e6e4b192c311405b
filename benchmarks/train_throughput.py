"""Training samples/s for K folds, vmapped in one step vs looped, scoring, and
the input pipeline's share of the training step.

  python benchmarks/train_throughput.py [--folds=1,4,8] [--image_size=112]
      [--steps=5] [--batch_size=16] [--score_batch=128]
      [--pipeline=synthetic_3dcnn] [--pipeline_folds=2] [--pipeline_steps=20]
      [--json=benchmarks/results/train_throughput.json]

Prints JSON and a short table. "vmapped" advances K folds with one
`jit(vmap(train_step))` call per step; "looped" calls a one-fold step K
times. Scoring is the jitted per-frame scorer on
pre-aligned frames (`methods.yap3dcnn.iter_pair_scores`). Random weights and inputs: throughput only.

"pipeline" runs the real training loop (`train.loop.train_folds`: grain
sampler, prefetch of the next batch to the devices while the step runs) on
the config `configs/<--pipeline>.py` (its dataset, crops resized to
`--image_size`, the first `--pipeline_folds` LOSO folds, one epoch of
`--pipeline_steps` steps) and reports the fraction of the step loop's time
spent blocked drawing batches from the sampler (`TrainResult.timing`:
data_wait_s / total_s; measured after a short run that compiles the steps).
`--pipeline=` (empty) skips it.
"""
import importlib
import json
import tempfile
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

from mespot_jax.config import common
from mespot_jax.config import load_module as load_config
from mespot_jax import methods
from mespot_jax.methods import yap3dcnn
from mespot_jax.train import state as state_lib, steps as steps_lib

_FOLDS = flags.DEFINE_list("folds", ["1", "4", "8"], "fold counts K")
_SIZE = flags.DEFINE_integer("image_size", 112, "crop side")
_STEPS = flags.DEFINE_integer("steps", 5, "timed steps per setting")
_BATCH = flags.DEFINE_integer("batch_size", 16, "samples per fold and step")
_SCORE_BATCH = flags.DEFINE_integer("score_batch", 128, "scoring batch")
_IMPL = flags.DEFINE_string("dropout_rng_impl", "auto", "dropout PRNG")
_PIPELINE = flags.DEFINE_string("pipeline", "synthetic_3dcnn", "config module "
                                "(configs/) of the input-pipeline run; '' skips")
_PIPE_FOLDS = flags.DEFINE_integer("pipeline_folds", 2, "folds it trains")
_PIPE_STEPS = flags.DEFINE_integer("pipeline_steps", 20, "steps it trains")
_JSON = flags.DEFINE_string("json", "", "also write the JSON to this file")
_PIPE_THREADS = flags.DEFINE_integer("pipeline_threads", 0, "grain reader "
                                     "threads (0: the config's)")


def _batch(k, b, size, rng):
  return {"x": rng.integers(0, 255, (k, b, 2, 2, size, size, 1), np.uint8),
          "y": rng.integers(0, 2, (k, b, 2)).astype(np.float32),
          "aug": np.ones((k, b, 3), np.float32)}


def _time(fn, steps):
  fn()  # compile / warm up
  t = time.perf_counter()
  for _ in range(steps):
    fn()
  return (time.perf_counter() - t) / steps


def pipeline_wait(name: str, image_size: int, folds: int, steps: int,
                  threads: int = 0) -> dict:
  """The data-wait fraction of `steps` training steps of config `name`."""
  from mespot_jax.data import datasets  # pylint: disable=g-import-not-at-top
  from mespot_jax.train import loop as loop_lib  # pylint: disable=g-import-not-at-top
  config = load_config(name).get_config()
  config.dataset.image_size = image_size
  if threads:
    config.dataset.loader_threads = threads
  t = config.train
  t.num_epochs, t.steps_per_epoch, t.oracle = 1, steps, False
  t.val_samples, t.batch_size = 16, _BATCH.value
  method = methods.get(config)
  store = datasets.open_store(config, method.task)
  subjects = sorted({v.subject for v in store.videos})
  t.test_folds = tuple(subjects[:folds])
  fold_list = method.make_folds(store)
  # A first short run compiles the steps (cached); the second is measured.
  for n in (2, steps):
    t.steps_per_epoch = n
    with tempfile.TemporaryDirectory() as workdir:
      result = loop_lib.train_folds(config, method,
                                    method.make_sampler(store, fold_list),
                                    fold_list, workdir)
  timing = result.timing
  return {"kind": "pipeline", "config": name, "folds": len(fold_list),
          "mode": "train_folds", "steps": timing["steps"],
          "loader_threads": config.dataset.loader_threads,
          "folds_per_step": loop_lib.folds_per_step(t.folds_per_step,
                                                    len(fold_list)),
          "data_wait_s": timing["data_wait_s"], "total_s": timing["total_s"],
          "data_wait_fraction": timing["data_wait_s"] / timing["total_s"],
          "samples_per_s": (timing["steps"] * len(fold_list) * t.batch_size
                            / timing["total_s"]),
          "step_s": timing["total_s"] / timing["steps"]}


def main(argv):
  del argv
  config = common.get_config("yap3dcnn")
  fns = methods.get(config).step_fns
  model = fns.model
  impl = state_lib.rng_impl(_IMPL.value)
  tx = state_lib.make_optimizer("adam", 1e-3)
  size, b = _SIZE.value, _BATCH.value
  x1 = jnp.zeros((1, 2, 2, size, size, 1), jnp.float32)
  step = steps_lib.make_train_step(fns, impl)
  rng = np.random.default_rng(0)
  rows = []
  for k in [int(f) for f in _FOLDS.value]:
    batch = _batch(k, b, size, rng)
    stacked = [state_lib.init_stacked(model, tx, x1, list(range(k)), 0, impl)]
    active = jnp.ones((k,), bool)

    def vmapped():
      stacked[0], m = step(stacked[0], batch, active)
      jax.block_until_ready(m)

    singles = [state_lib.init_stacked(model, tx, x1, [i], 0, impl)
               for i in range(k)]
    one = jnp.ones((1,), bool)
    parts = [{key: v[i:i + 1] for key, v in batch.items()} for i in range(k)]

    def looped():
      for i in range(k):
        singles[i], m = step(singles[i], parts[i], one)
      jax.block_until_ready(m)

    for mode, fn in (("vmapped", vmapped), ("looped", looped)):
      sec = _time(fn, _STEPS.value)
      rows.append({"kind": "train", "folds": k, "mode": mode,
                   "samples_per_s": k * b / sec, "step_s": sec})
  variables = state_lib.variables_of(jax.tree.map(
      lambda a: a[0], state_lib.init_stacked(model, tx, x1, [0], 0, impl)))
  predict = steps_lib.make_predict_fn(fns)
  frames = rng.integers(0, 255, (4 * _SCORE_BATCH.value, size, size, 1),
                        np.uint8)
  skips = (6, 19)
  sec = _time(lambda: list(yap3dcnn.iter_pair_scores(
      predict, variables, iter(frames), skips, _SCORE_BATCH.value)),
              max(1, _STEPS.value // 2))
  rows.append({"kind": "score", "folds": 1, "mode": "streaming",
               "samples_per_s": len(frames) / sec, "step_s": sec})
  if _PIPELINE.value:
    rows.append(pipeline_wait(_PIPELINE.value, size, _PIPE_FOLDS.value,
                              _PIPE_STEPS.value, _PIPE_THREADS.value))
  out = {"backend": jax.default_backend(), "devices": jax.device_count(),
         "image_size": size, "batch_size": b, "dropout_rng_impl": impl,
         "depthwise_impl": config.yap3dcnn.model.depthwise_impl, "results": rows}
  out["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
  print(json.dumps(out, indent=2))
  if _JSON.value:
    with open(_JSON.value, "w", encoding="utf-8") as f:
      json.dump(out, f, indent=2)
  print(f"\n{'kind':<7}{'K':>3}  {'mode':<10}{'samples/s':>11}")
  for r in rows:
    print(f"{r['kind']:<7}{r['folds']:>3}  {r['mode']:<10}"
          f"{r['samples_per_s']:>11.1f}")
  for r in rows:
    if r["kind"] == "pipeline":
      print(f"\ninput pipeline ({r['config']}, {r['folds']} folds, "
            f"{r['steps']} steps): {100 * r['data_wait_fraction']:.1f}% of "
            f"the step loop's {r['total_s']:.1f} s blocked on the sampler "
            f"({r['data_wait_s']:.2f} s)")


if __name__ == "__main__":
  app.run(main)
