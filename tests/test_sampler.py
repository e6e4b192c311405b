"""The fold-stacked sampler base (data.sampler) and its specialisations.

Stores whose pixels carry their subject show which subjects a batch was
drawn from: a fold's training batches only from its training subjects
(never its validation or test subject), its validation batches only from
its validation subjects, its oracle batches only from its test subject.
Batches are (K, B, ...), a pure function of (seed, fold, example): the same
seed draws the same batches whatever the number of steps or the other folds
of the sampler, another seed other ones. A class-balanced clip sampler
draws every class a third of the time, within bounds worked out below.
"""
import numpy as np
import pytest

from mespot_jax.data import clip_samples
from mespot_jax.data import folds as folds_lib
from mespot_jax.data import sampler as sampler_lib
from mespot_jax.data import samples
from mespot_jax.data.clip_store import ClipStore
from mespot_jax.data.clips import ClipMeta
from mespot_jax.data.frames import FrameStore
from mespot_jax.data.schema import Interval
from mespot_jax.data.source import VideoMeta
from mespot_jax.methods import lbcnn

SUBJECTS = [f"s{i}" for i in range(1, 6)]
SIZE, T = 8, 30


def _subject_of(x_KB) -> np.ndarray:
  """(K, B) subject number of each example, from its pixels (all equal)."""
  flat = x_KB.reshape(x_KB.shape[:2] + (-1,)).astype(int)
  assert (flat == flat[..., :1]).all()  # one subject per example
  return flat[..., 0] // 10


def _frame_store() -> FrameStore:
  """Two videos per subject, every pixel 10 * subject + video; a micro and
  a macro interval in each video."""
  metas, arrays = [], []
  for i, s in enumerate(SUBJECTS):
    for j in range(2):
      arrays.append(np.full((T, SIZE, SIZE, 1), 10 * (i + 1) + j, np.uint8))
      metas.append(VideoMeta(len(metas), f"v{i}_{j}", s, 30.0, T,
                             len(metas) * T, (Interval("micro", 5, 8),
                                              Interval("macro", 15, 24))))
  return FrameStore.from_arrays(metas, arrays)


class _Frames(sampler_lib.FoldSampler):
  """The smallest specialisation: a frame of a pool's video, uniformly."""

  def draw(self, rng, fold, pool, train, slot):
    del fold
    v = int(pool[rng.integers(len(pool))])
    t = int(rng.integers(1, self.store.videos[v].num_frames + 1))
    return {"x": self.store.get(v, [t])[0], "slot": np.int32(slot.index),
            "train": np.bool_(train)}


FOLDS = folds_lib.make_folds(SUBJECTS, 1, 0)


def _make(kind, seed=0, folds=FOLDS):
  store = _frame_store()
  if kind == "base":
    return _Frames(store, folds, seed)
  if kind == "pair":
    return samples.PairSampler(
        store, folds, random_skips=((1, 3), (4, 8)), skip_fps=30.0,
        class_probs=(0.4, 0.3, 0.3), augment=samples.AugmentConfig(),
        seed=seed)
  return lbcnn.FrameSampler(store, folds, class_probs=(1 / 3,) * 3,
                            augment=samples.AugmentConfig(), seed=seed)


def _equal(a: dict, b: dict) -> bool:
  return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_shapes_slots_and_train_flag():
  s = _make("base")
  ds = s.train_dataset(3, 5)
  assert len(ds) == 5
  b = ds[4]
  assert b["x"].shape == (len(FOLDS), 3, SIZE, SIZE, 1)
  assert b["x"].dtype == np.uint8
  assert b["slot"].tolist() == [[0, 1, 2]] * len(FOLDS)
  assert b["train"].all()
  v = s.val_batch(7)
  assert v["x"].shape == (len(FOLDS), 7, SIZE, SIZE, 1)
  assert not v["train"].any()
  pair = _make("pair").train_batch(0, 4)
  assert pair["x"].shape == (len(FOLDS), 4, 2, 2, SIZE, SIZE, 1)
  assert pair["y"].shape == (len(FOLDS), 4, 2)
  assert pair["aug"].shape == (len(FOLDS), 4, 3)


@pytest.mark.parametrize("kind", ["base", "pair", "frame"])
def test_same_seed_same_batches_other_seed_others(kind):
  a, b, other = _make(kind), _make(kind), _make(kind, seed=1)
  ds = a.train_dataset(4, 6)
  for step in range(6):
    assert _equal(ds[step], b.train_dataset(4, 6)[step])
    # Random access, whatever the number of steps.
    assert _equal(ds[step], b.train_batch(step, 4))
  assert not _equal(ds[0], other.train_batch(0, 4))
  assert not _equal(ds[0], ds[1])  # another step, other examples
  assert _equal(a.val_batch(16), b.val_batch(16))
  assert not _equal(a.val_batch(16), other.val_batch(16))
  assert _equal(a.oracle_batch(16), b.oracle_batch(16))
  # A fold drawn alone draws what it draws among the others.
  alone = _make(kind, folds=FOLDS[2:3])
  got, full = alone.train_batch(3, 4), a.train_batch(3, 4)
  assert _equal(got, {k: v[2:3] for k, v in full.items()})
  assert _equal(alone.val_batch(8), {k: v[2:3] for k, v in
                                     a.val_batch(8).items()})


@pytest.mark.parametrize("kind", ["base", "pair", "frame"])
def test_folds_draw_only_their_subjects(kind):
  s = _make(kind)
  number = {f"s{i}": i for i in range(1, 6)}
  train = np.concatenate([_subject_of(s.train_batch(step, 8)["x"])
                          for step in range(10)], axis=1)
  val = _subject_of(s.val_batch(32)["x"])
  oracle = _subject_of(s.oracle_batch(32)["x"])
  for k, f in enumerate(FOLDS):
    want = {number[x] for x in f.train_subjects}
    # 80 draws over 3 subjects: every one drawn (all but surely).
    assert set(train[k].tolist()) == want, (f, train[k])
    assert number[f.test_subject] not in train[k]
    assert not {number[x] for x in f.val_subjects} & set(train[k].tolist())
    assert set(val[k].tolist()) == {number[x] for x in f.val_subjects}
    assert set(oracle[k].tolist()) == {number[f.test_subject]}


def _clip_store(labels_by_subject, coded=False):
  """Clips of 3 frames, 4x4; with `coded` every pixel of a clip is 10 *
  subject number + its class, else random."""
  clips, labels = [], []
  for subj, labs in labels_by_subject.items():
    for j, lab in enumerate(labs):
      i = len(clips)
      clips.append(ClipMeta(i, f"{subj}_{j}", subj, subj, "toy", 30.0, 1, 10,
                            0, 1, 5, 10, True, "", "", lab, ""))
      labels.append(lab)
  rng = np.random.default_rng(0)
  x = rng.integers(0, 256, (len(clips), 3, 4, 4, 1)).astype(np.uint8)
  if coded:
    codes = [10 * int(c.subject[1:]) + lab for c, lab in zip(clips, labels)]
    x = np.broadcast_to(np.asarray(codes, np.uint8)[:, None, None, None,
                                                     None], x.shape).copy()
  return ClipStore(clips, x, np.array(labels, np.int32),
                   ("negative", "positive", "surprise"), 4, 1, "3class")


def test_clip_folds_draw_only_their_subjects_and_pad_fixed_sets():
  store = _clip_store({s: [0, 1, 2] * (i + 1) for i, s in
                       enumerate(SUBJECTS)}, coded=True)
  s = clip_samples.ClipSampler(store, FOLDS, seed=0,
                               augment=clip_samples.ClipAugment(False))
  number = {f"s{i}": i for i in range(1, 6)}
  train = np.concatenate([_subject_of(s.train_batch(step, 8)["x"])
                          for step in range(10)], axis=1)
  for k, f in enumerate(FOLDS):
    assert set(train[k].tolist()) == {number[x] for x in f.train_subjects}
  for batch, subjects_of in ((s.val_batch(4), lambda f: f.val_subjects),
                             (s.oracle_batch(4), lambda f: f.test_subjects)):
    # Every subject has at least 3 clips: 3 or 4 per fold, the rest padded.
    for k, f in enumerate(FOLDS):
      real = batch["w"][k] == 1
      n = min(4, 3 * (number[subjects_of(f)[0]]))
      assert real.tolist() == [True] * n + [False] * (4 - n)
      got = _subject_of(batch["x"][k:k + 1, real])[0]
      assert set(got.tolist()) == {number[x] for x in subjects_of(f)}
  assert _equal(s.val_batch(4), clip_samples.ClipSampler(
      store, FOLDS, seed=0, augment=clip_samples.ClipAugment(False)
  ).val_batch(4))


def test_balanced_clips_draw_every_class_a_third_of_the_time():
  # Training subjects a and b: 60 clips of class 0, 6 of 1, 3 of 2.
  store = _clip_store({"a": [0] * 30 + [1] * 6, "b": [0] * 30 + [2] * 3,
                       "c": [0, 1, 2]})
  fold = folds_lib.Fold(0, "c", (), ("a", "b"))
  originals = {store.x[i].tobytes() for i in range(len(store.clips))}
  # Augmentations that always show (a tiny clip's salt-and-pepper mask is
  # often empty at the default amounts, a gain near 1 may change nothing).
  strong = clip_samples.ClipAugment(brightness=(1.5, 2.0),
                                    salt_pepper=(0.5, 0.6))
  s = clip_samples.ClipSampler(store, [fold], augment=strong, seed=0)
  batches = [s.train_batch(step, 50) for step in range(60)]
  y = np.concatenate([b["y"][0] for b in batches])
  x = np.concatenate([b["x"][0] for b in batches])
  counts = np.bincount(y, minlength=3)
  # N = 3000 independent draws, each class with p = 1/3: the mean is 1000,
  # the standard deviation sqrt(N p (1 - p)) = 25.8; 4 of them: 103.
  assert np.all(np.abs(counts - 1000) <= 103), counts
  # A clip of class c is augmented with probability 1 - n_c / 60: never in
  # class 0; in class 1 (n = 6) with 0.9: about 900 of its ~1000 draws,
  # binomial standard deviation sqrt(1000 * 0.9 * 0.1) = 9.5, 4 of them 38.
  augmented = np.array([a.tobytes() not in originals for a in x])
  assert not augmented[y == 0].any()
  assert abs(augmented[y == 1].sum() - 0.9 * counts[1]) <= 38
  # Without balancing classes come as often as their clips: class 0 with
  # p = 60/69, mean 2608.7, standard deviation 18.4, 4 of them 74.
  plain = clip_samples.ClipSampler(store, [fold], balance=False, seed=0)
  y = np.concatenate([plain.train_batch(step, 50)["y"][0]
                      for step in range(60)])
  assert abs((y == 0).sum() - 3000 * 60 / 69) <= 74


def test_stream_seeds_differ_by_purpose_and_fold():
  seeds = {sampler_lib.stream_seed(0, p, k) for p in sampler_lib.PURPOSES
           for k in range(20)}
  assert len(seeds) == 60
  assert sampler_lib.stream_seed(0, "train", 3) == sampler_lib.stream_seed(
      0, "train", 3)
