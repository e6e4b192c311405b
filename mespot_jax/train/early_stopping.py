"""Per-fold early stopping as a pure function of its state and one metric.

    state = early_stopping.init(num_folds, num_padded)
    state, improved_K = early_stopping.update(state, metric_K, epoch,
                                              patience, mode)

`mode` says how the watched validation metric is read: "min" (a loss),
"max" (an AUC, an F1) or "none" (no early stopping: every epoch of an
active fold counts as improved, so each fold keeps its last weights and
never stops). A fold whose metric has not improved for `patience` epochs
becomes inactive: the trainer masks out its updates. `improved_K` tells the
trainer which folds' weights replace their kept ones. Padding folds (rows
beyond `num_folds`, which fill the last compiled chunk) start inactive.
A non-finite metric never counts as an improvement.
"""
import dataclasses

import numpy as np

MODES = ("min", "max", "none")


@dataclasses.dataclass(frozen=True)
class State:
  """Early-stopping state of K (padded) folds.

  Attributes:
    active: (K,) bool, folds still training.
    best: (K,) float64, best watched value so far, negated for "min" (so
      larger is always better); -inf before the first epoch.
    best_epoch: (K,) int, epoch of the kept weights (-1: none yet).
    bad_epochs: (K,) int, epochs since the last improvement.
  """
  active: np.ndarray
  best: np.ndarray
  best_epoch: np.ndarray
  bad_epochs: np.ndarray

  def to_json(self) -> dict:
    return {k: getattr(self, k).tolist() for k in
            ("active", "best", "best_epoch", "bad_epochs")}

  @classmethod
  def from_json(cls, d: dict) -> "State":
    return cls(np.array(d["active"], bool), np.array(d["best"], np.float64),
               np.array(d["best_epoch"], np.int64),
               np.array(d["bad_epochs"], np.int64))


def init(num_folds: int, num_padded: int | None = None) -> State:
  """The state before the first epoch; padding rows are inactive."""
  num_padded = num_folds if num_padded is None else num_padded
  active = np.arange(num_padded) < num_folds
  return State(active, np.full(num_padded, -np.inf),
               np.full(num_padded, -1, np.int64),
               np.zeros(num_padded, np.int64))


def update(state: State, metric_K, epoch: int, patience: int,
           mode: str) -> tuple[State, np.ndarray]:
  """One epoch of early stopping.

  Args:
    state: the state after the previous epoch.
    metric_K: (K,) validation metric of this epoch, one per fold.
    epoch: this epoch's number.
    patience: epochs without improvement after which a fold stops.
    mode: "min", "max" or "none" (module docstring).

  Returns:
    (new state, improved_K): `improved_K[k]` is True where fold k's weights
    of this epoch replace its kept ones.
  """
  if mode not in MODES:
    raise ValueError(f"early-stopping mode {mode!r}; expected one of {MODES}")
  metric = np.asarray(metric_K, np.float64)
  if mode == "none":
    improved = state.active.copy()
    value = state.best
  else:
    value = metric if mode == "max" else -metric
    with np.errstate(invalid="ignore"):
      improved = state.active & np.isfinite(value) & (value > state.best)
  best = np.where(improved, value, state.best)
  best_epoch = np.where(improved, epoch, state.best_epoch)
  bad_epochs = np.where(improved, 0, state.bad_epochs + state.active)
  stopping = state.active & (bad_epochs >= patience)
  return State(state.active & ~stopping, best, best_epoch,
               bad_epochs), improved
