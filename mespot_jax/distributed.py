"""Several hosts: `jax.distributed` set-up and who writes what.

One training program runs in every process (one per host on TPU pods and
GPU clusters); the fold axis is sharded over all processes' devices (a
global mesh, `train.loop`), every process feeds its own shards from its own
copy of the (deterministic) sampler, orbax checkpoints are written by every
process together, and reports and metrics are written by process 0 only.

`initialize(multihost)` starts `jax.distributed` when asked (`--multihost`)
or when the environment asks:

- explicit variables: `JAX_COORDINATOR_ADDRESS` (host:port of process 0),
  `JAX_NUM_PROCESSES` (> 1) and `JAX_PROCESS_ID`; optional
  `JAX_LOCAL_DEVICE_IDS` (JAX reads it);
- SLURM with more than one task (`SLURM_NTASKS` > 1), or Open MPI with more
  than one rank (`OMPI_COMM_WORLD_SIZE` > 1): JAX detects the rest;
- Cloud TPU pods: pass `--multihost` (JAX finds the workers itself).

On CPU the cross-process collectives are gloo's (JAX's default; set here
explicitly so an older default cannot silently break a CPU run).
"""
import logging
import os
import tempfile

import jax

_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def _env_int(name: str, default: int = 0) -> int:
  try:
    return int(os.environ.get(name, default))
  except ValueError:
    return default


def environment_asks() -> bool:
  """True when the environment describes a job of several processes."""
  if os.environ.get(_ENV[0]) and _env_int(_ENV[1]) > 1:
    return True
  if "SLURM_JOB_ID" in os.environ and _env_int("SLURM_NTASKS") > 1:
    return True
  return _env_int("OMPI_COMM_WORLD_SIZE") > 1


def initialize(multihost: bool = False) -> bool:
  """Starts `jax.distributed` if `multihost` or the environment asks.

  Must run before any JAX computation.

  Args:
    multihost: the `--multihost` flag.

  Returns:
    Whether `jax.distributed` was initialised (or already was).
  """
  if jax.distributed.is_initialized():
    return True
  if not (multihost or environment_asks()):
    return False
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  kwargs = {}
  if os.environ.get(_ENV[0]) and os.environ.get(_ENV[1]):
    kwargs = {"coordinator_address": os.environ[_ENV[0]],
              "num_processes": _env_int(_ENV[1], 1),
              "process_id": _env_int(_ENV[2])}
  timeout = _env_int("MESPOT_DISTRIBUTED_TIMEOUT_S", 300)
  jax.distributed.initialize(initialization_timeout=timeout, **kwargs)
  logging.info("jax.distributed: process %d of %d, %d local / %d global "
               "devices", jax.process_index(), jax.process_count(),
               jax.local_device_count(), jax.device_count())
  return True


def is_primary() -> bool:
  """True in process 0 (the one that writes reports and metrics)."""
  return jax.process_index() == 0


def barrier(name: str) -> None:
  """Waits until every process reaches `name` (no-op in one process)."""
  if jax.process_count() > 1:
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
    multihost_utils.sync_global_devices(name)


def report_dir(workdir: str) -> str:
  """Where this process writes reports: `workdir` in process 0, a
  throw-away folder elsewhere (every process computes the same report;
  only process 0's is kept)."""
  if is_primary():
    return workdir
  return tempfile.mkdtemp(prefix=f"mespot_process{jax.process_index()}_")


def to_host(tree):
  """Host numpy copies of a pytree of arrays, sharded over processes or not
  (`process_allgather` gathers the shards other processes hold)."""
  import numpy as np  # pylint: disable=g-import-not-at-top

  def one(a):
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
      if a.is_fully_replicated:
        return np.asarray(a.addressable_data(0))
      from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
      return np.asarray(multihost_utils.process_allgather(a, tiled=True))
    return np.asarray(a)

  return jax.tree.map(one, tree)
