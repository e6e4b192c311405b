"""Batches of clips for recognition training, with minority-class augmentation.

`ClipSampler(store, folds, ...)` draws, per fold, clips of the fold's
training subjects (`train_dataset`), and fixed sets of its validation
subjects (`val_batch`) and, for the oracle only, of its test subjects
(`oracle_batch`). Batches are fold-stacked: `x` (K, B, T, S, S, C) uint8,
`y` (K, B) int32, `w` (K, B) float32 (1 for a real clip, 0 for padding:
fixed sets of folds with fewer clips are padded so they stack). The folds'
loop and its seeding are `data.sampler.FoldSampler`'s.

Class imbalance (Shukla et al., section 3.3): with `balance` a training
draw picks a class uniformly, then one of its clips, so minority classes
are seen as often as the majority; a clip of a class with n_c clips (the
largest class n_max) is augmented with probability 1 - n_c / n_max (never
in the largest class), a random choice per sample, so no class is
saturated with augmented copies. Augmentation: a horizontal flip, a
brightness change and salt-and-pepper noise, each with probability 1/2
(at least one), the same on every frame of the clip.
"""
import dataclasses
from typing import Sequence

import numpy as np

from mespot_jax.data import sampler as sampler_lib


@dataclasses.dataclass(frozen=True)
class ClipAugment:
  """Augmentation of minority-class clips (module docstring).

  Attributes:
    enabled: augment at all.
    brightness: range of the brightness gain.
    salt_pepper: range of the fraction of pixels set to 0 or 255.
  """
  enabled: bool = True
  brightness: tuple[float, float] = (0.7, 1.3)
  salt_pepper: tuple[float, float] = (0.005, 0.03)


def augment_clip(rng: np.random.Generator, x_TSSC: np.ndarray,
                 cfg: ClipAugment) -> np.ndarray:
  """Flip, brightness and/or salt-and-pepper noise, the same on every frame.

  Args:
    rng: random generator.
    x_TSSC: one clip, uint8.
    cfg: ranges.

  Returns:
    The augmented clip (a new array), uint8.
  """
  ops = rng.random(3) < 0.5
  if not ops.any():
    ops[rng.integers(3)] = True
  x = x_TSSC
  if ops[0]:
    x = x[:, :, ::-1]
  if ops[1]:
    x = np.clip(x.astype(np.float32) * rng.uniform(*cfg.brightness), 0, 255)
  x = np.array(x, np.uint8)
  if ops[2]:
    amount = rng.uniform(*cfg.salt_pepper)
    mask = rng.random(x.shape[1:3]) < amount
    salt = rng.random(x.shape[1:3]) < 0.5
    x[:, mask & salt] = 255
    x[:, mask & ~salt] = 0
  return x


def fixed_batch(sampler: sampler_lib.FoldSampler, purpose: str, n: int,
                x_N: np.ndarray, dtype=None) -> dict:
  """Up to `n` clips per fold of `purpose` (`FoldSampler.fixed_subsets`: a
  seeded subset when there are more), padded with weight 0 to the largest
  fold's count so that the folds stack.

  Args:
    sampler: the folds, their subjects and the seed; its `store` has the
      clips' `labels`.
    purpose: `data.sampler.VAL` or `ORACLE`.
    n: most clips per fold.
    x_N: the per-clip inputs, indexed by clip.
    dtype: of the stacked inputs (default: `x_N`'s).

  Returns:
    {"x": (folds, B, ...), "y": (folds, B) int32, "w": (folds, B) float32}.
  """
  sets = sampler.fixed_subsets(purpose, n)
  b = max(1, max(len(s) for s in sets))
  x = np.zeros((len(sets), b) + x_N.shape[1:], dtype or x_N.dtype)
  y = np.zeros((len(sets), b), np.int32)
  w = np.zeros((len(sets), b), np.float32)
  for k, ids in enumerate(sets):
    x[k, :len(ids)] = x_N[ids]
    y[k, :len(ids)] = sampler.store.labels[ids]
    w[k, :len(ids)] = 1.0
  return {"x": x, "y": y, "w": w}


@dataclasses.dataclass(frozen=True)
class ClassPool:
  """A fold's training clips by class.

  Attributes:
    ids: (N,) the clips.
    by_class: per class present, its clips.
    p_aug: class -> the probability that a drawn clip of it is augmented,
      1 - n_c / n_max (module docstring).
  """
  ids: np.ndarray
  by_class: tuple[np.ndarray, ...]
  p_aug: dict

  @classmethod
  def of(cls, ids: np.ndarray, labels_N: np.ndarray) -> "ClassPool":
    """The pool of clips `ids` whose labels are `labels_N`."""
    classes, counts = np.unique(labels_N, return_counts=True)
    return cls(ids, tuple(ids[labels_N == c] for c in classes),
               dict(zip(classes.tolist(), 1.0 - counts / counts.max())))

  def pick(self, rng: np.random.Generator, balance: bool) -> int:
    """One clip: with `balance` a class uniformly, then one of its clips;
    else a clip uniformly."""
    if balance:
      members = self.by_class[rng.integers(len(self.by_class))]
      return int(members[rng.integers(len(members))])
    return int(self.ids[rng.integers(len(self.ids))])


class ClipSampler(sampler_lib.FoldSampler):
  """Fold-stacked clip batches (module docstring)."""

  def __init__(self, store, folds: Sequence, *, balance: bool = True,
               augment: ClipAugment = ClipAugment(), seed: int = 0):
    self.balance = balance
    self.augment = augment
    super().__init__(store, folds, seed)

  def make_pool(self, fold, subjects) -> ClassPool:
    """The fold's clips of `subjects` by class (training draws only)."""
    ids = self.units(subjects)
    if not ids.size:
      raise ValueError(f"fold {fold.index} (test {fold.test_subject}): its "
                       "training subjects have no labelled clip")
    return ClassPool.of(ids, self.store.labels[ids])

  def draw(self, rng, fold, pool: ClassPool, train: bool, slot) -> dict:
    """{"x": (T, S, S, C) uint8, "y": () int32, "w": () float32} of one
    training clip, augmented with its class's probability."""
    del fold, train, slot  # only training clips are drawn
    i = pool.pick(rng, self.balance)
    x, y = self.store.x[i], int(self.store.labels[i])
    if self.augment.enabled and rng.random() < pool.p_aug[y]:
      x = augment_clip(rng, x, self.augment)
    return {"x": x, "y": np.int32(y), "w": np.float32(1.0)}

  def fixed_batch(self, purpose: str, n: int) -> dict:
    """Fixed sets of clips, padded (`fixed_batch`)."""
    return fixed_batch(self, purpose, n, self.store.x, np.uint8)
