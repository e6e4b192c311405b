"""Temporal frame skips of the two streams (Yap et al. 2021, Table 3, sec. 3.3).

The model compares reference frame t with a partner frame `skip` frames
later; stream 1 uses a short (micro) skip, stream 2 a long (macro) skip.

* Training / validation draw a random skip per sample from a range (Table 3
  "Random frame skip"). The ranges are given in frames at each dataset's own
  frame rate; `TABLE3_RANDOM_SKIP_SECONDS` holds them in seconds so that
  `random_skip_ranges_frames` converts them back at any frame rate.
* Testing uses the k-th frame skip (Moilanen et al. 2014): "the average
  mid-point of odd-numbered facial expression interval" of each type.

Interpretation of the k-th frame, as implemented by `kth_frame_skips`:
Moilanen et al. define an interval of N frames with N odd and its mid-point
k = (N - 1) / 2 frames after the first frame. Annotated intervals have any
length, so each interval of L = offset - onset + 1 frames contributes
k_i = (offset - onset) // 2, the mid-point of the longest odd-length window
[onset, onset + 2 k_i] that it contains (exact when L is odd). The skip is
the mean of k_i over all intervals of that type, rounded half up, at least 1.
`odd_only=True` gives the literal alternative reading: average only the
intervals whose length is already odd. Table 3 is consistent with the
default: SAMM-LV micro mean 0.37 s = 74 frames -> 37, macro 2.17 s = 434
frames -> 217; CAS(ME)^2 micro 0.42 s = 12.6 frames -> 6,
macro 1.25 s = 37.5 frames -> 18.75 -> 19 (durations read as offset - onset).

The mean is taken over the TRAINING subjects of each fold only (the caller
passes those intervals), so the test subject never shapes its own skip.
"""
from typing import Any, Iterable, Sequence

from mespot_jax.config import vocab
from mespot_jax.data.timing import round_half_up as _round_half_up
from mespot_jax.data.timing import seconds_to_frames
from mespot_jax.errors import InputError

TYPES = vocab.TYPES

# Table 3 random skip ranges converted to seconds at the dataset's frame rate
# (SAMM-LV 200 fps: 25-75 & 200-400 frames; CAS(ME)^2 30 fps: 3-9 & 16-50).
TABLE3_RANDOM_SKIP_SECONDS = {
    "samm_lv": ((25 / 200, 75 / 200), (200 / 200, 400 / 200)),
    "cas_me2": ((3 / 30, 9 / 30), (16 / 30, 50 / 30)),
}
# Table 3 test-time skips in frames at the dataset's own frame rate.
TABLE3_KTH_FRAME_SKIP = {"samm_lv": (37, 217), "cas_me2": (6, 19)}
TABLE3_MANUAL_SKIP = {"samm_lv": (30, 310), "cas_me2": (10, 33)}

# Fallback k-th frame skip when training data hold no interval of a type:
# half of a typical duration (ME about 0.4 s, MaE about 2 s; Table 2).
DEFAULT_KTH_SECONDS = (0.2, 1.0)


def kth_frame_skips(intervals: Iterable[Any], fps: float,
                    default_seconds: Sequence[float] = DEFAULT_KTH_SECONDS,
                    odd_only: bool = False) -> tuple[int, int]:
  """The k-th frame skip of each type from (training) intervals.

  Args:
    intervals: objects with `.type` ("micro"/"macro"), `.onset`, `.offset`
      (1-based inclusive), e.g. `data.schema.Interval`; training subjects
      of the fold only.
    fps: frame rate the intervals are counted in.
    default_seconds: (micro, macro) skip in seconds for a type with no
      (usable) interval.
    odd_only: average only intervals of odd length (module docstring).

  Returns:
    (skip_micro, skip_macro) in frames, each >= 1.
  """
  mids = {t: [] for t in TYPES}
  for i, iv in enumerate(intervals):
    if iv.type not in mids:
      raise InputError(f"interval {i}: type {iv.type!r}; expected one of "
                       f"{TYPES}")
    onset, offset = int(iv.onset), int(iv.offset)
    if offset < onset:
      raise InputError(f"interval {i} ({iv.type}): offset {offset} before "
                       f"onset {onset}")
    if odd_only and (offset - onset + 1) % 2 == 0:
      continue
    mids[iv.type].append((offset - onset) // 2)
  out = []
  for k, t in enumerate(TYPES):
    if mids[t]:
      out.append(max(1, _round_half_up(sum(mids[t]) / len(mids[t]))))
    else:
      out.append(seconds_to_frames(default_seconds[k], fps))
  return out[0], out[1]


def random_skip_ranges_frames(
    ranges: Sequence[Sequence[float]], fps: float, unit: str = "seconds"
) -> tuple[tuple[int, int], tuple[int, int]]:
  """Random-skip ranges of both streams in frames.

  Args:
    ranges: ((micro_lo, micro_hi), (macro_lo, macro_hi)), inclusive, e.g.
      `TABLE3_RANDOM_SKIP_SECONDS["samm_lv"]`.
    fps: frame rate of the target video.
    unit: `"seconds"` (converted, rounded half up, at least 1) or `"frames"`
      (checked and returned as ints).

  Returns:
    ((micro_lo, micro_hi), (macro_lo, macro_hi)) in frames.
  """
  if unit not in ("seconds", "frames"):
    raise InputError(f"unit={unit!r}; expected 'seconds' or 'frames'")
  if len(ranges) != 2 or any(len(r) != 2 for r in ranges):
    raise InputError(f"skip ranges {ranges!r}; expected ((lo, hi), (lo, hi))")
  out = []
  for lo, hi in ranges:
    if unit == "seconds":
      lo, hi = seconds_to_frames(lo, fps), seconds_to_frames(hi, fps)
    else:
      lo, hi = int(lo), int(hi)
    if not 1 <= lo <= hi:
      raise InputError(f"skip range ({lo}, {hi}) frames; expected "
                       "1 <= lo <= hi")
    out.append((lo, hi))
  return out[0], out[1]
