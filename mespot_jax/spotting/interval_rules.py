"""Runs of a thresholded curve, and the rules applied to them.

The one run finder of the toolkit (`runs_above`), the one merging rule
(`merge_within`, and `merge_close` with a gap in seconds), duration limits
and the widening of short intervals about their centre. Intervals are
1-based inclusive `(onset, offset)` frame numbers, in onset order.
"""
import math

import numpy as np

Intervals = list[tuple[int, int]]


def runs_above(x_T: np.ndarray, threshold: float,
               strict: bool = False) -> Intervals:
  """Runs of consecutive frames with `x >= threshold` (`x > threshold`
  when `strict`) as 1-based intervals; NaN frames are never in a run. The
  one run finder of the toolkit."""
  x = np.asarray(x_T)
  above = x > threshold if strict else x >= threshold
  mask = np.concatenate([[False], above, [False]])
  edges = np.flatnonzero(np.diff(mask.astype(np.int8)))
  # edges alternate: 0-based start, 0-based end + 1 (= 1-based offset).
  return [(int(s) + 1, int(e)) for s, e in zip(edges[::2], edges[1::2])]


def merge_within(intervals: Intervals, max_gap: int) -> Intervals:
  """Joins neighbours (in order) with at most `max_gap` frames strictly
  between them: the one merging rule of the toolkit."""
  out = []
  for on, off in intervals:
    if out and on - out[-1][1] - 1 <= max_gap:
      out[-1] = (out[-1][0], max(off, out[-1][1]))
    else:
      out.append((on, off))
  return out


def merge_close(intervals: Intervals, fps: float,
                merge_gap: float | None) -> Intervals:
  """Joins neighbours whose gap (frames strictly between) < merge_gap s
  (a whole number of frames below x is at most ceil(x) - 1)."""
  if not merge_gap or not intervals:
    return list(intervals)
  return merge_within(intervals, math.ceil(merge_gap * fps) - 1)


def filter_durations(intervals: Intervals, fps: float, min_len: float | None,
                     max_len: float | None) -> Intervals:
  """Drops intervals shorter than `min_len` or longer than `max_len` s."""
  eps = 1e-9  # 0.1 s * 30 fps is 3.0000000000000004 frames
  out = []
  for on, off in intervals:
    n = off - on + 1
    if min_len is not None and n < min_len * fps - eps:
      continue
    if max_len is not None and n > max_len * fps + eps:
      continue
    out.append((on, off))
  return out


def widen_short(intervals: Intervals, fps: float, min_width: float | None,
                num_frames: int) -> Intervals:
  """Widens intervals shorter than `min_width` s about their centre.

  A widened interval spans round(min_width * fps) frames (at least 1),
  centred on the original one (an odd excess goes after it) and shifted to
  stay within frames 1..num_frames; intervals that then overlap or touch
  are joined.
  """
  if not min_width or not intervals:
    return list(intervals)
  width = max(1, int(np.floor(min_width * fps + 0.5)))
  widened = []
  for on, off in intervals:
    n = off - on + 1
    if n < width:
      on = on - (width - n) // 2
      on = min(max(on, 1), max(num_frames - width + 1, 1))
      off = min(on + width - 1, num_frames)
    widened.append((on, off))
  # A gap under half a frame: the intervals overlap or touch.
  return merge_close(sorted(widened), fps, 0.5 / fps)
