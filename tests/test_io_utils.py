"""Tests of atomic writing (permissions, nothing left) and clean exits."""
import os
import signal
import stat
import time

import pytest

from mespot_jax import io_utils


@pytest.fixture
def umask():
  """Sets the umask for one test and restores the previous one after."""
  previous = os.umask(0o022)
  try:
    yield os.umask
  finally:
    os.umask(previous)


def _mode(path) -> int:
  return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_files_get_the_umask_permissions_not_0600(tmp_path, umask, mask):
  umask(mask)
  assert io_utils.current_umask() == mask
  text, blob = tmp_path / "report.json", tmp_path / "sub" / "cache.npz"
  with io_utils.atomic_write(str(text)) as f:
    f.write("{}")
  with io_utils.atomic_path(str(blob)) as tmp:
    with open(tmp, "wb") as f:
      f.write(b"x")
  assert text.read_text() == "{}" and blob.read_bytes() == b"x"
  assert _mode(text) == 0o666 & ~mask
  assert _mode(blob) == 0o666 & ~mask
  # A plainly created file is the reference the atomic writer matches.
  plain = tmp_path / "plain"
  plain.write_text("")
  assert _mode(text) == _mode(plain)


def test_replacing_a_file_gives_it_the_umask_permissions(tmp_path, umask):
  umask(0o022)
  path = tmp_path / "out.csv"
  path.write_text("old")
  os.chmod(path, 0o600)
  with io_utils.atomic_write(str(path)) as f:
    f.write("new")
  assert path.read_text() == "new" and _mode(path) == 0o644


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
  path = tmp_path / "out.txt"
  path.write_text("old")
  with pytest.raises(RuntimeError, match="boom"):
    with io_utils.atomic_write(str(path)) as f:
      f.write("half")
      raise RuntimeError("boom")
  assert path.read_text() == "old"
  assert os.listdir(tmp_path) == ["out.txt"]


def test_sigterm_in_the_block_runs_clean_ups_and_exits_143(tmp_path):
  before = signal.getsignal(signal.SIGTERM)
  cleaned = []
  with pytest.raises(SystemExit) as exit_info:
    with io_utils.exit_on_signals():
      try:
        with io_utils.atomic_write(str(tmp_path / "out.txt")) as f:
          f.write("half")
          os.kill(os.getpid(), signal.SIGTERM)
          time.sleep(5)  # the handler raises before this ends
      finally:
        cleaned.append(True)
  assert exit_info.value.code == 128 + signal.SIGTERM
  assert cleaned and os.listdir(tmp_path) == []  # no half-written file
  assert signal.getsignal(signal.SIGTERM) == before


def test_a_handler_set_by_someone_else_is_kept():
  calls = []
  previous = signal.signal(signal.SIGHUP, lambda *a: calls.append(a[0]))
  try:
    with io_utils.exit_on_signals():
      os.kill(os.getpid(), signal.SIGHUP)
    assert calls == [signal.SIGHUP]
  finally:
    signal.signal(signal.SIGHUP, previous)


def test_when_alone_runs_only_without_another_holder(tmp_path):
  calls = []
  with io_utils.shared_lock(str(tmp_path / "d"), lambda: calls.append(1)):
    assert calls == [1]
    # A second holder (another open file, as another process has) sees the
    # first one and must not touch its work.
    with io_utils.shared_lock(str(tmp_path / "d"), lambda: calls.append(2)):
      pass
  assert calls == [1]
  with io_utils.shared_lock(str(tmp_path / "d"), lambda: calls.append(3)):
    pass
  assert calls == [1, 3]
