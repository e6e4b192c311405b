"""`runs`: smoothed scores above a fitted threshold become intervals.

The decoder of Yap et al. (2021, sec. 4; the 3D-CNN, the LBCNN and any
per-frame scorer): each video's scores are normalised and smoothed by the
post-processor `eval.postprocess` (`automated`: Butterworth; `manual`:
Savitzky-Golay, `mespot_jax.spotting.postprocess`), thresholded, and every
run of frames at or above the threshold is an interval, merged, filtered
by duration and widened as the per-type parameters `eval.<postprocess>.
<type>` say.

Its fit (on the fitting units, never the test subject):
- per type, `widen_to="train_median"` becomes the post-processor's
  `min_width`: the median duration of that type in the fold's known
  (training and validation) subjects;
- per type, `normalise="train_range"` (or every type in offline scoring's
  absolute mode) fixes the normalisation to the fitting units' raw score
  range (`norm`);
- the thresholds, by `eval.threshold_criterion`: `youden` / `f1` on the
  smoothed frames' ROC; `interval_f1` per type; `overall_f1` the pair
  maximising the F1 of both types counted together (the oracle's).

Record: `RunsRecord` (`postprocess`, per-type `post` parameters with the
fitted `min_width`, `thresholds`, `norm`).
"""
import dataclasses
import logging

import numpy as np

from mespot_jax.decoders import base
from mespot_jax.decoders import spotting
from mespot_jax.metrics.io import IntervalRow
from mespot_jax.spotting import postprocess
from mespot_jax.spotting import threshold as threshold_lib

TYPES = spotting.TYPES


@dataclasses.dataclass(frozen=True)
class RunsRecord(base.Record):
  """What `runs` fitted.

  Attributes:
    postprocess: the post-processor's name.
    post: {type: parameters} as configured, with `min_width` (seconds or
      None) resolved from the known subjects.
    thresholds: [micro, macro] on the smoothed signal.
    norm: {type: [lo, hi] or None}: the raw range a type is normalised
      with (None: as `post` says, per video).
  """
  postprocess: str
  post: dict
  thresholds: list
  norm: dict

  def params(self) -> dict:
    """Per type the post-processor's parameters this record applies: its
    `post`, with the fitted range as `normalise="fixed"`."""
    out = {}
    for t in TYPES:
      p = dict(self.post[t])
      rng = (self.norm or {}).get(t)
      if rng is not None:
        p.update(normalise="fixed", norm_lo=rng[0], norm_hi=rng[1])
      elif p.get("normalise") == "train_range":
        raise ValueError(f"{t}: normalise='train_range' needs a fitted range")
      out[t] = p
    return out


def post_params(config, known=None) -> dict:
  """Per type the configured parameters of `eval.postprocess`, with
  `widen_to` resolved into `min_width` from the units `known` (the fold's
  training and validation subjects; None: not resolved)."""
  name = config.eval.postprocess
  postprocess.get(name)  # validates the name
  out = {}
  for t in TYPES:
    p = dict(config.eval[name][t].items())
    widen_to = p.pop("widen_to", "none")
    if widen_to == "train_median" and known is not None:
      width = spotting.median_duration_s(known, t)
      if width is None:
        logging.warning("no %s interval in the training subjects: %s "
                        "intervals are not widened", t, t)
      else:
        p["min_width"] = width
    out[t] = p
  return out


class Runs(spotting.SpottingDecoder):
  """Thresholded runs of the smoothed scores (module docstring)."""
  name = "runs"
  record_type = RunsRecord

  def fit(self, units, known=(), criterion=None, absolute=False):
    ev = self.config.eval
    criterion = criterion or ev.threshold_criterion
    post = post_params(self.config, known)
    norm = {}
    for k, t in enumerate(TYPES):
      if absolute or post[t].get("normalise", "minmax") == "train_range":
        pooled = np.concatenate([np.asarray(u.scores)[:, k] for u in units])
        pooled = pooled[np.isfinite(pooled)]
        norm[t] = ([float(pooled.min()), float(pooled.max())]
                   if pooled.size else [0.0, 1.0])
      else:
        norm[t] = None
    params = RunsRecord(ev.postprocess, post, [0.0, 0.0], norm).params()
    if criterion in ("interval_f1", "overall_f1"):
      thr = threshold_lib.fit_thresholds_interval_f1(
          [(u.scores, u.intervals, u.fps) for u in units], ev.postprocess,
          params, ev.iou_threshold,
          objective="overall" if criterion == "overall_f1" else "per_type")
    else:
      thr = threshold_lib.fit_thresholds(
          [(u.scores, u.labels, u.fps) for u in units], ev.postprocess,
          params, criterion)
    thr = [float(x) if t in self.scorer.types else postprocess.NO_DETECTION
           for x, t in zip(thr, TYPES)]
    return RunsRecord(ev.postprocess, post, thr, norm)

  def decode(self, scores, fps, record, video="", subject=""):
    return [IntervalRow(video, typ, on, off, subject=subject, score=score)
            for typ, on, off, score in postprocess.scores_to_intervals(
                scores, fps, record.thresholds, record.postprocess,
                record.params())]

  def signal(self, scores_T2, fps, record):
    params = record.params()
    sig = np.stack([postprocess.smooth(scores_T2[:, k], fps,
                                       record.postprocess, params[t])
                    for k, t in enumerate(TYPES)], axis=1) \
        if len(scores_T2) else np.zeros((0, 2))
    return sig, [float(x) for x in record.thresholds]

  def never(self, record):
    params = record.params()
    return [t for t, thr in zip(TYPES, record.thresholds)
            if postprocess.predicts_nothing(
                float(thr), postprocess.params_for_type(
                    record.postprocess, params, t)["normalise"])]
