"""Reading and writing videos: frame folders and video files, streamed.

Datasets ship frames either as a folder of numbered images
(`img1.jpg, img2.jpg, ...`, `006_1_0001.jpg`, any zero padding) or as a
video file. `iter_frames` yields RGB (or grey) `uint8` frames one at a time
so a long video never sits in memory; frame numbers are read from the file
names and sorted numerically (`img2` before `img10`), never lexically.

Real files are damaged in two ways that decoding alone does not reveal: a
truncated file ends early (fewer frames than its container lists) and a
corrupt stretch fails to decode between good frames. `FrameReader` streams
the same frames and keeps a `DecodeStats` (frames expected, decoded, and
which failed) so a caller can warn and record it.
"""
import dataclasses
import os
import re
import struct
from typing import Iterable, Iterator

from absl import logging
import cv2
import numpy as np

from mespot_jax import errors
from mespot_jax import io_utils

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv")
# The frame number is the last run of digits in the stem: `img12`,
# `006_1_0012`, `frame-00012` all give 12.
_NUMBER_RE = re.compile(r"(\d+)(?!.*\d)")
# Failed reads in a row after which a video file is taken to have ended: a
# corrupt stretch longer than this (10 s at 30 fps) counts as truncation.
_MAX_GAP = 300
ON_ERROR = ("raise", "skip", "repeat")


def list_frame_files(folder: str,
                     allow_gaps: bool = False) -> list[tuple[int, str]]:
  """Lists the numbered images of a frame folder in numeric order.

  Args:
    folder: a folder of `.jpg/.jpeg/.png/.bmp` frames.
    allow_gaps: accept missing numbers (CAS(ME)^3 drops frames; its labels
      use the file numbers, so the caller maps them to positions).

  Returns:
    `(frame_number, path)` pairs sorted by number.

  Raises:
    InputError: no numbered image, a duplicated number, or a gap (unless
      `allow_gaps`).
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
    if n1 != n0 + 1 and not allow_gaps:
      raise errors.InputError(
          f"{folder}: frames {n0 + 1}..{n1 - 1} are missing (gap between "
          f"{os.path.basename(p0)} and {os.path.basename(p1)}); expected "
          "consecutive frame numbers")
  return numbered


def _decode_image(path: str, grey: bool) -> np.ndarray | None:
  """The image at `path` in RGB (or grey), or None if it cannot be decoded."""
  flag = cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR
  image = cv2.imread(path, flag)
  if image is None or image.size == 0:
    return None
  return image if grey else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _bad_image(path: str) -> str:
  return f"{path}: cannot decode this frame image (corrupt or not an image)"


def _check_source(path: str) -> bool:
  """True for a frame folder, False for a video file, else an InputError."""
  if os.path.isdir(path):
    return True
  if not os.path.exists(path):
    raise errors.InputError(f"{path}: no such video file or frame folder")
  ext = os.path.splitext(path)[1].lower()
  if ext in IMAGE_EXTENSIONS:
    raise errors.InputError(
        f"{path}: is an image, not a video; expected a video file "
        f"({', '.join(VIDEO_EXTENSIONS)}) or a folder of numbered frames "
        "(img1.jpg, img2.jpg, ...); if it is one frame of such a folder, "
        f"pass the folder {os.path.dirname(os.path.abspath(path))}")
  if not os.path.isfile(path) or ext not in VIDEO_EXTENSIONS:
    raise errors.InputError(
        f"{path}: not a frame folder nor a video file "
        f"({', '.join(VIDEO_EXTENSIONS)})")
  return False


def _mp4_index_missing(path: str) -> bool:
  """Whether an MP4/MOV file's top-level boxes run past its end or lack `moov`.

  Writers that put the `moov` index last (OpenCV's among them) leave a file
  that no player opens when it is cut short, e.g. by an interrupted copy.
  """
  size = os.path.getsize(path)
  offset, seen_moov = 0, False
  with open(path, "rb") as f:
    while offset + 8 <= size:
      f.seek(offset)
      head = f.read(16)
      box_size, kind = struct.unpack(">I4s", head[:8])
      if offset == 0 and kind != b"ftyp":
        return False  # not an ISO media file: no guess
      if box_size == 1 and len(head) == 16:
        box_size = struct.unpack(">Q", head[8:])[0]
      elif box_size == 0:
        box_size = size - offset
      if box_size < 8:
        return False
      if offset + box_size > size:
        return True
      seen_moov |= kind == b"moov"
      offset += box_size
  return offset > 0 and not seen_moov


def _open_capture(path: str) -> cv2.VideoCapture:
  cap = cv2.VideoCapture(path)
  if not cap.isOpened():
    if (os.path.splitext(path)[1].lower() in (".mp4", ".mov")
        and _mp4_index_missing(path)):
      raise errors.InputError(
          f"{path}: cannot open video file: it looks truncated (its index, "
          "the 'moov' box, is missing or cut off, as after an interrupted "
          "download or copy); copy the file again")
    raise errors.InputError(f"{path}: cannot open video file (corrupt or "
                            "unsupported codec)")
  return cap


@dataclasses.dataclass
class DecodeStats:
  """What reading one video produced, for warnings and reports.

  Attributes:
    path: the video file or frame folder.
    frames_expected: frames the source lists: the container's frame count
      for a video file (None when it gives none; some codecs only estimate
      it), the number of numbered images for a frame folder.
    frames_decoded: frames decoded successfully.
    read_errors: 1-based positions of the frames that failed to decode: a
      corrupt image of a folder, or failed reads between good frames of a
      video. A video's failed reads after its last good frame are not
      listed: that is a truncated end, counted by `frames_missing`.
  """
  path: str
  frames_expected: int | None = None
  frames_decoded: int = 0
  read_errors: list[int] = dataclasses.field(default_factory=list)

  @property
  def frames_missing(self) -> int:
    """Listed frames neither decoded nor in `read_errors` (a cut-off end)."""
    if self.frames_expected is None:
      return 0
    return max(0, self.frames_expected - self.frames_decoded
               - len(self.read_errors))

  @property
  def gaps(self) -> list[tuple[int, int]]:
    """`read_errors` as `(first, last)` runs of consecutive positions."""
    runs = []
    for n in self.read_errors:
      if runs and n == runs[-1][1] + 1:
        runs[-1] = (runs[-1][0], n)
      else:
        runs.append((n, n))
    return runs

  @property
  def complete(self) -> bool:
    """Every listed frame was decoded."""
    return not self.read_errors and not self.frames_missing

  def describe(self) -> str:
    """One line for a warning: what was decoded and what was not."""
    if self.frames_expected is None:
      parts = [f"decoded {self.frames_decoded} frames"]
    else:
      parts = [f"decoded {self.frames_decoded} of the {self.frames_expected} "
               "frames it lists"]
    if self.frames_missing:
      parts.append(f"the last {self.frames_missing} are missing (the file "
                   "may be truncated)")
    if self.read_errors:
      runs = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in self.gaps)
      parts.append(f"{len(self.read_errors)} could not be decoded (frames "
                   f"{runs})")
    return f"{self.path}: " + "; ".join(parts)

  def as_dict(self) -> dict:
    """JSON-ready counts; `gaps` as `[first, last]` pairs."""
    return dict(frames_expected=self.frames_expected,
                frames_decoded=self.frames_decoded,
                frames_missing=self.frames_missing,
                gaps=[list(g) for g in self.gaps])


class FrameReader:
  """Streams frames like `iter_frames` and records what failed to decode.

  Example:
    reader = video_io.FrameReader(path, on_error="repeat")
    for frame in reader:
      ...
    if not reader.stats.complete:
      logging.warning("%s", reader.stats.describe())

  Attributes:
    path: the frame folder or video file.
    grey: frames are `(H, W)` grey instead of `(H, W, 3)` RGB.
    on_error: see `__init__`.
    stats: `DecodeStats` of the pass under way or last finished; each
      iteration starts a fresh one. `frames_expected` is known from the
      start.
  """

  def __init__(self, path: str, grey: bool = False, on_error: str = "raise"):
    """Checks the source and reads how many frames it lists.

    Args:
      path: a folder of numbered images or a `.mp4/.avi/.mov/.mkv` file.
      grey: yield grey frames.
      on_error: a frame that cannot be decoded is "raise": an InputError
        naming it; "skip": left out (later frames move up); or "repeat":
        replaced by the previous good frame, so positions stay the source's
        frame numbers and labels or scores stay aligned (the first good frame
        stands in for failures before it). Every failure is counted in
        `stats.read_errors` either way.

    Raises:
      InputError: a missing path, an image file, a file that is not a video
        or cannot be opened, a frame folder with gaps or repeated numbers,
        an unknown `on_error`.
    """
    if on_error not in ON_ERROR:
      raise errors.InputError(f"on_error={on_error!r}: expected one of "
                              f"{', '.join(ON_ERROR)}")
    self.path, self.grey, self.on_error = path, grey, on_error
    self._files = list_frame_files(path) if _check_source(path) else None
    if self._files is not None:
      expected = len(self._files)
    else:
      cap = _open_capture(path)
      expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))  # <= 0: unknown
      cap.release()
    self.stats = DecodeStats(path, expected if expected > 0 else None)

  def _decode_video(self) -> Iterator[np.ndarray | None]:
    """Frames of a video file, None for each failed read between good ones.

    Failed reads after the last good frame are dropped: the file ended.
    """
    cap = _open_capture(self.path)
    expected = self.stats.frames_expected
    try:
      reads = failed = 0
      while True:
        ok, frame = cap.read()
        reads += 1
        if ok and frame is not None and frame.size:
          yield from [None] * failed
          failed = 0
          yield (cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if self.grey
                 else cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
          continue
        # A failed read may be a corrupt stretch that later frames follow:
        # read on until the listed length is reached, or for a while.
        failed += 1
        if failed >= _MAX_GAP or (expected is not None and reads >= expected):
          return
    finally:
      cap.release()

  def _failure(self, position: int) -> str:
    if self._files is not None:
      return _bad_image(self._files[position - 1][1])
    return (f"{self.path}: frame {position} cannot be decoded (corrupt data "
            "between good frames)")

  def __iter__(self) -> Iterator[np.ndarray]:
    """Yields `uint8` frames in order (RGB, not OpenCV's BGR)."""
    stats = self.stats = DecodeStats(self.path, self.stats.frames_expected)
    source = (self._decode_video() if self._files is None else
              (_decode_image(p, self.grey) for _, p in self._files))
    last, backlog = None, 0
    for position, frame in enumerate(source, start=1):
      if frame is None:
        stats.read_errors.append(position)
        if self.on_error == "raise":
          raise errors.InputError(self._failure(position))
        if self.on_error == "repeat":
          if last is None:
            backlog += 1
          else:
            yield last.copy()
        continue
      stats.frames_decoded += 1
      for _ in range(backlog):
        yield frame.copy()
      backlog = 0
      last = frame
      yield frame
    if stats.frames_decoded == 0:
      what = ("frame image" if self._files is not None
              else "frame (corrupt or empty video file)")
      raise errors.InputError(f"{self.path}: no {what} could be decoded")


def iter_frames(path: str, grey: bool = False) -> Iterator[np.ndarray]:
  """Streams the frames of a frame folder or a video file.

  A video file that ends before the frame count its container lists (a
  truncated file) is logged as a warning; `FrameReader` gives the counts.

  Args:
    path: a folder of numbered images or a `.mp4/.avi/.mov/.mkv` file.
    grey: yield `(H, W)` grey frames instead of `(H, W, 3)` RGB.

  Yields:
    `uint8` frames in order (RGB channel order, not OpenCV's BGR).

  Raises:
    InputError: a missing path, an image file, an unreadable file, a corrupt
      frame.
  """
  reader = FrameReader(path, grey)
  yield from reader
  if reader.stats.frames_missing:
    logging.warning("%s", reader.stats.describe())


def iter_numbered_frames(folder: str, grey: bool = False,
                         first: int | None = None,
                         last: int | None = None) -> Iterator[np.ndarray]:
  """Streams the frames of a folder whose numbers may skip (CAS(ME)^3).

  Args:
    folder: a folder of numbered images; gaps in the numbers are allowed.
    grey: yield grey frames.
    first: the lowest frame number to yield (None: from the first file).
    last: the highest frame number to yield (None: to the last file).

  Yields:
    `uint8` frames in numeric order (RGB, not OpenCV's BGR).

  Raises:
    InputError: no numbered image, or a frame that cannot be decoded.
  """
  for number, path in list_frame_files(folder, allow_gaps=True):
    if ((first is not None and number < first)
        or (last is not None and number > last)):
      continue
    image = _decode_image(path, grey)
    if image is None:
      raise errors.InputError(_bad_image(path))
    yield image


def probe(path: str) -> dict:
  """Reads a video's size without decoding every frame.

  Args:
    path: a frame folder or a video file.

  Returns:
    `dict(fps, num_frames, width, height)`; `fps` is None for a frame folder
    (images carry no rate). For a video file `num_frames` is the container's
    count, which some codecs only estimate.

  Raises:
    InputError: as `FrameReader`.
  """
  if _check_source(path):
    files = list_frame_files(path)
    first = _decode_image(files[0][1], grey=True)
    if first is None:
      raise errors.InputError(_bad_image(files[0][1]))
    return dict(fps=None, num_frames=len(files), width=int(first.shape[1]),
                height=int(first.shape[0]))
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
