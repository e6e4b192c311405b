"""Test set-up: four host devices, at most four cores, one compilation cache.

Four host devices, so the fold-axis sharding runs on CPU. XLA reads the
flag when JAX initialises its backend, so it is set before any test
imports jax.

Most of the suite's time is XLA compiling the same tiny models again: in
the other test worker and in every command-line test's subprocess. JAX's
persistent compilation cache, set through the environment so that the
workers and the subprocesses share it, compiles each program once per
run. It lives in the pytest temporary root of this run
(`MESPOT_TEST_JAX_CACHE` names another folder, `none` turns it off).

The tiny synthetic datasets are deterministic renderings: the tests that
only read them share one TFDS data folder per worker (`tfds_dir`), so each
is built once per worker rather than once per test module.
"""
import os
import tempfile

import pytest

_FLAG = "--xla_force_host_platform_device_count=4"
if _FLAG not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " +
                             _FLAG).strip()

# XLA's CPU runtime uses max(usable cores, devices) threads, and its float
# results depend on that count (docs/reproducibility.md): at most four
# usable cores here (with four devices: four threads on any machine), so
# the golden smoke metrics hold on a machine with more cores too. The
# workers and the command-line tests' subprocesses inherit it.
if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 4:
  os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:4])


def _cache_dir() -> str | None:
  chosen = os.environ.get("MESPOT_TEST_JAX_CACHE")
  if chosen:
    return None if chosen == "none" else chosen
  # One folder per test run: xdist gives its workers the run's id.
  run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid())
  return os.path.join(tempfile.gettempdir(), f"mespot-jax-tests-{run}")


if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  _dir = _cache_dir()
  if _dir:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _dir
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"


@pytest.fixture(scope="session")
def tfds_dir(tmp_path_factory) -> str:
  """This worker's TFDS data folder for the tiny synthetic datasets (built
  on first use, then read by every test that asks for it; a test that
  checks a build itself uses a folder of its own)."""
  return str(tmp_path_factory.mktemp("tfds_shared"))
