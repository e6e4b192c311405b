"""Batches of clips for recognition training, with minority-class augmentation.

`ClipSampler(store, folds, ...)` draws, per fold, clips of the fold's
training subjects (`train_dataset`), and fixed sets of its validation
subjects (`val_batch`) and, for the oracle only, of its test subjects
(`oracle_batch`). Batches are fold-stacked: `x` (K, B, T, S, S, C) uint8,
`y` (K, B) int32, `w` (K, B) float32 (1 for a real clip, 0 for padding:
fixed sets of folds with fewer clips are padded so they stack).

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

import grain
import numpy as np


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


def fixed_batch(store, folds, subjects_of, n: int, seed: int, salt: int,
                x_N: np.ndarray, dtype=None) -> dict:
  """Up to `n` clips per fold of `subjects_of(fold)` (a seeded subset when
  there are more), padded with weight 0 to the largest fold's count.

  Args:
    store: the clips (`video_indices`, `labels`).
    folds: the folds, stacked in this order.
    subjects_of: fold -> its subjects to draw from.
    n: most clips per fold.
    seed, salt: seed the subset (`[seed, salt, fold.index]`).
    x_N: the per-clip inputs, indexed by clip.
    dtype: of the stacked inputs (default: `x_N`'s).

  Returns:
    {"x": (folds, B, ...), "y": (folds, B) int32, "w": (folds, B) float32}.
  """
  sets = []
  for f in folds:
    ids = np.asarray(store.video_indices(subjects_of(f)), np.int64)
    if len(ids) > n:
      rng = np.random.default_rng([seed, salt, f.index])
      ids = np.sort(rng.choice(ids, n, replace=False))
    sets.append(ids)
  b = max(1, max(len(s) for s in sets))
  x = np.zeros((len(sets), b) + x_N.shape[1:], dtype or x_N.dtype)
  y = np.zeros((len(sets), b), np.int32)
  w = np.zeros((len(sets), b), np.float32)
  for k, ids in enumerate(sets):
    x[k, :len(ids)] = x_N[ids]
    y[k, :len(ids)] = store.labels[ids]
    w[k, :len(ids)] = 1.0
  return {"x": x, "y": y, "w": w}


class ClipSampler:
  """Fold-stacked clip batches (module docstring)."""

  def __init__(self, store, folds: Sequence, *, balance: bool = True,
               augment: ClipAugment = ClipAugment(), seed: int = 0):
    self.store = store
    self.folds = list(folds)
    self.balance = balance
    self.augment = augment
    self.seed = seed
    self._train = [np.asarray(store.video_indices(f.train_subjects), np.int64)
                   for f in self.folds]
    for f, ids in zip(self.folds, self._train):
      if not ids.size:
        raise ValueError(f"fold {f.index} (test {f.test_subject}): its "
                         "training subjects have no labelled clip")

  def _draw(self, rng, ids: np.ndarray, n: int):
    labels = self.store.labels[ids]
    classes, counts = np.unique(labels, return_counts=True)
    if self.balance:
      cls = classes[rng.integers(len(classes), size=n)]
      pick = np.array([rng.choice(ids[labels == c]) for c in cls])
    else:
      pick = rng.choice(ids, n)
    p_aug = dict(zip(classes, 1.0 - counts / counts.max()))
    xs = []
    for i in pick:
      x = self.store.x[i]
      if self.augment.enabled and rng.random() < p_aug[self.store.labels[i]]:
        x = augment_clip(rng, x, self.augment)
      xs.append(x)
    return np.stack(xs), self.store.labels[pick].astype(np.int32)

  def train_batch(self, step: int, batch_size: int) -> dict:
    """The batch of a training step (deterministic in seed and step)."""
    xs, ys = [], []
    for f, ids in zip(self.folds, self._train):
      rng = np.random.default_rng([self.seed, 31, f.index, step])
      x, y = self._draw(rng, ids, batch_size)
      xs.append(x)
      ys.append(y)
    return {"x": np.stack(xs), "y": np.stack(ys),
            "w": np.ones((len(self.folds), batch_size), np.float32)}

  def _fixed(self, subjects_of, n: int, salt: int) -> dict:
    return fixed_batch(self.store, self.folds, subjects_of, n, self.seed,
                       salt, self.store.x, np.uint8)

  def val_batch(self, num_samples: int) -> dict:
    """The fixed validation clips of every fold (validation subjects)."""
    return self._fixed(lambda f: f.val_subjects, num_samples, 41)

  def oracle_batch(self, num_samples: int) -> dict:
    """The fold's test clips (the oracle only)."""
    return self._fixed(lambda f: f.test_subjects, num_samples, 43)

  def train_dataset(self, batch_size: int, num_steps: int) -> grain.MapDataset:
    """`num_steps` training batches, random access by step."""
    return grain.MapDataset.range(num_steps).map(
        lambda i: self.train_batch(int(i), batch_size))
