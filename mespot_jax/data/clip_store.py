"""The recognition task's data: every labelled clip as t frames, in memory.

    store = ClipStore.from_source(source, num_frames=9, image_size=90,
                                  grey=True)

Each clip of a `ClipSource` becomes `num_frames` crops: its onset, apex and
offset frames always, the rest sampled uniformly between onset and offset
(`clip_frame_numbers`), resized to `image_size` and converted to grey or
colour. Recognition sets are small (SAMM: 133 clips x 9 x 90 x 90 is 10 MB),
so the whole array is read once.

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
    size = image_size or source.image_size
    spec = ClipPreprocess(
        clip_frames=int(num_frames), image_size=int(size), grey=bool(grey),
        align_size=int(source.image_size),
        align_grey=int(source.channels) == 1,
        mask_face=bool(source.mask_face),
        smooth_window=int(source.smooth_window))
    xs = []
    for c in source.clips:
      numbers = clip_frame_numbers(c.onset, c.apex, c.offset, num_frames)
      xs.append(preprocess.model_crops(source.frames(c.index, numbers), spec))
    x = (np.stack(xs) if xs else
         np.zeros((0, num_frames, size, size, spec.channels), np.uint8))
    return cls(list(source.clips), x, source.labels(), tuple(source.classes),
               int(size), int(x.shape[-1]), source.label_set, spec)

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
