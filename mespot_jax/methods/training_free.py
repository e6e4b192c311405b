"""What the training-free optical-flow spotters (`mdmd`, `flow_roi`) share.

* `video_flows`: the flow of frame pairs (j -> i) of one video, in batches
  (`farneback_batch` on a CPU, or the JAX `tvl1_batch` on any device),
  handed batch by batch to a reducer so a whole video's flows never sit in
  memory at once.
* `FlowFeatureCache`: the reduced per-frame features of a video on disk,
  keyed like the LSTM spotter's feature cache (`features.video.
  FeatureCache`): `root/<dataset tag>/<kind>_<parameter hash>/<video>_<pixel
  hash>.npy`, with `params.json` beside them.
* Per-video relative thresholds (the MEGC2020 baseline's `mean + p (max -
  mean)`), runs above a threshold, and a grid search of a threshold
  parameter on known (training) videos by interval F1.
* `TrainingFreeSpotter`: a `SpottingMethod` with nothing to train
  (`trains = False`): its per-type threshold parameters are fitted in
  `fold_choices` on the fold's training and validation subjects (never the
  test subject) and declared to the audit.
"""
import os

import cv2
import numpy as np

from mespot_jax import flow as flow_lib
from mespot_jax.config import vocab
from mespot_jax.data import datasets
from mespot_jax.data import folds as folds_lib
from mespot_jax.data import timing
from mespot_jax.errors import InputError
from mespot_jax.face import align
from mespot_jax.features import video as features_lib
from mespot_jax.methods import spotting
from mespot_jax.metrics import intervals as interval_metrics
from mespot_jax.metrics.io import IntervalRow
from mespot_jax.spotting import postprocess

TYPES = spotting.TYPES
FLOW_BACKENDS = vocab.FLOW_BACKENDS
RULES = vocab.THRESHOLD_RULES
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


# ------------------------------------------------------------ thresholds
def threshold_of(s_T, rule: str, value: float) -> float:
  """The threshold on one video's score curve: "relative": the MEGC2020
  baseline's `mean + p (max - mean)` of the video's own scores with p =
  `value`; "absolute": `value` itself."""
  if rule == "absolute":
    return float(value)
  ok = np.asarray(s_T, np.float64)
  ok = ok[np.isfinite(ok)]
  if not ok.size:
    return np.inf
  mean = float(ok.mean())
  return mean + float(value) * (float(ok.max()) - mean)


def runs_above(s_T, thr: float) -> list[tuple[int, int]]:
  """(start, end) 0-based inclusive runs of frames with score > `thr`
  (NaN frames break runs): `postprocess.runs_above`, strict, 0-based."""
  return [(a - 1, z - 1) for a, z in postprocess.runs_above(
      np.asarray(s_T, np.float64), thr, strict=True)]


def merge_runs(runs, gap: int) -> list[tuple[int, int]]:
  """Runs (0-based inclusive, in order) joined where at most `gap` frames
  lie between one's end and the next one's start (`gap` 0: unchanged):
  `postprocess.merge_within`."""
  return postprocess.merge_within(runs, gap) if gap > 0 else list(runs)


def candidate_values(rule: str, curves, num: int = 41) -> np.ndarray:
  """Grid of threshold parameters to search: p in [0, 1] ("relative"), or
  quantiles of the pooled scores of `curves` ("absolute")."""
  if rule == "relative":
    return np.linspace(0.0, 1.0, num)
  pooled = np.concatenate([np.asarray(c, np.float64) for c in curves])
  pooled = pooled[np.isfinite(pooled)]
  if not pooled.size:
    return np.array([0.0])
  return np.unique(np.quantile(pooled, np.linspace(0.5, 1.0, num)))


def fit_value(videos, typ: str, rule: str, intervals_of,
              iou: float = 0.5) -> float:
  """The threshold parameter of type `typ` with the best interval F1
  (MEGC2020 protocol, that type) on `videos`; ties: the smallest.

  Args:
    videos: [(curve_T, meta)] of known videos.
    typ: "micro" or "macro".
    rule: "relative" or "absolute".
    intervals_of: (curve_T, value, fps) -> [(onset, offset)] 1-based.
    iou: the IoU a true positive needs.
  """
  gt = [IntervalRow(m.video, iv.type, iv.onset, iv.offset)
        for _, m in videos for iv in m.intervals if iv.type == typ]
  best, best_f1 = None, -1.0
  for value in candidate_values(rule, [c for c, _ in videos]):
    rows = [IntervalRow(m.video, typ, on, off)
            for c, m in videos for on, off in intervals_of(c, value, m.fps)]
    f1 = interval_metrics.evaluate(gt, rows, "megc2020", iou)[typ]["f1"]
    if f1 > best_f1 + 1e-12:
      best, best_f1 = float(value), f1
  return best


class TrainingFreeSpotter(spotting.SpottingMethod):
  """A spotter with nothing to train. A subclass supplies `curves(store,
  v)` -> (T, 2) scores of a stored video, `curves_of_frames(frames, rois,
  fps)` (offline scoring), `intervals(curve_T, typ, value, fps, choices)`
  -> [(onset, offset)] 1-based and `FRAME_OFFSETS` (the frames a score
  reads, in units of the type's k); per type a threshold parameter
  (`value`, with `block.threshold_rule`) is fitted on the fold's known
  subjects."""
  trains = False
  CHOICES = ("values", "thresholds")
  # Frame i's score of a type with offset k reads frames i + o k.
  FRAME_OFFSETS = (-1, 0)

  def __init__(self, config):
    super().__init__(config)
    self._memory = {}

  def k(self, typ, fps) -> int:
    """The type's offset in frames (`block.k_s`, seconds)."""
    return frames_of(self.block.k_s[typ], fps)

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

  # -------------------------------------------------------------- choices
  def fold_choices(self, store, fold) -> dict:
    """Post-processing widths (the base's) and, per type, the threshold
    parameter with the best interval F1 on the fold's training and
    validation subjects."""
    choices = super().fold_choices(store, fold)
    known = folds_lib.known_video_indices(store, fold)
    return dict(choices, values=self._fit(store, known, choices))

  def _fit(self, store, indices, choices, curves=None) -> list[float]:
    if curves is None:  # as `score` hands them: NaN where no score
      curves = {}
      for v in indices:
        bad_T2 = self.invalid_frames(store.face_found(v), store.videos[v].fps,
                                     choices)
        curves[v] = np.where(bad_T2, np.nan, self.stored_curves(store, v))
    out = []
    for k, typ in enumerate(TYPES):
      vids = [(curves[v][:, k], store.videos[v]) for v in indices]
      value = fit_value(
          vids, typ, self.block.threshold_rule,
          lambda c, val, fps, t=typ: self.intervals(c, t, val, fps, choices),
          self.config.eval.iou_threshold)
      out.append(1.0 if value is None else value)
    return out

  def fit(self, store, indices, scores, choices, criterion=None,
          absolute: bool = False) -> dict:
    """Per kind the fold's threshold parameters (`choices["values"]`,
    fitted on its training subjects); the oracle's `criterion` refits them
    on the units `indices` (the test subject: leaky by design). The rule is
    the same in offline scoring's absolute mode."""
    del absolute
    out = {}
    for kind, by_video in scores.items():
      values = (self._fit(store, indices, choices, by_video) if criterion
                else list(choices["values"]))
      out[kind] = {"thresholds": [float(x) for x in values],
                   "norm": {t: None for t in TYPES},
                   "rule": self.block.threshold_rule}
    return out

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

  # ------------------------------------------------------------ predicting
  def predict_video(self, scores_T2, fps, video, choices, fitted,
                    subject="") -> list[IntervalRow]:
    rows = []
    for k, typ in enumerate(TYPES):
      c = scores_T2[:, k]
      for on, off in self.intervals(c, typ, fitted["thresholds"][k], fps,
                                    choices):
        peak = np.nanmax(c[on - 1:off]) if np.isfinite(
            c[on - 1:off]).any() else 0.0
        rows.append(IntervalRow(video, typ, int(on), int(off),
                                subject=subject, score=float(peak)))
    return self.resolve_types(rows, fps)

  def resolve_types(self, rows, fps) -> list[IntervalRow]:
    """Rows of both types of one video -> the rows kept (default: all)."""
    del fps
    return rows

  def fold_row(self, store, out) -> dict:
    row = super().fold_row(store, out)
    row["values"] = out.choices["values"]
    return row
