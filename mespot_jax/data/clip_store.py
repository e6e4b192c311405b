"""The recognition task's data: every labelled clip as t frames, in memory.

    store = ClipStore.from_source(source, num_frames=9, image_size=90,
                                  grey=True)

A clip is a video and one interval, and the store is a view over the one
frame store (`frames.FrameStore`) by intervals (`from_frames`): each clip
becomes `num_frames` crops of its video, its onset, apex and offset frames
always, the rest sampled uniformly between onset and offset
(`clip_frame_numbers`), resized to `image_size` and converted to grey or
colour by the frame store. `from_source` views a recognition dataset (one
video per clip); the same view of spotted intervals on long videos gives
their clips. Recognition sets are small (SAMM: 133 clips x 9 x 90 x 90 is
10 MB), so the whole array is read once.

The runner and the trainer see what they see of a spotting store: `videos`
(the units, with `subject`), `subjects`, `image_size`, `channels` and
`video_indices(subjects)`, which lists the clips of those subjects whose
label is in the class set (-1 clips are never trained on or scored).

`ClipPreprocess` is how a clip became model input (the builder's face
alignment, then the frames sampled, resized and converted here); a deploy
record keeps it so that offline scoring (`stream_scoring.prepare_clip`)
prepares a new clip the same way, through the same functions
(`recognition_builder.align_clip` and `face.preprocess.model_crops`).
"""
import dataclasses
from typing import Sequence

import numpy as np

from mespot_jax.data.clips import ClipMeta
from mespot_jax.data.frames import FrameStore
from mespot_jax.face import preprocess


def clip_frame_numbers(onset: int, apex: int, offset: int,
                       t: int) -> np.ndarray:
  """`t` frame numbers from onset to offset, onset, apex and offset included.

  Args:
    onset, apex, offset: frame numbers, onset <= apex <= offset.
    t: frames wanted (>= 3).

  Returns:
    (t,) int64, non-decreasing: `linspace(onset, offset, t)` rounded, with
    the inner sample nearest to the apex replaced by the apex. A clip shorter
    than `t` frames repeats frames.
  """
  if t < 3:
    raise ValueError(f"a clip needs at least 3 frames (onset, apex, offset), "
                     f"got {t}")
  n = np.rint(np.linspace(onset, offset, t)).astype(np.int64)
  inner = 1 + int(np.argmin(np.abs(n[1:-1] - apex)))
  n[inner] = apex
  return np.sort(n)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClipPreprocess(preprocess.FacePreprocess):
  """How a stored clip was made from its video (a deploy record's spec):
  the face preprocessing (`face.preprocess.FacePreprocess`: alignment size
  and grey, mask, tracker smoothing, the model's crop size and grey) and
  `clip_frames`, the t frames sampled per clip (`clip_frame_numbers`)."""
  clip_frames: int

  @classmethod
  def from_dict(cls, d: dict, **defaults) -> "ClipPreprocess":
    """The spec of `to_dict`'s output (KeyError: a field is missing)."""
    face = preprocess.FacePreprocess.from_dict(d, **defaults)
    return cls(clip_frames=int({**defaults, **d}["clip_frames"]),
               **dataclasses.asdict(face))


@dataclasses.dataclass
class ClipStore:
  """Labelled clips as arrays.

  Attributes:
    clips: `ClipMeta` per clip (index = position).
    x: (N, T, S, S, C) uint8, the sampled frames of every clip.
    labels: (N,) int32, -1 outside the class set.
    classes: class names.
    image_size: S.
    channels: C.
    label_set: the dataset's label set name.
    preprocess: how the clips were prepared (`from_source`); None for a
      store made in memory.
  """
  clips: list
  x: np.ndarray
  labels: np.ndarray
  classes: tuple
  image_size: int
  channels: int
  label_set: str = ""
  preprocess: ClipPreprocess | None = None

  @classmethod
  def from_source(cls, source, num_frames: int, image_size: int = 0,
                  grey: bool = True) -> "ClipStore":
    """Reads every clip of a `ClipSource` (module docstring).

    Args:
      source: an opened `clips.ClipSource`.
      num_frames: t frames per clip.
      image_size: side of the crops; 0 = as stored.
      grey: one channel (else three).

    Returns:
      The store.
    """
    # On demand: only the sampled frames of each clip are read.
    frames = FrameStore(source.videos.videos, source=source.videos,
                        image_size=image_size, grey=grey)
    return cls.from_frames(frames, source.clips, num_frames,
                           tuple(source.classes), source.label_set)

  @classmethod
  def from_frames(cls, frames: FrameStore, clips: Sequence[ClipMeta],
                  num_frames: int, classes: Sequence[str],
                  label_set: str = "",
                  video_indices: Sequence[int] | None = None) -> "ClipStore":
    """The clips of a frame store's videos (a view by intervals).

    Args:
      frames: the frame store.
      clips: the clips (release frame numbers, `clip.first_frame` the
        number of their video's first frame; `clips.clip_meta` makes one
        of a video and an interval) with their labels.
      num_frames: t frames per clip.
      classes: the class names the labels index.
      label_set: the label set's name.
      video_indices: the video of each clip (default: `clip.index`).

    Returns:
      The store.
    """
    clips = list(clips)
    if video_indices is None:
      video_indices = [c.index for c in clips]
    spec = ClipPreprocess(clip_frames=int(num_frames),
                          **dataclasses.asdict(frames.preprocess))
    xs = [frames.get(v, clip_frame_numbers(c.onset, c.apex, c.offset,
                                           num_frames) - c.first_frame + 1)
          for c, v in zip(clips, video_indices)]
    size = int(frames.image_size)
    x = (np.stack(xs) if xs else
         np.zeros((0, num_frames, size, size, spec.channels), np.uint8))
    labels = np.asarray([c.label for c in clips], np.int32)
    return cls(clips, x, labels, tuple(classes), size, int(x.shape[-1]),
               label_set, spec)

  @property
  def videos(self) -> list[ClipMeta]:
    """The units the runner iterates over (clips here)."""
    return self.clips

  @property
  def subjects(self) -> list[str]:
    return sorted({c.subject for c in self.clips})

  @property
  def num_classes(self) -> int:
    return len(self.classes)

  @property
  def sources(self) -> list[str]:
    return sorted({c.source for c in self.clips})

  def video_indices(self, subjects: Sequence[str]) -> list[int]:
    """Labelled clips (label >= 0) of the given subjects."""
    subjects = set(subjects)
    return [i for i, c in enumerate(self.clips)
            if c.subject in subjects and self.labels[i] >= 0]

  def with_labels(self, labels: np.ndarray) -> "ClipStore":
    """The same clips with other labels (the leakage audit)."""
    labels = np.asarray(labels, np.int32)
    if labels.shape != self.labels.shape:
      raise ValueError(f"{labels.shape} labels for {len(self.clips)} clips")
    return dataclasses.replace(self, labels=labels)
