"""Atomic file writing: nothing half-written is ever left behind.

Everything the toolkit writes (reports, CSVs, caches, plots) goes to a
temporary name in the destination folder and is renamed onto the final name
only when complete, so a crash or Ctrl-C leaves either the old file or none.
The final file gets the permissions of a plainly created one (0666 less the
umask), not the 0600 of `tempfile.mkstemp`.

Two helpers keep long jobs (dataset builds) as clean: `exit_on_signals` makes
SIGTERM and SIGHUP run the clean-ups that Ctrl-C runs, and `shared_lock`
tells a job whether leftovers of earlier jobs in a folder are abandoned.
"""
import contextlib
import os
import signal
import tempfile
import threading
from typing import IO, Callable, Iterator

from absl import logging
import numpy as np

# Signals whose default action ends the process without clean-up.
_EXIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                      if hasattr(signal, name))


def current_umask() -> int:
  """The process umask, read without changing it where the OS allows.

  Returns:
    The umask bits, e.g. `0o022`.
  """
  try:
    # Linux >= 4.7 reports it; `os.umask` alone can only read it by setting
    # it, which races with other threads creating files.
    with open("/proc/self/status") as f:
      for line in f:
        if line.startswith("Umask:"):
          return int(line.split()[1], 8)
  except (OSError, ValueError, IndexError):
    pass
  mask = os.umask(0o077)
  os.umask(mask)
  return mask


@contextlib.contextmanager
def atomic_path(path: str, suffix: str | None = None) -> Iterator[str]:
  """Yields a temporary path beside `path`, renamed onto it on success.

  Args:
    path: final destination.
    suffix: suffix of the temporary name (some writers pick the format from
      it, e.g. `.png` for matplotlib, `.npz` for numpy); default: the
      suffix of `path`.

  Yields:
    A temporary file name in the same folder (so the rename is atomic). On
    success it is given mode `0o666 & ~umask` and renamed onto `path`.
  """
  folder = os.path.dirname(os.path.abspath(path)) or "."
  os.makedirs(folder, exist_ok=True)
  if suffix is None:
    suffix = os.path.splitext(path)[1]
  fd, tmp = tempfile.mkstemp(
      prefix="." + os.path.basename(path) + ".", suffix=".tmp" + suffix,
      dir=folder)
  os.close(fd)
  try:
    yield tmp
    os.chmod(tmp, 0o666 & ~current_umask())
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "w", **kwargs) -> Iterator[IO]:
  """Opens a temporary file that replaces `path` only when the block succeeds.

  Args:
    path: final destination.
    mode: `open` mode, "w" or "wb".
    **kwargs: passed to `open` (e.g. `newline=""` for CSV).

  Yields:
    The open file object.
  """
  with atomic_path(path) as tmp:
    with open(tmp, mode, **kwargs) as f:
      yield f


@contextlib.contextmanager
def exit_on_signals(signums: tuple[int, ...] = _EXIT_SIGNALS
                    ) -> Iterator[None]:
  """Turns SIGTERM and SIGHUP into `SystemExit` inside the block.

  Python's default for these signals ends the process at once, skipping
  `finally` blocks, so temporary files and folders stay behind. Inside the
  block they raise `SystemExit(128 + signum)` in the main thread instead:
  clean-ups run as for Ctrl-C and the exit status is the usual one. Repeats
  of the signal are ignored while it cleans up. A handler installed by
  someone else is kept; outside the main thread this does nothing.

  Args:
    signums: the signals to catch.

  Yields:
    Nothing.
  """
  if threading.current_thread() is not threading.main_thread():
    yield
    return
  received = []

  def handler(signum, frame):
    del frame
    if received:
      return
    received.append(signum)
    logging.warning("%s received: cleaning up, then exiting",
                    signal.Signals(signum).name)
    raise SystemExit(128 + signum)

  previous = {s: signal.signal(s, handler) for s in signums
              if signal.getsignal(s) == signal.SIG_DFL}
  try:
    yield
  finally:
    for s, h in previous.items():
      signal.signal(s, h)


@contextlib.contextmanager
def shared_lock(folder: str, when_alone: Callable[[], None] | None = None
                ) -> Iterator[None]:
  """Holds a shared lock on `<folder>/.lock` for the block.

  If no other process holds it when the block starts, `when_alone()` runs
  first, under an exclusive lock: leftovers of earlier processes in `folder`
  are then abandoned (the OS drops a dead process's locks, SIGKILL included)
  and it may remove them. Where file locks are unavailable (no `fcntl`, a
  read-only folder, some network file systems) the block runs unlocked and
  `when_alone` does not.

  Args:
    folder: the folder the block works in (created if missing).
    when_alone: called when no other process works in `folder`.

  Yields:
    Nothing.
  """
  try:
    import fcntl  # pylint: disable=g-import-not-at-top
    os.makedirs(folder, exist_ok=True)
    fd = os.open(os.path.join(folder, ".lock"), os.O_RDWR | os.O_CREAT,
                 0o666)
  except (ImportError, OSError):
    fd = None
  if fd is None:
    yield
    return
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
      alone = True
    except BlockingIOError:
      alone = False
    except OSError as e:
      logging.warning("%s: cannot lock (%s); not checking for leftovers of "
                      "other processes", folder, e)
      alone = None
    if alone and when_alone is not None:
      when_alone()
    if alone is not None:
      fcntl.flock(fd, fcntl.LOCK_SH)  # lets other processes in beside us
    yield
  finally:
    os.close(fd)  # releases the lock


def json_safe(x):
  """Plain JSON values of `x`: tuples to lists, numpy arrays and scalars
  to Python, mapping keys to strings (config dicts, decoder records)."""
  if isinstance(x, dict):
    return {str(k): json_safe(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return [json_safe(v) for v in x]
  if isinstance(x, np.ndarray):
    return json_safe(x.tolist())
  if isinstance(x, np.generic):
    return x.item()
  return x
