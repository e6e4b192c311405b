"""Fold-stacked samplers: one loop over folds for every trained method.

The training loop (`train.loop`) trains every fold at once, so a batch is a
dict of arrays stacked over folds: leading axis K (the folds), then the
batch. `FoldSampler` owns everything the methods' samplers share; a
specialisation says only what a fold's pool of units holds (`make_pool`,
e.g. its videos' candidate frames per class) and how one example is drawn
from it (`draw`).

Pools. Per fold and purpose -- `TRAIN` (the fold's training subjects),
`VAL` (its validation subjects) or `ORACLE` (its test subjects, read by
the leaky oracle only) -- the pool holds the units (videos, clips) of
those subjects (`subjects_of`). Training pools are made when the sampler
is, so a fold with nothing to train on fails at once.

One RNG rule. Each fold's examples of a purpose are a grain pipeline

  MapDataset.range(n).seed(stream_seed(seed, purpose, fold.index))
      .random_map(draw)

so example i of a fold is drawn with grain's generator of index i in a
pipeline seeded from (seed, purpose, fold index), and from nothing else:
not the other folds of the sampler (a fold trained alone, as the audit
does, sees the batches it sees in a full run, and chunking folds changes
nothing), not the number of steps, not the process (every process of a
multi-host run draws the same batches). The folds' pipelines are zipped
and batched: training batch `step` holds examples step * B .. step * B +
B - 1 of every fold, so the stream resumes exactly from a step number.
Validation and oracle batches are fixed: the first n examples of their
pipelines, drawn with `train=False` (no augmentation); samplers of whole
units (the recognition clips) take a fixed subset of the units instead
(`fixed_subsets`, grain's `shuffle`).
"""
import dataclasses
from typing import Any, Sequence

import grain
import numpy as np

from mespot_jax.data.folds import Fold

TRAIN, VAL, ORACLE = "train", "val", "oracle"
PURPOSES = (TRAIN, VAL, ORACLE)


def stream_seed(seed: int, purpose: str, fold_index: int) -> int:
  """The grain seed of a fold's pipeline of one purpose (module docstring).

  Args:
    seed: the run's seed (`config.seed`), >= 0.
    purpose: one of `PURPOSES`.
    fold_index: `Fold.index`.

  Returns:
    A 32-bit seed for `MapDataset.seed`.
  """
  return int(np.random.SeedSequence(
      [int(seed), PURPOSES.index(purpose), int(fold_index)]).generate_state(
          1, np.uint32)[0])


@dataclasses.dataclass(frozen=True)
class Slot:
  """Where an example goes in its batch.

  Most samplers ignore it; one that lays its batches out (the part-based
  recogniser's source examples after its target clips) reads it.

  Attributes:
    index: the example's position in its batch, 0 .. size - 1.
    size: the batch size.
  """
  index: int
  size: int


def stack_folds(examples: Sequence[Sequence[dict]]) -> dict:
  """B examples of K folds -> one batch, every array (K, B, ...).

  Args:
    examples: B tuples (one per batch position) of K dicts of arrays (one
      per fold), as a zip of the folds' pipelines yields them.

  Returns:
    A dict of arrays with the examples' keys.
  """
  b, k = len(examples), len(examples[0])
  out = {}
  for name, first in examples[0][0].items():
    first = np.asarray(first)
    arr = np.empty((k, b) + first.shape, first.dtype)
    for f in range(k):  # one copy, straight into place
      np.stack([per_fold[f][name] for per_fold in examples], out=arr[f])
    out[name] = arr
  return out


class FoldSampler:
  """Fold-stacked training, validation and oracle batches (module doc).

  A specialisation sets its own attributes, then calls
  `FoldSampler.__init__` (which makes the training pools), and defines
  `draw` and, unless a pool is the array of the subjects' units,
  `make_pool`.

  Attributes:
    store: the data (`video_indices`; the loop reads `store` for the
      method's example input).
    folds: the folds, stacked in this order.
    seed: the run's seed.
  """

  def __init__(self, store, folds: Sequence[Fold], seed: int):
    self.store = store
    self.folds = list(folds)
    self.seed = int(seed)
    self._pools = {}
    self.pools(TRAIN)

  # ------------------------------------------------- what subclasses say
  def subjects_of(self, fold: Fold, purpose: str) -> tuple[str, ...]:
    """The subjects whose units a fold's pool of `purpose` holds."""
    if purpose == TRAIN:
      return tuple(fold.train_subjects)
    if purpose == VAL:
      return tuple(fold.val_subjects)
    if purpose == ORACLE:
      return tuple(fold.test_subjects)
    raise ValueError(f"purpose {purpose!r}; expected one of {PURPOSES}")

  def make_pool(self, fold: Fold, subjects: Sequence[str]) -> Any:
    """What `draw` draws from for a fold (default: `units(subjects)`).

    Made once per fold and purpose; raise here when there is nothing to
    draw (the message naming the fold or the subjects).
    """
    del fold
    return self.units(subjects)

  def draw(self, rng: np.random.Generator, fold: Fold, pool: Any,
           train: bool, slot: Slot) -> dict:
    """One example of a fold: a dict of arrays (no fold or batch axis).

    Args:
      rng: grain's generator of this example (use it, and only it, for
        every random choice: the draw must be a function of it).
      fold: the fold.
      pool: the fold's `make_pool` of the purpose.
      train: a training example (augment) or a fixed one (do not).
      slot: the example's place in its batch.

    Returns:
      The same keys, shapes and dtypes for every example of a sampler.
      Index the store's units for the frames it needs: never copy a whole
      video (this runs for every example of every step).
    """
    raise NotImplementedError

  # ------------------------------------------------------------- helpers
  def units(self, subjects: Sequence[str]) -> np.ndarray:
    """(N,) int64 indices of the store's units of `subjects`."""
    return np.asarray(self.store.video_indices(subjects), np.int64)

  def pools(self, purpose: str) -> list:
    """Per fold, its pool of `purpose` (made once)."""
    if purpose not in self._pools:
      self._pools[purpose] = [
          self.make_pool(f, self.subjects_of(f, purpose)) for f in self.folds]
    return self._pools[purpose]

  def fold_stream(self, purpose: str, k: int, n: int,
                  batch_size: int) -> grain.MapDataset:
    """Examples 0 .. n - 1 of fold `self.folds[k]` for `purpose`."""
    fold, pool = self.folds[k], self.pools(purpose)[k]
    train = purpose == TRAIN

    def example(i, rng):
      return self.draw(rng, fold, pool, train,
                       Slot(int(i) % batch_size, batch_size))

    # `range`, not `source(range(n))`: a source records read metrics of
    # every element, 12 us each, a fifth of a 3D-CNN sample's cost.
    return (grain.MapDataset.range(n)
            .seed(stream_seed(self.seed, purpose, fold.index))
            .random_map(example))

  def _batches(self, purpose: str, batch_size: int,
               num_batches: int) -> grain.MapDataset:
    if not self.folds:
      raise ValueError("a sampler without folds has no batches")
    n = batch_size * num_batches
    streams = [self.fold_stream(purpose, k, n, batch_size)
               for k in range(len(self.folds))]
    return grain.experimental.ZipMapDataset(streams).batch(
        batch_size, batch_fn=stack_folds)

  def fixed_subsets(self, purpose: str, n: int) -> list[np.ndarray]:
    """Per fold, up to `n` of its units of `purpose` (sorted): all of them
    when there are no more, else the first n of grain's seeded shuffle."""
    out = []
    for f in self.folds:
      ids = self.units(self.subjects_of(f, purpose))
      if len(ids) > n:
        shuffled = (grain.MapDataset.source(ids)
                    .seed(stream_seed(self.seed, purpose, f.index))
                    .shuffle())
        ids = np.sort(np.asarray(list(shuffled[:n]), np.int64))
      out.append(ids)
    return out

  # ---------------------------------------------------- what loop.py reads
  def train_dataset(self, batch_size: int,
                    num_steps: int) -> grain.MapDataset:
    """`num_steps` training batches, element i that of step i (random
    access, so the loop resumes from a step)."""
    return self._batches(TRAIN, batch_size, num_steps)

  def train_batch(self, step: int, batch_size: int) -> dict:
    """The training batch of global step `step`."""
    return self.train_dataset(batch_size, step + 1)[step]

  def fixed_batch(self, purpose: str, n: int) -> dict:
    """The fixed batch of `purpose`: n examples of every fold, drawn with
    `train=False` (a sampler of whole units overrides it)."""
    return self._batches(purpose, n, 1)[0]

  def val_batch(self, n: int) -> dict:
    """Fixed examples of every fold's validation subjects."""
    return self.fixed_batch(VAL, n)

  def oracle_batch(self, n: int) -> dict:
    """Fixed examples of every fold's TEST subjects: only the oracle (the
    epoch leaky code would pick) reads them, nothing honest does."""
    return self.fixed_batch(ORACLE, n)
