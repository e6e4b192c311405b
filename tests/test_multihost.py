"""Two processes on this machine train like one process with as many devices.

`python -m mespot_jax.main --multihost` in two processes (a loopback
coordinator on a free port, one CPU device each, gloo collectives) shards
the fold axis over both processes' devices; one process with two CPU
devices runs the same sharded program. The report (metrics.json, written
by process 0 only) must agree, and both processes must have written the
shared orbax checkpoints.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax.data import datasets
from mespot_jax.report import provenance

synthetic_lstm = load_config("synthetic_lstm")

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = 240
# The LSTM scorer's smoke config (what is tested is the harness's sharded
# fold loop, the same for every method; this one compiles fastest), two
# folds per step (one per device), threefry dropout keys (their bits do not
# depend on how the program is partitioned). Two of the three subjects held
# out: one chunk of two folds, so each process trains one sharded chunk
# (two epochs of one step: a checkpoint each).
OVERRIDES = ["--config=configs/synthetic_lstm.py:smoke",
             "--config.train.folds_per_step=2",
             "--config.train.test_folds=('s01','s02')",
             "--config.train.dropout_rng_impl=threefry2x32",
             "--config.train.num_epochs=2", "--config.train.steps_per_epoch=1",
             "--compilation_cache=none",
             # No oracle (per-epoch copies, test scores, its report): the
             # sharded chunk keeps it in tests/test_train_loop.py and the
             # golden smoke metrics check its report.
             "--config.train.oracle=False"]


def _free_port() -> int:
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _env(devices: int, extra: dict) -> dict:
  env = dict(os.environ)
  for k in list(env):  # no inherited cluster description
    if k.startswith(("JAX_", "SLURM_", "OMPI_", "TPU_")):
      del env[k]
  env.update({"JAX_PLATFORMS": "cpu",
              "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
              "PYTHONPATH": ROOT, **extra})
  return env


def _start(workdir, devices, extra, log):
  cmd = [sys.executable, "-m", "mespot_jax.main", f"--workdir={workdir}",
         *OVERRIDES] + (["--multihost"] if extra else [])
  return subprocess.Popen(cmd, cwd=ROOT, env=_env(devices, extra),
                          stdout=log, stderr=subprocess.STDOUT,
                          start_new_session=True)


def _wait_all(procs, logs, deadline):
  """Waits for every process; on a failure or past the deadline kills
  them all (their process groups) and fails with their logs."""
  try:
    while any(p.poll() is None for p in procs):
      if time.monotonic() > deadline:
        raise TimeoutError("timed out")
      if any(p.poll() not in (None, 0) for p in procs):
        raise RuntimeError("a process failed")
      time.sleep(0.2)
    if any(p.returncode != 0 for p in procs):
      raise RuntimeError("a process failed")
  except (TimeoutError, RuntimeError) as e:
    for p in procs:
      if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    tails = []
    for log in logs:
      log.flush()
      with open(log.name, encoding="utf-8", errors="replace") as f:
        tails.append(f"--- {log.name} ---\n" + f.read()[-3000:])
    pytest.fail(f"{e}:\n" + "\n".join(tails))


def _metrics(workdir):
  with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
    return json.load(f)


def test_two_processes_give_the_metrics_of_one(tmp_path):
  # Built here first if missing, so the three runs below only read it.
  datasets.open_store(synthetic_lstm.get_config("smoke"), "spotting")
  deadline = time.monotonic() + TIMEOUT_S
  one, two = tmp_path / "one_process", tmp_path / "two_processes"
  port = _free_port()
  logs = [open(tmp_path / f"{n}.log", "w")
          for n in ("one", "process0", "process1")]
  try:
    procs = [_start(one, 2, {}, logs[0])] + [
        _start(two, 1, {"JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
                        "JAX_NUM_PROCESSES": "2",
                        "JAX_PROCESS_ID": str(i)}, logs[1 + i])
        for i in range(2)]
    _wait_all(procs, logs, deadline)
  finally:
    for log in logs:
      log.close()
  with open(tmp_path / "process0.log", encoding="utf-8") as f:
    assert "in 2 process(es), fold axis sharded" in f.read()
  a, b = _metrics(one), _metrics(two)
  assert [f["test_subject"] for f in a["folds"]] == ["s01", "s02"]
  assert len(a["folds"]) == len(b["folds"])
  # Everything but the provenance (which records the process count).
  assert a["provenance"]["devices"]["process_count"] == 1
  assert b["provenance"]["devices"]["process_count"] == 2
  a, b = provenance.without_provenance(a), provenance.without_provenance(b)
  assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
  # The checkpoints of every epoch, written by both processes together.
  steps = sorted(os.listdir(two / "checkpoints"))
  assert steps == sorted(os.listdir(one / "checkpoints")) == ["0", "1"]
  # Only process 0 wrote the report; no other process left a scratch copy.
  assert (two / "predictions.csv").exists()


def test_the_environment_asks_for_several_processes(monkeypatch):
  from mespot_jax import distributed  # pylint: disable=g-import-not-at-top
  for k in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "SLURM_JOB_ID",
            "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"):
    monkeypatch.delenv(k, raising=False)
  assert not distributed.environment_asks()
  monkeypatch.setenv("JAX_COORDINATOR_ADDRESS", "10.0.0.1:1234")
  monkeypatch.setenv("JAX_NUM_PROCESSES", "1")
  assert not distributed.environment_asks()  # a job of one process
  monkeypatch.setenv("JAX_NUM_PROCESSES", "4")
  assert distributed.environment_asks()
  monkeypatch.delenv("JAX_COORDINATOR_ADDRESS")
  monkeypatch.setenv("SLURM_JOB_ID", "7")
  monkeypatch.setenv("SLURM_NTASKS", "1")
  assert not distributed.environment_asks()
  monkeypatch.setenv("SLURM_NTASKS", "2")
  assert distributed.environment_asks()
