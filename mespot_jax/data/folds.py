"""Subject-exclusive folds with validation subjects from training subjects.

Leave-one-subject-out (`make_folds`) or subject-exclusive stratified
k-fold (`make_kfold`: each subject in exactly one test group, the class
counts of every group close to the dataset's proportions).

Model selection (early stopping, thresholds, nothing else) uses the
validation subjects of a fold, which are drawn from that fold's training
subjects. The test subject is never looked at until its final scoring.
"""
import dataclasses
from typing import Sequence

import numpy as np

from mespot_jax.errors import InputError


@dataclasses.dataclass(frozen=True)
class Fold:
  """One fold.

  Attributes:
    index: position of the fold in the run.
    test_subject: the held-out subject ("" for a deploy model on everyone);
      for a k-fold group, its subjects joined with "+" (a name for logs).
    val_subjects: validation subjects (drawn from the training subjects).
    train_subjects: subjects whose frames are trained on.
    held_out: a k-fold group's test subjects (empty for LOSO).
  """
  index: int
  test_subject: str
  val_subjects: tuple[str, ...]
  train_subjects: tuple[str, ...]
  held_out: tuple[str, ...] = ()

  @property
  def test_subjects(self) -> tuple[str, ...]:
    """Every held-out subject of the fold."""
    if self.held_out:
      return self.held_out
    return (self.test_subject,) if self.test_subject else ()


def make_folds(subjects: Sequence[str], num_val_subjects: int, seed: int,
               test_subjects: Sequence[str] = ()) -> list[Fold]:
  """Builds one fold per held-out subject.

  Args:
    subjects: every subject of the dataset.
    num_val_subjects: validation subjects per fold, drawn at random (seeded,
      per fold) from the fold's training subjects.
    seed: seed of the draw.
    test_subjects: subjects to hold out; empty = every subject.

  Returns:
    The folds, in the order of `test_subjects` (or sorted subjects).
  """
  subjects = sorted(set(subjects))
  test_subjects = list(test_subjects) or subjects
  unknown = [s for s in test_subjects if s not in subjects]
  if unknown:
    raise InputError(f"test subjects {unknown} are not in the dataset; "
                     f"subjects are {subjects}")
  if len(subjects) < num_val_subjects + 2:
    raise InputError(
        f"{len(subjects)} subjects cannot give LOSO folds with "
        f"{num_val_subjects} validation subject(s) and at least one training "
        "subject; lower train.num_val_subjects")
  folds = []
  for k, test in enumerate(test_subjects):
    rest = [s for s in subjects if s != test]
    rng = np.random.default_rng([seed, 7919, subjects.index(test)])
    val = tuple(sorted(rng.choice(rest, num_val_subjects, replace=False)))
    train = tuple(s for s in rest if s not in val)
    folds.append(Fold(k, test, val, train))
  return folds


def make_kfold(subject_labels: dict, num_folds: int, num_val_subjects: int,
               seed: int) -> list[Fold]:
  """Subject-exclusive stratified k-fold.

  Subjects are placed one at a time (most units first, ties in a seeded
  order) into the group whose squared distance to its target (`1/num_folds`
  of the dataset's count of every class, and of all units) grows least,
  so groups keep the class proportions and similar sizes. Validation subjects are drawn (seeded, per fold) from
  the fold's training subjects.

  Args:
    subject_labels: subject -> labels (ints >= 0) of its units.
    num_folds: k.
    num_val_subjects: validation subjects per fold.
    seed: seed of the order and the draws.

  Returns:
    k folds; fold k holds out group k.
  """
  subjects = sorted(subject_labels)
  if num_folds < 2 or len(subjects) < num_folds:
    raise InputError(f"{len(subjects)} subjects cannot make {num_folds} "
                     "subject-exclusive folds; lower train.num_folds")
  largest = -(-len(subjects) // num_folds)
  if len(subjects) - largest < num_val_subjects + 1:
    raise InputError(f"{len(subjects)} subjects in {num_folds} folds leave "
                     f"too few training subjects for {num_val_subjects} "
                     "validation subject(s); lower train.num_val_subjects")
  k_classes = 1 + max((max(v) for v in subject_labels.values() if len(v)),
                      default=0)
  counts = {s: np.bincount(np.asarray(subject_labels[s], np.int64),
                           minlength=k_classes) for s in subjects}
  target = sum(counts.values()) / num_folds
  rng = np.random.default_rng([seed, 15485863])
  order = sorted(subjects, key=lambda s: (-counts[s].sum(), rng.random()))
  groups = np.zeros((num_folds, k_classes))
  members = [[] for _ in range(num_folds)]
  for s in order:
    # How much adding s moves group g away from (or towards) its target.
    cost = [((groups[g] + counts[s] - target) ** 2
             - (groups[g] - target) ** 2).sum()
            + (groups[g].sum() + counts[s].sum() - target.sum()) ** 2
            - (groups[g].sum() - target.sum()) ** 2
            for g in range(num_folds)]
    g = int(np.argmin(cost))
    groups[g] += counts[s]
    members[g].append(s)
  folds = []
  for k, held in enumerate(members):
    held = tuple(sorted(held))
    rest = [s for s in subjects if s not in held]
    draw = np.random.default_rng([seed, 7919, 1000 + k])
    val = tuple(sorted(draw.choice(rest, num_val_subjects, replace=False)))
    folds.append(Fold(k, "+".join(held), val,
                      tuple(s for s in rest if s not in val), held))
  return folds


def deploy_fold(subjects: Sequence[str], num_val_subjects: int, seed: int,
                index: int = 0) -> Fold:
  """A fold that trains on every subject but its validation subjects."""
  subjects = sorted(set(subjects))
  rng = np.random.default_rng([seed, 104729])
  val = tuple(sorted(rng.choice(subjects, num_val_subjects, replace=False)))
  return Fold(index, "", val, tuple(s for s in subjects if s not in val))


def known_video_indices(store, fold: Fold) -> list[int]:
  """Videos of a fold's training and validation subjects: everything that
  may shape the fold's choices (skips, interval widths, normalisation)."""
  return store.video_indices(fold.train_subjects + fold.val_subjects)
