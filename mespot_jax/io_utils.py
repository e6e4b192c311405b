"""Atomic file writing: nothing half-written is ever left behind.

Everything the toolkit writes (reports, CSVs, caches, plots) goes to a
temporary name in the destination folder and is renamed onto the final name
only when complete, so a crash or Ctrl-C leaves either the old file or none.
"""
import contextlib
import os
import tempfile
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_path(path: str, suffix: str | None = None) -> Iterator[str]:
  """Yields a temporary path beside `path`, renamed onto it on success.

  Args:
    path: final destination.
    suffix: suffix of the temporary name (some writers pick the format from
      it, e.g. `.png` for matplotlib, `.npz` for numpy); default: the
      suffix of `path`.

  Yields:
    A temporary file name in the same folder (so the rename is atomic).
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
