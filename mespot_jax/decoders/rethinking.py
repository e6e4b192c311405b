"""`rethinking`: the interval rules of Zhao et al. (ACM MM'22).

The decoder of the `rethinking_of` spotter ("Rethinking optical flow
methods for micro-expression spotting", MEGC2022), usable with any
scorer. Its curve is a peak *evidence*: the scorer's frame score is at
least 1 where some ROI passes the authors' three tests with their pixel
thresholds (`methods/rethinking_of.py`), so a threshold tau scales all
of them at once. Per type, with that type's tau:

1. frames above tau, joined into windows when fewer than `join_s`
   seconds apart (the authors' `joint_2_window`: 3 frames at 30 fps);
2. `expand`: each window's ends move out to the curve's valley (where it
   falls below `valley_ratio` of the peak above the valley, within
   `expand_s`), or, when the valley lies inside, to the nearest minimum
   within `small_expand_s` that is `valley_gap` lower;
3. `divide`: a window at least `split_s` long with a valley (searched
   `bound_ignore_s` inside its ends) deeper than max(`peak_inf`,
   `peak_ratio` x each side's peak) on both sides becomes two;
4. `nms`: windows overlapping by more than `nms_overlap` of the shorter
   one are merged (twice, as the authors do);
5. kept when `min_len_s` <= offset - onset <= `max_len_s` (frames at the
   video's rate); micro when offset - onset <= `micro_max_s`, else macro.

Parameters: `config.decoder.rethinking`. Its fit (`params`): "released":
tau = 1 for both types, the authors' thresholds, nothing fitted;
"fitted": per type the tau of a grid with the best interval F1 (MEGC2020
protocol, that type; ties: the smallest) on the fitting units (never the
test subject). Record: `RethinkingRecord`.
"""
import dataclasses

import numpy as np

from mespot_jax.data import timing
from mespot_jax.decoders import base
from mespot_jax.decoders import spotting
from mespot_jax.spotting import postprocess

TYPES = spotting.TYPES
PARAMS = ("released", "fitted")
TAU_GRID = tuple(np.round(np.geomspace(0.25, 4.0, 25), 4).tolist())


def join_points(points, gap: int) -> list:
  """Sorted frame indices -> [head, tail] windows; a point joins the
  window when it is fewer than `gap` frames after its tail."""
  out = []
  for p in points:
    if out and 0 <= p - out[-1][1] < gap:
      out[-1][1] = int(p)
    else:
      out.append([int(p), int(p)])
  return out


def expand(x, windows, ratio, valley_gap, half, small):
  """The authors' `expend` (module docstring, step 2), on curve `x`."""
  n = len(x)
  out = []
  for head, tail in windows:
    peak = x[head:tail].max() if tail > head else x[head]
    a1, b1 = max(0, head - half), min(n - 1, head + half)
    a2, b2 = max(0, tail - half), min(n - 1, tail + half)
    sv_i = int(np.argmin(x[a1:b1])) + a1 if b1 > a1 else head
    ev_i = int(np.argmin(x[a2:b2])) + a2 if b2 > a2 else tail
    sv, ev = x[sv_i], x[ev_i]
    if sv_i < head:
      for j in range(head - 1, -1, -1):
        if x[j] - sv < ratio * (peak - sv):
          head = j
          break
        if x[j] > x[j + 1]:
          head = j + 2
          break
    else:
      left = max(head - small, 0)
      m = int(np.argmin(x[left:head + 1])) + left
      if x[head] - x[m] > valley_gap:
        head = m + 1
    if ev_i > tail:
      for j in range(tail + 1, ev_i):
        if x[j] - ev < ratio * (peak - ev):
          tail = j
          break
        if x[j] > x[j - 1]:
          tail = j - 2
          break
    else:
      right = min(tail + small, n - 1)
      m = int(np.argmin(x[tail:right + 1])) + tail
      if x[tail] - x[m] > valley_gap:
        tail = m - 1
    out.append([head, tail])
  return out


def divide(x, windows, ratio, peak_inf, split, ignore):
  """The authors' `divide` (module docstring, step 3), on curve `x`."""
  out = []
  for head, tail in windows:
    if tail - head >= split and tail - ignore > head + ignore:
      v = int(np.argmin(x[head + ignore:tail - ignore])) + head + ignore
      lp, rp = x[head:v].max(initial=x[v]), x[v:tail].max(initial=x[v])
      if (lp - x[v] > max(peak_inf, ratio * lp)
          and rp - x[v] > max(peak_inf, ratio * rp)):
        out += [[head, v - 1], [v + 1, tail]]
        continue
    out.append([head, tail])
  return out


def nms(windows, overlap: float) -> list:
  """The authors' `nms2`: a window overlapping a kept one by more than
  `overlap` of the shorter one's length widens it instead."""
  kept = []
  for a, z in windows:
    new = True
    for w in kept:
      if a > w[1] or z < w[0]:
        continue
      inter = min(z, w[1]) - max(a, w[0])
      short = min(z - a, w[1] - w[0])
      if inter > 0 and short > 0 and inter / short > overlap:
        new = False
        w[0], w[1] = min(w[0], a), max(w[1], z)
    if new:
      kept.append([a, z])
  return kept


@dataclasses.dataclass(frozen=True)
class RethinkingRecord(base.Record):
  """What `rethinking` fitted (`values`: tau per type, None for a type
  the scorer does not score) and every parameter decoding reads
  (seconds; module docstring)."""
  params: str
  values: list
  join_s: float
  expand_s: float
  small_expand_s: float
  split_s: float
  bound_ignore_s: float
  valley_ratio: float
  valley_gap: float
  peak_ratio: float
  peak_inf: float
  nms_overlap: float
  min_len_s: float
  max_len_s: float
  micro_max_s: float

  def windows(self, x_T, tau: float, fps: float) -> list:
    """[head, tail] 0-based windows of a curve (steps 1-4)."""
    x = np.nan_to_num(np.asarray(x_T, np.float64), nan=0.0)
    f = lambda s: timing.seconds_to_frames(float(s), fps, least=0)
    w = join_points(np.where(x > tau)[0], max(f(self.join_s), 1))
    w = expand(x, w, self.valley_ratio, self.valley_gap, f(self.expand_s),
               f(self.small_expand_s))
    w = divide(x, w, self.peak_ratio, self.peak_inf, f(self.split_s),
               f(self.bound_ignore_s))
    w = nms(nms(w, self.nms_overlap), self.nms_overlap)
    return [(max(a, 0), min(z, len(x) - 1)) for a, z in w]

  def intervals(self, x_T, typ: str, tau: float, fps: float) -> list:
    """[(onset, offset)] 1-based of type `typ` (step 5)."""
    lo, hi = self.min_len_s * fps, self.max_len_s * fps
    micro = timing.seconds_to_frames(self.micro_max_s, fps)
    return [(a + 1, z + 1) for a, z in self.windows(x_T, tau, fps)
            if lo <= z - a <= hi and (z - a <= micro) == (typ == "micro")]


class Rethinking(spotting.ValueRuleDecoder):
  """Zhao et al.'s interval rules (module docstring)."""
  name = "rethinking"
  record_type = RethinkingRecord

  def record_with(self, values) -> base.Record:
    """The record of `config.decoder.<name>` with these tau `values`
    (every other field of `record_type` is a number of that block)."""
    p = self.config.decoder[self.name]
    if str(p.params) not in PARAMS:
      raise ValueError(f"decoder.{self.name}.params={p.params!r}; "
                       f"expected one of {PARAMS}")
    return self.record_type(
        params=str(p.params), values=list(values),
        **{f.name: float(p[f.name])
           for f in dataclasses.fields(self.record_type)
           if f.name not in ("params", "values")})

  def fit(self, units, known=(), criterion=None, absolute=False):
    del known, criterion, absolute  # the oracle refits on its units alike
    scored = [t in self.scorer.types for t in TYPES]
    rec = self.record_with([1.0 if s else None for s in scored])
    if rec.params == "released":
      return rec
    values = [
        spotting.fit_value(
            units, k, typ, TAU_GRID,
            lambda c, tau, fps, t=typ: rec.intervals(c, t, tau, fps),
            float(self.config.eval.iou_threshold)) if scored[k] else None
        for k, typ in enumerate(TYPES)]
    return dataclasses.replace(rec, values=values)

  def signal(self, scores_T2, fps, record):
    del fps
    return np.asarray(scores_T2, np.float64), [
        float(v) if v is not None else postprocess.NO_DETECTION
        for v in record.values]
