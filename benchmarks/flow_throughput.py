r"""Throughput of dense optical flow: TV-L1 in JAX against OpenCV and skimage.

For each frame size (`--sizes`) the same pairs are timed with:
  * `tvl1_jax_vmap`, `tvl1_jax_map`: `mespot_jax.flow.tvl1_batch` on
    `--batch` pairs per call, all pairs in lock-step (`vmap`) or one after
    the other inside the compiled call (`lax.map`); `tvl1_jax_batch`, the
    ratios' numerator, is `tvl1_batch`'s default, 'vmap' (the device is
    whatever JAX picks: CPU here, the accelerator where there is one);
  * `tvl1_jax_pair`: `mespot_jax.flow.tvl1`, one pair per call;
  * `farneback`: OpenCV's `calcOpticalFlowFarneback` (CPU), one pair a call;
  * `tvl1_skimage`: `skimage.registration.optical_flow_tvl1` (CPU, NumPy),
    the public codebases' usual TV-L1 (fewer pairs: `--skimage_pairs`).
Pairs/s is the median over `--steps` timed rounds after one warm-up round
(which also compiles the JAX functions; the compile time is reported). The
ratios are measured in the same run, so they hold on a shared machine.

The pairs are smooth random warps (up to about 1.5 px at 64 px, scaled with
the size) of skimage's `camera` photograph, with the true flow known, so
each method's mean end-point error (EPE, 8 px margin scaled with the size)
is reported beside its speed. All TV-L1 runs use the same (default)
parameters. The paper's flow feeds a 224x224 ResNet18 (Liu et al.'s code
computes it on 320x320 face chips: `--sizes=320` adds that size). Run:

  python benchmarks/flow_throughput.py              # writes the JSON below
  python benchmarks/flow_throughput.py --sizes=64 --steps=2   # smoke
"""
import datetime
import json
import platform
import statistics
import time

from absl import app
from absl import flags
import jax
import numpy as np
from scipy import ndimage as ndi
from skimage import data as skdata
from skimage import transform as sktransform
from skimage.registration import optical_flow_tvl1

from mespot_jax.flow import farneback
from mespot_jax.flow import tvl1
from mespot_jax.flow import tvl1_batch
from mespot_jax.io_utils import atomic_write

_SIZES = flags.DEFINE_list("sizes", ["64", "128", "224"], "Frame sides.")
_BATCH = flags.DEFINE_integer("batch", 0, "Pairs per batched JAX call; 0: "
                              "16 on CPU, 256 on an accelerator.")
_STEPS = flags.DEFINE_integer("steps", 3, "Timed rounds per measurement.")
_SK_PAIRS = flags.DEFINE_integer("skimage_pairs", 4,
                                 "Pairs per round for skimage (slow).")
_OUT = flags.DEFINE_string("out", "benchmarks/results/flow_throughput.json",
                           "JSON output path ('' for none).")


def make_pairs(n: int, size: int, seed: int = 0):
  """`n` warped photograph pairs with their true flows.

  Returns:
    frames0 (n, size, size), frames1 (n, size, size) float32 in [0, 1] and
    flows (n, size, size, 2) with frame1(p + flow(p)) = frame0(p).
  """
  rng = np.random.default_rng(seed)
  photo = skdata.camera().astype(np.float64) / 255.0
  pad = size // 4
  big = sktransform.resize(photo, (size + 2 * pad,) * 2, anti_aliasing=True)
  yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
  amp = 1.5 * size / 64
  f0, f1, flows = [], [], []
  frame1 = ndi.map_coordinates(big, [yy + pad, xx + pad], order=3)
  for _ in range(n):
    ph = rng.uniform(0, 2 * np.pi, 2)
    a = rng.uniform(0.3, 1.0, 2) * amp
    u = a[0] * np.sin(2 * np.pi * yy / size + ph[0])
    v = a[1] * np.cos(2 * np.pi * xx / size + ph[1])
    f0.append(ndi.map_coordinates(big, [yy + pad + v, xx + pad + u], order=3))
    f1.append(frame1)
    flows.append(np.stack([u, v], axis=-1))
  return (np.asarray(f0, np.float32), np.asarray(f1, np.float32),
          np.asarray(flows, np.float32))


def _epe(flows, truth, margin: int) -> float:
  e = np.hypot(*(np.moveaxis(np.asarray(flows) - truth, -1, 0)))
  return float(e[:, margin:-margin, margin:-margin].mean())


def _rate(fn, pairs: int, steps: int) -> tuple[float, float]:
  """(pairs/s over the median round, seconds of the warm-up round)."""
  t0 = time.perf_counter()
  fn()
  warm = time.perf_counter() - t0
  times = []
  for _ in range(steps):
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)
  return pairs / statistics.median(times), warm


def bench_size(size: int, batch: int, steps: int, sk_pairs: int) -> dict:
  """Times every method on `size` x `size` pairs; returns one result row."""
  f0, f1, truth = make_pairs(batch, size)
  margin = max(8, size // 8)
  out = {"size": size, "batch": batch}
  res = {}

  for mode in ("vmap", "map"):
    def jax_batch(mode=mode):
      res[f"tvl1_jax_{mode}"] = np.asarray(
          tvl1_batch(f0, f1, vectorize=mode))
    rate, warm = _rate(jax_batch, batch, steps)
    out[f"tvl1_jax_{mode}"] = {"pairs_per_s": rate, "first_call_s": warm}
  res["tvl1_jax_batch"] = res["tvl1_jax_vmap"]      # tvl1_batch's default
  out["tvl1_jax_batch"] = dict(out["tvl1_jax_vmap"])

  n_pair = min(batch, 8)
  def jax_pair():
    res["tvl1_jax_pair"] = np.stack(
        [np.asarray(tvl1(f0[i], f1[i])) for i in range(n_pair)])
  rate, warm = _rate(jax_pair, n_pair, steps)
  out["tvl1_jax_pair"] = {"pairs_per_s": rate, "first_call_s": warm}

  n_fb = min(batch, 16)
  def fb():
    res["farneback"] = np.stack(
        [farneback(f0[i], f1[i]) for i in range(n_fb)])
  rate, _ = _rate(fb, n_fb, steps)
  out["farneback"] = {"pairs_per_s": rate}

  n_sk = min(batch, sk_pairs)
  def sk():
    res["tvl1_skimage"] = np.stack(
        [np.moveaxis(optical_flow_tvl1(f0[i], f1[i])[::-1], 0, -1)
         for i in range(n_sk)])
  rate, _ = _rate(sk, n_sk, steps)
  out["tvl1_skimage"] = {"pairs_per_s": rate}

  for name, flows in res.items():
    out[name]["epe_px"] = _epe(flows, truth[:len(flows)], margin)
  n = len(res["tvl1_skimage"])
  out["mean_abs_diff_jax_vs_skimage_px"] = float(np.abs(
      res["tvl1_jax_batch"][:n] - res["tvl1_skimage"])[
          :, margin:-margin, margin:-margin].mean())
  jb = out["tvl1_jax_batch"]["pairs_per_s"]
  out["ratio_jax_batch_over_farneback"] = jb / out["farneback"]["pairs_per_s"]
  out["ratio_jax_batch_over_skimage"] = jb / out["tvl1_skimage"][
      "pairs_per_s"]
  out["ratio_jax_batch_over_jax_pair"] = jb / out["tvl1_jax_pair"][
      "pairs_per_s"]
  return out


def table(rows: list[dict]) -> str:
  """The markdown table printed (and quoted in docs/FLOW.md)."""
  lines = [
      "| size | TV-L1 JAX batch, vmap | TV-L1 JAX batch, map "
      "| TV-L1 JAX 1 pair | Farneback (OpenCV) | TV-L1 skimage "
      "| batched / Farneback | batched / skimage "
      "| EPE JAX / skimage / Farneback (px) |",
      "|---|---|---|---|---|---|---|---|---|"]
  for r in rows:
    lines.append(
        f"| {r['size']} | {r['tvl1_jax_vmap']['pairs_per_s']:.1f} "
        f"| {r['tvl1_jax_map']['pairs_per_s']:.1f} "
        f"| {r['tvl1_jax_pair']['pairs_per_s']:.1f} "
        f"| {r['farneback']['pairs_per_s']:.1f} "
        f"| {r['tvl1_skimage']['pairs_per_s']:.2f} "
        f"| {r['ratio_jax_batch_over_farneback']:.2f}x "
        f"| {r['ratio_jax_batch_over_skimage']:.1f}x "
        f"| {r['tvl1_jax_batch']['epe_px']:.3f} / "
        f"{r['tvl1_skimage']['epe_px']:.3f} / "
        f"{r['farneback']['epe_px']:.3f} |")
  return "\n".join(lines)


def main(argv):
  del argv
  dev = jax.devices()[0]
  batch = _BATCH.value or (16 if dev.platform == "cpu" else 256)
  rows = [bench_size(int(s), batch, _STEPS.value, _SK_PAIRS.value)
          for s in _SIZES.value]
  result = {
      "benchmark": "flow_throughput",
      "date": datetime.datetime.now().isoformat(timespec="seconds"),
      "device": {"platform": dev.platform, "kind": dev.device_kind,
                 "count": jax.device_count()},
      "host": {"machine": platform.machine(), "processor":
               platform.processor(), "python": platform.python_version()},
      "jax_version": jax.__version__,
      "steps": _STEPS.value,
      "units": "pairs/s (median round); EPE in px inside a margin",
      "rows": rows,
  }
  print(f"device: {dev.platform} ({dev.device_kind}), batch {batch}; "
        f"'batched' = vmap (tvl1_batch's default)")
  print(table(rows))
  if _OUT.value:
    with atomic_write(_OUT.value) as f:
      json.dump(result, f, indent=2)
    print(f"wrote {_OUT.value}")


if __name__ == "__main__":
  app.run(main)
