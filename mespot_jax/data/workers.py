"""Worker processes that cannot outlive the process that started them.

The dataset builders align videos in a `ProcessPoolExecutor`. Killing a
build (Ctrl-C, SIGTERM, even SIGKILL) must not leave its workers running:
each worker starts with `init_worker` (on Linux the kernel sends it SIGTERM
when its parent dies, `PR_SET_PDEATHSIG`), and the parent stops a pool at
once with `stop_workers` on a failure or an interrupt.
"""
import concurrent.futures
import ctypes
import os
import signal
import sys
import time

from absl import logging

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Terminated(SystemExit):
  """SIGTERM in an align worker."""


def _worker_terminated(signum, frame):
  del frame
  signal.signal(signum, signal.SIG_IGN)  # clean up once, uninterrupted
  if hasattr(signal, "alarm"):
    signal.alarm(10)  # SIGALRM ends the process should the clean-up hang
  raise Terminated(128 + signum)


def init_worker(parent_pid: int) -> None:
  """Runs first in each align worker so that it cannot outlive the build.

  Ctrl-C is left to the parent, which stops the pool; SIGTERM removes the
  worker's temporary files and exits; on Linux the kernel sends SIGTERM
  when the parent dies, however it dies (PR_SET_PDEATHSIG).

  Args:
    parent_pid: the building process.
  """
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  signal.signal(signal.SIGTERM, _worker_terminated)
  if sys.platform.startswith("linux"):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
      logging.warning("align worker: prctl(PR_SET_PDEATHSIG) failed: %s",
                      os.strerror(ctypes.get_errno()))
  if os.getppid() != parent_pid:
    os._exit(1)  # the parent died before the request took effect


def stop_workers(pool: concurrent.futures.ProcessPoolExecutor) -> None:
  """Stops a pool's workers now: SIGTERM, then SIGKILL after 10 s."""
  # The executor can only wait for running work (until Python 3.14's
  # `terminate_workers`), so its processes are stopped directly.
  procs = list((pool._processes or {}).values())  # pylint: disable=protected-access
  pool.shutdown(wait=False, cancel_futures=True)
  for p in procs:
    p.terminate()
  deadline = time.monotonic() + 10
  for p in procs:
    p.join(max(0.0, deadline - time.monotonic()))
    if p.is_alive():
      p.kill()
      p.join(1)
  # A worker the executor was still starting when it was read above gets no
  # work and exits when the executor's shutdown completes; wait for that.
  pool.shutdown(wait=True)
  for p in list((pool._processes or {}).values()):  # pylint: disable=protected-access
    if p.is_alive():
      p.kill()
      p.join(1)
