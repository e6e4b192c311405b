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
* Streamed scoring (`score_stream`): the flow-size grey frames are spooled
  to a temporary file while the ROI boxes are collected (the per-video
  median box needs every frame), then scored in chunks of `stream_chunk`
  frames, each read with the context its scorer declares
  (`stream_context`, `chunk_spans`) and the overlap dropped, so the
  streamed curve equals the whole video's (docs/SCORING.md).
"""
import dataclasses
import os
import tempfile

import cv2
import numpy as np

from mespot_jax import flow as flow_lib
from mespot_jax.config import vocab
from mespot_jax.data import datasets
from mespot_jax.data import timing
from mespot_jax.errors import InputError
from mespot_jax.face import align
from mespot_jax.features import video as features_lib
from mespot_jax.methods import spotting

TYPES = spotting.TYPES
FLOW_BACKENDS = vocab.FLOW_BACKENDS
# 2: RGB crops are made grey with OpenCV's weights (1: the channel mean).
FEATURE_VERSION = 2


frames_of = timing.seconds_to_frames  # the one rounding (half up)
# Frames per streamed chunk (`score_stream`); a chunk is read with its
# scorer's context around it.
STREAM_CHUNK = 1024


@dataclasses.dataclass(frozen=True)
class StreamContext:
  """What a scorer's score of frame i reads besides frame i.

  Attributes:
    history: frames before i.
    future: frames after i.
    period: the scorer's windows start at multiples of it (of the video's
      frame numbers), so a chunk's frames must too.
    whole: the score depends on the whole video (one chunk).
  """
  history: int = 0
  future: int = 0
  period: int = 1
  whole: bool = False


def chunk_spans(t: int, chunk: int, context: StreamContext) -> list:
  """[(a, b, lo, hi)]: scores of frames [a, b) are those of frames [lo, hi)
  scored alone, at rows a - lo .. b - lo.

  Chunks [a, b) of `chunk` frames tile [0, t); each is read to hi =
  b + future (t at the end) from lo, the multiple of `period` at or below
  a - history (0 at the start; for a chunk that ends at the video's end,
  at or below hi - (chunk + history + future), so a short last chunk
  reads a full span). A scorer that reads only frames i - history ..
  i + future, with windows starting at multiples of `period`, gives frame
  i the same score in [lo, hi) as in the whole video: the frames it reads
  are there, the ends it sees are the video's. `whole`: one chunk.
  """
  chunk = max(int(chunk), 1)
  if context.whole or t <= chunk:
    return [(0, t, 0, t)]
  period = max(int(context.period), 1)
  span = chunk + context.history + context.future
  out = []
  for a in range(0, t, chunk):
    b = min(a + chunk, t)
    hi = min(b + context.future, t)
    # A short last chunk reads as far back as a full one (more history
    # changes nothing; a scorer's filters see a span as long as a chunk's).
    lo = max(min(a - context.history, hi - span), 0) // period * period
    out.append((a, b, lo, hi))
  return out


def stream_curves(score_span, t: int, chunk: int,
                  context: StreamContext) -> np.ndarray:
  """(t, 2) float32 curves scored chunk by chunk (`chunk_spans`).

  Args:
    score_span: (lo, hi) -> (hi - lo, 2) the curves of frames [lo, hi)
      scored alone.
    t: frames of the video.
    chunk: frames per chunk.
    context: the scorer's `StreamContext`.
  """
  out = np.full((t, 2), np.nan, np.float32)
  for a, b, lo, hi in chunk_spans(t, chunk, context):
    out[a:b] = np.asarray(score_span(lo, hi), np.float32)[a - lo:b - lo]
  return out


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


def median_boxes(rois, crop_side: int, grey_side: int):
  """A video's median ROI boxes (4, 4) of its per-frame boxes (T, 4, 4) in
  `crop_side` crops, scaled to `grey_side` (None without boxes)."""
  if rois is None:
    return None
  return np.median(np.asarray(rois, np.float64), axis=0) * (
      grey_side / crop_side)


class TrainingFreeSpotter(spotting.SpottingMethod):
  """A scorer with nothing to train. A subclass supplies
  `feature_params(fps)`, `curves_of_grey(grey, boxes, fps)` -> (T, 2)
  scores, `stream_context(fps)` (what a score reads around its frame) and
  `FRAME_OFFSETS` (the frames a score reads, in units of the type's k).
  With nothing trained, its decoder fits on every known (training and
  validation) subject of a fold (`Method.fit_ids`)."""
  trains = False
  # Frame i's score of a type with offset k reads frames i + o k.
  FRAME_OFFSETS = (-1, 0)

  def __init__(self, config):
    super().__init__(config)
    self._memory = {}
    self.stream_chunk = STREAM_CHUNK

  def k(self, typ, fps) -> int:
    """The type's offset in frames (`block.k_s`, seconds)."""
    return frames_of(self.block.k_s[typ], fps)

  def grey_and_boxes(self, frames, rois) -> tuple[np.ndarray, np.ndarray]:
    """A video's crops in grey at `block.flow_size` and its median ROI
    boxes (4, 4) scaled to that size (the per-frame boxes wobble with the
    landmarks; a region fixed for the video does not)."""
    grey = grey_frames(frames, int(self.block.flow_size))
    return grey, median_boxes(rois, np.asarray(frames).shape[1],
                              grey.shape[1])

  def curves_of_frames(self, frames, rois, fps) -> np.ndarray:
    """(T, 2) scores of a video's crops (T, S, S[, C]) and ROI boxes
    (T, 4, 4; None for a scorer without them)."""
    grey, boxes = self.grey_and_boxes(frames, rois)
    return self.curves_of_grey(grey, boxes, fps)

  def stream_context(self, fps) -> StreamContext:
    """A score reads the frames `FRAME_OFFSETS` x k around its own."""
    k = max(self.k(t, fps) for t in TYPES)
    return StreamContext(history=-min(self.FRAME_OFFSETS) * k,
                         future=max(self.FRAME_OFFSETS) * k)

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
    """The curves of a stream of crops (or (crop, ROI boxes) pairs), equal
    to `curves_of_frames` of the whole video: the grey frames are spooled
    to a temporary file (memory stays bounded, except for a scorer of the
    whole video), the median boxes taken over every frame, then
    `stream_curves` scores chunks with context."""
    del variables, choices, batch_size
    size, boxes, t = int(self.block.flow_size), [], 0
    with tempfile.TemporaryDirectory(prefix="mespot_stream_") as tmp:
      path = os.path.join(tmp, "grey.f32")
      with open(path, "wb") as f:
        for item in crops:
          crop, rois = item if self.stream_rois else (item, None)
          grey = grey_frames(np.asarray(crop)[None], size)
          f.write(grey.tobytes())
          if self.stream_rois:
            boxes.append(rois)
          side, t = np.asarray(crop).shape[0], t + 1
      if not t:
        return np.zeros((0, 2), np.float32)
      spool = np.memmap(path, np.float32, "r", shape=(t,) + grey.shape[1:])
      box = median_boxes(np.stack(boxes) if self.stream_rois else None,
                         side, grey.shape[1])
      out = stream_curves(
          lambda lo, hi: self.curves_of_grey(np.array(spool[lo:hi]), box,
                                             fps),
          t, self.stream_chunk, self.stream_context(fps))
      del spool  # closes the file before the folder goes
    return out
