"""Shared base of every dataset builder (`synthetic_lv`, `samm_lv`, and
through `recognition_builder` the recognition ones, `casme_ii`, ...).

A subclass only lists its videos (`_list_videos` -> `VideoSpec`s: name,
subject, fps, labelled intervals and a picklable zero-argument callable that
streams the frames; a recognition builder lists each clip as a video with
one interval). The base does the rest, in two stages:

1. Align: every video goes through the same face tracker
   (`face.track.VideoAligner`) in worker processes; the crops are streamed
   to a raw temporary file and packed into `<cache_dir>/<video>.npz`, which
   is renamed into place only when complete. A cache that exists is reused,
   so a build that died restarts where it stopped.
2. Write: the `videos` and `frames` splits (`schema.py`) are yielded from the
   caches in sorted video order, a chunk of frames at a time.

Quirks met on the way are counted in `info.metadata["policies"]`.

An interrupted build leaves nothing behind: align workers die with the
build (even a SIGKILLed one), SIGTERM cleans up like Ctrl-C, and the next
build removes the `incomplete.*` folder of a build that was killed outright.
"""
import collections
import concurrent.futures
import dataclasses
import glob
import json
import multiprocessing
import os
import re
import shutil
import zipfile
from typing import Any, Callable, Iterable, Iterator

from absl import logging
import numpy as np
import tensorflow_datasets as tfds
import tqdm

from mespot_jax import errors
from mespot_jax import io_utils
from mespot_jax.data import schema
from mespot_jax.data import workers as workers_lib
from mespot_jax.face import preprocess
from mespot_jax.data.schema import Interval

_CACHE_FORMAT = 1
# The release note of the version that moved a builder to the one schema.
ONE_SCHEMA_NOTE = (
    "The one schema of every dataset (mespot_jax/data/schema.py): videos "
    "gain `source`, `source_subject`, `first_frame` and per-interval "
    "`apex_annotated`; frames gain the 68 landmarks.")
# TFDS builds into `<config dir>/incomplete.XXXXXX_<version>/` and renames
# it at the end (`tfds.core.utils.file_utils.incomplete_dir`).
_INCOMPLETE_RE = re.compile(r"^incomplete\.[A-Z0-9]+_")


@dataclasses.dataclass(frozen=True)
class VideoSpec:
  """One video to build: labels and how to read its frames.

  Attributes:
    video: unique video id (used as the cache file name).
    subject: subject id.
    fps: frame rate.
    intervals: labelled intervals, 1-based inclusive frames.
    frames_fn: picklable zero-argument callable returning an iterable of
      `uint8` frames (e.g. `functools.partial(video_io.iter_frames, path)`).
    num_frames_hint: expected frame count, checked when given.
    source: source dataset (default: the builder's name).
    source_subject: subject id as released (default: `subject`).
    first_frame: release number of the first frame.
    cache_name: name of its aligned cache file (default: `video`).
  """
  video: str
  subject: str
  fps: float
  intervals: list[Interval]
  frames_fn: Callable[[], Iterable[np.ndarray]]
  num_frames_hint: int | None = None
  source: str = ""
  source_subject: str = ""
  first_frame: int = 1
  cache_name: str = ""

  @property
  def cache_key(self) -> str:
    """The name its aligned cache is kept under."""
    return _safe_name(self.cache_name or self.video)


class SpottingBuilderConfig(tfds.core.BuilderConfig):
  """Config fields shared by spotting builders."""

  def __init__(self, *, image_size: int = 112, grey: bool = True,
               smooth_window: int = 5, mask_face: bool = True, **kwargs):
    """Args: crop side, grey or RGB, the tracker's smoothing window, and
    whether to fade everything outside the face to black
    (`face.preprocess.stored_crop`, as OpenFace's aligned faces, which the
    Yap et al. paper used)."""
    super().__init__(**kwargs)
    self.image_size = image_size
    self.grey = grey
    self.smooth_window = smooth_window
    self.mask_face = mask_face


_ALIGNER_PARTS = {}


def _shared_face_models():
  """Detector and landmark model, loaded once per worker process."""
  if not _ALIGNER_PARTS:
    from mespot_jax.face import detect  # pylint: disable=g-import-not-at-top
    _ALIGNER_PARTS["detector"] = detect.FaceDetector()
    _ALIGNER_PARTS["predictor"] = detect.LandmarkPredictor()
  return _ALIGNER_PARTS["detector"], _ALIGNER_PARTS["predictor"]


def align_to_cache(frames_fn, cache_path: str, video: str, image_size: int,
                   grey: bool, smooth_window: int) -> dict:
  """Aligns one video's frames into a cache `.npz` (bounded memory).

  Args:
    frames_fn: zero-argument callable streaming the frames.
    cache_path: destination `.npz`; written atomically.
    video: video id (for error messages).
    image_size: crop side.
    grey: grey crops.
    smooth_window: the tracker's transform smoothing window.

  Returns:
    `dict(num_frames, stats)` with the tracker's counters.
  """
  from mespot_jax.face import track  # pylint: disable=g-import-not-at-top
  detector, predictor = _shared_face_models()
  aligner = track.VideoAligner(size=image_size, grey=grey,
                               smooth_window=smooth_window,
                               detector=detector, predictor=predictor)
  channels = 1 if grey else 3
  face_found, rois, landmarks, transforms = [], [], [], []
  with io_utils.atomic_path(cache_path + ".raw", suffix=".raw") as raw_path:
    with open(raw_path, "wb") as raw:
      # Crops go straight to disk: a long video never sits in memory.
      for out in aligner.align_stream(frames_fn()):
        crop = np.ascontiguousarray(out.crop, np.uint8)
        if crop.shape != (image_size, image_size, channels):
          raise errors.InputError(
              f"video {video}: aligned crop {len(face_found) + 1} has shape "
              f"{crop.shape}, expected {(image_size, image_size, channels)}")
        raw.write(crop.tobytes())
        face_found.append(bool(out.face_found))
        rois.append(np.asarray(out.rois, np.int32))
        landmarks.append(np.asarray(out.landmarks, np.float32))
        transforms.append(np.asarray(out.transform, np.float32))
    t = len(face_found)
    if t == 0:
      raise errors.InputError(f"video {video}: no frame could be read")
    crops = np.memmap(raw_path, np.uint8, "r",
                      shape=(t, image_size, image_size, channels))
    stats = {k: int(v) for k, v in dict(aligner.stats).items()}
    with io_utils.atomic_path(cache_path, suffix=".npz") as tmp:
      np.savez(tmp, crops=crops, face_found=np.asarray(face_found),
               rois=np.stack(rois), landmarks=np.stack(landmarks),
               transforms=np.stack(transforms),
               info=np.asarray(json.dumps(dict(
                   format=_CACHE_FORMAT, image_size=image_size,
                   channels=channels, num_frames=t, stats=stats))))
    del crops
  os.remove(cache_path + ".raw")
  return dict(num_frames=t, stats=stats)


def _align_in_worker(*args) -> dict:
  """`align_to_cache` in a worker; on SIGTERM it cleans up and exits."""
  try:
    return align_to_cache(*args)
  except workers_lib.Terminated as e:
    # The pool would wait for more work that no parent may ever send.
    os._exit(e.code)


def _remove_abandoned_builds(folder: str) -> None:
  """Removes what killed builds left in a config folder.

  Only called while no other build of the config runs (`shared_lock`).

  Args:
    folder: `<data_dir>/<name>/<config>`.
  """
  for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    if (_INCOMPLETE_RE.match(name) and os.path.isdir(path)
        and not os.path.islink(path)):
      logging.warning("removing %s, left by a build that was killed (no "
                      "other build of this dataset is running)", path)
      shutil.rmtree(path, ignore_errors=True)
  # Half-written caches of a killed in-process align (`io_utils.atomic_path`
  # temporaries, and raw crops not yet packed).
  cache = os.path.join(folder, "cache", "*")
  for path in sorted(glob.glob(os.path.join(cache, ".*.tmp*"))
                     + glob.glob(os.path.join(cache, "*.npz.raw"))):
    logging.warning("removing %s, left by a build that was killed", path)
    try:
      os.remove(path)
    except OSError as e:  # junk that stays is no reason to stop a build
      logging.warning("cannot remove %s: %s", path, e)


def read_cache_info(cache_path: str) -> dict:
  """The small `info` entry of a cache file."""
  with np.load(cache_path) as z:
    return json.loads(str(z["info"]))


def iter_cache_crops(cache_path: str, chunk: int = 256
                     ) -> Iterator[np.ndarray]:
  """Streams the crops of a cache file, `chunk` frames per read.

  Args:
    cache_path: a cache `.npz` (uncompressed).
    chunk: frames per read.

  Yields:
    `(S, S, C)` uint8 crops in frame order.
  """
  with zipfile.ZipFile(cache_path) as zf, zf.open("crops.npy") as f:
    version = np.lib.format.read_magic(f)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    shape, _, _ = read_header(f)
    per = int(np.prod(shape[1:]))
    for start in range(0, shape[0], chunk):
      n = min(chunk, shape[0] - start)
      buf = np.frombuffer(f.read(n * per), np.uint8).reshape((n,) + shape[1:])
      yield from buf


def _safe_name(video: str) -> str:
  return re.sub(r"[^A-Za-z0-9._-]", "_", video)


def stored_frames(cache_path: str, mask_face: bool
                  ) -> Iterator[tuple[np.ndarray, bool, np.ndarray,
                                      np.ndarray]]:
  """The frames of an aligned cache as a build writes them to `frames`.

  Args:
    cache_path: a cache `.npz` of `align_to_cache`.
    mask_face: fade everything outside the face
      (`face.preprocess.stored_crop`).

  Yields:
    (crop (S, S, C) uint8, face_found, rois (4, 4), landmarks (68, 2)) per
    frame, in frame order.
  """
  with np.load(cache_path) as z:
    face_found, rois, landmarks = z["face_found"], z["rois"], z["landmarks"]
  for n, crop in enumerate(iter_cache_crops(cache_path)):
    crop = preprocess.stored_crop(crop, landmarks[n], mask_face)
    yield crop, bool(face_found[n]), rois[n], landmarks[n]


class SpottingBuilder(tfds.core.GeneratorBasedBuilder):
  """Base of the spotting builders; subclasses implement `_list_videos`."""

  IMAGE_SIZE = 112
  GREY = True
  SMOOTH_WINDOW = 5

  def __init__(self, *, workers: int | None = None, **kwargs):
    """Makes the builder.

    Args:
      workers: processes aligning videos in parallel (default
        min(4, cpu_count)); 1 aligns in this process.
      **kwargs: passed to `tfds.core.GeneratorBasedBuilder`; the file format
        is always array_record.
    """
    kwargs.setdefault("file_format", "array_record")
    super().__init__(**kwargs)
    self._workers = workers or min(4, os.cpu_count() or 1)
    self._policies = collections.Counter()

  # -- settings ---------------------------------------------------------------
  def _setting(self, name: str, default):
    return getattr(self.builder_config, name, default)

  @property
  def image_size(self) -> int:
    return int(self._setting("image_size", self.IMAGE_SIZE))

  @property
  def grey(self) -> bool:
    return bool(self._setting("grey", self.GREY))

  @property
  def channels(self) -> int:
    return 1 if self.grey else 3

  @property
  def cache_dir(self) -> str:
    """Where stage 1 keeps per-video aligned crops (outside the dataset)."""
    config = self.builder_config.name if self.builder_config else "default"
    return os.path.join(self._data_dir_root, self.name, config, "cache",
                        str(self.version))

  # -- hooks for subclasses ---------------------------------------------------
  def _list_videos(self, dl_manager) -> list[VideoSpec]:
    raise NotImplementedError

  def count_policy(self, name: str, n: int = 1) -> None:
    """Records that quirk policy `name` was applied `n` times."""
    self._policies[name] += n

  def _check_intervals(self, spec: VideoSpec,
                       num_frames: int) -> list[Interval]:
    """Checks labels against the decoded frame count; override to repair.

    Real releases have labels past the last frame and the like: a subclass
    overrides this to clip them and `count_policy` what it did.

    Args:
      spec: the video.
      num_frames: frames actually decoded.

    Returns:
      The intervals to store.

    Raises:
      InputError: an interval outside 1..num_frames or reversed.
    """
    for iv in spec.intervals:
      if not 1 <= iv.onset <= iv.offset <= num_frames:
        raise errors.InputError(
            f"video {spec.video}: {iv.type} interval {iv.onset}-{iv.offset} "
            f"is outside frames 1..{num_frames} or reversed")
      if iv.apex != -1 and not iv.onset <= iv.apex <= iv.offset:
        raise errors.InputError(
            f"video {spec.video}: apex {iv.apex} is outside its interval "
            f"{iv.onset}-{iv.offset}")
    return list(spec.intervals)

  # -- TFDS -------------------------------------------------------------------
  def _info(self) -> tfds.core.DatasetInfo:
    # README.md and CITATIONS.bib beside the subclass give the description
    # and citation (the `tfds new` layout).
    return self.dataset_info_from_configs(
        description=(self.__doc__ or "").strip(),
        features=schema.features(self.image_size, self.channels),
        disable_shuffling=True,
        metadata=tfds.core.MetadataDict(),
        homepage=getattr(self, "HOMEPAGE", None),
    )

  def _align_all(self, specs: list[VideoSpec]) -> dict[str, dict]:
    os.makedirs(self.cache_dir, exist_ok=True)
    results, todo = {}, []
    for spec in specs:
      path = os.path.join(self.cache_dir, spec.cache_key + ".npz")
      if os.path.exists(path):
        try:
          info = read_cache_info(path)
        except Exception:  # pylint: disable=broad-except
          info = {}  # unreadable: redo it
        if (info.get("format") == _CACHE_FORMAT
            and info.get("image_size") == self.image_size
            and info.get("channels") == self.channels):
          results[spec.cache_key] = dict(path=path, **info)
          continue
      todo.append((spec, path))
    args = lambda s, p: (s.frames_fn, p, s.video, self.image_size, self.grey,
                         int(self._setting("smooth_window",
                                           self.SMOOTH_WINDOW)))
    bar = tqdm.tqdm(total=len(todo), desc=f"{self.name}: aligning videos",
                    unit="video", disable=not todo)
    workers = min(self._workers, len(todo))
    if workers <= 1:
      for spec, path in todo:
        results[spec.cache_key] = dict(path=path,
                                       **align_to_cache(*args(spec, path)))
        bar.update()
    else:
      # spawn: the parent may hold JAX threads, which fork would break.
      ctx = multiprocessing.get_context("spawn")
      pool = concurrent.futures.ProcessPoolExecutor(
          workers, ctx, initializer=workers_lib.init_worker,
          initargs=(os.getpid(),))
      try:
        futures = {pool.submit(_align_in_worker, *args(s, p)): (s, p)
                   for s, p in todo}
        for fut in concurrent.futures.as_completed(futures):
          spec, path = futures[fut]
          results[spec.cache_key] = dict(path=path, **fut.result())
          bar.update()
      except BaseException:
        workers_lib.stop_workers(pool)  # a failed video, Ctrl-C, SIGTERM
        raise
      pool.shutdown()
    bar.close()
    return results

  def download_and_prepare(self, *args, **kwargs):
    """As TFDS's, and an interrupted build leaves nothing behind.

    SIGTERM and SIGHUP end the build as Ctrl-C does: align workers stop and
    TFDS removes its `incomplete.*` folder. Such folders of builds killed
    outright (SIGKILL, power loss) are removed when a build starts while no
    other build of this config runs.

    Args:
      *args: passed to `tfds.core.DatasetBuilder.download_and_prepare`.
      **kwargs: passed too.

    Returns:
      What TFDS returns.
    """
    folder = os.path.dirname(os.fspath(self.data_dir))
    with io_utils.shared_lock(folder,
                              lambda: _remove_abandoned_builds(folder)):
      with io_utils.exit_on_signals():
        return super().download_and_prepare(*args, **kwargs)

  def _split_generators(self, dl_manager):
    self._policies = collections.Counter()
    specs = sorted(self._list_videos(dl_manager), key=lambda s: s.video)
    names = [s.video for s in specs]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
      raise errors.InputError(f"{self.name}: video ids listed twice: "
                              f"{sorted(dupes)}")
    return self._write_splits(specs)

  def _write_splits(self, specs: list[VideoSpec]) -> dict:
    """Aligns the videos (stage 1), stores the metadata and returns the
    generators of the `videos` and `frames` splits (stage 2), in `specs`'
    order."""
    cached = self._align_all(specs)
    entries, offset = [], 0
    aligner = collections.Counter()
    for spec in specs:
      c = cached[spec.cache_key]
      t = int(c["num_frames"])
      intervals = self._check_intervals(spec, t)
      if spec.num_frames_hint is not None and spec.num_frames_hint != t:
        self.count_policy("frame_count_differs_from_hint")
      aligner.update(c["stats"])
      entries.append((spec, c["path"], t, offset, intervals))
      offset += t
    self.count_policy("no_face_frames", aligner["no_face"])
    meta = self.info.metadata
    meta["policies"] = dict(sorted(self._policies.items()))
    meta["image_size"] = self.image_size
    meta["mask_face"] = bool(getattr(self.builder_config, "mask_face", False))
    meta["channels"] = self.channels
    meta["aligner"] = dict(sorted(aligner.items()))
    self._more_metadata(entries)
    applied = {k: v for k, v in sorted(self._policies.items()) if v}
    logging.info("%s: %d videos, %d frames; quirk policies applied: %s",
                 self.name, len(specs), offset, applied or "none")
    return {schema.VIDEOS: self._generate_examples(schema.VIDEOS, entries),
            schema.FRAMES: self._generate_examples(schema.FRAMES, entries)}

  def _more_metadata(self, entries: list) -> None:
    """Adds a subclass's `info.metadata` once the videos are aligned
    (`entries`: (spec, cache path, frames, frame offset, intervals))."""

  def _generate_examples(self, split: str,
                         entries: list) -> Iterator[tuple[int, dict[str, Any]]]:
    if split == schema.VIDEOS:
      for i, (spec, _, t, offset, intervals) in enumerate(entries):
        yield i, schema.video_record(
            spec.video, spec.subject, spec.fps, t, offset, intervals,
            self.image_size, self.channels, source=spec.source or self.name,
            source_subject=spec.source_subject, first_frame=spec.first_frame)
      return
    mask = bool(getattr(self.builder_config, "mask_face", False))
    for i, (spec, path, t, offset, _) in enumerate(entries):
      n = 0
      for n, (crop, face, rois, landmarks) in enumerate(
          stored_frames(path, mask), start=1):
        yield offset + n - 1, schema.frame_record(crop, i, n, face, rois,
                                                  landmarks)
      if n != t:
        raise errors.InputError(f"{path}: holds {n} crops, expected {t}; "
                                "delete it and build again")
