"""`apex`: apex frames by non-maximum suppression, intervals around them.

The decoder of Tran et al. (2019; the LSTM scorer, usable with any frame
scorer). Per type: the peaks of a video's scores that survive greedy
non-maximum suppression (a peak suppresses every frame within `radius` of
it: half the type's interval width, at least `decoder.apex.nms_min_s`) are
apex candidates, kept when their score reaches the threshold; each kept
apex becomes an interval of the type's width centred on it.

Parameters (`config.decoder.apex`):
- `threshold`: "paper", the paper's per-video threshold (the mean of the
  video's maximum and its smallest non-zero score), or "fitted": one per
  type, maximising the pooled apex-in-interval F1 of the fitting units
  (an apex inside a true interval of its type is a hit, each truth taken
  once).
- `nms_min_s`: the smallest suppression radius (seconds).
- `fallback_width_s`: the interval width of a type the fold's known
  subjects have no interval of.

Its fit: per type the interval width, the median duration of the type in
the fold's known (training and validation) subjects, and the thresholds.
A type the scorer does not score is never predicted.

Record: `ApexRecord` (`thresholds`, `threshold_mode`, `interval_width`,
`nms_min_s`).
"""
import dataclasses

import numpy as np

from mespot_jax.data import timing
from mespot_jax.decoders import base
from mespot_jax.decoders import spotting
from mespot_jax.metrics.io import IntervalRow
from mespot_jax.spotting import postprocess

TYPES = spotting.TYPES
MODES = ("paper", "fitted")


def nms_peaks(scores_T, radius: int) -> np.ndarray:
  """Frames (0-based) kept by greedy non-maximum suppression, highest
  first; NaN frames are never kept."""
  s = np.asarray(scores_T, np.float64)
  order = np.argsort(-np.where(np.isfinite(s), s, -np.inf), kind="stable")
  suppressed = ~np.isfinite(s)
  kept = []
  for t in order:
    if suppressed[t]:
      continue
    kept.append(t)
    suppressed[max(0, t - radius):t + radius + 1] = True
  return np.array(kept, np.int64)


def paper_threshold(scores_T) -> float:
  """The mean of the video's maximum and its smallest non-zero score."""
  s = np.asarray(scores_T, np.float64)
  s = s[np.isfinite(s) & (s > 0)]
  if not s.size:
    return postprocess.NO_DETECTION
  return float((s.max() + s.min()) / 2)


def apex_interval(apex: int, width: int, num_frames: int):
  """(onset, offset) 1-based of `width` frames centred on `apex` (1-based),
  clipped to the video."""
  onset = apex - (width - 1) // 2
  return max(1, onset), min(num_frames, onset + width - 1)


def candidates(scores_T, radius: int):
  """(apex frames 1-based, their scores) after non-maximum suppression."""
  peaks = nms_peaks(scores_T, radius)
  return peaks + 1, np.asarray(scores_T, np.float64)[peaks]


def count_hits(apexes, truths) -> tuple[int, int, int]:
  """(TP, FP, FN) of apex frames (highest score first) against truths
  [(onset, offset)], each truth taken at most once (`apex_in_interval`)."""
  taken = set()
  for a in apexes:
    for j, (on, off) in enumerate(truths):
      if j not in taken and on <= a <= off:
        taken.add(j)
        break
  tp = len(taken)
  return tp, len(apexes) - tp, len(truths) - tp


def fit_threshold(videos) -> float:
  """The threshold maximising the pooled apex-in-interval F1 of videos.

  Args:
    videos: [(candidate apexes, their scores (descending), truths
      [(onset, offset)])], one per fitting video.

  Returns:
    The candidate score with the best F1 (the highest such on ties);
    `NO_DETECTION` when no threshold finds any truth.
  """
  levels = sorted({float(s) for _, sc, _ in videos for s in sc},
                  reverse=True)
  best, best_f1 = postprocess.NO_DETECTION, 0.0
  for thr in levels:
    tp = fp = fn = 0
    for apexes, sc, truths in videos:
      a, b, c = count_hits([x for x, s in zip(apexes, sc) if s >= thr],
                           truths)
      tp, fp, fn = tp + a, fp + b, fn + c
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    if f1 > best_f1:
      best, best_f1 = thr, f1
  return best


@dataclasses.dataclass(frozen=True)
class ApexRecord(base.Record):
  """What `apex` fitted.

  Attributes:
    thresholds: [micro, macro]; `NO_DETECTION` for a type never
      predicted; 0.0 in the paper mode (each video's own, at decoding).
    threshold_mode: "paper" or "fitted".
    interval_width: {type: seconds}.
    nms_min_s: the smallest suppression radius (seconds).
  """
  thresholds: list
  threshold_mode: str
  interval_width: dict
  nms_min_s: float

  def radius(self, typ: str, fps: float) -> int:
    """The suppression radius of a type at `fps`, in frames."""
    half = timing.seconds_to_frames(self.interval_width[typ], fps) // 2
    return max(1, half, timing.seconds_to_frames(self.nms_min_s, fps,
                                                 least=0))


class Apex(spotting.SpottingDecoder):
  """Apexes and intervals around them (module docstring)."""
  name = "apex"
  record_type = ApexRecord

  @property
  def params(self):
    return self.config.decoder.apex

  def fit(self, units, known=(), criterion=None, absolute=False):
    del absolute  # thresholds apply to the scores as they are
    p = self.params
    widths = {}
    for t in TYPES:
      w = spotting.median_duration_s(known, t)
      widths[t] = float(p.fallback_width_s) if w is None else w
    mode = "fitted" if criterion else str(p.threshold)
    partial = ApexRecord([0.0, 0.0], mode, widths, float(p.nms_min_s))
    thr = []
    for k, typ in enumerate(TYPES):
      if typ not in self.scorer.types:
        thr.append(postprocess.NO_DETECTION)
      elif mode == "paper":
        thr.append(0.0)
      else:
        vids = []
        for u in units:
          apexes, sc = candidates(np.asarray(u.scores)[:, k],
                                  partial.radius(typ, u.fps))
          vids.append((apexes, sc, [(iv.onset, iv.offset)
                                    for iv in u.intervals if iv.type == typ]))
        thr.append(fit_threshold(vids))
    return dataclasses.replace(partial, thresholds=[float(t) for t in thr])

  def _threshold(self, s_T, k, record) -> float:
    thr = float(record.thresholds[k])
    if thr < postprocess.NO_DETECTION and record.threshold_mode == "paper":
      return paper_threshold(s_T)
    return thr

  def decode(self, scores, fps, record, video="", subject=""):
    rows = []
    n = len(scores)
    for k, typ in enumerate(TYPES):
      s = np.asarray(scores)[:, k]
      thr = self._threshold(s, k, record)
      if thr >= postprocess.NO_DETECTION:
        continue
      apexes, sc = candidates(s, record.radius(typ, fps))
      width = timing.seconds_to_frames(record.interval_width[typ], fps)
      for a, score in sorted(zip(apexes, sc)):
        if score >= thr:
          on, off = apex_interval(int(a), width, n)
          rows.append(IntervalRow(video, typ, on, off, subject=subject,
                                  apex=int(a), score=float(score)))
    return rows

  def signal(self, scores_T2, fps, record):
    del fps
    s = np.asarray(scores_T2, np.float64)
    return s, [self._threshold(s[:, k], k, record) for k in range(2)]
