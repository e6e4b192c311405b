"""What the training-free optical-flow spotters (`mdmd`, `flow_roi`) share.

* `video_flows`: the flow of frame pairs (j -> i) of one video, in batches
  (`farneback_batch` on a CPU, or the JAX `tvl1_batch` on any device),
  handed batch by batch to a reducer so a whole video's flows never sit in
  memory at once.
* `FlowFeatureCache`: the reduced per-frame features of a video on disk,
  keyed like the LSTM spotter's feature cache (`features.video.
  FeatureCache`): `root/<dataset tag>/<kind>_<parameter hash>/<video>_<pixel
  hash>.npy`, with `params.json` beside them.
* `TrainingFreeSpotter`: a `SpottingMethod` with nothing to train
  (`trains = False`); its decoder (the paper's: `peaks`,
  `mespot_jax.decoders.peaks`) fits on the fold's training and validation
  subjects (never the test subject).
"""
import os

import cv2
import numpy as np

from mespot_jax import flow as flow_lib
from mespot_jax.config import vocab
from mespot_jax.data import datasets
from mespot_jax.data import timing
from mespot_jax.face import align
from mespot_jax.features import video as features_lib
from mespot_jax.methods import spotting

TYPES = spotting.TYPES
FLOW_BACKENDS = vocab.FLOW_BACKENDS
# 2: RGB crops are made grey with OpenCV's weights (1: the channel mean).
FEATURE_VERSION = 2


frames_of = timing.seconds_to_frames  # the one rounding (half up)


def grey_frames(frames, size: int = 0) -> np.ndarray:
  """(T, S, S[, C]) uint8 crops -> (T, H, W) float32 grey in [0, 1],
  resized to `size` x `size` (area interpolation) when `size` > 0."""
  f = align.to_grey_frames(frames).astype(np.float32) / 255.0
  if size and size != f.shape[1]:
    f = np.stack([cv2.resize(x, (size, size), interpolation=cv2.INTER_AREA)
                  for x in f])
  return f


def video_flows(grey_THW, src, dst, backend: str = "farneback",
                batch: int = 64, params=None):
  """Yields (start, flows_NHW2): the flows `grey[src[n]] -> grey[dst[n]]`
  for n in [start, start + N), in batches of `batch` pairs.

  Args:
    grey_THW: (T, H, W) float frames.
    src, dst: (P,) frame indices of each pair (reference, moving).
    backend: "farneback" (OpenCV, CPU) or "tvl1" (JAX, any device).
    batch: pairs per call.
    params: keyword arguments of the flow function.
  """
  if backend not in FLOW_BACKENDS:
    raise InputError(f"flow={backend!r}; expected one of {FLOW_BACKENDS}")
  params = dict(params or {})
  src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
  for s in range(0, len(src), batch):
    a, b = grey_THW[src[s:s + batch]], grey_THW[dst[s:s + batch]]
    if backend == "farneback":
      out = flow_lib.farneback_batch(a, b, **params)
    else:
      n = len(a)
      if n < batch and s > 0:  # one compiled shape for every batch
        pad = batch - n
        a = np.concatenate([a, np.repeat(a[-1:], pad, 0)])
        b = np.concatenate([b, np.repeat(b[-1:], pad, 0)])
      out = np.asarray(flow_lib.tvl1_batch(a, b, **params))[:n]
    yield s, np.asarray(out, np.float32)


class FlowFeatureCache(features_lib.ArrayCache):
  """Per-video reduced flow features on disk (`features.video.ArrayCache`;
  None root: no cache)."""

  def get(self, video: str, frames, kind: str, params: dict, compute):
    """`compute()` of one video, read from the cache when there.

    Args:
      video: the video's name (part of the file name).
      frames: its frames (their pixel hash is part of the file name).
      kind: the feature's name (folder prefix).
      params: everything the features depend on (JSON; hashed).
      compute: () -> np.ndarray, called on a miss.
    """
    return self.cached(video, frames,
                       dict(params, kind=kind, version=FEATURE_VERSION),
                       compute)


class TrainingFreeSpotter(spotting.SpottingMethod):
  """A scorer with nothing to train. A subclass supplies
  `feature_params(fps)`, `curves_of_frames(frames, rois, fps)` -> (T, 2)
  scores and `FRAME_OFFSETS` (the frames a score reads, in units of the
  type's k). With nothing trained, its decoder fits on every known
  (training and validation) subject of a fold (`Method.fit_ids`)."""
  trains = False
  # Frame i's score of a type with offset k reads frames i + o k.
  FRAME_OFFSETS = (-1, 0)

  def __init__(self, config):
    super().__init__(config)
    self._memory = {}

  def k(self, typ, fps) -> int:
    """The type's offset in frames (`block.k_s`, seconds)."""
    return frames_of(self.block.k_s[typ], fps)

  def grey_and_boxes(self, frames, rois) -> tuple[np.ndarray, np.ndarray]:
    """A video's crops in grey at `block.flow_size` and its median ROI
    boxes (4, 4) scaled to that size (the per-frame boxes wobble with the
    landmarks; a region fixed for the video does not)."""
    grey = grey_frames(frames, int(self.block.flow_size))
    boxes = np.median(np.asarray(rois, np.float64), axis=0) * (
        grey.shape[1] / np.asarray(frames).shape[1])
    return grey, boxes

  def reach_s(self) -> dict:
    """A score compares frames k apart: its reach is k (`block.k_s`)."""
    return {t: float(self.block.k_s[t]) for t in TYPES}

  def invalid_frames(self, face_found_T, fps, choices) -> np.ndarray:
    """No score where a frame the score reads (`FRAME_OFFSETS`) is outside
    the video or has no face."""
    del choices
    face = np.asarray(face_found_T, bool)
    t = len(face)
    bad = np.ones((t, 2), bool)
    for col, typ in enumerate(TYPES):
      offsets = [o * self.k(typ, fps) for o in self.FRAME_OFFSETS]
      i = np.arange(-min(offsets), t - max(offsets))
      if len(i):
        bad[i, col] = ~np.logical_and.reduce([face[i + o] for o in offsets])
    return bad

  # ---------------------------------------------------------------- cache
  def cache(self) -> FlowFeatureCache:
    root = self.block.cache_dir
    if root == "none":
      return FlowFeatureCache(None)
    d = self.config.dataset
    root = root or os.path.join(datasets.default_data_dir(self.config),
                                "mespot_flow_features")
    return FlowFeatureCache(
        root, f"{d.name}_{d.config or 'default'}_seed{d.seed}")

  def flow_params(self) -> dict:
    b = self.block
    return {"flow": b.flow, "flow_size": int(b.flow_size),
            "flow_params": dict(b.flow_params)}

  def stored_curves(self, store, v) -> np.ndarray:
    """(T, 2) curves of video `v` (memory, then disk, then computed)."""
    if v not in self._memory:
      meta = store.videos[v]
      frames = store.video(v)
      self._memory[v] = self.cache().get(
          meta.video, frames, self.name, self.feature_params(meta.fps),
          lambda: self.curves_of_frames(frames, store.rois(v), meta.fps))
    return self._memory[v]

  # ------------------------------------------------------------- scoring
  def score_videos(self, variables, store, indices, choices) -> dict:
    del variables, choices
    return {"model": {v: np.array(self.stored_curves(store, v), np.float32)
                      for v in indices}}

  def score_stream(self, variables, crops, fps, choices, batch_size=0):
    del variables, choices, batch_size
    frames, boxes = [], []
    for item in crops:
      crop, rois = item if self.stream_rois else (item, None)
      frames.append(crop)
      boxes.append(rois)
    frames = np.stack(frames)
    rois = np.stack(boxes) if self.stream_rois else None
    return self.curves_of_frames(frames, rois, fps).astype(np.float32)
