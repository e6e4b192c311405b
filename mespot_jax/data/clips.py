"""The clips of a built recognition dataset, in the release's numbering.

A recognition dataset is stored as every other (`schema`): one video per
clip, with exactly one labelled interval. `ClipSource.open("casme_ii",
data_dir)` opens it through `source.SpottingSource` (the one reader) and
lists each video as a `ClipMeta`, with its class mapped at read time from
the emotion and a label set (`labels.map_emotion`; by default the label set
the dataset was built with), so one built dataset serves any label set.
Frame numbers here are the release's (`img46.jpg` is 46): a clip holds
`clip.first_frame .. clip.last_frame`, and its `onset`, `apex` and
`offset` are numbers in that range. Nothing is built by `open`; `prepare`
builds when needed.
"""
import dataclasses

import numpy as np

from mespot_jax import errors
from mespot_jax.data import labels as labels_lib
from mespot_jax.data import source as source_lib
from mespot_jax.data import tfds_utils

RECOGNITION_DATASETS = ("casme_ii", "samm_me", "smic_e", "ck_plus",
                        "megc2019_composite", "cas_me3")


@dataclasses.dataclass(frozen=True)
class ClipMeta:
  """One clip of a recognition dataset (fields as in `schema`; frame
  numbers are the release's; `label` indexes the label set's classes, -1
  outside them, and `label_name` names it)."""
  index: int
  clip: str
  subject: str
  source_subject: str
  source: str
  fps: float
  first_frame: int
  num_frames: int
  frame_offset: int
  onset: int
  apex: int
  offset: int
  apex_annotated: bool
  emotion: str
  au: str
  label: int
  label_name: str

  @property
  def last_frame(self) -> int:
    return self.first_frame + self.num_frames - 1

  @property
  def frame_numbers(self) -> range:
    """The release frame numbers of the clip's stored frames."""
    return range(self.first_frame, self.first_frame + self.num_frames)


def clip_meta(video, label_set: str, labels: dict | None = None,
              index: int | None = None, interval=None) -> ClipMeta:
  """A video and one of its intervals as a clip.

  Args:
    video: a `source.VideoMeta`.
    label_set: the label set mapping its emotion to a class
      (`labels.LABEL_SETS`); "" leaves every clip unlabelled (-1).
    labels: `"<subject>/<clip>"` -> class name, where the build labelled a
      clip otherwise than by its emotion (a label file's,
      `info.metadata["labels"]`).
    index: the clip's index (default: the video's).
    interval: the interval (default: the video's only one).

  Returns:
    The `ClipMeta`, in release frame numbers; an unknown apex (-1) becomes
    the middle frame `(onset + offset) // 2`, `apex_annotated` False (the
    recognition parsers' policy).

  Raises:
    InputError: no interval given and the video has not exactly one.
  """
  if interval is None:
    if len(video.intervals) != 1:
      raise errors.InputError(
          f"video {video.subject}/{video.video} has "
          f"{len(video.intervals)} intervals; a clip has exactly one")
    interval = video.intervals[0]
  names = labels_lib.classes(label_set) if label_set else ()
  name = (labels or {}).get(f"{video.subject}/{video.video}")
  if name is not None and name in names:
    label = names.index(name)
  else:
    label = (labels_lib.map_emotion(label_set, video.source,
                                    interval.emotion) if label_set else -1)
  annotated = interval.apex_annotated and interval.apex > 0
  apex = (interval.apex if interval.apex > 0  # unknown: the middle frame
          else (interval.onset + interval.offset) // 2)
  to_release = lambda n: int(n) + video.first_frame - 1
  return ClipMeta(
      index=video.index if index is None else index, clip=video.video,
      subject=video.subject, source_subject=video.source_subject,
      source=video.source, fps=video.fps, first_frame=video.first_frame,
      num_frames=video.num_frames, frame_offset=video.frame_offset,
      onset=to_release(interval.onset), apex=to_release(apex),
      offset=to_release(interval.offset),
      apex_annotated=annotated, emotion=interval.emotion,
      au=interval.au, label=label,
      label_name=names[label] if label >= 0 else "")


def make_builder(name: str, data_dir: str, config=None, **kwargs):
  """The TFDS builder of a dataset by name (a config name or object)."""
  return tfds_utils.make_builder(
      name, data_dir, config, f"{', '.join(RECOGNITION_DATASETS)} (with a "
      "config such as '/112_grey')", **kwargs)


def is_recognition(builder) -> bool:
  """Whether a builder (of its config) writes a recognition dataset (one
  video per clip)."""
  return getattr(builder, "task", "spotting") == "recognition"


class ClipSource:
  """Clips, labels and aligned frames of one built recognition dataset.

  Attributes:
    videos: the `source.SpottingSource` it reads through (one video per
      clip, positions 1-based; what `FrameStore` reads).
    clips: `ClipMeta` per clip, in dataset order (index = position).
    subjects: sorted subject ids (unique across sources in the composite).
    classes: class names; `clip.label` indexes them (-1: outside them).
    label_set: name of the label set (`3class`, `samm_5class`).
    image_size: side S of the aligned crops.
    channels: 1 or 3.
    mask_face: whether crops were face-masked when built.
    smooth_window: the face tracker's smoothing window when built.
    policies: quirk name -> how often it was applied while building.
    metadata: the whole `info.metadata` (class and subject counts, the
      composite's count check, aligner counters).
  """

  def __init__(self, builder, label_set: str = ""):
    """Reads the dataset of `builder`; `label_set` maps the emotions
    (default: the one the dataset was built with)."""
    self.builder = builder
    self.videos = source_lib.SpottingSource(builder)
    meta = dict(builder.info.metadata or {})
    self.metadata = meta
    self.image_size = self.videos.image_size
    self.channels = self.videos.channels
    self.mask_face = self.videos.mask_face
    self.smooth_window = self.videos.smooth_window
    self.policies = self.videos.policies
    self.label_set = label_set or str(meta.get("label_set", ""))
    if self.label_set and self.label_set not in labels_lib.LABEL_SETS:
      raise errors.InputError(
          f"label set {self.label_set!r}; expected one of "
          f"{sorted(labels_lib.LABEL_SETS)}")
    self.classes = (labels_lib.classes(self.label_set) if self.label_set
                    else ())
    # A label file's classes hold for the label set the build used.
    overrides = (meta.get("labels", {})
                 if self.label_set == meta.get("label_set") else {})
    self.clips = [clip_meta(v, self.label_set, overrides)
                  for v in self.videos.videos]
    self.subjects = sorted({c.subject for c in self.clips})

  @classmethod
  def open(cls, name: str, data_dir: str, config=None,
           label_set: str = "") -> "ClipSource":
    """Opens a built recognition dataset; builds nothing.

    Args:
      name: builder name (`casme_ii`, `samm_me`, `smic_e`, `ck_plus`,
        `megc2019_composite`).
      data_dir: TFDS data folder.
      config: builder config name (or object); default: the builder's.
      label_set: the label set (default: the one the dataset was built
        with).

    Returns:
      The source.

    Raises:
      InputError: the dataset is not built there (says how to build it).
    """
    builder = make_builder(name, data_dir, config)
    if not builder.is_prepared():
      cfg = builder.builder_config.name if builder.builder_config else None
      full = f"{name}{'/' + cfg if cfg else ''}"
      raise errors.InputError(
          f"{data_dir}: dataset {full} is not built there; build it first "
          f"with: python -c \"import mespot_jax.builders, tensorflow_datasets as "
          f"tfds; tfds.builder('{full}', data_dir='{data_dir}')"
          f".download_and_prepare(download_config=tfds.download."
          f"DownloadConfig(manual_dir='DIR'))\" (DIR: the release folder, "
          f"see data_builders/{name}/README.md)")
    return cls(builder, label_set)

  @classmethod
  def prepare(cls, name: str, data_dir: str, config=None,
              label_set: str = "", **builder_kwargs) -> "ClipSource":
    """Builds the dataset if it is not built yet, then opens it.

    Args:
      name: builder name.
      data_dir: TFDS data folder.
      config: builder config name, or a `BuilderConfig` object.
      label_set: the label set (default: the one the dataset was built
        with).
      **builder_kwargs: passed to the builder (e.g. `workers=2`); a
        `download_config` entry goes to `download_and_prepare`.

    Returns:
      The source.
    """
    return cls(tfds_utils.build_if_needed(make_builder, name, data_dir,
                                          config, **builder_kwargs),
               label_set)

  def __len__(self) -> int:
    return len(self.clips)

  def labels(self) -> np.ndarray:
    """`(N,)` int32 label of every clip (-1: outside the class set)."""
    return np.asarray([c.label for c in self.clips], np.int32)

  def positions(self, clip_index: int, frame_numbers) -> np.ndarray:
    """1-based positions in the clip's video of release frame numbers.

    Raises:
      InputError: a number outside the clip.
    """
    c = self.clips[clip_index]
    numbers = np.asarray(frame_numbers, np.int64).reshape(-1)
    bad = numbers[(numbers < c.first_frame) | (numbers > c.last_frame)]
    if bad.size:
      raise errors.InputError(
          f"clip {c.subject}/{c.clip}: frame {int(bad[0])} is out of range; "
          f"expected {c.first_frame}..{c.last_frame}")
    return numbers - c.first_frame + 1

  def records(self, clip_index: int, frame_numbers) -> list[dict]:
    """Full `frames` records of some frames of one clip (checked), by
    release frame number, in the order asked."""
    return self.videos.records(clip_index,
                               self.positions(clip_index, frame_numbers))

  def frames(self, clip_index: int, frame_numbers) -> np.ndarray:
    """Aligned crops, `(n, S, S, C)` uint8, of some frames of one clip."""
    return self.videos.frames(clip_index,
                              self.positions(clip_index, frame_numbers))

  def landmarks(self, clip_index: int, frame_numbers) -> np.ndarray:
    """`(n, 68, 2)` float32 landmarks in crop coordinates."""
    return self.videos.landmarks(clip_index,
                                 self.positions(clip_index, frame_numbers))

  def rois(self, clip_index: int, frame_numbers) -> np.ndarray:
    """`(n, 4, 4)` int32 ROI boxes (see `face.align.ROI_NAMES`)."""
    return self.videos.rois(clip_index)[
        self.positions(clip_index, frame_numbers) - 1]

  def face_found(self, clip_index: int, frame_numbers) -> np.ndarray:
    """`(n,)` bool: whether the face was found in each frame."""
    return self.videos.face_found(clip_index)[
        self.positions(clip_index, frame_numbers) - 1]

  def load_clip(self, clip_index: int) -> np.ndarray:
    """All aligned crops of one clip, `(T, S, S, C)` uint8."""
    return self.videos.load_video(clip_index)

  def key_frames(self, clip_index: int) -> np.ndarray:
    """The onset, apex and offset crops of one clip, `(3, S, S, C)`."""
    c = self.clips[clip_index]
    return self.frames(clip_index, [c.onset, c.apex, c.offset])
