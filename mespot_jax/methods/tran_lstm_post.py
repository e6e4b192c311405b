"""Tran et al.'s targets and test windows, in frames and positions.

Position i (0-based) of a video covers frames i + 1 .. i + L (1-based);
its apex frame is the middle of that span, i + 1 + (L - 1) // 2
(the paper: "the middle location (i* + (i* + L)) / 2 of feature").

Targets per position and type (the paper's equations, each set to 0 below
`floor` = 0.5):
- overlap (eq. 1): the fraction of the span's L frames inside an interval
  of that type (the union of the type's intervals);
- apex (eq. 2): 1 - |apex - middle| / L for an interval of that type whose
  apex lies in the span (the largest if several). An interval whose apex
  is unknown (-1) uses its middle frame (onset + offset) // 2, the same
  stand-in as for SMIC's clips.

At test time a video's positions are cut into windows of M positions
(stride `stride` positions; the last window ends at the last position) and
a position's score is the mean of the scores the windows covering it give
it. The scores are decoded into apexes and intervals by the `apex` decoder
(`mespot_jax.decoders.apex`).
"""
import numpy as np

from mespot_jax.config import vocab
from mespot_jax.config.blocks import tran_lstm as tran_lstm_block
from mespot_jax.data import timing

TYPES = vocab.TYPES
TARGETS = tran_lstm_block.CHOICES["target"]


frames_of = timing.seconds_to_frames  # the one rounding (half up)


def apex_offset(span: int) -> int:
  """0-based offset of a position's apex frame inside its span."""
  return (int(span) - 1) // 2


def targets(num_frames: int, intervals, span: int, kind: str = "overlap",
            floor: float = 0.5) -> np.ndarray:
  """(P, 2) float32 targets [micro, macro] of the P = T - L + 1 positions.

  Args:
    num_frames: T.
    intervals: the video's `Interval`s (1-based, inclusive).
    span: L.
    kind: "overlap" (eq. 1) or "apex" (eq. 2).
    floor: values below it become 0 (0.5 in the paper).
  """
  if kind not in TARGETS:
    raise ValueError(f"target={kind!r}; expected one of {TARGETS}")
  n_pos = max(0, num_frames - span + 1)
  out = np.zeros((n_pos, 2), np.float32)
  first = np.arange(n_pos) + 1  # first frame of each span, 1-based
  middle = first + apex_offset(span)
  for k, typ in enumerate(TYPES):
    ivs = [iv for iv in intervals if iv.type == typ]
    if kind == "overlap":
      inside = np.zeros(num_frames + 1, np.float64)
      for iv in ivs:
        inside[max(iv.onset, 1):min(iv.offset, num_frames) + 1] = 1.0
      csum = np.concatenate([[0.0], np.cumsum(inside[1:])])
      out[:, k] = (csum[first + span - 1] - csum[first - 1]) / span
    else:
      for iv in ivs:
        apex = iv.apex if iv.apex > 0 else (iv.onset + iv.offset) // 2
        hit = (first <= apex) & (apex <= first + span - 1)
        score = np.where(hit, 1.0 - np.abs(apex - middle) / span, 0.0)
        out[:, k] = np.maximum(out[:, k], score)
  out[out < floor] = 0.0
  return out


def window_starts(num_positions: int, window: int, stride: int) -> list[int]:
  """Starts of the test windows: every `stride` positions, plus one that
  ends at the last position (one window at 0 when the video has fewer
  than `window` positions)."""
  last = max(0, num_positions - window)
  starts = list(range(0, last + 1, max(1, stride)))
  if starts[-1] != last:
    starts.append(last)
  return starts


def merge_windows(scores_WM2, starts, num_positions: int) -> np.ndarray:
  """(P, 2) mean score of each position over the windows covering it."""
  total = np.zeros((num_positions, scores_WM2.shape[-1]), np.float64)
  count = np.zeros((num_positions, 1), np.float64)
  for s, w in zip(starts, scores_WM2):
    n = min(len(w), num_positions - s)
    total[s:s + n] += w[:n]
    count[s:s + n] += 1
  return (total / np.maximum(count, 1)).astype(np.float32)
