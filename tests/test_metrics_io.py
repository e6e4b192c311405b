"""Tests for mespot_jax.metrics.io: interval CSV parsing, errors, round trip."""
import os

import pytest

from mespot_jax.errors import InputError
from mespot_jax.metrics import io


def _write(tmp_path, text, name="x.csv"):
  path = tmp_path / name
  path.write_text(text)
  return str(path)


def test_reads_required_and_optional_columns(tmp_path):
  path = _write(tmp_path, (
      " Video ,TYPE,Onset,offset,extra,score,emotion,apex,subject\n"
      "v1,MICRO,3,9,junk,0.75,Positive,5,s01\n"
      "\n"  # blank lines are skipped.
      "v2,Macro,1.0,4,,,,,\n"))
  rows = io.read_intervals_csv(path)
  assert rows == [
      io.IntervalRow("v1", "micro", 3, 9, subject="s01", apex=5,
                     emotion="Positive", score=0.75),
      io.IntervalRow("v2", "macro", 1, 4),
  ]


def test_header_only_is_zero_rows(tmp_path):
  assert io.read_intervals_csv(_write(tmp_path, "video,type,onset,offset\n")) == []


def test_excel_bom_is_accepted(tmp_path):
  path = tmp_path / "bom.csv"
  path.write_bytes("\ufeffvideo,type,onset,offset\nv,micro,1,2\n".encode())
  assert io.read_intervals_csv(str(path))[0].video == "v"


@pytest.mark.parametrize("text, line, needle", [
    ("", 1, "empty file"),
    ("\n\n", 1, "empty file"),
    ("video,type,onset\nv,micro,1\n", 1, "offset"),
    ("video,type,onset,offset\nv,micro,1,2\nv,micro,9,3\n", 3, "onset 9 > offset 3"),
    ("video,type,onset,offset\nv,blink,1,2\n", 2, "'blink'"),
    ("video,type,onset,offset\nv,micro,1.5,2\n", 2, "'1.5'"),
    ("video,type,onset,offset\nv,micro,a,2\n", 2, "'a'"),
    ("video,type,onset,offset\nv,micro,1_0,20\n", 2, "'1_0'"),
    ("video,type,onset,offset\nv,micro,0,2\n", 2, "onset 0 < 1"),
    ("video,type,onset,offset\nv,micro,1,\n", 2, "offset"),
    ("video,type,onset,offset\n,micro,1,2\n", 2, "video"),
    ("video,type,onset,offset,score\nv,micro,1,2,nan\n", 2, "score"),
    ("video,type,onset,offset,apex\nv,micro,1,2,x\n", 2, "apex"),
])
def test_bad_rows_name_file_and_line(tmp_path, text, line, needle):
  path = _write(tmp_path, text, "bad_file.csv")
  with pytest.raises(InputError) as e:
    io.read_intervals_csv(path)
  message = str(e.value)
  assert "bad_file.csv" in message
  assert f"line {line}" in message
  assert needle in message
  assert "\n" not in message


def test_missing_file_is_input_error(tmp_path):
  with pytest.raises(InputError, match="nope.csv"):
    io.read_intervals_csv(str(tmp_path / "nope.csv"))


def test_write_read_round_trip(tmp_path):
  rows = [
      io.IntervalRow("006_1", "micro", 10, 20, subject="006", apex=15,
                     emotion="surprise", score=0.1 + 0.2),
      io.IntervalRow("a,b", "macro", 1, 1),  # a comma forces CSV quoting.
  ]
  path = str(tmp_path / "sub" / "pred.csv")
  io.write_intervals_csv(path, rows)
  assert io.read_intervals_csv(path) == rows
  # Nothing but the final file is left in the folder (atomic write).
  assert os.listdir(tmp_path / "sub") == ["pred.csv"]
