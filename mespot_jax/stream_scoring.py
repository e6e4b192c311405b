"""Aligns and scores a stream of video frames with a deploy model.

`score_frames` runs decode -> face tracking and alignment -> the deploy
model's method's scorer (`score_stream`) on an iterable of frames, keeping
only the per-frame scores, and returns a `ScoredVideo` that says which
frames had a face and were decoded. Each aligned frame becomes model input
through `face.preprocess.model_input` by the deploy record's
`FacePreprocess`, the function the builders and the `FrameStore` use
(`open_video` reads the frames as a build reads them).
`mespot_jax.score` (the command line) builds on it;
`mespot_jax.score.score_frames` is the same function.

`score_clip` does the same for a recognition deploy model and one clip
(a video file or a frame folder, and its onset, apex and offset):
`prepare_clip` reads and aligns its frames as the recognition builders do
(`recognition_builder.align_clip`) and samples, resizes and converts them
as the `ClipStore` does (`clip_frame_numbers`, `preprocess.model_crops`),
by the deploy record's `ClipPreprocess`; the method scores the one-clip store
with its own `score` (the ConvLSTM reads the frames, the part-based
recogniser its onset->apex flow) and the fitted bias decodes the label.
"""
import dataclasses
import functools
import os

import numpy as np
from tqdm import tqdm

from mespot_jax.data import recognition_builder
from mespot_jax.decoders import label as label_decoder
from mespot_jax.data import video_io
from mespot_jax.data.clip_store import (ClipPreprocess, ClipStore,
                                        clip_frame_numbers)
from mespot_jax.data.clips import ClipMeta
from mespot_jax.errors import InputError
from mespot_jax.face import preprocess


@dataclasses.dataclass
class ScoredVideo:
  """The scores of one video and which frames could be trusted.

  Attributes:
    scores_T2: float32 [micro, macro] scores; NaN where a frame has no score
      (`invalid_frames` of frames without a face or not decoded).
    face_found_T: bool, the aligner found the face.
    decoded_T: bool, the frame was decoded (False: a stand-in, the previous
      good frame, for a frame that could not be decoded).
  """
  scores_T2: np.ndarray
  face_found_T: np.ndarray
  decoded_T: np.ndarray

  @property
  def frames(self) -> int:
    return len(self.scores_T2)

  @property
  def with_face(self) -> int:
    return int(self.face_found_T.sum())

  @property
  def usable_T(self) -> np.ndarray:
    """Frames decoded and with a face."""
    return self.face_found_T & self.decoded_T


class _FaceCounter:
  """Makes the model's input of each aligned frame as the training data was
  made (`face.preprocess.model_input` by the deploy record's spec) while
  recording which frames have a face; yields (crop, ROI boxes at the crop's
  size, `model_rois`) pairs to a method that reads the boxes
  (`stream_rois`)."""

  def __init__(self, aligned, bar, spec, with_rois: bool):
    self._aligned = aligned
    self._bar = bar
    self._spec = spec
    self._with_rois = with_rois
    self.face_found = []

  @property
  def frames(self) -> int:
    return len(self.face_found)

  @property
  def with_face(self) -> int:
    return int(sum(self.face_found))

  def __iter__(self):
    for a in self._aligned:
      self.face_found.append(bool(a.face_found))
      self._bar.update(1)
      crop = preprocess.model_input(a.crop[None], a.landmarks[None],
                                    self._spec)[0]
      if self._with_rois:
        yield crop, preprocess.model_rois(a.rois, self._spec)
      else:
        yield crop


def open_video(path: str, spec: preprocess.FacePreprocess):
  """The frames of a video file or frame folder, read as a build reads
  them (grey when the faces were aligned in grey: `video_io.FrameReader`'s
  grey decoding, which for a PNG or JPEG folder is not the grey of the
  colour frames), frames that fail to decode repeated and recorded."""
  return video_io.FrameReader(path, grey=spec.align_grey, on_error="repeat")


def score_frames(dep, frames, fps: float, batch_size: int, total=None,
                 aligner=None, progress: bool = True):
  """Aligns and scores a stream of frames with the deploy model's method.

  Args:
    dep: a `deploy.Deployment`.
    frames: iterable of `uint8` video frames (RGB or grey); a
      `video_io.FrameReader` also tells which frames were not decoded.
    fps: frame rate of the video.
    batch_size: frames per jitted scorer call.
    total: expected frame count (progress bar only).
    aligner: a `track.VideoAligner` (default: the deploy record's,
      `dep.preprocess.aligner()`).
    progress: show a tqdm bar (frames per second).

  Returns:
    A `ScoredVideo`: NaN scores on the frames the method's `invalid_frames`
    names for the frames without a face or not decoded.
  """
  aligner = aligner or dep.preprocess.aligner()
  bar = tqdm(total=total or None, unit="frame", desc="scoring",
             dynamic_ncols=True, disable=None if progress else True)
  counter = _FaceCounter(aligner.align_stream(iter(frames)), bar,
                         dep.preprocess,
                         bool(getattr(dep.method, "stream_rois", False)))
  scores = np.asarray(dep.method.score_stream(
      dep.variables, iter(counter), fps, dep.choices, batch_size), np.float32)
  bar.close()
  face = np.asarray(counter.face_found, bool)
  decoded = np.ones(len(face), bool)
  stats = getattr(frames, "stats", None)  # a FrameReader's, when it is one
  if stats is not None and stats.read_errors:
    decoded[np.asarray(stats.read_errors, np.int64) - 1] = False
  bad_T2 = dep.method.invalid_frames(face & decoded, fps, dep.choices)
  return ScoredVideo(np.where(bad_T2, np.nan, scores).astype(np.float32),
                     face, decoded)


KEY_FRAMES = ("onset", "apex", "offset")


@dataclasses.dataclass
class PreparedClip:
  """A clip as the model's store holds one.

  Attributes:
    x: (t, S, S, C) uint8, the sampled frames as `ClipStore.x[i]` holds
      them.
    frame_numbers: (t,) the clip's frame numbers they were sampled at.
    onset, apex, offset: the clip's key frame numbers.
    first_frame: number of the clip's first frame (a frame folder's first
      file number; 1 for a video file).
    face_found: (T,) bool, the aligner found the face in each frame.
  """
  x: np.ndarray
  frame_numbers: np.ndarray
  onset: int
  apex: int
  offset: int
  first_frame: int
  face_found: np.ndarray

  @property
  def num_frames(self) -> int:
    return len(self.face_found)

  def face_at(self, number: int) -> bool:
    return bool(self.face_found[number - self.first_frame])


def check_clip(path: str, onset, apex, offset) -> tuple[int, int | None]:
  """Checks a clip and its key frames before anything is loaded.

  Frame numbers are a frame folder's file numbers (`img46.png` is frame
  46, as the datasets' annotations count them) or a video file's frames
  from 1; onset, apex and offset are inclusive.

  Args:
    path: a video file or a folder of numbered frames.
    onset, apex, offset: frame numbers (None: not given).

  Returns:
    (first frame number, last frame number; None where a video file does
    not list its length).

  Raises:
    InputError: a missing or unreadable clip, a frame folder with missing
      or repeated frames, a key frame not given, not an integer, out of
      order or outside the clip.
  """
  names = dict(zip(KEY_FRAMES, (onset, apex, offset)))
  missing = [k for k, v in names.items() if v is None]
  if missing:
    raise InputError(
        f"--clip={path}: {', '.join('--' + k for k in missing)} not given; "
        "a clip needs --onset=N --apex=N --offset=N (frame numbers, "
        "inclusive)")
  # Checks the source: a missing path, a folder with gaps or repeats.
  reader = video_io.FrameReader(path)
  if os.path.isdir(path):
    files = video_io.list_frame_files(path)
    first, last = files[0][0], files[-1][0]
  else:
    first, last = 1, reader.stats.frames_expected
  if not onset <= apex <= offset:
    raise InputError(f"--onset={onset} --apex={apex} --offset={offset}: "
                     "expected onset <= apex <= offset")
  if onset < first:
    raise InputError(f"--onset={onset} is before the clip's first frame "
                     f"{first} ({path})")
  if last is not None and offset > last:
    raise InputError(f"--offset={offset} is past the clip's last frame "
                     f"{last} ({path})")
  return first, last


def prepare_clip(spec: ClipPreprocess, path: str, onset: int, apex: int,
                 offset: int) -> PreparedClip:
  """Reads, aligns and samples a clip as its training clips were.

  Every frame of `path` is aligned (as a build aligns every frame of a
  clip: the tracker smooths over neighbours), then the `spec.clip_frames`
  frames of `clip_frame_numbers(onset, apex, offset)` are resized and
  converted (`face.preprocess.model_crops`).

  Args:
    spec: the deploy record's `ClipPreprocess`.
    path: a video file or a folder of numbered frames.
    onset, apex, offset: frame numbers (`check_clip`).

  Returns:
    The `PreparedClip`.

  Raises:
    InputError: as `check_clip`, an undecodable frame, a key frame past
      the end of a video file.
  """
  first, _ = check_clip(path, onset, apex, offset)
  numbers = clip_frame_numbers(onset, apex, offset, spec.clip_frames)
  frames_fn = functools.partial(video_io.iter_frames, path,
                                grey=spec.align_grey)
  crops, found = recognition_builder.align_clip(
      frames_fn, spec.align_size, spec.align_grey, spec.smooth_window,
      spec.mask_face, keep=numbers - first, name=path)
  x = preprocess.model_crops(crops, spec)
  return PreparedClip(x, numbers, int(onset), int(apex), int(offset), first,
                      found)


def clip_store(clip: PreparedClip, classes, fps: float = 0.0) -> ClipStore:
  """A one-clip `ClipStore` of a prepared clip (label -1: unknown)."""
  meta = ClipMeta(
      index=0, clip="clip", subject="", source_subject="", source="",
      fps=float(fps), first_frame=clip.first_frame,
      num_frames=clip.num_frames, frame_offset=0, onset=clip.onset,
      apex=clip.apex, offset=clip.offset, apex_annotated=True, emotion="",
      au="", label=-1, label_name="")
  return ClipStore([meta], clip.x[None], np.full(1, -1, np.int32),
                   tuple(classes), int(clip.x.shape[2]),
                   int(clip.x.shape[-1]))


@dataclasses.dataclass
class ScoredClip:
  """A clip's label and class probabilities.

  Attributes:
    clip: the `PreparedClip` (the model's input frames).
    label: the predicted class name.
    probabilities: {kind: (C,) the model's class probabilities} (`model`,
      and a method's other heads).
    calibrated: (C,) the `model` probabilities with the fitted bias, the
      ones `label` is the argmax of.
  """
  clip: PreparedClip
  label: str
  probabilities: dict
  calibrated: np.ndarray


def score_clip(dep, path: str, onset: int, apex: int, offset: int,
               fps: float = 0.0) -> ScoredClip:
  """Prepares and classifies one clip with a recognition deploy model.

  Args:
    dep: a `deploy.ClipDeployment`.
    path: a video file or a folder of numbered frames.
    onset, apex, offset: frame numbers (`check_clip`).
    fps: the clip's frame rate (recorded only).

  Returns:
    The `ScoredClip`.
  """
  clip = prepare_clip(dep.preprocess, path, onset, apex, offset)
  store = clip_store(clip, dep.classes, fps)
  scores = dep.method.score(dep.variables, store, [0], {})
  probs = {k: np.asarray(v[0], np.float64) for k, v in scores.items()}
  record = dep.records["model"]
  pred = dep.decoder.decode(probs["model"], fps, record)
  return ScoredClip(clip, dep.classes[pred], probs,
                    label_decoder.calibrated(probs["model"], record.bias))


def video_name(path: str) -> str:
  """The name a video's intervals are written under: the file stem."""
  return os.path.splitext(os.path.basename(os.path.normpath(path)))[0]


def fps_match(fps: float, known) -> bool:
  """Whether `fps` is within 1% of one of the frame rates `known`."""
  return any(abs(fps - f) <= 0.01 * f for f in known)


def check_outputs(**paths) -> None:
  """Output files must go to existing folders (checked before scoring)."""
  for flag, path in paths.items():
    folder = os.path.dirname(os.path.abspath(path)) if path else None
    if folder and not os.path.isdir(folder):
      raise InputError(f"--{flag}={path}: folder {folder} does not exist")
