"""Two-stream training samples: a reference frame and partners at two skips.

A sample for reference frame t (1-based) of a video with T frames is
`x_SFHWC` with S = 2 streams (short skip s1 for micro, long skip s2 for
macro) and F = 2 frames each: stream k holds frames (t, min(t + s_k, T)).
The target is the reference frame's presence of micro and macro
(multi-label). Training draws reference frames class-aware (neutral, micro,
macro with `class_probs`) from the fold's training subjects, random skips per
stream, and a geometric augmentation (flip, rotation) applied identically to
all frames of a sample so that it never fakes motion; intensity
augmentation parameters travel with the batch and are applied on device.

Frames without a face (`FrameStore.face_found`, the builder's flag) are
never drawn: not as a reference frame, and not as a partner. A reference
frame is a candidate when it has a face and, in each stream, some skip of
the range reaches a partner with one; a draw whose partner has no face is
drawn again (the reference frame and the skips; the class stays). Videos
with a face in every frame are drawn exactly as before.

The fold-stacked batches, their seeding and the validation and oracle
samples are `data.sampler.FoldSampler`'s: every sample is a pure function of
(seed, fold, example index), so the data stream can be resumed exactly from
a step number and chunking folds changes nothing.
"""
import dataclasses
from typing import Sequence

import cv2
import numpy as np

from mespot_jax.data import sampler as sampler_lib
from mespot_jax.data import timing
from mespot_jax.data.folds import Fold
from mespot_jax.data.frames import FrameStore

NEUTRAL, MICRO, MACRO = 0, 1, 2
# Draws of one sample before giving up on finding partners with a face.
_MAX_DRAWS = 1000


def pair_frame_numbers(t, skips, num_frames):
  """Frame numbers (.., S, F) for references `t` and skips (s1, s2)."""
  # Frame t never passes the last one: min(t + (0, s), T) is (t, min(t + s,
  # T)), one array operation (this runs for every training sample).
  offsets = np.zeros((len(skips), 2), np.int64)
  offsets[:, 1] = skips
  return np.minimum(np.asarray(t, np.int64)[..., None, None] + offsets,
                    num_frames)


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
  enabled: bool = True
  intensity_range: tuple[float, float] = (0.5, 1.5)
  flip_prob: float = 0.5
  max_rotation_deg: float = 10.0


class PairSampler(sampler_lib.FoldSampler):
  """Two-stream samples of a set of folds (module docstring).

  Batches: {"x": (K, B, 2, 2, S, S, C) uint8, "y": (K, B, 2) float32,
  "aug": (K, B, 3) float32 gain, gamma, contrast}.
  """

  def __init__(self, store: FrameStore, folds: Sequence[Fold], *,
               random_skips, skip_fps: float, class_probs, augment,
               seed: int):
    """Args:
      store: the frames.
      folds: the folds whose training subjects are sampled.
      random_skips: ((lo1, hi1), (lo2, hi2)) frames at `skip_fps`, inclusive.
      skip_fps: frame rate the skips are given at.
      class_probs: probabilities of a neutral, micro, macro reference frame.
      augment: an `AugmentConfig` (or anything with its fields).
      seed: base seed.
    """
    self.random_skips = tuple(tuple(r) for r in random_skips)
    self.skip_fps = float(skip_fps)
    self.class_probs = np.asarray(class_probs, np.float64)
    self.augment = augment
    # Reference-frame candidates per video and class (0-based indices):
    # frames with a face whose partners can have one.
    self._faces = [np.asarray(store.face_found(v), bool)
                   for v in range(len(store.videos))]
    self._cands = []
    for lab, face, meta in zip(store.labels, self._faces, store.videos):
      ok = self._reaches_faces(face, meta.fps)
      self._cands.append((np.flatnonzero((lab.sum(1) == 0) & ok),
                          np.flatnonzero(lab[:, 0] & ok),
                          np.flatnonzero(lab[:, 1] & ok)))
    super().__init__(store, folds, seed)

  def _reaches_faces(self, face_T, fps) -> np.ndarray:
    """(T,) bool: frame t has a face and, per stream, a skip of the range
    whose partner min(t + s, T) has one."""
    if face_T.all():
      return face_T
    t = np.arange(len(face_T))
    ok = face_T.copy()
    for lo, hi in self.random_skips:
      reach = np.zeros_like(face_T)
      for s in set(timing.rescale_skips(range(lo, hi + 1), self.skip_fps,
                                        fps)):
        reach |= face_T[np.minimum(t + s, len(face_T) - 1)]
      ok &= reach
    return ok

  def make_pool(self, fold, subjects):
    """Per class: videos, cumulative candidate counts; class probabilities
    (classes without a candidate left out)."""
    del fold
    video_indices = self.units(subjects)
    pool = []
    for c in range(3):
      counts = np.array([len(self._cands[v][c]) for v in video_indices],
                        np.int64)
      pool.append((video_indices, np.cumsum(counts)))
    probs = np.array([self.class_probs[c] if p[1].size and p[1][-1] else 0.
                      for c, p in enumerate(pool)])
    if probs.sum() == 0:
      raise ValueError("no frames to sample from (no videos in the pool)")
    return pool, probs / probs.sum()

  def _draw_frames(self, rng, classes, c):
    """(video, reference frame, frame numbers (S, F)) of one draw of class
    `c`, every frame with a face."""
    vids, cum = classes[c]
    for _ in range(_MAX_DRAWS):
      j = rng.integers(cum[-1])
      k = int(np.searchsorted(cum, j, side="right"))
      before = cum[k - 1] if k else 0
      v = int(vids[k])
      t = int(self._cands[v][c][j - before]) + 1
      meta = self.store.videos[v]
      skips = timing.rescale_skips(
          [rng.integers(lo, hi + 1) for lo, hi in self.random_skips],
          self.skip_fps, meta.fps)
      nums = pair_frame_numbers(t, skips, meta.num_frames)  # (S, F)
      if self._faces[v][nums - 1].all():
        return v, t, nums
    raise ValueError(  # all but impossible: some skip reaches a face
        f"no {('neutral', 'micro', 'macro')[c]} sample with a face in every "
        f"frame in {_MAX_DRAWS} draws")

  def draw(self, rng, fold, pool, train: bool, slot) -> dict:
    """{"x": (2, 2, S, S, C) uint8, "y": (2,) float32 micro, macro
    presence, "aug": (3,) float32 gain, gamma, contrast} of one sample;
    geometric and intensity augmentation when training."""
    del fold, slot
    (classes, probs) = pool
    c = rng.choice(3, p=probs)
    v, t, nums = self._draw_frames(rng, classes, c)
    # The distinct frames (a partner may be the last frame twice), read
    # and augmented once each.
    flat = nums.ravel().tolist()
    uniq = sorted(set(flat))
    inv = np.array([uniq.index(n) for n in flat]).reshape(nums.shape)
    frames = self.store.get(v, uniq)
    aug = np.ones(3, np.float32)
    if train and self.augment.enabled:
      frames = self._geometric(rng, frames)
      lo, hi = self.augment.intensity_range
      aug = rng.uniform(lo, hi, 3).astype(np.float32)
    x = frames[inv]
    y = self.store.labels[v][t - 1].astype(np.float32)
    return {"x": x, "y": y, "aug": aug}

  def _geometric(self, rng, frames):
    flip = rng.random() < self.augment.flip_prob
    angle = rng.uniform(-1, 1) * self.augment.max_rotation_deg
    size = frames.shape[1]
    m = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), angle, 1.0)
    if flip:  # mirror after rotating: x -> size - 1 - x
      m[0] = -m[0]
      m[0, 2] += size - 1
    out = np.empty_like(frames)
    for i, f in enumerate(frames):
      out[i] = cv2.warpAffine(f, m, (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT101
                              ).reshape(f.shape)
    return out
