"""Reading and writing videos: frame folders and video files, streamed.

Datasets ship frames either as a folder of numbered images
(`img1.jpg, img2.jpg, ...`, `006_1_0001.jpg`, any zero padding) or as a
video file. `iter_frames` yields RGB (or grey) `uint8` frames one at a time
so a long video never sits in memory; frame numbers are read from the file
names and sorted numerically (`img2` before `img10`), never lexically.
"""
import os
import re
from typing import Iterable, Iterator

import cv2
import numpy as np

from mespot_jax import errors
from mespot_jax import io_utils

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv")
# The frame number is the last run of digits in the stem: `img12`,
# `006_1_0012`, `frame-00012` all give 12.
_NUMBER_RE = re.compile(r"(\d+)(?!.*\d)")


def list_frame_files(folder: str) -> list[tuple[int, str]]:
  """Lists the numbered images of a frame folder in numeric order.

  Args:
    folder: a folder of `.jpg/.jpeg/.png/.bmp` frames.

  Returns:
    `(frame_number, path)` pairs sorted by number.

  Raises:
    InputError: no numbered image, a duplicated number, or a gap.
  """
  numbered = []
  for name in os.listdir(folder):
    stem, ext = os.path.splitext(name)
    if ext.lower() not in IMAGE_EXTENSIONS:
      continue
    m = _NUMBER_RE.search(stem)
    if m is None:
      raise errors.InputError(
          f"{os.path.join(folder, name)}: frame file name has no number; "
          "expected names like img12.jpg or 006_1_0012.jpg")
    numbered.append((int(m.group(1)), os.path.join(folder, name)))
  if not numbered:
    raise errors.InputError(
        f"{folder}: no frame images ({', '.join(IMAGE_EXTENSIONS)}) found")
  numbered.sort()
  for (n0, p0), (n1, p1) in zip(numbered, numbered[1:]):
    if n1 == n0:
      raise errors.InputError(
          f"{folder}: frame number {n0} appears twice ({os.path.basename(p0)}"
          f" and {os.path.basename(p1)}); expected one file per frame")
    if n1 != n0 + 1:
      raise errors.InputError(
          f"{folder}: frames {n0 + 1}..{n1 - 1} are missing (gap between "
          f"{os.path.basename(p0)} and {os.path.basename(p1)}); expected "
          "consecutive frame numbers")
  return numbered


def _read_image(path: str, grey: bool) -> np.ndarray:
  flag = cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR
  image = cv2.imread(path, flag)
  if image is None:
    raise errors.InputError(
        f"{path}: cannot decode this frame image (corrupt or not an image)")
  return image if grey else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _is_video(path: str) -> bool:
  return os.path.isfile(path) and (
      os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS)


def _open_capture(path: str) -> cv2.VideoCapture:
  cap = cv2.VideoCapture(path)
  if not cap.isOpened():
    raise errors.InputError(f"{path}: cannot open video file (corrupt or "
                            "unsupported codec)")
  return cap


def iter_frames(path: str, grey: bool = False) -> Iterator[np.ndarray]:
  """Streams the frames of a frame folder or a video file.

  Args:
    path: a folder of numbered images or a `.mp4/.avi/.mov/.mkv` file.
    grey: yield `(H, W)` grey frames instead of `(H, W, 3)` RGB.

  Yields:
    `uint8` frames in order (RGB channel order, not OpenCV's BGR).

  Raises:
    InputError: a missing path, an unreadable file, a corrupt frame.
  """
  if os.path.isdir(path):
    for number, frame_path in list_frame_files(path):
      del number
      yield _read_image(frame_path, grey)
    return
  if not os.path.exists(path):
    raise errors.InputError(f"{path}: no such video file or frame folder")
  if not _is_video(path):
    raise errors.InputError(
        f"{path}: not a frame folder nor a video file "
        f"({', '.join(VIDEO_EXTENSIONS)})")
  cap = _open_capture(path)
  try:
    index = 0
    while True:
      ok, frame = cap.read()
      if not ok:
        break
      index += 1
      if frame is None or frame.size == 0:
        raise errors.InputError(f"{path}: frame {index} cannot be decoded")
      yield (cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if grey
             else cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    if index == 0:
      raise errors.InputError(f"{path}: no frame could be decoded (corrupt "
                              "or empty video file)")
  finally:
    cap.release()


def probe(path: str) -> dict:
  """Reads a video's size without decoding every frame.

  Args:
    path: a frame folder or a video file.

  Returns:
    `dict(fps, num_frames, width, height)`; `fps` is None for a frame folder
    (images carry no rate). For a video file `num_frames` is the container's
    count, which some codecs only estimate.
  """
  if os.path.isdir(path):
    files = list_frame_files(path)
    first = _read_image(files[0][1], grey=True)
    return dict(fps=None, num_frames=len(files), width=int(first.shape[1]),
                height=int(first.shape[0]))
  if not _is_video(path):
    raise errors.InputError(f"{path}: no such video file or frame folder")
  cap = _open_capture(path)
  try:
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or None
    return dict(fps=fps, num_frames=int(cap.get(cv2.CAP_PROP_FRAME_COUNT)),
                width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
  finally:
    cap.release()


def write_video(path: str, frames: Iterable[np.ndarray], fps: float) -> int:
  """Writes frames to an `.mp4`/`.avi` file (mp4v codec), atomically.

  Args:
    path: destination file.
    frames: `(H, W)` grey or `(H, W, 3)` RGB `uint8` frames, all one size.
    fps: frame rate stored in the container.

  Returns:
    The number of frames written.
  """
  writer = None
  count = 0
  with io_utils.atomic_path(path) as tmp:
    try:
      for frame in frames:
        frame = np.asarray(frame, np.uint8)
        if frame.ndim == 3 and frame.shape[2] == 1:
          frame = frame[..., 0]
        if writer is None:
          height, width = frame.shape[:2]
          writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"),
                                   float(fps), (width, height))
          if not writer.isOpened():
            raise errors.InputError(f"{path}: cannot open a video writer")
        if frame.shape[:2] != (height, width):
          raise errors.InputError(
              f"{path}: frame {count + 1} is {frame.shape[:2]}, expected "
              f"{(height, width)} like the first frame")
        bgr = (cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2
               else cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        writer.write(bgr)
        count += 1
    finally:
      if writer is not None:
        writer.release()
  return count
