"""`yu`: the interval rules of Yu et al. (ACM MM'22, MEGC2022 first place).

The decoder of the `yu_of` spotter ("Facial expression spotting based on
optical flow features"), usable with any scorer. Its curve is a peak
*evidence*, as `rethinking`'s: at least 1 where some ROI passes the
authors' peak tests with their pixel thresholds (`methods/yu_of.py`), so
a threshold tau scales all of them at once. Per type, with its tau (the
authors' `fenxi`, `expend`, `nms2` and the end of `draw_roiline19`):

1. frames above tau, joined into windows when fewer than `join_s`
   seconds apart (3 frames at 30 fps);
2. `expand` (`decoders.rethinking.expand`, the same `expend`): each
   window's ends move out to the curve's valley (below `valley_ratio` of
   the peak above it, within `expand_s`), or, when the valley lies
   inside, to the nearest minimum within `small_expand_s` that is
   `valley_gap` lower. No `divide` (theirs has none);
3. `nms` twice (windows overlapping by more than `nms_overlap` = 0.2 of
   the shorter one merged), as they do per chunk;
4. kept when `min_len_s` <= offset - onset (and <= `max_len_s`, 0: no
   limit); sorted; `nms` twice again, as they do per video;
5. a window starting less than `follow_gap_s` after the previous kept
   one's end and longer than `follow_min_s` dropped (their CAS code; 0:
   off, their SAMM code);
6. micro when offset - onset <= `micro_max_s`, else macro.

Parameters: `config.decoder.yu`. Its fit (`params`): "released": tau = 1
for both types, the authors' thresholds, nothing fitted; "fitted": per
type the tau of a grid with the best interval F1 (MEGC2020 protocol, that
type; ties: the smallest) on the fitting units (never the test subject).
Record: `YuRecord`.
"""
import dataclasses

import numpy as np

from mespot_jax.data import timing
from mespot_jax.decoders import base
from mespot_jax.decoders import rethinking as rt
from mespot_jax.decoders import spotting

TYPES = spotting.TYPES
PARAMS = rt.PARAMS
TAU_GRID = rt.TAU_GRID


def drop_followers(windows, gap: int, longer: int) -> list:
  """Step 5: sorted windows less those starting fewer than `gap` frames
  after the last kept one's end and longer than `longer` frames."""
  kept = []
  for a, z in windows:
    if gap > 0 and kept and a - kept[-1][1] < gap and z - a > longer:
      continue
    kept.append([a, z])
  return kept


@dataclasses.dataclass(frozen=True)
class YuRecord(base.Record):
  """What `yu` fitted (`values`: tau per type, None for a type the scorer
  does not score) and every parameter decoding reads (seconds; module
  docstring)."""
  params: str
  values: list
  join_s: float
  expand_s: float
  small_expand_s: float
  valley_ratio: float
  valley_gap: float
  nms_overlap: float
  min_len_s: float
  max_len_s: float
  follow_gap_s: float
  follow_min_s: float
  micro_max_s: float

  def windows(self, x_T, tau: float, fps: float) -> list:
    """[head, tail] 0-based windows of a curve (steps 1-5)."""
    x = np.nan_to_num(np.asarray(x_T, np.float64), nan=0.0)
    f = lambda s: timing.seconds_to_frames(float(s), fps, least=0)
    ov = self.nms_overlap
    w = rt.join_points(np.where(x > tau)[0], max(f(self.join_s), 1))
    w = rt.expand(x, w, self.valley_ratio, self.valley_gap,
                  f(self.expand_s), f(self.small_expand_s))
    w = rt.nms(rt.nms(w, ov), ov)
    lo, hi = f(self.min_len_s), f(self.max_len_s)
    w = sorted([max(a, 0), min(z, len(x) - 1)] for a, z in w)
    w = [v for v in w if v[1] - v[0] >= lo and (hi <= 0 or v[1] - v[0] <= hi)]
    w = rt.nms(rt.nms(w, ov), ov)
    return drop_followers(w, f(self.follow_gap_s), f(self.follow_min_s))

  def intervals(self, x_T, typ: str, tau: float, fps: float) -> list:
    """[(onset, offset)] 1-based of type `typ` (step 6)."""
    micro = timing.seconds_to_frames(self.micro_max_s, fps)
    return [(a + 1, z + 1) for a, z in self.windows(x_T, tau, fps)
            if (z - a <= micro) == (typ == "micro")]


class Yu(rt.Rethinking):
  """Yu et al.'s interval rules (module docstring); fitted, released and
  drawn as `rethinking`'s, with `decoder.yu`'s parameters."""
  name = "yu"
  record_type = YuRecord
