"""What the spotting decoders share: (T, 2) frame scores -> intervals.

A spotting decoder's `decode` returns `IntervalRow`s; `signal` gives the
curve it thresholds and the thresholds it applies to one video (for the
per-video plots and offline scoring's summary), so a report draws any
decoder's decisions without knowing which it is.
"""
import abc

import numpy as np

from mespot_jax.config import vocab
from mespot_jax.decoders import base
from mespot_jax.metrics import intervals as interval_metrics
from mespot_jax.metrics.io import IntervalRow
from mespot_jax.spotting import postprocess

TYPES = vocab.TYPES


def median_duration_s(known, typ: str):
  """The median duration (seconds) of the `typ` intervals of the units
  `known` (their truth); None when they have none."""
  secs = [(iv.offset - iv.onset + 1) / u.fps for u in known
          for iv in u.intervals if iv.type == typ]
  if not secs:
    return None
  return float(np.median(secs))


class SpottingDecoder(base.Decoder):
  """Base of the spotting decoders."""
  task = "spotting"

  @abc.abstractmethod
  def signal(self, scores_T2, fps: float, record) -> tuple:
    """(signal_T2, thresholds [micro, macro]): the curve `decode`
    thresholds for this video and where (a threshold at or above
    `postprocess.NO_DETECTION` is "never")."""

  def never(self, record) -> list[str]:
    """The types this record never predicts."""
    return [t for t, thr in zip(TYPES, record.thresholds)
            if float(thr) >= postprocess.NO_DETECTION]


def fit_value(units, k: int, typ: str, grid, intervals_of,
              iou: float = 0.5) -> float | None:
  """The value of `grid` whose intervals of type `typ` score the best
  interval F1 (MEGC2020 protocol, that type) on `units`; ties: the first.

  Args:
    units: the fitting units (`scores`, `fps`, `video`, `intervals`).
    k: the score column of `typ`.
    typ: "micro" or "macro".
    grid: the values to try, in order.
    intervals_of: (curve_T, value, fps) -> [(onset, offset)] 1-based.
    iou: the IoU a true positive needs.

  Returns:
    The best value; None for an empty grid.
  """
  gt = [IntervalRow(u.video, iv.type, iv.onset, iv.offset)
        for u in units for iv in u.intervals if iv.type == typ]
  best, best_f1 = None, -1.0
  for value in grid:
    rows = [IntervalRow(u.video, typ, on, off) for u in units
            for on, off in intervals_of(np.asarray(u.scores)[:, k], value,
                                        u.fps)]
    f1 = interval_metrics.evaluate(gt, rows, "megc2020", iou)[typ]["f1"]
    if f1 > best_f1 + 1e-12:
      best, best_f1 = float(value), f1
  return best


class ValueRuleDecoder(SpottingDecoder):
  """A decoder whose record holds a value per type (`values`; None: the
  type is never predicted) and the rule `intervals(curve_T, typ, value,
  fps)` turning one type's curve into intervals (`peaks`, `rethinking`)."""

  def decode(self, scores, fps, record, video="", subject=""):
    rows = []
    for k, typ in enumerate(TYPES):
      if record.values[k] is None:
        continue
      c = np.asarray(scores)[:, k]
      for on, off in record.intervals(c, typ, record.values[k], fps):
        seg = c[on - 1:off]
        peak = np.nanmax(seg) if np.isfinite(seg).any() else 0.0
        rows.append(IntervalRow(video, typ, int(on), int(off),
                                subject=subject, score=float(peak)))
    return self.resolve(rows, record)

  def resolve(self, rows, record) -> list:
    """Rows of both types of one video -> the rows kept (default: all)."""
    del record
    return rows

  def never(self, record):
    return [t for t, v in zip(TYPES, record.values) if v is None]
