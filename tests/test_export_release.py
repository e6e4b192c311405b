"""`export_release`: a synthetic rendering read back by the real builders.

The tiny rendering (3 videos x 90 frames) is exported in both release
layouts and built with the real `cas_me2` / `samm_lv` builders (workbook
parser, frame folders, face tracker, 32x32 crops): every video and every
interval (type, onset, apex, offset) must come back exactly as planted,
and the tracker must find the face in the exported full frames.
"""
import csv
import os
import subprocess
import sys

import pytest
import tensorflow_datasets as tfds

from mespot_jax.builders.cas_me2 import cas_me2_dataset_builder
from mespot_jax.builders.samm_lv import samm_lv_dataset_builder
from mespot_jax.builders.synthetic_lv import synthetic_lv_dataset_builder as syn
from mespot_jax import errors
from mespot_jax import export_release
from mespot_jax.data import spotting_builder
from mespot_jax.synthetic import render

_BUILDERS = {"cas_me2": cas_me2_dataset_builder.Builder,
             "samm_lv": samm_lv_dataset_builder.Builder}


def _planted():
  """Per video (in order): [(type, onset, apex, offset, emotion)]."""
  b = syn.Builder(data_dir="/nonexistent", config="tiny")
  return [[(e.type, e.onset, e.apex, e.offset, e.emotion)
           for e in render.plan_video(p).events]
          for _, _, p in b.video_params()]


@pytest.mark.parametrize("layout", ["cas_me2", "samm_lv"])
def test_round_trip_through_the_real_builder(tmp_path, layout):
  out = str(tmp_path / "release")
  summary = export_release.export("synthetic_lv", "tiny", None, layout, out,
                                  progress=False)
  assert summary["videos"] == 3 and summary["frames"] == 270
  assert [n for n in os.listdir(tmp_path)] == ["release"]  # no temporaries
  builder = _BUILDERS[layout](
      data_dir=str(tmp_path / "tfds"), workers=1,
      config=spotting_builder.SpottingBuilderConfig(
          name="t32", description="tiny crops", image_size=32))
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=out))
  videos = builder.as_data_source()["videos"]
  frames = builder.as_data_source()["frames"]
  names = ([f"{15 + k}_0101" for k in range(3)] if layout == "cas_me2"
           else [f"{6 + k:03d}_1" for k in range(3)])
  assert [videos[i]["video"].decode() for i in range(3)] == names
  assert [int(videos[i]["num_frames"]) for i in range(3)] == [90] * 3
  planted = _planted()
  for i in range(3):
    got = list(zip(["micro" if t == 0 else "macro"
                    for t in videos[i]["type"].tolist()],
                   videos[i]["onset"].tolist(), videos[i]["apex"].tolist(),
                   videos[i]["offset"].tolist()))
    want = sorted((t, on, ap, off) for t, on, ap, off, _ in planted[i])
    assert sorted(got) == want, names[i]
  # The tracker found the face in the exported full frames.
  found = sum(bool(frames[j]["face_found"]) for j in range(len(frames)))
  assert found >= 0.95 * len(frames)
  policies = {k: v for k, v in builder.info.metadata["policies"].items() if v}
  assert policies == {}
  # truth.csv lists the same intervals, named as the builder names them.
  with open(os.path.join(out, "truth.csv")) as f:
    rows = list(csv.DictReader(f))
  assert list(rows[0]) == list(export_release.TRUTH_COLUMNS)
  assert sorted((r["video"], r["type"], int(r["onset"]), int(r["apex"]),
                 int(r["offset"]), r["emotion"]) for r in rows) == sorted(
                     (names[i],) + iv for i in range(3) for iv in planted[i])
  assert all(os.path.isdir(os.path.join(out, r["folder"])) for r in rows)


def test_errors_and_interrupted_export(tmp_path, monkeypatch):
  with pytest.raises(errors.InputError, match="--layout=casme2"):
    export_release.export("synthetic_lv", "tiny", None, "casme2",
                          str(tmp_path / "a"), progress=False)
  with pytest.raises(errors.InputError, match="only synthetic_lv"):
    export_release.export("samm_lv", "tiny", None, "samm_lv",
                          str(tmp_path / "a"), progress=False)
  with pytest.raises(errors.InputError, match="no config 'nope'"):
    export_release.export("synthetic_lv", "nope", None, "samm_lv",
                          str(tmp_path / "a"), progress=False)
  (tmp_path / "exists").mkdir()
  with pytest.raises(errors.InputError, match="already exists"):
    export_release.export("synthetic_lv", "tiny", None, "samm_lv",
                          str(tmp_path / "exists"), progress=False)
  calls = []

  def interrupted(self, n):
    calls.append(n)
    if len(calls) > 100:  # in the second video
      raise KeyboardInterrupt
    return original(self, n)

  original = render.Renderer.frame
  monkeypatch.setattr(render.Renderer, "frame", interrupted)
  with pytest.raises(KeyboardInterrupt):
    export_release.export("synthetic_lv", "tiny", 3, "cas_me2",
                          str(tmp_path / "b"), progress=False)
  assert sorted(os.listdir(tmp_path)) == ["exists"]  # nothing half-written


def test_cli_bad_layout_is_one_line_error(tmp_path):
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.export_release", "--config=tiny",
       "--layout=casme2", f"--out={tmp_path / 'r'}"],
      cwd=root, capture_output=True, text=True)
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines()[-1] == (
      "error: --layout=casme2: expected one of cas_me2, samm_lv")
  assert "Traceback" not in proc.stderr and not os.listdir(tmp_path)
