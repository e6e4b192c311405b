"""Every training method on an accelerator: folds vmapped vs looped, bf16 vs f32.

  bash benchmarks/accelerator_suite.sh          # on a GPU/TPU machine
  python benchmarks/accelerator_suite.py [--folds=30] [--steps=10]
      [--methods=yap3dcnn,lbcnn] [--image_size=0] [--reduced]
      [--out=benchmarks/results/accelerator_suite.json]

For each registered method that trains (looked up in the registry, none by
name), the method's base config (the paper's SAMM-LV settings) draws real
batches from its sampler on the tiny synthetic dataset of its task (crops
resized to `--image_size`; 0: the config's size, or 112 when it keeps the
stored size), tiled to `--folds` LOSO folds (30: SAMM-LV's subjects). It
then times the method's own compiled train step (`train.steps`):

- "vmapped": all K folds advance in one `jit(vmap(train_step))` call;
- "looped": a one-fold step called K times per step;

each in float32 and in bfloat16 (`model.dtype`, float32 parameters; a
method without that field is marked so), as training samples/s, and as a
fraction of the chip's roofline: XLA's cost analysis of the compiled step
(FLOPs, bytes accessed) against the peak FLOP/s and memory bandwidth of the
device (`PEAKS`, vendor datasheet figures by `device_kind`; "unknown"
elsewhere, e.g. on CPU). A method that fails is recorded with its error.

Writes one JSON and a markdown table next to it (`.md`). `--reduced`: 2
folds, the methods' `:smoke` sizes, 1 timed step (runs on CPU in the tests).
"""
import json
import os
import sys
import time
import traceback

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from mespot_jax.config import common
from mespot_jax import methods  # pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax.data import datasets  # pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax.train import state as state_lib  # pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax.train import steps as steps_lib  # pylint: disable=g-import-not-at-top,wrong-import-position

# Dense peak FLOP/s per compute dtype and memory bandwidth (bytes/s), from
# the vendors' datasheets; float32 matmuls on NVIDIA GPUs run as TF32 under
# JAX's default precision, and on TPUs as bfloat16 passes. Matched in order
# as substrings of `device_kind`, lower case.
PEAKS = (
    ("h200", {"bfloat16": 989e12, "float32": 494.7e12, "hbm": 4.8e12}),
    ("h100", {"bfloat16": 989e12, "float32": 494.7e12, "hbm": 3.35e12}),
    ("a100-sxm4-80gb", {"bfloat16": 312e12, "float32": 156e12,
                        "hbm": 2.039e12}),
    ("a100", {"bfloat16": 312e12, "float32": 156e12, "hbm": 1.555e12}),
    ("tpu v4", {"bfloat16": 275e12, "float32": 275e12, "hbm": 1.2e12}),
    ("tpu v5 lite", {"bfloat16": 197e12, "float32": 197e12, "hbm": 819e9}),
    ("tpu v5e", {"bfloat16": 197e12, "float32": 197e12, "hbm": 819e9}),
)


def device_peaks(device_kind: str) -> dict | None:
  """{"name", "bfloat16", "float32", "hbm"} of a device, None if unknown."""
  kind = device_kind.lower()
  for key, peaks in PEAKS:
    if key in kind:
      return {"name": key, **peaks}
  return None


def roofline(flops: float, bytes_accessed: float, seconds: float,
             peaks: dict | None, dtype: str) -> dict:
  """The step's roofline bound and the measured fraction of it.

  Args:
    flops: FLOPs of one step (XLA cost analysis).
    bytes_accessed: bytes one step reads and writes.
    seconds: measured seconds per step.
    peaks: `device_peaks(...)`, or None.
    dtype: "float32" or "bfloat16" (which FLOP/s peak applies).

  Returns:
    {"bound_s": max(flops / peak FLOP/s, bytes / bandwidth), "bound":
    "compute" or "memory", "fraction": bound_s / seconds, "flops_fraction":
    achieved FLOP/s / peak}; None values when the device is unknown.
  """
  if peaks is None or not flops or seconds <= 0:
    return {"bound_s": None, "bound": None, "fraction": None,
            "flops_fraction": None}
  t_compute = flops / peaks[dtype]
  t_memory = (bytes_accessed or 0.0) / peaks["hbm"]
  bound = max(t_compute, t_memory)
  return {"bound_s": bound,
          "bound": "compute" if t_compute >= t_memory else "memory",
          "fraction": bound / seconds,
          "flops_fraction": flops / seconds / peaks[dtype]}


def trained_methods() -> list[str]:
  """Registered methods that train, by the registry (no name known here)."""
  out = []
  for name in sorted(methods.METHODS):
    try:
      if getattr(methods.get_class(name), "trains", True):
        out.append(name)
    except Exception:  # pylint: disable=broad-except
      out.append(name)  # cannot import: measured, and its error recorded
  return out


def method_config(name: str, reduced: bool, image_size: int):
  """The method's base config on the tiny synthetic data of its task."""
  c = common.get_config(name)
  task = methods.get_class(name).task
  if reduced:
    return common.smoke(c)
  c.dataset.name, c.dataset.config = common.SMOKE_DATASETS[task]
  c.dataset.manual_dir = ""
  c.dataset.loader_threads = 1
  c.train.num_val_subjects = 1  # the tiny data has 3-4 subjects
  if task == "recognition":
    c.dataset.num_classes = 3
  c.dataset.image_size = image_size or c.dataset.image_size or 112
  return c


def set_dtype(config, dtype: str) -> bool:
  """Sets `<method>.model.dtype`; False when the method has no such field."""
  block = config[config.method]
  if "model" not in block or "dtype" not in block.model:
    return dtype == "float32"
  block.model.dtype = dtype
  return True


def _shapes(tree) -> dict:
  return {"/".join(str(getattr(k, "key", k)) for k in path): list(a.shape)
          for path, a in jax.tree_util.tree_flatten_with_path(tree)[0]}


def draw_batches(config, method, store, folds: int, n: int) -> list:
  """`n` real fold-stacked batches of the method's sampler, tiled to
  `folds` folds (the tiny dataset has fewer subjects)."""
  sampler = method.make_sampler(store, method.make_folds(store))
  it = iter(sampler.train_dataset(config.train.batch_size, n)
            .to_iter_dataset())
  out = []
  for _ in range(n):
    b = next(it)
    idx = np.arange(folds) % next(iter(b.values())).shape[0]
    out.append({k: np.asarray(v)[idx] for k, v in b.items()})
  return out


def _time_step(step, state, batches, active, steps):
  """(compiled, seconds per step, compile seconds, state) of `step`."""
  t = time.perf_counter()
  compiled = step.lower(state, batches[0], active).compile()
  compile_s = time.perf_counter() - t
  state, m = compiled(state, batches[0], active)  # warm up
  jax.block_until_ready(m)
  t = time.perf_counter()
  for i in range(steps):
    state, m = compiled(state, batches[i % len(batches)], active)
  jax.block_until_ready((state, m))
  return compiled, (time.perf_counter() - t) / steps, compile_s, state


def _cost(compiled) -> tuple[float, float]:
  cost = compiled.cost_analysis()
  if isinstance(cost, (list, tuple)):
    cost = cost[0] if cost else {}
  cost = cost or {}
  return float(cost.get("flops", 0.0)), float(cost.get("bytes accessed", 0.0))


def measure(config, method, store, batches, k: int, steps: int, peaks,
            dtype: str) -> list[dict]:
  """Rows "vmapped" and "looped" of one method and dtype."""
  fns = method.step_fns
  impl = state_lib.rng_impl(config.train.dropout_rng_impl)
  tx = state_lib.make_optimizer(config.train.optimizer,
                                config.train.learning_rate)
  sample_x = method.example_input(store)
  step = steps_lib.make_train_step(fns, impl)
  b = config.train.batch_size
  rows = []
  state = state_lib.init_stacked(fns.model, tx, sample_x, list(range(k)),
                                 config.seed, impl)
  # Each fold's own state for the looped mode: fold i of the stacked
  # initialisation, sliced (a new buffer) before the step donates the
  # stack; one initialiser compiled, not a second one for a single fold.
  singles = [jax.tree.map(lambda a, i=i: a[i:i + 1], state)
             for i in range(k)]
  compiled, sec, compile_s, state = _time_step(
      step, state, batches, jnp.ones((k,), bool), steps)
  flops, nbytes = _cost(compiled)
  rows.append({"mode": "vmapped", "folds_per_call": k, "step_s": sec,
               "compile_s": compile_s, "flops": flops, "bytes": nbytes})
  del state
  ones = [{key: v[:1] for key, v in x.items()} for x in batches]
  one = jnp.ones((1,), bool)
  compiled, _, compile1, singles[0] = _time_step(step, singles[0], ones,
                                                 one, 1)
  t = time.perf_counter()
  for s in range(steps):
    for i in range(k):
      singles[i], m = compiled(singles[i], ones[s % len(ones)], one)
  jax.block_until_ready((singles, m))
  sec = (time.perf_counter() - t) / steps
  flops1, nbytes1 = _cost(compiled)
  rows.append({"mode": "looped", "folds_per_call": 1, "step_s": sec,
               "compile_s": compile1, "flops": flops1 * k,
               "bytes": nbytes1 * k})
  for r in rows:
    r.update({"dtype": dtype, "folds": k, "batch_size": b,
              "samples_per_s": k * b / r["step_s"],
              **roofline(r["flops"], r["bytes"], r["step_s"], peaks, dtype)})
  return rows


def run_method(name: str, k: int, steps: int, reduced: bool, image_size: int,
               peaks) -> dict:
  """One method's record: its rows, or the error that stopped it."""
  record = {"method": name, "rows": [], "errors": {}}
  try:
    base = method_config(name, reduced, image_size)
    method = methods.get(base)
    store = datasets.open_store(base, method.task)
    batches = draw_batches(base, method, store, k, min(steps, 3))
    record["batch_shapes"] = _shapes(batches[0])
    record["task"] = method.task
  except Exception as e:  # pylint: disable=broad-except
    record["errors"]["setup"] = _error(e)
    return record
  for dtype in ("float32", "bfloat16"):
    try:
      config = base.copy_and_resolve_references()
      if not set_dtype(config, dtype):
        record["errors"][dtype] = "no model.dtype field in this method's config"
        continue
      record["rows"] += measure(config, methods.get(config), store, batches,
                                k, steps, peaks, dtype)
    except Exception as e:  # pylint: disable=broad-except
      record["errors"][dtype] = _error(e)
  return record


def _error(e: BaseException) -> str:
  tb = traceback.format_exception(type(e), e, e.__traceback__)
  return f"{type(e).__name__}: {e}"[:500] + "\n" + "".join(tb[-3:])[-1500:]


def markdown(result: dict) -> str:
  """A short table of the rows, then the methods that failed."""
  lines = [f"Accelerator suite, {result['device_kind']} ({result['backend']}"
           f", {result['date']}), {result['folds']} folds, "
           f"{result['steps']} timed steps{' (reduced)' if result['reduced'] else ''}."
           " Roofline: XLA cost analysis against "
           f"{result['peaks']['name'] if result['peaks'] else 'unknown peaks'}.",
           "", "| method | dtype | mode | samples/s | step ms | GFLOP/step "
           "| roofline fraction | bound |", "|---|---|---|---|---|---|---|---|"]
  for rec in result["methods"]:
    for r in rec["rows"]:
      frac = "-" if r["fraction"] is None else f"{r['fraction']:.3f}"
      lines.append(f"| {rec['method']} | {r['dtype']} | {r['mode']} | "
                   f"{r['samples_per_s']:.1f} | {1e3 * r['step_s']:.1f} | "
                   f"{r['flops'] / 1e9:.2f} | {frac} | {r['bound'] or '-'} |")
  if result.get("not_measured"):
    lines.append(f"\nNot measured (nothing to train, or not asked for): "
                 f"{', '.join(result['not_measured'])}.")
  for rec in result["methods"]:
    for what, err in rec["errors"].items():
      lines.append(f"\n- {rec['method']} ({what}): {err.splitlines()[0]}")
  return "\n".join(lines) + "\n"


def run(names, k: int, steps: int, reduced: bool, image_size: int) -> dict:
  """The suite's result dict (also what `main` writes)."""
  device = jax.devices()[0]
  peaks = device_peaks(device.device_kind)
  records = [run_method(n, k, steps, reduced, image_size, peaks)
             for n in names]
  return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
          "backend": jax.default_backend(), "device_kind": device.device_kind,
          "devices": jax.device_count(), "jax": jax.__version__,
          "peaks": peaks, "folds": k, "steps": steps, "reduced": reduced,
          "methods": records}


def main(argv):
  del argv
  reduced = _REDUCED.value
  k = 2 if reduced else _FOLDS.value
  steps = 1 if reduced else _STEPS.value
  if jax.default_backend() == "cpu" and not reduced:
    print("warning: no accelerator found; measuring the CPU", file=sys.stderr)
  result = run(_METHODS.value or trained_methods(), k, steps, reduced,
               _SIZE.value)
  result["not_measured"] = sorted(set(methods.METHODS) - {
      r["method"] for r in result["methods"]})
  os.makedirs(os.path.dirname(os.path.abspath(_OUT.value)), exist_ok=True)
  with open(_OUT.value, "w", encoding="utf-8") as f:
    json.dump(result, f, indent=2)
  table = markdown(result)
  with open(os.path.splitext(_OUT.value)[0] + ".md", "w",
            encoding="utf-8") as f:
    f.write(table)
  print(table)
  print(f"written: {_OUT.value} and {os.path.splitext(_OUT.value)[0]}.md")


def _define_flags():
  """The command line's flags (defined only when run as a script, so that
  importing this module in a test process clashes with no other flags)."""
  g = globals()
  g["_FOLDS"] = flags.DEFINE_integer("folds", 30, "LOSO folds K (30: SAMM-LV)")
  g["_STEPS"] = flags.DEFINE_integer("steps", 10, "timed steps per setting")
  g["_METHODS"] = flags.DEFINE_list(
      "methods", [], "methods (default: every registered method that trains)")
  g["_SIZE"] = flags.DEFINE_integer(
      "image_size", 0, "crop side (0: the config's, or 112 where it keeps the "
      "stored size)")
  g["_REDUCED"] = flags.DEFINE_bool("reduced", False,
                                    "2 folds, smoke sizes, 1 step")
  g["_OUT"] = flags.DEFINE_string(
      "out", "benchmarks/results/accelerator_suite.json",
      "JSON path (the table goes to the same name .md)")


if __name__ == "__main__":
  _define_flags()
  app.run(main)
