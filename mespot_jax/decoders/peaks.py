"""`peaks`: runs of a score curve above a per-video threshold.

The decoder of the training-free flow spotters (MDMD, the MEGC2020
baseline; the ROI flow spotter), usable with any scorer. Per type, a
video's threshold is `rule`'s: "relative", the MEGC2020 baseline's
`mean + p (max - mean)` of the video's own scores with p the type's fitted
value, or "absolute", the value itself. The runs of frames strictly above
it (NaN frames break runs), joined across gaps of at most `merge_gap_s`,
are extended by `extend` times the scorer's reach (`ScorerInfo.reach`,
the k of a score comparing frames i - k, i, i + k) before their first
frame and, with `extend_after`, after their last, and kept as a micro
interval when at most `micro_max_s` long, as a macro one otherwise. With
`micro_wins`, a macro interval overlapping a micro one is dropped.

Parameters: `config.decoder.peaks` (`threshold_rule`, `extend`,
`extend_after`, `merge_gap_s`, `micro_max_s`, `micro_wins`).

Its fit: per type the value with the best interval F1 (MEGC2020 protocol,
that type; ties: the smallest) on the fitting units, from a grid: p in
[0, 1] (relative) or quantiles of the pooled scores (absolute).

Record: `PeaksRecord` (the rule, the fitted `values` and every parameter
decoding reads).
"""
import dataclasses

import numpy as np

from mespot_jax.data import timing
from mespot_jax.decoders import base
from mespot_jax.decoders import spotting
from mespot_jax.spotting import interval_rules
from mespot_jax.spotting import postprocess

TYPES = spotting.TYPES


def threshold_of(s_T, rule: str, value: float) -> float:
  """The threshold on one video's score curve: "relative": the MEGC2020
  baseline's `mean + p (max - mean)` of the video's own scores with p =
  `value`; "absolute": `value` itself."""
  if rule == "absolute":
    return float(value)
  ok = np.asarray(s_T, np.float64)
  ok = ok[np.isfinite(ok)]
  if not ok.size:
    return np.inf
  mean = float(ok.mean())
  return mean + float(value) * (float(ok.max()) - mean)


def runs_above(s_T, thr: float) -> list[tuple[int, int]]:
  """(start, end) 0-based inclusive runs of frames with score > `thr`
  (NaN frames break runs): `interval_rules.runs_above`, strict, 0-based."""
  return [(a - 1, z - 1) for a, z in interval_rules.runs_above(
      np.asarray(s_T, np.float64), thr, strict=True)]


def merge_runs(runs, gap: int) -> list[tuple[int, int]]:
  """Runs (0-based inclusive, in order) joined where at most `gap` frames
  lie between one's end and the next one's start (`gap` 0: unchanged):
  `interval_rules.merge_within`."""
  return interval_rules.merge_within(runs, gap) if gap > 0 else list(runs)


def candidate_values(rule: str, curves, num: int = 41) -> np.ndarray:
  """Grid of threshold parameters to search: p in [0, 1] ("relative"), or
  quantiles of the pooled scores of `curves` ("absolute")."""
  if rule == "relative":
    return np.linspace(0.0, 1.0, num)
  pooled = np.concatenate([np.asarray(c, np.float64) for c in curves])
  pooled = pooled[np.isfinite(pooled)]
  if not pooled.size:
    return np.array([0.0])
  return np.unique(np.quantile(pooled, np.linspace(0.5, 1.0, num)))


@dataclasses.dataclass(frozen=True)
class PeaksRecord(base.Record):
  """What `peaks` fitted, and every parameter decoding reads.

  Attributes:
    rule: "relative" or "absolute".
    values: [micro, macro] threshold parameters (p, or the threshold);
      None for a type the scorer does not score (never predicted).
    reach_s: {type: seconds} the scorer's reach (k).
    extend: intervals start this many reaches before their first frame.
    extend_after: ... and end as many after their last.
    merge_gap_s: runs closer than this are joined (seconds).
    micro_max_s: the longest micro interval (seconds).
    micro_wins: macro intervals overlapping a micro one are dropped.
  """
  rule: str
  values: list
  reach_s: dict
  extend: float
  extend_after: bool
  merge_gap_s: float
  micro_max_s: float
  micro_wins: bool

  def intervals(self, curve_T, typ: str, value: float, fps: float):
    """[(onset, offset)] 1-based of one type's curve (module docstring)."""
    n = len(curve_T)
    thr = threshold_of(curve_T, self.rule, value)
    k = timing.seconds_to_frames(self.reach_s[typ], fps)
    ext = int(round(k * float(self.extend)))
    limit = float(self.micro_max_s) * fps
    gap = timing.seconds_to_frames(float(self.merge_gap_s), fps, least=0)
    out = []
    for a, z in merge_runs(runs_above(curve_T, thr), gap):
      on = max(1, a + 1 - ext)
      off = min(n, z + 1 + ext) if self.extend_after else int(z + 1)
      if (off - on + 1 <= limit) == (typ == "micro"):
        out.append((on, off))
    return out

  def resolve_types(self, rows) -> list:
    """Rows of both types of one video -> the rows kept (`micro_wins`)."""
    if not self.micro_wins:
      return rows
    micro = [(r.onset, r.offset) for r in rows if r.type == "micro"]
    return [r for r in rows if r.type == "micro" or not any(
        on <= r.offset and r.onset <= off for on, off in micro)]


class Peaks(spotting.ValueRuleDecoder):
  """Runs above a per-video threshold (module docstring)."""
  name = "peaks"
  record_type = PeaksRecord

  def record_with(self, values) -> PeaksRecord:
    """A record of this decoder's parameters with the values `values`."""
    p = self.config.decoder.peaks
    return PeaksRecord(
        rule=str(p.threshold_rule), values=list(values),
        reach_s={t: float(self.scorer.reach.get(t, 0.0)) for t in TYPES},
        extend=float(p.extend), extend_after=bool(p.extend_after),
        merge_gap_s=float(p.merge_gap_s), micro_max_s=float(p.micro_max_s),
        micro_wins=bool(p.micro_wins))

  def fit(self, units, known=(), criterion=None, absolute=False):
    del known, criterion, absolute  # the oracle refits on its units alike
    rec = self.record_with([0.0, 0.0])
    values = []
    for k, typ in enumerate(TYPES):
      if typ not in self.scorer.types:
        values.append(None)
        continue
      grid = candidate_values(rec.rule, [np.asarray(u.scores)[:, k]
                                         for u in units])
      value = spotting.fit_value(
          units, k, typ, grid,
          lambda c, val, fps, t=typ: rec.intervals(c, t, val, fps),
          self.config.eval.iou_threshold)
      values.append(1.0 if value is None else value)
    return dataclasses.replace(
        rec, values=[None if v is None else float(v) for v in values])

  def resolve(self, rows, record):
    return record.resolve_types(rows)

  def signal(self, scores_T2, fps, record):
    del fps
    s = np.asarray(scores_T2, np.float64)
    return s, [threshold_of(s[:, k], record.rule, record.values[k])
               if record.values[k] is not None else postprocess.NO_DETECTION
               for k in range(2)]
