"""Features of whole videos: one descriptor per position, cached on disk.

Position i (0-based) of a video of T frames reads frames i .. i + L - 1
(`span` = L frames), so a video has T - L + 1 positions. The descriptor
(`FEATURES`) of every position is computed on the backend in chunks of
`chunk` positions (vmapped, jitted; one compiled function per chunk shape,
whatever the video's length).

`FeatureCache` keeps each video's (positions, D) array on disk, one file per
video, feature kind and parameter set, so that leave-one-subject-out folds,
reruns and the deploy model never compute a video twice. A file's name holds
a hash of the video's pixels, so a rebuilt dataset (new version, new seed,
new crops) can never be served stale features; the folder names the dataset
(name, config, version) and the parameters. Files are written atomically.
"""
import functools
import hashlib
import json
import logging
import os

import jax
import jax.numpy as jnp
import numpy as np

from mespot_jax.face import align
from mespot_jax.features import common
from mespot_jax.features import gradients
from mespot_jax.features import lbp as lbp_lib
from mespot_jax.features import sliding
from mespot_jax.io_utils import atomic_path

# Bumped whenever a descriptor's definition changes (invalidates caches).
FEATURE_VERSION = 1
KINDS = ("lbp_top", "hog_top", "higo_top")
METHODS = ("sliding", "positions")


def feature_size(kind: str, grid, bins: int) -> int:
  """Length D of one position's descriptor."""
  check_kind(kind)
  if kind == "lbp_top":
    return lbp_lib.feature_size(grid)
  return gradients.feature_size(grid, bins)


def check_kind(kind: str) -> None:
  if kind not in KINDS:
    raise ValueError(f"feature kind {kind!r}; expected one of {KINDS}")


def _batch_fn(kind, grid, bins):
  """(N, L, H, W) float -> (N, D) float32, jitted."""
  if kind == "lbp_top":
    return lambda v: lbp_lib.lbp_top_batch(v, grid)
  return lambda v: gradients.gradient_top_batch(v, grid, bins,
                                                   kind == "hog_top")


def grey_frames(frames) -> np.ndarray:
  """(T, S, S, C) or (T, S, S) uint8 -> (T, S, S) grey (`align.to_grey_frames`)."""
  return align.to_grey_frames(frames)


def num_positions(num_frames: int, span: int) -> int:
  return max(0, int(num_frames) - int(span) + 1)


def video_features(frames, span: int, kind: str, grid=(1, 1), bins: int = 8,
                   precision: str = "float64", chunk: int = 64,
                   method: str = "sliding") -> np.ndarray:
  """The descriptor of every position of one video.

  Args:
    frames: (T, S, S[, C]) frames (uint8 crops).
    span: L, frames per position.
    kind: one of `KINDS`.
    grid: (rows, cols) blocks.
    bins: orientation bins (HOG-TOP, HIGO-TOP).
    precision: "float64" or "float32" (`common`).
    chunk: positions per jitted call.
    method: "sliding" (per-frame work shared by the positions that hold
      the frame; `features.sliding`) or "positions" (the per-position
      descriptor vmapped over positions; the definition, slower).

  Returns:
    (T - L + 1, D) float32 (zero rows when the video is shorter than L).
  """
  check_kind(kind)
  grey = grey_frames(frames)
  t, h, w = grey.shape
  span, chunk = int(span), max(1, int(chunk))
  if span < 2:
    raise ValueError(f"span={span} frames; expected at least 2")
  grid = common.check_grid(grid, h, w)
  n_pos = num_positions(t, span)
  out = np.zeros((n_pos, feature_size(kind, grid, bins)), np.float32)
  if n_pos == 0:
    return out
  run = _chunk_runner(kind, grid, int(bins), chunk, span, method)
  with common.precision_scope(precision):
    dtype = common.float_dtype(precision)
    for start in range(0, n_pos, chunk):
      count = min(chunk, n_pos - start)
      # A fixed-size frame window per call (the last one padded by
      # repeating its last frame), so every call shares one compilation.
      idx = np.minimum(np.arange(start, start + chunk + span - 1), t - 1)
      feats = run(jnp.asarray(grey[idx], dtype))
      out[start:start + count] = np.asarray(feats)[:count]
  return out


@functools.lru_cache(maxsize=None)
def _chunk_runner(kind, grid, bins, chunk, span, method="sliding"):
  """jit(frames (chunk + L - 1, H, W) -> (chunk, D)) of every position of
  the window: `sliding` shares the per-frame work (`features.sliding`),
  `positions` vmaps the per-position descriptor over the positions."""
  if method == "sliding":
    if kind == "lbp_top":
      return functools.partial(sliding.lbp_top_positions, span=span,
                               grid=grid)
    return functools.partial(sliding.gradient_top_positions, span=span,
                             grid=grid, bins=bins,
                             magnitude=kind == "hog_top")
  if method != "positions":
    raise ValueError(f"method={method!r}; expected one of {METHODS}")
  fn = _batch_fn(kind, grid, bins)
  starts = np.arange(chunk, dtype=np.int32)

  def run(frames_NHW):
    _, h, w = frames_NHW.shape
    zero = jnp.zeros((), jnp.int32)
    vols = jax.vmap(lambda s: jax.lax.dynamic_slice(
        frames_NHW, (s, zero, zero), (span, h, w)))(jnp.asarray(starts))
    return fn(vols)

  return jax.jit(run)


def frames_hash(frames) -> str:
  """SHA-1 of a video's pixels and shape (the cache file key)."""
  f = np.ascontiguousarray(frames)
  h = hashlib.sha1(repr((f.shape, str(f.dtype))).encode())
  h.update(f.tobytes())
  return h.hexdigest()[:16]


class ArrayCache:
  """Per-video arrays on disk, computed on a miss (`root=None`: no cache).

  Layout: `root/<dataset tag>/<kind>_<parameter hash>/<video>_<pixel
  hash>.npy`, with a `params.json` beside the files saying what the
  parameter hash stands for. Files are written atomically; an unreadable
  file (or one of another shape than expected) is computed again.

  Attributes:
    root: cache folder or None.
    dataset_tag: e.g. "synthetic_lv_casme2_1.2.0".
    hits, misses: counters of `get`.
  """

  def __init__(self, root: str | None, dataset_tag: str = "data"):
    self.root = root
    self.dataset_tag = "".join(ch if ch.isalnum() or ch in "._-" else "_"
                               for ch in dataset_tag)
    self.hits = self.misses = 0

  def folder(self, params: dict) -> str:
    key = hashlib.sha1(json.dumps(params, sort_keys=True).encode())
    return os.path.join(self.root, self.dataset_tag,
                        f"{params['kind']}_{key.hexdigest()[:12]}")

  def cached(self, video: str, frames, params: dict, compute,
             shape: tuple | None = None) -> np.ndarray:
    """`compute()` for one video, read from the cache when there.

    Args:
      video: the video's name (part of the file name).
      frames: its frames (their pixel hash is part of the file name).
      params: everything the array depends on, with its `kind` (JSON;
        hashed into the folder name).
      compute: () -> np.ndarray, called on a miss.
      shape: the array's expected shape, checked on a hit (None: any).
    """
    if self.root is None:
      self.misses += 1
      return compute()
    folder = self.folder(params)
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in video)
    path = os.path.join(folder, f"{safe}_{frames_hash(frames)}.npy")
    if os.path.exists(path):
      try:
        out = np.load(path)
        if shape is None or out.shape == tuple(shape):
          self.hits += 1
          return out
      except (OSError, ValueError):
        pass
      logging.warning("%s: unreadable or wrong shape; recomputing", path)
    self.misses += 1
    out = compute()
    os.makedirs(folder, exist_ok=True)
    params_path = os.path.join(folder, "params.json")
    if not os.path.exists(params_path):
      with atomic_path(params_path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
          json.dump(params, f, indent=2)
    with atomic_path(path) as tmp:
      np.save(tmp, out)
    return out


class FeatureCache(ArrayCache):
  """Per-video descriptor arrays on disk (`ArrayCache`, kind = descriptor)."""

  @staticmethod
  def params(span, kind, grid, bins, precision) -> dict:
    return {"version": FEATURE_VERSION, "span": int(span), "kind": kind,
            "grid": [int(g) for g in grid],
            "bins": int(bins) if kind != "lbp_top" else lbp_lib.BINS,
            "precision": precision}

  def get(self, video: str, frames, span: int, kind: str, grid=(1, 1),
          bins: int = 8, precision: str = "float64", chunk: int = 64
          ) -> np.ndarray:
    """`video_features` of one video, read from the cache when there.

    Args:
      video: the video's name (part of the file name).
      frames: its (T, S, S[, C]) frames.
      Others: as `video_features`.

    Returns:
      (T - span + 1, D) float32.
    """
    return self.cached(
        video, frames, self.params(span, kind, grid, bins, precision),
        lambda: video_features(frames, span, kind, grid, bins, precision,
                               chunk),
        (num_positions(len(frames), span), feature_size(kind, grid, bins)))
