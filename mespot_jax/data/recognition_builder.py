"""Shared base of the recognition dataset builders (`casme_ii`, `samm_me`, ...).

A subclass lists its clips (`_list_clips` -> `ClipAnnotation`s, from a
parser in `mespot_jax.data.annotations`); the base maps each emotion to the
config's label set (to drop clips outside it, `keep_unmapped=False`, and to
count the classes: the class is not stored, readers map the emotion), and
hands each clip to the spotting builders' base as a video with one
interval: the same face tracker (`SpottingBuilder._align_all`: worker
processes, cached, interrupt-safe), the same writing loop and the same
`videos` and `frames` splits (`schema`). Quirks met on the way are counted
in `info.metadata["policies"]`.

Aligned crops are cached per clip under `<data_dir>/_aligned_clips/cache/
<size>_<grey|rgb>_w<smooth>/`, keyed by source, subject, clip and the frame
folder's path, so every builder and config that reads the same release
folder at the same crop size (e.g. `casme_ii` and `megc2019_composite`, or
`samm_me/3class` and `samm_me/5class`) aligns each clip once.

A config with `task="spotting"` lists long videos instead, from
`_list_videos` (SMIC-E's long clips).

`align_clip` runs a new clip through the same two steps as a build
(`spotting_builder.align_to_cache`, then `spotting_builder.stored_frames`:
the crops as the `frames` split holds them), so offline scoring prepares it
as training did.
"""
import collections
import functools
import hashlib
import os
import tempfile

from absl import logging
import numpy as np
import tensorflow_datasets as tfds

from mespot_jax import errors
from mespot_jax import io_utils
from mespot_jax.data import labels as labels_lib
from mespot_jax.data import spotting_builder
from mespot_jax.data import video_io
from mespot_jax.data.annotations.clip_common import ClipAnnotation
from mespot_jax.data.annotations.common import natural_key
from mespot_jax.data.schema import Interval

CACHE_ROOT = "_aligned_clips"
# The release note of the version that moved a builder to the one schema.
ONE_SCHEMA_NOTE = (
    "Stored in the one schema of every dataset (mespot_jax/data/schema.py): "
    "a `videos` split with one video per clip and its one interval (1-based "
    "positions; `first_frame` is the release number of frame 1), frames with "
    "`video_index`, 1-based `frame_number` and landmarks; the class is "
    "mapped from the emotion when read, not stored.")
BUILDER_POLICIES = ("emotion_unmapped_kept", "emotion_unmapped_dropped",
                    "no_face_frames")


def align_clip(frames_fn, image_size: int, grey: bool, smooth_window: int,
               mask_face: bool, keep, name: str = "clip"
               ) -> tuple[np.ndarray, np.ndarray]:
  """Aligns a clip's frames exactly as a recognition build does.

  The frames go through `spotting_builder.align_to_cache` (the builders'
  face tracker and models) into a temporary cache, and come out as
  `spotting_builder.stored_frames` (masked when the build was).

  Args:
    frames_fn: zero-argument callable streaming the frames, read as the
      build reads them (`video_io.FrameReader(path, grey=grey)`).
    image_size: side of the aligned crops (the build's).
    grey: grey crops.
    smooth_window: the tracker's smoothing window (the build's).
    mask_face: whether the build masked its crops.
    keep: 0-based positions of the frames to return (others are aligned,
      as the build aligns every frame of a clip, and dropped).
    name: the clip's name in error messages.

  Returns:
    (crops (len(keep), S, S, C) uint8 in `keep`'s order, face_found (T,)
    bool of every frame).

  Raises:
    InputError: no frame could be read, or a position in `keep` is past
      the last frame.
  """
  keep = [int(k) for k in keep]
  with tempfile.TemporaryDirectory(prefix="mespot_clip_") as tmp:
    path = os.path.join(tmp, "clip.npz")
    spotting_builder.align_to_cache(frames_fn, path, name, image_size, grey,
                                    smooth_window)
    wanted = set(keep)
    crops, found = {}, []
    for n, (crop, face, _, _) in enumerate(
        spotting_builder.stored_frames(path, mask_face)):
      found.append(face)
      if n in wanted:
        crops[n] = crop
  past = [k for k in keep if k not in crops]
  if past:
    raise errors.InputError(
        f"{name}: frame {past[0] + 1} is past the clip's last frame "
        f"{len(found)}")
  return (np.stack([crops[k] for k in keep]) if keep else
          np.zeros((0, image_size, image_size, 1 if grey else 3), np.uint8),
          np.asarray(found, bool))


class RecognitionBuilderConfig(tfds.core.BuilderConfig):
  """Config fields shared by recognition builders."""

  def __init__(self, *, image_size: int = 112, grey: bool = True,
               smooth_window: int = 5, mask_face: bool = False,
               label_set: str = "3class", keep_unmapped: bool = True,
               task: str = "recognition", **kwargs):
    """Args: crop side; grey or RGB; the tracker's smoothing window; whether
    to fade everything outside the face (off by default: the recognisers
    take the whole aligned crop, and the landmarks are stored to mask at
    read time); the label set (`labels.LABEL_SETS`: the default readers map
    the emotions with, and the one `keep_unmapped` filters by); whether
    clips whose emotion is outside it are kept with label -1 (else
    dropped); `recognition` or `spotting`."""
    super().__init__(**kwargs)
    if label_set not in labels_lib.LABEL_SETS:
      raise ValueError(f"label_set {label_set!r}; expected one of "
                       f"{sorted(labels_lib.LABEL_SETS)}")
    if task not in ("recognition", "spotting"):
      raise ValueError(f"task {task!r}; expected recognition or spotting")
    self.image_size = image_size
    self.grey = grey
    self.smooth_window = smooth_window
    self.mask_face = mask_face
    self.label_set = label_set
    self.keep_unmapped = keep_unmapped
    self.task = task


def sized_configs(sizes=((112, True), (224, True), (112, False)),
                  prefix: str = "", **fields) -> list[RecognitionBuilderConfig]:
  """Configs `<prefix>112_grey`, `<prefix>224_grey`, `<prefix>112_rgb`."""
  out = []
  for size, grey in sizes:
    kind = "grey" if grey else "colour"
    out.append(RecognitionBuilderConfig(
        name=f"{prefix}{size}_{'grey' if grey else 'rgb'}",
        description=f"{size}x{size} {kind} aligned crops.", image_size=size,
        grey=grey, **fields))
  return out


def _clip_key(c: ClipAnnotation) -> str:
  digest = hashlib.sha1(os.path.realpath(c.frames_dir).encode()).hexdigest()
  return f"{c.source}_{c.subject}_{c.clip}_{digest[:8]}"


class RecognitionBuilder(spotting_builder.SpottingBuilder):
  """Base of the recognition builders; subclasses implement `_list_clips`."""

  # The composite prefixes subjects with their source (`casme_ii/sub01`).
  PREFIX_SUBJECTS = False
  # The type of every clip's interval (CK+'s posed expressions: macro).
  EXPRESSION_TYPE = "micro"

  @property
  def task(self) -> str:
    return getattr(self.builder_config, "task", "recognition")

  @property
  def label_set(self) -> str:
    return getattr(self.builder_config, "label_set", "3class")

  @property
  def classes(self) -> tuple[str, ...]:
    return labels_lib.classes(self.label_set)

  @property
  def cache_dir(self) -> str:
    if self.task == "spotting":
      return super().cache_dir
    smooth = int(self._setting("smooth_window", self.SMOOTH_WINDOW))
    return os.path.join(self._data_dir_root, CACHE_ROOT, "cache",
                        f"{self.image_size}_{'grey' if self.grey else 'rgb'}"
                        f"_w{smooth}")

  # -- hooks for subclasses ---------------------------------------------------
  def _list_clips(self, dl_manager) -> list[ClipAnnotation]:
    raise NotImplementedError

  def label_of(self, clip: ClipAnnotation) -> int:
    """The clip's label in the config's label set (-1: outside it)."""
    return labels_lib.map_emotion(self.label_set, clip.source, clip.emotion)

  def subject_of(self, clip: ClipAnnotation) -> str:
    return (f"{clip.source}/{clip.subject}" if self.PREFIX_SUBJECTS
            else clip.subject)

  def _check_counts(self, kept: list[tuple[ClipAnnotation, int]]) -> None:
    """Called once the clips and labels are known; the composite checks
    the published counts here."""

  # -- TFDS -------------------------------------------------------------------
  def download_and_prepare(self, *args, **kwargs):
    """As `SpottingBuilder.download_and_prepare`; also removes what killed
    builds left in the shared clip cache (when no other build uses it)."""
    if self.task == "spotting":
      return super().download_and_prepare(*args, **kwargs)
    root = os.path.join(self._data_dir_root, CACHE_ROOT)
    # pylint: disable-next=protected-access
    clean = functools.partial(spotting_builder._remove_abandoned_builds, root)
    with io_utils.shared_lock(root, clean):
      return super().download_and_prepare(*args, **kwargs)

  def _split_generators(self, dl_manager):
    if self.task == "spotting":
      return super()._split_generators(dl_manager)
    self._policies = collections.Counter({n: 0 for n in BUILDER_POLICIES})
    keep = bool(getattr(self.builder_config, "keep_unmapped", True))
    kept = []
    for clip in self._list_clips(dl_manager):
      label = self.label_of(clip)
      if label < 0:
        self.count_policy("emotion_unmapped_kept" if keep
                          else "emotion_unmapped_dropped")
        if not keep:
          continue
      kept.append((clip, label))
    if not kept:
      raise errors.InputError(f"{self.name}: no clip with a label in "
                              f"{self.classes} was found")
    kept.sort(key=lambda cl: (natural_key(self.subject_of(cl[0])),
                              natural_key(cl[0].clip)))
    keys = [(self.subject_of(c), c.clip) for c, _ in kept]
    dupes = {k for k, n in collections.Counter(keys).items() if n > 1}
    if dupes:
      raise errors.InputError(f"{self.name}: clips listed twice: "
                              f"{sorted(dupes)}")
    self._check_counts(kept)
    self._kept = kept
    return self._write_splits([self._clip_spec(c) for c, _ in kept])

  def _clip_spec(self, c: ClipAnnotation) -> spotting_builder.VideoSpec:
    """A clip as a video with one interval (positions 1-based in it)."""
    first = c.first_frame
    return spotting_builder.VideoSpec(
        video=c.clip, subject=self.subject_of(c), fps=c.fps,
        intervals=[Interval(
            self.EXPRESSION_TYPE, c.onset - first + 1, c.offset - first + 1,
            c.apex - first + 1, emotion=c.emotion, au=c.au,
            apex_annotated=c.apex_annotated)],
        frames_fn=functools.partial(video_io.iter_frames, c.frames_dir,
                                    grey=self.grey),
        num_frames_hint=c.num_frames, source=c.source,
        source_subject=c.subject, first_frame=first,
        cache_name=_clip_key(c))

  def _check_intervals(self, spec, num_frames):
    if self.task == "spotting":
      return super()._check_intervals(spec, num_frames)
    if num_frames != spec.num_frames_hint:
      raise errors.InputError(
          f"{spec.subject}/{spec.video}: {num_frames} frames were decoded, "
          f"{spec.num_frames_hint} were listed; expected readable images")
    return list(spec.intervals)

  def _more_metadata(self, entries) -> None:
    if self.task == "spotting":
      return
    counts = collections.defaultdict(collections.Counter)
    subjects = collections.defaultdict(set)
    for clip, label in self._kept:
      counts[clip.source][self.classes[label] if label >= 0
                          else "unmapped"] += 1
      subjects[clip.source].add(clip.subject)
    meta = self.info.metadata
    meta["label_set"] = self.label_set
    meta["classes"] = list(self.classes)
    meta["class_counts"] = {s: dict(sorted(c.items()))
                            for s, c in sorted(counts.items())}
    meta["subject_counts"] = {s: len(v) for s, v in sorted(subjects.items())}
    labels = {f"{self.subject_of(c)}/{c.clip}": self.classes[label]
              for c, label in self._kept if label >= 0
              and label != self._emotion_label(c)}
    if labels:  # classes the emotion does not give (a label file's)
      meta["labels"] = labels
    logging.info("%s: %d clips, classes %s", self.name, len(self._kept),
                 meta["class_counts"])

  def _emotion_label(self, clip: ClipAnnotation) -> int:
    """The label readers map from the clip's emotion (`label_of` unless a
    subclass labels otherwise)."""
    return labels_lib.map_emotion(self.label_set, clip.source, clip.emotion)
