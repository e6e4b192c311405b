"""Leave-one-subject-out folds with validation subjects from training subjects.

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
  """One LOSO fold.

  Attributes:
    index: position of the fold in the run.
    test_subject: the held-out subject ("" for a deploy model on everyone).
    val_subjects: validation subjects (drawn from the training subjects).
    train_subjects: subjects whose frames are trained on.
  """
  index: int
  test_subject: str
  val_subjects: tuple[str, ...]
  train_subjects: tuple[str, ...]


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
