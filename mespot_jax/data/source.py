"""Typed random-access view of a built dataset (`schema`: spotting and
recognition datasets alike; `clips.ClipSource` adds the clip view).

`SpottingSource.open("synthetic_lv", data_dir)` reads the `videos` split
into `VideoMeta` records and keeps the `frames` split as an array_record
data source, so `frames(video_index, [n, ...])` costs one batched read of
the requested frames only. Nothing is built by `open`; `prepare` builds
when needed.
"""
import dataclasses

import numpy as np

from mespot_jax import errors
from mespot_jax.data import schema
from mespot_jax.data import tfds_utils
from mespot_jax.data.schema import Interval  # re-exported for readers


@dataclasses.dataclass(frozen=True)
class VideoMeta:
  """One video of a dataset (fields as in `schema`; frame n of the video,
  1-based, is the release's frame `first_frame + n - 1`)."""
  index: int
  video: str
  subject: str
  fps: float
  num_frames: int
  frame_offset: int
  intervals: tuple[Interval, ...]
  source: str = ""
  source_subject: str = ""
  first_frame: int = 1


_text = tfds_utils.text


def _split_join(s: str, n: int) -> list[str]:
  parts = s.split(schema.JOIN) if n else []
  return parts if len(parts) == n else [""] * n


def video_meta_from_record(index: int, rec: dict) -> VideoMeta:
  """Turns a `videos` record into a `VideoMeta`."""
  onset, apex, offset, types, annotated = (
      np.asarray(rec[k]).reshape(-1) for k in
      ("onset", "apex", "offset", "type", "apex_annotated"))
  n = len(onset)
  emotions = _split_join(_text(rec["emotion"]), n)
  aus = _split_join(_text(rec["au"]), n)
  intervals = tuple(
      Interval(type=schema.TYPE_NAMES[int(types[i])], onset=int(onset[i]),
               offset=int(offset[i]), apex=int(apex[i]), emotion=emotions[i],
               au=aus[i], apex_annotated=bool(annotated[i]))
      for i in range(n))
  return VideoMeta(index=index, video=_text(rec["video"]),
                   subject=_text(rec["subject"]), fps=float(rec["fps"]),
                   num_frames=int(rec["num_frames"]),
                   frame_offset=int(rec["frame_offset"]), intervals=intervals,
                   source=_text(rec["source"]),
                   source_subject=_text(rec["source_subject"]),
                   first_frame=int(rec["first_frame"]))


def _builder(name: str, data_dir: str, config, **kwargs):
  return tfds_utils.make_builder(name, data_dir, config,
                                 "synthetic_lv, samm_lv, cas_me2, cas_me3",
                                 **kwargs)


class SpottingSource:
  """Videos, labels and aligned frames of one built spotting dataset.

  Attributes:
    videos: `VideoMeta` per video, in dataset order (index = position).
    subjects: sorted subject ids.
    image_size: side S of the aligned crops.
    channels: 1 or 3.
    mask_face: whether crops were face-masked when built.
    smooth_window: the face tracker's smoothing window when built.
    policies: quirk name -> how often it was applied while building.
    aligner: face tracker counters summed over the build.
  """

  def __init__(self, builder):
    self.builder = builder
    meta = builder.info.metadata or {}
    self.image_size = int(meta.get("image_size", 0))
    self.mask_face = bool(meta.get("mask_face", False))
    self.channels = int(meta.get("channels", 0))
    self.smooth_window = int(getattr(builder.builder_config, "smooth_window",
                                     getattr(builder, "SMOOTH_WINDOW", 5)))
    self.policies = dict(meta.get("policies", {}))
    self.aligner = dict(meta.get("aligner", {}))
    sources = builder.as_data_source()
    if schema.VIDEOS not in sources:
      raise errors.InputError(
          f"{builder.name}/{builder.builder_config.name if builder.builder_config else ''}"
          f" has no {schema.VIDEOS!r} split (splits {sorted(sources)}): "
          "it was built in another format; build it again")
    self._frames = sources[schema.FRAMES]
    video_src = sources[schema.VIDEOS]
    records = _getitems(video_src, list(range(len(video_src))))
    self.videos = [video_meta_from_record(i, r) for i, r in enumerate(records)]
    self.subjects = sorted({v.subject for v in self.videos})
    if not self.image_size and len(self._frames):
      first = self._frames[0]["frame"]
      self.image_size, self.channels = int(first.shape[0]), int(first.shape[2])

  @classmethod
  def open(cls, name: str, data_dir: str,
           config: str | None = None) -> "SpottingSource":
    """Opens a built dataset; builds nothing.

    Args:
      name: builder name (`synthetic_lv`, `samm_lv`, `cas_me2`).
      data_dir: TFDS data folder.
      config: builder config name; default: the builder's default.

    Returns:
      The source.

    Raises:
      InputError: the dataset is not built there (says how to build it).
    """
    builder = _builder(name, data_dir, config)
    if not builder.is_prepared():
      cfg = builder.builder_config.name if builder.builder_config else None
      cmd = (f"python -c \"import mespot_jax.builders, tensorflow_datasets as tfds; "
             f"tfds.builder('{name}{'/' + cfg if cfg else ''}', "
             f"data_dir='{data_dir}').download_and_prepare()\"")
      raise errors.InputError(
          f"{data_dir}: dataset {name}{'/' + cfg if cfg else ''} is not "
          f"built there; build it first with: {cmd} (or `tfds build "
          f"data_builders/{name} --data_dir={data_dir}"
          f"{' --config=' + cfg if cfg else ''}`, adding --manual_dir for "
          "licensed data)")
    return cls(builder)

  @classmethod
  def prepare(cls, name: str, data_dir: str, config: str | None = None,
              **builder_kwargs) -> "SpottingSource":
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
    return cls(tfds_utils.build_if_needed(_builder, name, data_dir, config,
                                          **builder_kwargs))

  def __len__(self) -> int:
    return len(self._frames)

  def _global_indices(self, video_index: int, frame_numbers) -> np.ndarray:
    v = self.videos[video_index]
    numbers = np.asarray(frame_numbers, np.int64).reshape(-1)
    bad = numbers[(numbers < 1) | (numbers > v.num_frames)]
    if bad.size:
      raise errors.InputError(
          f"video {v.video}: frame {int(bad[0])} is out of range; expected "
          f"1..{v.num_frames}")
    return v.frame_offset + numbers - 1

  def records(self, video_index: int, frame_numbers) -> list[dict]:
    """Full `frames` records of some frames of one video (checked).

    Args:
      video_index: index into `videos`.
      frame_numbers: 1-based frame numbers.

    Returns:
      The records, in the order asked.

    Raises:
      InputError: a record does not belong where the index says (a
        corrupted or mismatched dataset).
    """
    index = self._global_indices(video_index, frame_numbers)
    recs = _getitems(self._frames, [int(i) for i in index])
    v = self.videos[video_index]
    for i, rec in zip(index, recs):
      want = int(i - v.frame_offset + 1)
      if (int(rec["video_index"]) != video_index
          or int(rec["frame_number"]) != want):
        raise errors.InputError(
            f"{self.builder.data_dir}: frames record {int(i)} holds video "
            f"{int(rec['video_index'])} frame {int(rec['frame_number'])}, "
            f"expected video {video_index} ({v.video}) frame {want}; the "
            "dataset is inconsistent, rebuild it")
    return recs

  def frames(self, video_index: int, frame_numbers) -> np.ndarray:
    """Aligned crops of some frames of one video.

    Args:
      video_index: index into `videos`.
      frame_numbers: 1-based frame numbers.

    Returns:
      `(n, S, S, C)` uint8.
    """
    recs = self.records(video_index, frame_numbers)
    if not recs:
      return np.zeros((0, self.image_size, self.image_size, self.channels),
                      np.uint8)
    return np.stack([np.asarray(r["frame"]) for r in recs])

  def _all(self, video_index: int, key: str) -> list:
    n = self.videos[video_index].num_frames
    return [r[key] for r in self.records(video_index, range(1, n + 1))]

  def face_found(self, video_index: int) -> np.ndarray:
    """`(T,)` bool: whether the face was found in each frame."""
    return np.asarray(self._all(video_index, "face_found"), bool)

  def rois(self, video_index: int) -> np.ndarray:
    """`(T, 4, 4)` int32 ROI boxes (see `face.align.ROI_NAMES`)."""
    return np.stack(self._all(video_index, "rois")).astype(np.int32)

  def landmarks(self, video_index: int, frame_numbers) -> np.ndarray:
    """`(n, 68, 2)` float32 landmarks in crop coordinates of some frames
    (1-based numbers)."""
    recs = self.records(video_index, frame_numbers)
    return np.asarray([np.asarray(r["landmarks"]) for r in recs],
                      np.float32).reshape(-1, schema.NUM_LANDMARKS, 2)

  def load_video(self, video_index: int) -> np.ndarray:
    """All aligned crops of one video, `(T, S, S, C)` uint8."""
    return self.frames(video_index,
                       range(1, self.videos[video_index].num_frames + 1))


_getitems = tfds_utils.getitems
