"""What the spotting decoders share: (T, 2) frame scores -> intervals.

A spotting decoder's `decode` returns `IntervalRow`s; `signal` gives the
curve it thresholds and the thresholds it applies to one video (for the
per-video plots and offline scoring's summary), so a report draws any
decoder's decisions without knowing which it is.
"""
import abc
import logging

import numpy as np

from mespot_jax.config import vocab
from mespot_jax.decoders import base

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
    from mespot_jax.spotting import postprocess  # pylint: disable=g-import-not-at-top
    return [t for t, thr in zip(TYPES, record.thresholds)
            if float(thr) >= postprocess.NO_DETECTION]


def warn_without(known, typ: str, what: str) -> None:
  logging.warning("no %s interval in the fold's training subjects: %s",
                  typ, what)
