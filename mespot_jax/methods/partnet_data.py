"""The part-based recogniser's data: onset->apex flows, EMR, the macro source.

Target domain (micro-expressions): each clip of the `ClipStore` (its
`dataset.clip_frames` frames from onset to offset, onset, apex and offset
included) gives one input, the optical flow from its onset frame to its
apex frame. With EMR the clip's frames are first magnified by Eulerian
video magnification (`preprocess.evm.magnify`, the ideal temporal filter
over the clip's frames: `partnet.evm.band` is in cycles per clip, the
frames taken as evenly spaced, `alpha`, `levels`), clipped to [0, 1] as
MIT's code writes its videos, and the flow is that of the magnified onset
and apex frames.

Source domain (macro-expressions, `partnet.source`): posed sequences from
a neutral onset to their peak (CK+, or `synthetic.macro.ckplus_like` for
the synthetic set), in the same classes. Their input is the flow from the
onset to the apex frame; with EMR (macro-expression reduction) to the
frame halfway between onset and apex instead.

Flows are TV-L1 (`flow.tvl1_batch`, skimage's defaults) or Farneback, on
the grey crops resized to `partnet.flow_size` (0: as stored), optionally
with the optical strain as a third channel. They are computed once per
store and kept in memory (`_MEMO`, keyed by the pixels and the settings:
the audit's relabelled stores reuse them).

`PartSampler` draws fold-stacked batches: `x` (K, B, S, S, C) float32
flows, `y`, `w` and `d` (0 micro, 1 macro); the gradient-reversal weight
is not in the batch: the training step computes it from its step count
(`methods.partnet`). A training batch holds `round(B * source.fraction)` source
sequences (class-balanced, from all of them: the source has no test
subject) and the rest target clips of the fold's training subjects
(class-balanced); each example is flipped left-right with probability 1/2
(`flip`; u changes sign). Validation and oracle batches hold target clips
only (no `d`). The folds' loop and its seeding are
`data.sampler.FoldSampler`'s.
"""
import hashlib
import json
import os

import cv2
import numpy as np

from mespot_jax import flow as flow_lib
from mespot_jax.config import vocab
from mespot_jax.config.blocks import partnet as partnet_block
from mespot_jax.data import clip_samples
from mespot_jax.data import sampler as sampler_lib
from mespot_jax.data.clip_store import clip_frame_numbers
from mespot_jax.errors import InputError
from mespot_jax.face import align
from mespot_jax.preprocess import evm

_MEMO = {}
SOURCES = partnet_block.CHOICES["source.name"]
FLOWS = vocab.FLOW_BACKENDS


def apex_positions(store) -> np.ndarray:
  """(N,) index of each clip's apex among its stored frames."""
  t = store.x.shape[1]
  out = []
  for c in store.clips:
    n = clip_frame_numbers(c.onset, c.apex, c.offset, t)
    out.append(int(np.flatnonzero(n == c.apex)[0]))
  return np.asarray(out, np.int64)


def _grey01(frames_N_SS, size: int) -> np.ndarray:
  """uint8 (N, S, S[, 1]) -> float32 (N, size, size) in [0, 1]."""
  f = np.asarray(frames_N_SS)
  if f.ndim == 4:
    f = f[..., 0]
  if size and f.shape[1] != size:
    interp = cv2.INTER_AREA if size < f.shape[1] else cv2.INTER_LINEAR
    f = np.stack([cv2.resize(a, (size, size), interpolation=interp)
                  for a in f])
  return f.astype(np.float32) / (255.0 if f.dtype == np.uint8 else 1.0)


def compute_flows(frames0, frames1, block) -> np.ndarray:
  """(N, S, S, 2 or 3) float32 flows (+ strain) of grey [0, 1] frames."""
  if block.flow not in FLOWS:
    raise InputError(f"partnet.flow={block.flow!r}; expected one of {FLOWS}")
  if not len(frames0):
    c = 3 if block.strain else 2
    return np.zeros((0,) + frames0.shape[1:] + (c,), np.float32)
  if block.flow == "tvl1":
    fl = np.asarray(flow_lib.tvl1_batch(frames0, frames1, vectorize="map"))
  else:
    fl = flow_lib.farneback_batch(frames0, frames1)
  fl = fl.astype(np.float32)
  if block.strain:
    fl = np.concatenate(
        [fl, np.asarray(flow_lib.optical_strain(fl))[..., None]], -1)
  return fl


def magnify_clips(frames_NT_SS: np.ndarray, e) -> np.ndarray:
  """EVM of every clip over its frames (module docstring); clipped [0, 1]."""
  t = frames_NT_SS.shape[1]
  low, high = (float(b) for b in e.band)
  if not 0 < low < high < t / 2:
    raise InputError(f"partnet.evm.band={tuple(e.band)} (cycles per clip) "
                     f"must satisfy 0 < low < high < {t / 2} for clips of "
                     f"{t} frames (dataset.clip_frames)")
  out = np.empty_like(frames_NT_SS)
  for i, clip in enumerate(frames_NT_SS):
    out[i] = np.clip(np.asarray(evm.magnify(
        clip, fps=float(t), alpha=float(e.alpha), low_hz=low, high_hz=high,
        levels=int(e.levels) or None, temporal_filter="ideal")), 0.0, 1.0)
  return out


def _key(*parts) -> str:
  h = hashlib.sha1()
  for p in parts:
    h.update(p.tobytes() if isinstance(p, np.ndarray) else
             json.dumps(p, sort_keys=True, default=str).encode())
  return h.hexdigest()


def _flow_settings(block) -> dict:
  return {"flow": block.flow, "strain": bool(block.strain),
          "size": int(block.flow_size), "emr": bool(block.emr),
          "evm": block.evm.to_dict() if block.emr else None}


def target_flows(store, block) -> np.ndarray:
  """(N, S, S, C) onset->apex flows of the store's clips (module doc)."""
  key = _key("target", np.ascontiguousarray(store.x), _flow_settings(block))
  if key not in _MEMO:
    n, t = store.x.shape[:2]
    size = int(block.flow_size) or store.image_size
    frames = _grey01(store.x.reshape((n * t,) + store.x.shape[2:]), size)
    frames = frames.reshape(n, t, size, size)
    if block.emr:
      frames = magnify_clips(frames, block.evm)
    apex = apex_positions(store)
    _MEMO[key] = compute_flows(frames[:, 0],
                               frames[np.arange(n), apex], block)
  return _MEMO[key]


def _source_frames(config, block, size: int, classes) -> tuple:
  """(onset, half, apex (N, S0, S0) uint8, labels) of the macro source."""
  s = block.source
  if s.name == "synthetic_ckplus_like":
    from mespot_jax.synthetic import macro  # pylint: disable=g-import-not-at-top
    from mespot_jax.synthetic.clips import CLASSES  # pylint: disable=g-import-not-at-top
    if tuple(classes) != tuple(CLASSES):
      raise InputError(f"partnet.source.name=synthetic_ckplus_like has the "
                       f"classes {CLASSES}, the dataset {tuple(classes)}")
    seed = max(int(config.dataset.seed), 0)
    m = macro.ckplus_like(seed, int(s.subjects), int(s.clips_per_subject),
                          size, int(s.align_size))
    return m.onset, m.half, m.apex, m.labels
  from mespot_jax.data import datasets  # pylint: disable=g-import-not-at-top
  from mespot_jax.data.clips import ClipSource  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  data_dir = datasets.default_data_dir(config)
  kwargs = {}
  if s.manual_dir:
    kwargs["download_config"] = tfds.download.DownloadConfig(
        manual_dir=os.path.expanduser(s.manual_dir))
  src = ClipSource.prepare(s.name, data_dir, s.config or None, **kwargs)
  if tuple(src.classes) != tuple(classes):
    raise InputError(f"partnet.source {s.name} has the classes "
                     f"{tuple(src.classes)}, the dataset {tuple(classes)}; "
                     "use a source builder config of the same label set")
  labels = src.labels()
  keys = {"onset": [], "half": [], "apex": []}
  kept = []
  for c in src.clips:
    if labels[c.index] < 0:
      continue
    half = c.onset + int(round((c.apex - c.onset) / 2))
    f = align.to_grey_frames(src.frames(c.index, [c.onset, half, c.apex]))
    for name, a in zip(keys, f):
      keys[name].append(a)
    kept.append(int(labels[c.index]))
  if not kept:
    raise InputError(f"partnet.source {s.name}: no labelled clip")
  return (np.stack(keys["onset"]), np.stack(keys["half"]),
          np.stack(keys["apex"]), np.asarray(kept, np.int32))


def source_flows(config, block, store) -> tuple[np.ndarray, np.ndarray]:
  """(flows (M, S, S, C), labels (M,)) of the macro source; empty with
  `source.name="none"`."""
  s = block.source
  if s.name not in SOURCES:
    raise InputError(f"partnet.source.name={s.name!r}; expected one of "
                     f"{SOURCES}")
  size = int(block.flow_size) or store.image_size
  c = 3 if block.strain else 2
  if s.name == "none":
    return (np.zeros((0, size, size, c), np.float32), np.zeros(0, np.int32))
  key = _key("source", s.to_dict(), _flow_settings(block),
             int(config.dataset.seed), store.image_size, list(store.classes))
  if key not in _MEMO:
    onset, half, apex, labels = _source_frames(config, block,
                                               store.image_size,
                                               store.classes)
    peak = half if block.emr else apex
    _MEMO[key] = (compute_flows(_grey01(onset, size), _grey01(peak, size),
                                block), labels)
  return _MEMO[key]


def flip_flow(x_SSC: np.ndarray) -> np.ndarray:
  """Left-right mirror of a flow: columns reversed, u negated."""
  out = x_SSC[:, ::-1].copy()
  out[..., 0] = -out[..., 0]
  return out


class PartSampler(sampler_lib.FoldSampler):
  """Fold-stacked batches of flows of both domains (module docstring)."""

  def __init__(self, store, folds, x_N, xs_M, ys_M, *, fraction: float,
               balance: bool, flip: bool, seed: int):
    self.x, self.xs, self.ys = x_N, xs_M, ys_M
    self.fraction = float(fraction) if len(ys_M) else 0.0
    self.balance, self.flip = bool(balance), bool(flip)
    # The source has no subjects: every fold draws from all of it.
    self._source = None
    if len(ys_M):
      self._source = clip_samples.ClassPool.of(np.arange(len(ys_M)),
                                               np.asarray(ys_M))
    super().__init__(store, folds, seed)

  def make_pool(self, fold, subjects) -> clip_samples.ClassPool:
    """The fold's target clips of `subjects` by class (training only)."""
    ids = self.units(subjects)
    if not ids.size:
      raise ValueError(f"fold {fold.index} (test {fold.test_subject}): its "
                       "training subjects have no labelled clip")
    return clip_samples.ClassPool.of(ids, self.store.labels[ids])

  def draw(self, rng, fold, pool, train: bool, slot) -> dict:
    """{"x": (S, S, C) float32, "y": () int32, "w": () float32, "d": ()
    float32} of one training example: the last round(B * fraction) slots
    of a batch are source sequences, the others target clips."""
    del fold, train  # only training examples are drawn
    if slot.index >= slot.size - int(round(slot.size * self.fraction)):
      j = self._source.pick(rng, self.balance)
      x, y, d = self.xs[j], self.ys[j], 1.0
    else:
      i = pool.pick(rng, self.balance)
      x, y, d = self.x[i], self.store.labels[i], 0.0
    if self.flip and rng.random() < 0.5:
      x = flip_flow(x)
    return {"x": np.asarray(x, np.float32), "y": np.int32(y),
            "w": np.float32(1.0), "d": np.float32(d)}

  def fixed_batch(self, purpose: str, n: int) -> dict:
    """Fixed sets of target clips, padded (`clip_samples.fixed_batch`)."""
    return clip_samples.fixed_batch(self, purpose, n, self.x, np.float32)
