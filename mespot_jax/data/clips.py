"""Typed random-access view of a built recognition dataset.

`ClipSource.open("casme_ii", data_dir)` reads the `clips` split into
`ClipMeta` records and keeps the `frames` split as an array_record data
source, so `frames(clip_index, [n, ...])` costs one batched read of the
requested frames only. Frame numbers are the release's (`img46.jpg` is 46):
a clip holds `clip.first_frame .. clip.last_frame`, and its `onset`, `apex`
and `offset` are numbers in that range. Nothing is built by `open`;
`prepare` builds when needed.
"""
import dataclasses

import numpy as np

from mespot_jax import errors
from mespot_jax.data import recognition_schema as rschema
from mespot_jax.data import tfds_utils

RECOGNITION_DATASETS = ("casme_ii", "samm_me", "smic_e", "ck_plus",
                        "megc2019_composite")


@dataclasses.dataclass(frozen=True)
class ClipMeta:
  """One clip of a recognition dataset (fields as in `recognition_schema`)."""
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


_text = tfds_utils.text


def clip_meta_from_record(index: int, rec: dict) -> ClipMeta:
  """Turns a `clips` record into a `ClipMeta`."""
  convert = {str: _text, int: int, float: float, bool: bool}
  kw = {f.name: convert[f.type](rec[f.name])
        for f in dataclasses.fields(ClipMeta) if f.name != "index"}
  return ClipMeta(index=index, **kw)


def make_builder(name: str, data_dir: str, config=None, **kwargs):
  """The TFDS builder of a dataset by name (a config name or object)."""
  return tfds_utils.make_builder(
      name, data_dir, config, f"{', '.join(RECOGNITION_DATASETS)} (with a "
      "config such as '/112_grey')", **kwargs)


def is_recognition(builder) -> bool:
  """Whether a builder (of its config) writes the recognition schema."""
  return getattr(builder, "task", "spotting") == "recognition"


class ClipSource:
  """Clips, labels and aligned frames of one built recognition dataset.

  Attributes:
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

  def __init__(self, builder):
    self.builder = builder
    meta = dict(builder.info.metadata or {})
    self.metadata = meta
    self.image_size = int(meta.get("image_size", 0))
    self.channels = int(meta.get("channels", 0))
    self.mask_face = bool(meta.get("mask_face", False))
    self.smooth_window = int(getattr(builder.builder_config, "smooth_window",
                                     getattr(builder, "SMOOTH_WINDOW", 5)))
    self.policies = dict(meta.get("policies", {}))
    self.label_set = str(meta.get("label_set", ""))
    self.classes = tuple(meta.get("classes", ()))
    sources = builder.as_data_source()
    if rschema.CLIPS not in sources:
      raise errors.InputError(
          f"{builder.data_dir}: {builder.name} has no '{rschema.CLIPS}' "
          "split; it is a spotting dataset (open it with SpottingSource)")
    self._frames = sources[rschema.FRAMES]
    clip_src = sources[rschema.CLIPS]
    records = _getitems(clip_src, list(range(len(clip_src))))
    self.clips = [clip_meta_from_record(i, r) for i, r in enumerate(records)]
    self.subjects = sorted({c.subject for c in self.clips})

  @classmethod
  def open(cls, name: str, data_dir: str, config=None) -> "ClipSource":
    """Opens a built recognition dataset; builds nothing.

    Args:
      name: builder name (`casme_ii`, `samm_me`, `smic_e`, `ck_plus`,
        `megc2019_composite`).
      data_dir: TFDS data folder.
      config: builder config name (or object); default: the builder's.

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
    return cls(builder)

  @classmethod
  def prepare(cls, name: str, data_dir: str, config=None,
              **builder_kwargs) -> "ClipSource":
    """Builds the dataset if it is not built yet, then opens it.

    Args:
      name: builder name.
      data_dir: TFDS data folder.
      config: builder config name, or a `BuilderConfig` object.
      **builder_kwargs: passed to the builder (e.g. `workers=2`); a
        `download_config` entry goes to `download_and_prepare`.

    Returns:
      The source.
    """
    return cls(tfds_utils.build_if_needed(make_builder, name, data_dir,
                                          config, **builder_kwargs))

  def __len__(self) -> int:
    return len(self.clips)

  def labels(self) -> np.ndarray:
    """`(N,)` int32 label of every clip (-1: outside the class set)."""
    return np.asarray([c.label for c in self.clips], np.int32)

  def records(self, clip_index: int, frame_numbers) -> list[dict]:
    """Full `frames` records of some frames of one clip (checked).

    Args:
      clip_index: index into `clips`.
      frame_numbers: release frame numbers, in `clip.frame_numbers`.

    Returns:
      The records, in the order asked.

    Raises:
      InputError: a number outside the clip, or a record that does not
        belong where the index says (a corrupted or mismatched dataset).
    """
    c = self.clips[clip_index]
    numbers = np.asarray(frame_numbers, np.int64).reshape(-1)
    bad = numbers[(numbers < c.first_frame) | (numbers > c.last_frame)]
    if bad.size:
      raise errors.InputError(
          f"clip {c.subject}/{c.clip}: frame {int(bad[0])} is out of range; "
          f"expected {c.first_frame}..{c.last_frame}")
    index = c.frame_offset + numbers - c.first_frame
    recs = _getitems(self._frames, [int(i) for i in index])
    for n, rec in zip(numbers, recs):
      if (int(rec["clip_index"]) != clip_index
          or int(rec["frame_number"]) != int(n)):
        raise errors.InputError(
            f"{self.builder.data_dir}: a frames record holds clip "
            f"{int(rec['clip_index'])} frame {int(rec['frame_number'])}, "
            f"expected clip {clip_index} ({c.subject}/{c.clip}) frame "
            f"{int(n)}; the dataset is inconsistent, rebuild it")
    return recs

  def _stack(self, clip_index, frame_numbers, key, shape, dtype):
    recs = self.records(clip_index, frame_numbers)
    if not recs:
      return np.zeros((0,) + shape, dtype)
    return np.stack([np.asarray(r[key]) for r in recs]).astype(dtype)

  def frames(self, clip_index: int, frame_numbers) -> np.ndarray:
    """Aligned crops, `(n, S, S, C)` uint8, of some frames of one clip."""
    return self._stack(clip_index, frame_numbers, "frame",
                       (self.image_size, self.image_size, self.channels),
                       np.uint8)

  def landmarks(self, clip_index: int, frame_numbers) -> np.ndarray:
    """`(n, 68, 2)` float32 landmarks in crop coordinates."""
    return self._stack(clip_index, frame_numbers, "landmarks",
                       (rschema.NUM_LANDMARKS, 2), np.float32)

  def rois(self, clip_index: int, frame_numbers) -> np.ndarray:
    """`(n, 4, 4)` int32 ROI boxes (see `face.align.ROI_NAMES`)."""
    return self._stack(clip_index, frame_numbers, "rois",
                       (rschema.NUM_ROIS, 4), np.int32)

  def face_found(self, clip_index: int, frame_numbers) -> np.ndarray:
    """`(n,)` bool: whether the face was found in each frame."""
    return self._stack(clip_index, frame_numbers, "face_found", (), bool)

  def load_clip(self, clip_index: int) -> np.ndarray:
    """All aligned crops of one clip, `(T, S, S, C)` uint8."""
    return self.frames(clip_index, self.clips[clip_index].frame_numbers)

  def key_frames(self, clip_index: int) -> np.ndarray:
    """The onset, apex and offset crops of one clip, `(3, S, S, C)`."""
    c = self.clips[clip_index]
    return self.frames(clip_index, [c.onset, c.apex, c.offset])


_getitems = tfds_utils.getitems
