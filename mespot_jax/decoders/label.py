"""`label`: class probabilities of a clip -> its label.

The recognition decoder: the argmax of a clip's log probabilities plus a
per-class bias. `eval.calibration`: "none", no bias (plain argmax), or
"prior", minus the log of the mean probability of each class over the
fitting clips (centred), so that on them the classes are predicted in
equal measure on average.

Record: `LabelRecord` (`calibration`, `bias`).
"""
import dataclasses

import numpy as np

from mespot_jax.decoders import base


def calibrated(probs_C, bias) -> np.ndarray:
  """The class probabilities the label is the argmax of: softmax of the
  log probabilities plus the bias (the probabilities themselves without
  one)."""
  logp = np.log(np.maximum(np.asarray(probs_C, np.float64), 1e-12))
  bias = np.asarray(bias, np.float64)
  z = logp + bias if bias.size else logp
  z = np.exp(z - z.max())
  return z / z.sum()


def decode_label(probs_C, bias) -> int:
  """The predicted class of a clip: argmax of its log probabilities plus
  the bias (none: plain argmax)."""
  logp = np.log(np.maximum(np.asarray(probs_C, np.float64), 1e-12))
  bias = np.asarray(bias, np.float64)
  return int(np.argmax(logp + bias)) if bias.size else int(np.argmax(logp))


@dataclasses.dataclass(frozen=True)
class LabelRecord(base.Record):
  """What `label` fitted: the calibration and its bias (C,)."""
  calibration: str
  bias: list


class Label(base.Decoder):
  """Argmax with a fitted bias (module docstring)."""
  name = "label"
  task = "recognition"
  record_type = LabelRecord

  def fit(self, units, known=(), criterion=None, absolute=False):
    del known, criterion, absolute
    how = str(self.config.eval.calibration)
    c = len(np.asarray(units[0].scores)) if units else 0
    bias = np.zeros(c)
    if how == "prior" and units:
      mean = np.mean([u.scores for u in units], axis=0)
      bias = -np.log(np.maximum(mean, 1e-6))
      bias -= bias.mean()
    return LabelRecord(how, [float(b) for b in bias])

  def decode(self, scores, fps, record, video="", subject=""):
    del fps, video, subject
    return decode_label(scores, record.bias)
