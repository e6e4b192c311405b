"""Tests that a killed dataset build leaves no process and no folder behind.

A real build of `synthetic_lv/tiny` with two align workers runs in its own
session; once its workers exist it is killed, and every process of that
session must be gone within seconds, with no `incomplete.*` folder left
(for SIGKILL: once the next build has started).
"""
import dataclasses
import functools
import glob
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest

from mespot_jax.builders.synthetic_lv import synthetic_lv_dataset_builder as synth
from mespot_jax import errors
from mespot_jax.data import video_io

# About 10 s on two cores, a few seconds a test: not marked slow.
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc; needs PR_SET_PDEATHSIG")

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# spawn workers re-import the main module: the build must sit under a guard.
# Ctrl-C as a terminal delivers it: a suite started from a non-interactive
# shell's background job (`cmd &`) passes SIGINT on ignored, and a Python
# started so never raises KeyboardInterrupt.
_BUILD = """
import signal
import sys
from mespot_jax.data import source
if __name__ == "__main__":
  signal.signal(signal.SIGINT, signal.default_int_handler)
  signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
  source.SpottingSource.prepare("synthetic_lv", sys.argv[1], "tiny",
                                workers=int(sys.argv[2]))
"""


def _start_build(tmp_path, name: str, workers: int) -> subprocess.Popen:
  script = tmp_path / "build.py"
  script.write_text(_BUILD)
  env = dict(os.environ, JAX_PLATFORMS="cpu",
             PYTHONPATH=os.pathsep.join(
                 [_REPO] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
  with open(tmp_path / f"{name}.log", "wb") as log:
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "data"), str(workers)],
        cwd=_REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)  # its own process group, killed in finally


def _stat(pid: int) -> list[str] | None:
  """Fields of /proc/<pid>/stat after the command name; None if gone."""
  try:
    with open(f"/proc/{pid}/stat") as f:
      text = f.read()
  except OSError:
    return None
  return text[text.rindex(")") + 2:].split()


def _session(sid: int) -> list[int]:
  """Live processes of session `sid` (zombies count as gone)."""
  alive = []
  for entry in os.listdir("/proc"):
    fields = _stat(int(entry)) if entry.isdigit() else None
    if fields and int(fields[3]) == sid and fields[0] not in "ZX":
      alive.append(int(entry))
  return alive


def _workers(pid: int) -> list[int]:
  """Children of `pid` that are multiprocessing spawn workers."""
  found = []
  for children in glob.glob(f"/proc/{pid}/task/*/children"):
    try:
      with open(children) as f:
        kids = [int(c) for c in f.read().split()]
    except OSError:
      continue
    for kid in kids:
      try:
        with open(f"/proc/{kid}/cmdline", "rb") as f:
          if b"spawn_main" in f.read():
            found.append(kid)
      except OSError:
        pass
  return found


def _wait_for_workers(proc: subprocess.Popen, n: int,
                      timeout: float = 120) -> list[int]:
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    if proc.poll() is not None:
      pytest.fail(f"the build exited ({proc.returncode}) before its workers "
                  "were seen")
    workers = _workers(proc.pid)
    if len(workers) >= n:
      return workers
    time.sleep(0.02)
  pytest.fail(f"no {n} align workers within {timeout} s")


def _wait_until_gone(sid: int, timeout: float = 10) -> None:
  deadline = time.monotonic() + timeout
  while _session(sid) and time.monotonic() < deadline:
    time.sleep(0.05)
  left = _session(sid)
  assert not left, f"processes of the killed build still run: {left}"


def _incomplete(tmp_path) -> list[str]:
  return sorted(glob.glob(str(tmp_path / "data" / "synthetic_lv" / "tiny" /
                              "incomplete.*")))


def _kill_session(proc: subprocess.Popen) -> None:
  try:
    os.killpg(proc.pid, signal.SIGKILL)
  except ProcessLookupError:
    pass
  proc.wait()


@pytest.mark.parametrize("signum,to_group,status", [
    (signal.SIGTERM, False, 128 + signal.SIGTERM),  # `kill`, a job queue
    (signal.SIGINT, True, -signal.SIGINT),  # Ctrl-C: the terminal's group
])
def test_a_stopped_build_stops_workers_and_removes_its_folder(
    tmp_path, signum, to_group, status):
  proc = _start_build(tmp_path, "build", workers=2)
  try:
    _wait_for_workers(proc, 2)
    assert _incomplete(tmp_path), "the build should be under way"
    if to_group:
      os.killpg(proc.pid, signum)
    else:
      proc.send_signal(signum)
    assert proc.wait(timeout=30) == status
    _wait_until_gone(proc.pid)
    assert _incomplete(tmp_path) == []
    cache = tmp_path / "data" / "synthetic_lv" / "tiny" / "cache"
    leftovers = [p for p in glob.glob(str(cache / "*" / ".*"))
                 + glob.glob(str(cache / "*" / "*.raw"))]
    assert leftovers == [], "workers must remove their temporary files"
    if signum == signal.SIGTERM:
      assert "SIGTERM received" in (tmp_path / "build.log").read_text()
  finally:
    _kill_session(proc)


def test_sigkill_workers_die_and_the_next_build_cleans_up(tmp_path):
  proc = _start_build(tmp_path, "killed", workers=2)
  try:
    _wait_for_workers(proc, 2)
    left = _incomplete(tmp_path)
    assert left, "the build should be under way"
    proc.kill()
    proc.wait()
    _wait_until_gone(proc.pid)  # PR_SET_PDEATHSIG, not anyone's clean-up
    assert _incomplete(tmp_path) == left  # nothing could remove it
  finally:
    _kill_session(proc)
  # What a killed in-process align (workers=1) leaves in the cache.
  version = str(synth.Builder.VERSION)
  cache = tmp_path / "data" / "synthetic_lv" / "tiny" / "cache" / version
  stale = [cache / ".s01_1.npz.raw.x1y2.tmp.raw", cache / "s02_1.npz.raw"]
  for path in stale:
    path.write_bytes(b"half")
  nxt = _start_build(tmp_path, "next", workers=2)
  try:
    assert nxt.wait(timeout=300) == 0, (tmp_path / "next.log").read_text()
  finally:
    _kill_session(nxt)
  log = (tmp_path / "next.log").read_text()
  assert f"removing {left[0]}, left by a build that was killed" in log
  assert _incomplete(tmp_path) == []
  assert not any(path.exists() for path in stale)
  assert f"removing {stale[0]}" in log
  assert os.path.isdir(tmp_path / "data" / "synthetic_lv" / "tiny" / version)


def test_a_failing_video_stops_the_other_workers(tmp_path):
  builder = synth.Builder(data_dir=str(tmp_path), config="tiny", workers=2)
  good = builder._list_videos(None)[0]  # pylint: disable=protected-access
  bad = dataclasses.replace(good, video="bad", frames_fn=functools.partial(
      video_io.iter_frames, str(tmp_path / "missing.mp4")))
  with pytest.raises(errors.InputError, match="missing.mp4"):
    builder._align_all([bad, good])  # pylint: disable=protected-access
  # Every worker is gone within seconds (one the executor was still
  # starting exits as soon as it sees the shutdown).
  deadline = time.monotonic() + 15
  while multiprocessing.active_children() and time.monotonic() < deadline:
    time.sleep(0.1)
  assert multiprocessing.active_children() == []
