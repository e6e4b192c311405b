r"""Where the 3D-CNN's time goes on this CPU: ours (XLA) and the PyTorch peer.

Ours: a `jax.profiler` trace of `--steps` calls of the jitted training step
(batch `--train_batch`) and of inference (batch `--infer_batch`); each
traced XLA op is mapped, through the compiled HLO's metadata, to its model
part (LCN, block_i, head; forward or backward) and its JAX primitive, and
the milliseconds per call are summed (ops of the two CPU threads add up, so
the total can exceed the wall time). The peer (when torch is importable;
in a process of its own): `torch.profiler` self-CPU time per operator for
the same calls (training, eager inference).

  flock /tmp/mespot_cpu.lock python benchmarks/model_profile.py \
      --out=benchmarks/results/model_profile.json
"""
import collections
import glob
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import optax

from mespot_jax.io_utils import atomic_write
from mespot_jax.models.yap3dcnn import Yap3DCNN

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_util  # pylint: disable=g-import-not-at-top,wrong-import-position

_SIZE = flags.DEFINE_integer("image_size", 112, "Crop side.")
_TRAIN_BATCH = flags.DEFINE_integer("train_batch", 16, "Training batch.")
_INFER_BATCH = flags.DEFINE_integer("infer_batch", 32, "Inference batch.")
_STEPS = flags.DEFINE_integer("steps", 5, "Profiled calls.")
_TOP = flags.DEFINE_integer("top", 15, "Rows printed per table.")
_OUT = flags.DEFINE_string("out", None, "JSON output path.")
_FRAMEWORKS = flags.DEFINE_list("frameworks", ["jax", "torch"],
                                "What to profile; with both, the peer runs "
                                "in a process of its own after ours.")


def _train_fn(model, size, batch):
  x = jax.random.uniform(jax.random.key(0), (batch, 2, 2, size, size, 1))
  y = (jax.random.uniform(jax.random.key(1), (batch, 2)) > 0.7).astype(
      jnp.float32)
  v = model.init(jax.random.key(0), x[:1], train=False)
  tx = optax.adam(1e-3)

  train_step = bench_util.yap_adam_step(model, tx)

  def step(state, rng):
    return train_step(state, x, y, rng)

  box = [(v["params"], v["batch_stats"], tx.init(v["params"])),
         jax.random.key(1, impl="rbg")]
  compiled = jax.jit(step).lower(*box).compile()

  def run():
    box[0], box[1], loss = compiled(*box)
    loss.block_until_ready()
  return run, compiled.as_text()


def _infer_fn(model, size, batch):
  x = jax.random.uniform(jax.random.key(2), (batch, 2, 2, size, size, 1))
  v = model.init(jax.random.key(0), x[:1], train=False)
  compiled = jax.jit(lambda v, x: model.apply(v, x, train=False)).lower(
      v, x).compile()
  return (lambda: compiled(v, x).block_until_ready()), compiled.as_text()


def _part(op_name: str) -> str:
  block = re.search(r"(block_\d)", op_name)
  where = block.group(1) if block else ("lcn" if "lcn" in op_name else
                                        "head/other")
  return ("backward " if "transpose(" in op_name else "forward ") + where


def profile_jax(run, hlo: str, steps: int) -> dict:
  """ms per call by model part and by (part, primitive), from a trace."""
  meta = {m.group(1): m.group(2) for m in re.finditer(
      r'^\s+%(\S+) = .*?op_name="([^"]+)"', hlo, re.M)}
  # Library fusions (YNNPACK) carry their root's op_name only: name them by
  # the primitives of their fused computation ("conv_general_dilated+...").
  for m in re.finditer(r"^\s+%(\S+) = .*?kind=kCustom, calls=%(\S+?)[,\s]",
                       hlo, re.M):
    body = re.search(r"^%" + re.escape(m.group(2)) + r" .*?\n}\n", hlo,
                     re.M | re.S)
    names = re.findall(r'op_name="([^"]+)"', body.group(0)) if body else []
    if names:
      prims = sorted({n.rsplit("/", 1)[-1] for n in names})
      meta[m.group(1)] = names[-1].rsplit("/", 1)[0] + "/" + "+".join(prims)
  run()
  run()
  with tempfile.TemporaryDirectory() as tmp:
    with jax.profiler.trace(tmp, create_perfetto_trace=True):
      for _ in range(steps):
        run()
    path = glob.glob(os.path.join(tmp, "**", "*.trace.json.gz"),
                     recursive=True)[0]
    with gzip.open(path) as f:
      events = json.load(f)["traceEvents"]
  parts, ops = collections.Counter(), collections.Counter()
  for e in events:
    if e.get("ph") != "X" or e.get("name") not in meta:
      continue
    op = meta[e["name"]]
    ms = e["dur"] / 1e3 / steps
    parts[_part(op)] += ms
    ops[f"{_part(op)}: {op.rsplit('/', 1)[-1]}"] += ms
  return {"total_ms": sum(parts.values()), "by_part": dict(parts.most_common()),
          "by_op": dict(ops.most_common())}


def profile_torch(steps: int, size: int, train_batch: int,
                  infer_batch: int) -> dict:
  """Self-CPU ms per call of the peer's operators (train, eager infer)."""
  import torch  # pylint: disable=g-import-not-at-top
  import torch_peer  # pylint: disable=g-import-not-at-top
  from torch.profiler import profile, ProfilerActivity  # pylint: disable=g-import-not-at-top
  v = Yap3DCNN().init(jax.random.key(0), jnp.zeros((1, 2, 2, size, size, 1)),
                      train=False)
  out = {}
  peer = torch_peer.load_flax_variables(torch_peer.Peer(), v).train()
  opt = torch.optim.Adam(peer.parameters(), lr=1e-3)
  x, y = torch_peer._data(train_batch, size, 0)  # pylint: disable=protected-access

  def train():
    opt.zero_grad(set_to_none=True)
    torch_peer.weighted_bce(peer(x), y).backward()
    opt.step()
  xi, _ = torch_peer._data(infer_batch, size, 2)  # pylint: disable=protected-access
  evalp = torch_peer.load_flax_variables(torch_peer.Peer(), v).eval()

  def infer():
    with torch.inference_mode():
      evalp(xi)
  for name, fn in (("train", train), ("infer_eager", infer)):
    fn()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
      for _ in range(steps):
        fn()
    rows = sorted(prof.key_averages(), key=lambda r: -r.self_cpu_time_total)
    out[name] = {r.key: r.self_cpu_time_total / 1e3 / steps for r in rows
                 if r.self_cpu_time_total > 0}
  return out


def _print(title, table, top):
  print(f"\n{title}")
  for k, v in list(table.items())[:top]:
    print(f"{v:9.1f} ms  {k}")


def main(argv):
  del argv
  size, steps = _SIZE.value, _STEPS.value
  result = {"image_size": size, "steps": steps, "jax": jax.__version__,
            "train_batch": _TRAIN_BATCH.value,
            "infer_batch": _INFER_BATCH.value}
  if "jax" in _FRAMEWORKS.value:
    model = Yap3DCNN()
    result["ours_train"] = profile_jax(*_train_fn(model, size,
                                                  _TRAIN_BATCH.value), steps)
    result["ours_infer"] = profile_jax(*_infer_fn(model, size,
                                                  _INFER_BATCH.value), steps)
    for k in ("ours_train", "ours_infer"):
      _print(f"{k}: {result[k]['total_ms']:.1f} ms of XLA ops per call, by "
             "part", result[k]["by_part"], _TOP.value)
      _print(f"{k}: by part and primitive", result[k]["by_op"], _TOP.value)
  if "torch" in _FRAMEWORKS.value and "jax" in _FRAMEWORKS.value:
    # The peer in a process of its own (no thread pools shared with XLA).
    with tempfile.TemporaryDirectory() as tmp:
      out = os.path.join(tmp, "peer.json")
      subprocess.run([sys.executable, os.path.abspath(__file__),
                      "--frameworks=torch", f"--out={out}",
                      f"--image_size={size}", f"--steps={steps}",
                      f"--train_batch={_TRAIN_BATCH.value}",
                      f"--infer_batch={_INFER_BATCH.value}",
                      f"--top={_TOP.value}"], check=True)
      with open(out) as f:
        peer = json.load(f).get("peer")
    if peer:
      result["peer"] = peer
  elif "torch" in _FRAMEWORKS.value:
    try:
      result["peer"] = profile_torch(steps, size, _TRAIN_BATCH.value,
                                     _INFER_BATCH.value)
      for k, table in result["peer"].items():
        _print(f"peer {k}: self CPU ms per call "
               f"(total {sum(table.values()):.1f})", table, _TOP.value)
    except ImportError as e:
      print(f"\nPyTorch peer not profiled: {e}")
  if _OUT.value:
    with atomic_write(_OUT.value) as f:
      json.dump(result, f, indent=1)


if __name__ == "__main__":
  app.run(main)
