"""Tests of frame-folder and video-file reading."""
import os
import re
import struct

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


# -- damaged files: DecodeStats ----------------------------------------------
_MP4_CONTAINERS = (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts")


def _boxes(data, start, end):
  while start + 8 <= end:
    size, kind = struct.unpack(">I4s", bytes(data[start:start + 8]))
    yield start, size, kind
    start += size


def _faststart(data: bytes) -> bytes:
  """Moves an MP4's `moov` index before its media, as `-movflags faststart`.

  OpenCV writes the index last, so a cut-off copy of its file does not open
  at all; files made for streaming (and most downloads) have it first, and
  a cut-off copy opens but ends early. Chunk offsets move by the index size.
  """
  top = {kind: (start, size) for start, size, kind in _boxes(data, 0,
                                                              len(data))}
  m0, msize = top[b"moov"]
  moov = bytearray(data[m0:m0 + msize])

  def shift(start, end):
    for s, size, kind in _boxes(moov, start, end):
      if kind in _MP4_CONTAINERS:
        shift(s + 8, s + size)
      elif kind in (b"stco", b"co64"):
        fmt, width = (">I", 4) if kind == b"stco" else (">Q", 8)
        (n,) = struct.unpack(">I", moov[s + 12:s + 16])
        for o in range(s + 16, s + 16 + n * width, width):
          (v,) = struct.unpack(fmt, moov[o:o + width])
          moov[o:o + width] = struct.pack(fmt, v + msize)

  shift(8, msize)
  mdat = top[b"mdat"][0]
  return data[:mdat] + bytes(moov) + data[mdat:m0] + data[m0 + msize:]


def _noisy_video(path, n=60):
  """A video whose frames are all different (so each one has its own data)."""
  rng = np.random.default_rng(0)
  frames = [rng.integers(0, 64, (48, 64, 3), np.uint8) + 3 * i
            for i in range(n)]
  assert video_io.write_video(str(path), frames, fps=25) == n
  return path.read_bytes()


def test_a_truncated_video_reports_the_missing_frames(tmp_path, caplog):
  data = _faststart(_noisy_video(tmp_path / "v.mp4"))
  (tmp_path / "fast.mp4").write_bytes(data)
  whole = video_io.FrameReader(str(tmp_path / "fast.mp4"))
  assert len(list(whole)) == 60 and whole.stats.complete
  cut = tmp_path / "cut.mp4"
  cut.write_bytes(data[:int(0.3 * len(data))])
  reader = video_io.FrameReader(str(cut))
  assert reader.stats.frames_expected == 60  # known before decoding
  frames = list(reader)
  stats = reader.stats
  assert 0 < len(frames) == stats.frames_decoded < 30
  assert stats.read_errors == [] and stats.frames_missing == 60 - len(frames)
  assert not stats.complete
  assert stats.as_dict() == dict(frames_expected=60,
                                 frames_decoded=len(frames),
                                 frames_missing=60 - len(frames), gaps=[])
  assert f"decoded {len(frames)} of the 60" in stats.describe()
  assert "truncated" in stats.describe()
  # The plain iterator yields the same frames and warns.
  with caplog.at_level("WARNING"):
    assert len(list(video_io.iter_frames(str(cut)))) == len(frames)
  assert "truncated" in caplog.text and "cut.mp4" in caplog.text


def test_a_cut_off_mp4_without_its_index_says_it_is_truncated(tmp_path):
  data = _noisy_video(tmp_path / "v.mp4")  # OpenCV puts the index last
  cut = tmp_path / "cut.mp4"
  cut.write_bytes(data[:int(0.3 * len(data))])
  with pytest.raises(errors.InputError, match=r"cut.mp4.*truncated"):
    video_io.FrameReader(str(cut))
  with pytest.raises(errors.InputError, match="truncated"):
    list(video_io.iter_frames(str(cut)))


def test_a_corrupt_stretch_inside_a_video_is_a_gap(tmp_path):
  data = bytearray(_noisy_video(tmp_path / "v.mp4"))
  n = len(data)
  data[int(0.4 * n):int(0.5 * n)] = bytes(int(0.5 * n) - int(0.4 * n))
  bad = tmp_path / "bad.mp4"
  bad.write_bytes(bytes(data))
  skip = video_io.FrameReader(str(bad), on_error="skip")
  kept = list(skip)
  stats = skip.stats
  assert stats.read_errors, "the zeroed stretch must fail to decode"
  (first, last), = stats.gaps  # one stretch, with good frames either side
  assert 1 < first <= last < 60
  assert len(kept) == stats.frames_decoded == 60 - (last - first + 1)
  assert stats.frames_missing == 0 and not stats.complete
  assert f"frames {first}-{last}" in stats.describe() or first == last
  repeat = video_io.FrameReader(str(bad), on_error="repeat")
  filled = list(repeat)
  assert len(filled) == 60  # positions stay the video's frame numbers
  for i in range(first, last + 1):
    np.testing.assert_array_equal(filled[i - 1], filled[first - 2])
  np.testing.assert_array_equal(filled[last], kept[first - 1])
  with pytest.raises(errors.InputError, match=f"frame {first} cannot be"):
    list(video_io.iter_frames(str(bad)))


def test_a_corrupt_image_inside_a_frame_folder(tmp_path):
  folder = str(tmp_path / "f")
  _write_frames(folder, [f"img{i}.jpg" for i in range(1, 6)])
  with open(os.path.join(folder, "img3.jpg"), "wb") as f:
    f.write(b"not a jpeg")
  with pytest.raises(errors.InputError, match="img3.jpg"):
    list(video_io.FrameReader(folder))
  skip = video_io.FrameReader(folder, on_error="skip")
  reds = [int(f[0, 0, 0]) for f in skip]
  assert [round(r / 10) for r in reds] == [1, 2, 4, 5]
  assert skip.stats.as_dict() == dict(frames_expected=5, frames_decoded=4,
                                      frames_missing=0, gaps=[[3, 3]])
  assert "frames 3)" in skip.stats.describe()
  repeat = video_io.FrameReader(folder, grey=True, on_error="repeat")
  grey = list(repeat)
  assert len(grey) == 5 and grey[0].shape == (12, 16)
  np.testing.assert_array_equal(grey[2], grey[1])
  assert repeat.stats.read_errors == [3]


def test_leading_failures_are_filled_with_the_first_good_frame(tmp_path):
  folder = str(tmp_path / "f")
  _write_frames(folder, ["img1.png", "img2.png", "img3.png"])
  with open(os.path.join(folder, "img1.png"), "wb") as f:
    f.write(b"broken")
  frames = list(video_io.FrameReader(folder, on_error="repeat"))
  assert [int(f[0, 0, 0]) for f in frames] == [20, 20, 30]
  with pytest.raises(errors.InputError, match="on_error='ignore'"):
    video_io.FrameReader(folder, on_error="ignore")


def test_an_image_passed_as_a_video_says_so(tmp_path):
  folder = str(tmp_path / "f")
  _write_frames(folder, ["img1.jpg", "img2.jpg"])
  image = os.path.join(folder, "img1.jpg")
  for call in (lambda: list(video_io.iter_frames(image)),
               lambda: video_io.probe(image),
               lambda: video_io.FrameReader(image)):
    with pytest.raises(errors.InputError,
                       match=r"img1.jpg: is an image.*folder of numbered"):
      call()
  with pytest.raises(errors.InputError, match=f"pass the folder {folder}"):
    video_io.probe(image)
  with pytest.raises(errors.InputError, match="no such video file"):
    video_io.probe(str(tmp_path / "missing.jpg"))
