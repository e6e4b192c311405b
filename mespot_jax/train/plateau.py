"""Per-fold learning-rate reduction on a validation plateau, as a pure rule.

    state = plateau.init(num_padded)
    state = plateau.update(state, metric_K, active_K, mode, patience,
                           factor, min_scale)
    learning_rate_K = base_rate * state.scale

Keras' `ReduceLROnPlateau` without cooldown or min_delta, one copy per fold:
a fold whose watched validation metric has not improved on its best for
`patience` epochs has its rate multiplied by `factor` (never below
`min_scale` times the base rate), and its count of epochs without
improvement starts again. Folds not trained this epoch (`active_K` False)
keep their state. A non-finite metric never counts as an improvement.
The watched metric and its `mode` ("min"/"max") are early stopping's, so
both read the same validation subjects and nothing of the test subject.
"""
import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class State:
  """Plateau state of K (padded) folds.

  Attributes:
    scale: (K,) float64, the fold's rate over the base rate.
    best: (K,) float64, best watched value so far, negated for "min".
    bad_epochs: (K,) int, epochs since the last improvement or reduction.
  """
  scale: np.ndarray
  best: np.ndarray
  bad_epochs: np.ndarray

  def to_json(self) -> dict:
    return {k: getattr(self, k).tolist() for k in
            ("scale", "best", "bad_epochs")}

  @classmethod
  def from_json(cls, d: dict) -> "State":
    return cls(np.array(d["scale"], np.float64),
               np.array(d["best"], np.float64),
               np.array(d["bad_epochs"], np.int64))


def init(num_padded: int) -> State:
  """Every fold at the base rate, nothing seen yet."""
  return State(np.ones(num_padded), np.full(num_padded, -np.inf),
               np.zeros(num_padded, np.int64))


def update(state: State, metric_K, active_K, mode: str, patience: int,
           factor: float, min_scale: float) -> State:
  """One epoch of the plateau rule (module docstring).

  Args:
    state: the state after the previous epoch.
    metric_K: (K,) this epoch's watched validation metric.
    active_K: (K,) bool, folds that trained this epoch.
    mode: "min" (a loss) or "max" (an F1, a UAR).
    patience: epochs without improvement before the rate is reduced (>= 1).
    factor: multiplier of a reduction, in (0, 1).
    min_scale: the smallest scale, in (0, 1].

  Returns:
    The new state.
  """
  if mode not in ("min", "max"):
    raise ValueError(f"plateau mode {mode!r}; expected 'min' or 'max'")
  if patience < 1:
    raise ValueError(f"plateau patience {patience}; expected >= 1")
  if not 0 < factor < 1:
    raise ValueError(f"plateau factor {factor}; expected in (0, 1)")
  value = np.asarray(metric_K, np.float64)
  value = -value if mode == "min" else value
  active = np.asarray(active_K, bool)
  improved = active & np.isfinite(value) & (value > state.best)
  best = np.where(improved, value, state.best)
  bad = np.where(active & ~improved, state.bad_epochs + 1,
                 np.where(improved, 0, state.bad_epochs))
  reduce = active & (bad >= patience)
  scale = np.where(reduce, np.maximum(state.scale * factor, min_scale),
                   state.scale)
  bad = np.where(reduce, 0, bad)
  return State(scale, best, bad.astype(np.int64))
