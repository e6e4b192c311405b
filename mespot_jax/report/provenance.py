"""What a rerun needs to reproduce a run's metrics: `metrics["provenance"]`.

A run's metrics are a function of its config, its dataset (name, config,
version), the package versions and the code, and, on CPU, of the size of
the XLA CPU runtime's thread pool: XLA splits large reductions and
contractions (batch-norm statistics, weight gradients) over its intra-op
threads, so their rounding, carried by a few hundred training steps to
another end point, depends on how many threads there are. Measured with
jaxlib 0.10.2: the pool has max(usable cores, host device count) threads
(`--xla_force_host_platform_device_count`, which the tests set to four),
and the persistent compilation cache does not change it. JAX options set
through the environment (`JAX_THREEFRY_PARTITIONABLE`,
`JAX_DEFAULT_PRNG_IMPL`, ...) change the initial weights and random draws.
Two processes that agree on everything recorded here gave identical
metrics (`tests/test_reproducible.py`, docs/reproducibility.md): the
Python hash seed, the working directory, the time zone and date, the
compilation cache, the loader threads and the dataset build's worker
processes change nothing.

`collect(config, store_opened)` is called once per run by
`experiment.run`; comparisons of metrics leave the block out
(`without_provenance`).
"""
import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys

import jax

KEY = "provenance"

# Distributions whose version can move a run's numbers (the names pip
# knows); opencv is read from the module (several wheels provide cv2).
PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy", "scipy",
            "scikit-image", "tensorflow-datasets", "array-record", "grain",
            "orbax-checkpoint", "ml-collections", "mespot-jax")
# Accelerator plug-ins, when installed (their kernels set the numbers).
PLUGIN_PREFIXES = ("jax-cuda", "jax_cuda", "jax-rocm", "jax_rocm", "libtpu")


# JAX options (set by JAX_* environment variables or jax.config) that
# change initial weights, random draws or float results.
JAX_OPTIONS = ("jax_enable_x64", "jax_default_matmul_precision",
               "jax_default_prng_impl", "jax_threefry_partitionable",
               "jax_numpy_dtype_promotion")


def _plain(value):
  """A JSON value: None, bools, numbers and strings as they are, enums by
  their value, anything else as text."""
  value = getattr(value, "value", value)
  return value if value is None or isinstance(value, (bool, int, float, str)) \
      else str(value)


def _version(dist: str):
  try:
    return importlib.metadata.version(dist)
  except importlib.metadata.PackageNotFoundError:
    return None


def packages() -> dict:
  """Python and the versions of the packages that set the numbers."""
  out = {"python": platform.python_version()}
  for name in PACKAGES:
    out[name] = _version(name)
  try:
    import cv2  # pylint: disable=g-import-not-at-top
    out["opencv"] = cv2.__version__
  except ImportError:
    out["opencv"] = None
  for dist in importlib.metadata.distributions():
    name = (dist.metadata["Name"] or "").lower()
    if name.startswith(PLUGIN_PREFIXES):
      out[name] = dist.version
  return dict(sorted(out.items()))


# Vector extensions XLA CPU may generate code for (SSE4.2-only code rounds
# otherwise than AVX2 code; AVX-512 gave AVX2's numbers on one AMD EPYC).
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16",
             "amx_bf16", "amx_tile", "asimd", "sve")


def _cpu_info() -> tuple[str, list[str]]:
  """The CPU's model name and which of `ISA_FLAGS` it has (Linux)."""
  model, flags = platform.processor() or platform.machine(), set()
  try:
    with open("/proc/cpuinfo", encoding="utf-8") as f:
      for line in f:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name":
          model = value.strip()
        elif key in ("flags", "Features"):
          flags = set(value.split())
        if flags and key == "":  # the first processor's block ends
          break
  except OSError:
    pass
  return model, [f for f in ISA_FLAGS if f in flags]


def _usable_cpus() -> int:
  """The cores this process may run on (its affinity mask on Linux)."""
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:  # not on Linux
    return os.cpu_count() or 1


def host() -> dict:
  """The machine: CPU model, vector extensions and the cores this process
  may use (XLA CPU's thread pool is sized from them)."""
  model, isa = _cpu_info()
  return {"cpu": model, "isa": isa, "cpus_usable": _usable_cpus(),
          "cpu_count": os.cpu_count(), "machine": platform.machine(),
          "system": platform.system()}


def devices() -> dict:
  """Backend, its version, the devices of the run, and what sets XLA's
  float results besides the package versions."""
  devs = jax.devices()
  try:
    platform_version = devs[0].client.platform_version
  except Exception:  # pylint: disable=broad-except
    platform_version = None
  cpu = jax.default_backend() == "cpu"
  return {"backend": jax.default_backend(),
          "platform_version": platform_version,
          "device_count": jax.device_count(),
          "local_device_count": jax.local_device_count(),
          "process_count": jax.process_count(),
          "device_kinds": sorted({d.device_kind for d in devs}),
          "xla_flags": os.environ.get("XLA_FLAGS", ""),
          # XLA CPU's intra-op threads (measured: the usable cores, or the
          # host device count when larger); they set its float rounding.
          "xla_cpu_threads": (max(_usable_cpus(), jax.local_device_count())
                              if cpu else None),
          "jax_config": {name: _plain(jax.config.values.get(name))
                         for name in JAX_OPTIONS}}


def code() -> dict:
  """In a git checkout: its commit and whether tracked files had changes
  (the package's version is in `packages`)."""
  root = os.path.dirname(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))
  out = {"commit": None, "dirty": None}
  try:
    run = lambda *a: subprocess.run(
        ["git", *a], cwd=root, capture_output=True, text=True, timeout=20,
        check=True).stdout.strip()
    out["commit"] = run("rev-parse", "HEAD")
    out["dirty"] = bool(run("status", "--porcelain", "--untracked-files=no"))
  except (OSError, subprocess.SubprocessError):
    pass  # not a git checkout (an installed wheel) or no git
  return out


def dataset(config, store_opened: bool) -> dict:
  """The dataset the run read: name, builder config and version (read from
  the built dataset when the run opened it from the config)."""
  d = config.dataset
  out = {"name": d.name, "config": d.config or None, "seed": d.seed,
         "builder_config": None, "version": None}
  if not store_opened:
    return out  # a store handed in (tests): no builder to ask
  try:
    from mespot_jax.data import datasets  # pylint: disable=g-import-not-at-top
    from mespot_jax.data import tfds_utils  # pylint: disable=g-import-not-at-top
    builder = tfds_utils.make_builder(d.name, datasets.default_data_dir(config),
                                      datasets.builder_config(config), d.name)
    out["builder_config"] = (builder.builder_config.name
                             if builder.builder_config else None)
    out["version"] = str(builder.info.version)
  except Exception:  # pylint: disable=broad-except
    pass  # provenance never fails a finished run
  return out


def collect(config, store_opened: bool = True) -> dict:
  """The provenance block of a run's metrics (module docstring)."""
  return {
      "seeds": {"seed": int(config.seed),
                "dataset_seed": int(config.dataset.seed)},
      "dataset": dataset(config, store_opened),
      "packages": packages(),
      "devices": devices(),
      "host": host(),
      "code": code(),
      "argv": list(sys.argv),
      "finished_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
          "%Y-%m-%dT%H:%M:%SZ"),
  }


def without_provenance(metrics: dict) -> dict:
  """`metrics` without the provenance block (what two reruns compare)."""
  return {k: v for k, v in metrics.items() if k != KEY}
