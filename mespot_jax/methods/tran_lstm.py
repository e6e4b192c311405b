"""Tran et al. (2019): dense prediction of apex scores with an LSTM.

The method plug-in (`config.method = "tran_lstm"`; fields in
`config.tran_lstm`). Every position i of a video (frames i+1 .. i+L) is
described by a spatio-temporal descriptor (`mespot_jax.features`:
LBP-TOP, HOG-TOP or HIGO-TOP; cached on disk per video), windows of M
consecutive positions go through one LSTM layer of 20 units and a dense
layer scoring every position (`models/tran_lstm.py`), trained on the
overlap (eq. 1) or apex-distance (eq. 2) targets with a binary cross
entropy on soft targets (the paper does not name its loss). Held-out
videos are scored by overlapping windows whose scores are averaged per
position; a position's score belongs to its apex frame (the middle of its
span), so frames within L/2 of either end of a video get none (NaN), and
neither do frames whose span holds a frame without a face.

Spotting: the paper's decoder is `apex` (`mespot_jax.decoders.apex`,
`config.decoder.apex`): non-maximum suppression of apex candidates, then
the paper's per-video threshold (mean of the video's maximum and non-zero
minimum score) or one fitted on the validation subjects
(`threshold="fitted"`); each apex becomes an interval of the type's median
duration in the fold's training and validation subjects. Any spotting
decoder may be named instead (`config.decoder.name`). Early stopping
watches the validation subjects' loss (the paper picked the best of 150
epochs on the test results; we never look at the test subject).

L and M are in seconds (`span_s`, `window_s`), rounded to frames at each
video's rate: the paper's L = 23 at 30 fps (CASME II) is span_s = 23/30,
its L = 9 at 25 fps (SMIC-E) 9/25.
"""
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mespot_jax.config.blocks import tran_lstm as tran_lstm_block
from mespot_jax.config.blocks.tran_lstm import default_config  # pylint: disable=unused-import
from mespot_jax.data import datasets
from mespot_jax.data import sampler as sampler_lib
from mespot_jax.errors import InputError
from mespot_jax.features import video as features_lib
from mespot_jax.methods import spotting
from mespot_jax.methods import tran_lstm_post as post
from mespot_jax.models.tran_lstm import TranLSTM
from mespot_jax.train import inference
from mespot_jax.train import steps as steps_lib

TYPES = post.TYPES
FEATURE_NORMS = tran_lstm_block.CHOICES["feature_norm"]


def normalise_features(feats_PD, mode: str) -> np.ndarray:
  """`feature_norm`: "none", or "video" (per dimension, minus the video's
  mean over positions, over its standard deviation; constant dimensions
  become 0)."""
  if mode == "none" or not len(feats_PD):
    return feats_PD
  mean = feats_PD.mean(axis=0, keepdims=True)
  std = feats_PD.std(axis=0, keepdims=True)
  return ((feats_PD - mean) / np.where(std > 1e-6, std, 1.0)).astype(
      np.float32)




def _bins_per_histogram(block) -> int:
  return 59 if block.feature == "lbp_top" else int(block.bins)


def _masked_bce(logits, batch):
  """Binary cross entropy on soft targets, over the masked positions."""
  bce = optax.sigmoid_binary_cross_entropy(logits, batch["y"])
  mask = batch["mask"]
  return (bce * mask).sum() / jnp.maximum(mask.sum(), 1.0)


def _inputs(batch, train: bool):
  del train
  return batch["x"]


@functools.lru_cache(maxsize=None)
def _step_fns(units: int, input_scale: float) -> steps_lib.StepFns:
  return steps_lib.StepFns(TranLSTM(units=units, outputs=2,
                                    input_scale=input_scale),
                           _inputs, _masked_bce, jax.nn.sigmoid)


def _valid_positions(face_T, span) -> np.ndarray:
  """(P,) bool: positions whose span holds only frames with a face."""
  bad = np.concatenate([[0], np.cumsum(~np.asarray(face_T, bool))])
  n_pos = max(0, len(face_T) - span + 1)
  return (bad[span:span + n_pos] - bad[:n_pos]) == 0


class WindowSampler(sampler_lib.FoldSampler):
  """Windows of M positions (features, targets, mask) of the folds.

  A draw takes, with probability `expression_prob` (when the pool has an
  apex of a trained type), a window holding a random apex of a random
  video with one; else a window uniformly over every window position of
  the pool's videos. Batches: {"x": (K, B, M, D), "y": (K, B, M, 2),
  "mask": (K, B, M, 2)} float32.

  Attributes:
    store: the data.
  """

  def __init__(self, store, folds, feats, targets, masks, window, types,
               expression_prob, seed):
    self.feats, self.targets, self.masks = feats, targets, masks
    self.window = window
    self.type_mask = np.array([t in types for t in TYPES], np.float32)
    self.expression_prob = expression_prob
    self.dim = next(iter(feats.values())).shape[1]
    # Apex positions of every interval of a trained type, per video.
    self.apexes = {}
    for v, meta in enumerate(store.videos):
      span = int(round(meta.num_frames - len(targets[v]) + 1))
      self.apexes[v] = [
          (iv.apex if iv.apex > 0 else (iv.onset + iv.offset) // 2) - 1 -
          post.apex_offset(span) for iv in meta.intervals if iv.type in types]
    super().__init__(store, folds, seed)

  def make_pool(self, fold, subjects):
    """(videos with a position, those with an apex, each video's
    probability: its share of the window positions)."""
    ids = [int(v) for v in self.units(subjects) if len(self.feats[v])]
    if not ids:
      raise InputError(
          f"tran_lstm: fold {fold.index}: no video of subject(s) "
          f"{', '.join(subjects)} is as long as one feature span "
          "(tran_lstm.span_s); use a shorter span_s or leave these "
          "subjects out")
    with_apex = [v for v in ids if self.apexes[v]]
    sizes = np.array([max(1, len(self.feats[u]) - self.window + 1)
                      for u in ids], np.float64)
    return ids, with_apex, sizes / sizes.sum()

  def _window(self, v, start) -> dict:
    m, f = self.window, self.feats[v]
    x = np.zeros((m, self.dim), np.float32)
    y = np.zeros((m, 2), np.float32)
    mask = np.zeros((m, 2), np.float32)
    n = max(0, min(m, len(f) - start))
    x[:n], y[:n] = f[start:start + n], self.targets[v][start:start + n]
    mask[:n] = self.masks[v][start:start + n, None] * self.type_mask
    return {"x": x, "y": y, "mask": mask}

  def draw(self, rng, fold, pool, train: bool, slot) -> dict:
    """One window (class docstring); the same draw for every purpose."""
    del fold, train, slot
    ids, with_apex, probs = pool
    if with_apex and rng.random() < self.expression_prob:
      v = with_apex[rng.integers(len(with_apex))]
      a = self.apexes[v][rng.integers(len(self.apexes[v]))]
      lo, hi = max(0, a - self.window + 1), min(a, len(self.feats[v]) -
                                                self.window)
      start = int(rng.integers(lo, hi + 1)) if hi >= lo else max(0, hi)
    else:
      v = ids[rng.choice(len(ids), p=probs)]
      start = int(rng.integers(0, max(1, len(self.feats[v]) -
                                      self.window + 1)))
    return self._window(v, start)


class TranLSTMMethod(spotting.SpottingMethod):
  """The LSTM dense-prediction spotter (registered as `tran_lstm`)."""
  name = "tran_lstm"

  def __init__(self, config):
    super().__init__(config)
    b = self.block
    features_lib.check_kind(b.feature)
    if b.target not in post.TARGETS:
      raise ValueError(f"tran_lstm.target={b.target!r}; expected one of "
                       f"{post.TARGETS}")
    if b.feature_norm not in FEATURE_NORMS:
      raise ValueError(f"tran_lstm.feature_norm={b.feature_norm!r}; "
                       f"expected one of {FEATURE_NORMS}")
    if not set(b.types) or not set(b.types) <= set(TYPES):
      raise ValueError(f"tran_lstm.types={tuple(b.types)}; expected a "
                       f"non-empty subset of {TYPES}")
    self._memory = {}  # pixel hash -> features, within this process


  # ------------------------------------------------------------- features
  def span(self, fps) -> int:
    return post.frames_of(self.block.span_s, fps, least=2)

  def window(self, fps) -> int:
    return post.frames_of(self.block.window_s, fps)

  def _cache(self) -> features_lib.FeatureCache:
    root = self.block.feature_cache_dir
    if root == "none":
      return features_lib.FeatureCache(None)
    d = self.config.dataset
    root = root or os.path.join(datasets.default_data_dir(self.config),
                                "mespot_features")
    tag = f"{d.name}_{d.config or 'default'}_seed{d.seed}"
    return features_lib.FeatureCache(root, tag)

  def features(self, store, v) -> np.ndarray:
    """(P, D) descriptors of video `v` (memory, then disk, then computed),
    normalised as `feature_norm` says."""
    frames = store.video(v)
    key = features_lib.frames_hash(frames)
    if key not in self._memory:
      b = self.block
      self._memory[key] = normalise_features(self._cache().get(
          store.videos[v].video, frames, self.span(store.videos[v].fps),
          b.feature, tuple(b.grid), b.bins, b.precision, b.feature_chunk),
                                             b.feature_norm)
    return self._memory[key]

  # -------------------------------------------------------------- training
  @property
  def step_fns(self) -> steps_lib.StepFns:
    scale = (_bins_per_histogram(self.block)
             if self.block.feature_norm == "none" else 1.0)
    return _step_fns(int(self.block.units), float(scale))

  def _reference_fps(self, store) -> float:
    return float(np.median([v.fps for v in store.videos]))

  def make_sampler(self, store, folds):
    b = self.block
    feats, targets, masks = {}, {}, {}
    for v, meta in enumerate(store.videos):
      span = self.span(meta.fps)
      feats[v] = self.features(store, v)
      targets[v] = post.targets(meta.num_frames, meta.intervals, span,
                                b.target, b.target_floor)
      masks[v] = _valid_positions(store.face_found(v), span).astype(
          np.float32)
    return WindowSampler(store, folds, feats, targets, masks,
                         self.window(self._reference_fps(store)),
                         tuple(b.types), b.expression_prob, self.config.seed)

  def example_input(self, store):
    fps = self._reference_fps(store)
    b = self.block
    dim = features_lib.feature_size(b.feature, tuple(b.grid), b.bins)
    return jnp.zeros((1, self.window(fps), dim), jnp.float32)

  # --------------------------------------------------------------- scoring
  def scored_types(self) -> tuple:
    """The types trained (`types`); the other column is all zeros."""
    return tuple(t for t in TYPES if t in self.block.types)

  def video_choices(self, choices, fps) -> dict:
    del choices
    return {"tran_lstm": {"span_frames": self.span(fps),
                          "window_positions": self.window(fps)}}

  def invalid_frames(self, face_found_T, fps, choices) -> np.ndarray:
    """Frames without a score: no position has its apex there (the first
    (L - 1) // 2 and last L // 2 frames), or its span holds a frame
    without a face."""
    del choices
    span = self.span(fps)
    t = len(face_found_T)
    ok = np.zeros(t, bool)
    valid = _valid_positions(face_found_T, span)
    a = post.apex_offset(span)
    ok[a:a + len(valid)] = valid
    return np.stack([~ok, ~ok], axis=1)

  def score_features(self, variables, feats, fps, num_frames,
                     batch_size=0) -> np.ndarray:
    """(T, 2) scores of a video's features (P, D): overlapping windows,
    merged per position, at each position's apex frame; NaN elsewhere."""
    span, m = self.span(fps), self.window(fps)
    out = np.full((num_frames, 2), np.nan, np.float32)
    if not len(feats):
      return out
    starts = post.window_starts(len(feats), m, max(
        1, int(round(m * self.block.test_stride))))
    x = np.zeros((len(starts), m, feats.shape[1]), np.float32)
    for k, s in enumerate(starts):
      n = min(m, len(feats) - s)
      x[k, :n] = feats[s:s + n]
    scores = inference.predict_in_batches(
        steps_lib.make_predict_fn(self.step_fns), variables, x, batch_size)
    merged = post.merge_windows(scores, starts, len(feats))
    trained = np.array([t in self.block.types for t in TYPES])
    merged[:, ~trained] = 0.0
    a = post.apex_offset(span)
    out[a:a + len(merged)] = merged
    return out

  def score_stream(self, variables, crops, fps, choices, batch_size=0):
    del choices
    frames = np.stack(list(crops))
    b = self.block
    feats = normalise_features(features_lib.video_features(
        frames, self.span(fps), b.feature, tuple(b.grid), b.bins,
        b.precision, b.feature_chunk), b.feature_norm)
    return self.score_features(variables, feats, fps, len(frames),
                               batch_size)

  def score_videos(self, variables, store, indices, choices) -> dict:
    bs = self.config.eval.score_batch_size
    return {"model": {v: self.score_features(
        variables, self.features(store, v), store.videos[v].fps,
        store.videos[v].num_frames, bs) for v in indices}}
