"""Tests of frame-folder and video-file reading."""
import os
import re

import cv2
import numpy as np
import pytest

from mespot_jax import errors
from mespot_jax.data import video_io


def _write_frames(folder, names, hw=(12, 16)):
  os.makedirs(folder, exist_ok=True)
  for name in names:
    n = int(re.findall(r"\d+", name)[-1])
    img = np.zeros(hw + (3,), np.uint8)
    img[..., 0] = n * 10  # red channel carries the frame number
    cv2.imwrite(os.path.join(folder, name), img[..., ::-1])


def test_frames_are_sorted_numerically_not_lexically(tmp_path):
  folder = str(tmp_path / "f")
  _write_frames(folder, [f"img{i}.png" for i in range(1, 12)])
  frames = list(video_io.iter_frames(folder))
  assert [int(f[0, 0, 0]) for f in frames] == [10 * i for i in range(1, 12)]
  assert frames[0][0, 0, 2] == 0  # RGB order out, not BGR
  names = [os.path.basename(p) for _, p in video_io.list_frame_files(folder)]
  assert names.index("img2.png") < names.index("img10.png")


def test_any_zero_padding_and_grey(tmp_path):
  folder = str(tmp_path / "f")
  _write_frames(folder, ["006_1_0009.png", "006_1_00010.png",
                         "006_1_0008.png"])
  assert [n for n, _ in video_io.list_frame_files(folder)] == [8, 9, 10]
  grey = list(video_io.iter_frames(folder, grey=True))
  assert grey[0].shape == (12, 16)
  info = video_io.probe(folder)
  assert info == dict(fps=None, num_frames=3, width=16, height=12)


def test_gaps_and_duplicates_are_reported(tmp_path):
  folder = str(tmp_path / "gap")
  _write_frames(folder, ["img1.png", "img2.png", "img5.png"])
  with pytest.raises(errors.InputError, match=r"3\.\.4 are missing"):
    video_io.list_frame_files(folder)
  folder = str(tmp_path / "dup")
  _write_frames(folder, ["img1.png", "img01.png"])
  with pytest.raises(errors.InputError, match="appears twice"):
    video_io.list_frame_files(folder)


def test_corrupt_frame_names_the_file(tmp_path):
  folder = str(tmp_path / "f")
  _write_frames(folder, ["img1.png", "img2.png"])
  with open(os.path.join(folder, "img3.jpg"), "wb") as f:
    f.write(b"not a jpeg")
  with pytest.raises(errors.InputError, match="img3.jpg"):
    list(video_io.iter_frames(folder))


def test_corrupt_or_missing_video_file(tmp_path):
  bad = tmp_path / "bad.mp4"
  bad.write_bytes(b"\x00" * 100)
  with pytest.raises(errors.InputError, match="bad.mp4"):
    list(video_io.iter_frames(str(bad)))
  with pytest.raises(errors.InputError, match="nothing.avi"):
    list(video_io.iter_frames(str(tmp_path / "nothing.avi")))


def test_write_and_read_video_roundtrip(tmp_path):
  path = str(tmp_path / "v.mp4")
  frames = [np.full((32, 48, 3), 40 * i, np.uint8) for i in range(5)]
  assert video_io.write_video(path, frames, fps=25) == 5
  assert [p for p in os.listdir(tmp_path) if p != "v.mp4"] == []
  info = video_io.probe(path)
  assert (info["width"], info["height"], info["num_frames"]) == (48, 32, 5)
  assert info["fps"] == pytest.approx(25)
  back = list(video_io.iter_frames(path))
  assert len(back) == 5 and back[0].shape == (32, 48, 3)
  for i, f in enumerate(back):
    assert abs(float(f.mean()) - 40 * i) < 6  # lossy codec
