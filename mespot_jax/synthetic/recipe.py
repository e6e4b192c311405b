"""Recipe 2 of the long synthetic videos: the real datasets' statistics.

Recipe 1 (`render.plan_video` for `VideoParams.recipe == 1`, the
`synthetic_lv` configs before 2.0.0 and `tiny`) plants 3-5 macros and 2-4
micros per 20 s. Recipe 2 plants what the real annotations hold
(`stats.REAL`, from `../shared/DATA_FORMATS.md`):

- **how many**: `plan_counts` gives a whole rendering exactly
  `events_per_min` intervals per minute and a `micro_share` of micros,
  spread unevenly over the videos (at least one each, the rest by gamma
  weights, so a few videos hold many, as in the real lists) except
  `empty_videos` videos that hold none;
- **how long**: durations in frames drawn from a split log-normal whose
  10 %, 50 % and 90 % points are the real quantiles, clipped to the real
  minimum and maximum (`draw_frames`);
- **nuisance**: blinks at a published resting rate (`blinks_per_min`, gamma
  inter-blink intervals, 0.1-0.4 s each), the head drift and jerks and the
  lighting drift of recipe 1; `nuisance=False` switches them all off
  (`keep_noise` keeps the sensor noise);
- **micro amplitude**: `micro_amp_scale` multiplies it (the difficulty
  ladder); this also applies to recipe 1.

Every draw is seeded by (seed, subject, video) as in recipe 1, except the
counts, which are drawn once per rendering from (seed, number of videos).
"""
import dataclasses
import math

import numpy as np

from mespot_jax.synthetic import expressions

_Z90 = 1.2815515655446004  # standard normal 90 % point


def draw_frames(rng: np.random.Generator,
                spec: tuple[int, int, int, int, int]) -> int:
  """One duration in frames from `(min, p10, median, p90, max)`.

  A split log-normal: below the median its log-spread puts the 10 % point
  at `p10`, above it the 90 % point at `p90`; then clipped to [min, max].

  Args:
    rng: random generator (one normal draw).
    spec: the real duration figures, frames.

  Returns:
    Frames in the interval (offset - onset + 1).
  """
  lo, p10, med, p90, hi = spec
  z = float(rng.standard_normal())
  sigma = math.log(med / p10) / _Z90 if z < 0 else math.log(p90 / med) / _Z90
  return int(np.clip(round(med * math.exp(sigma * z)), lo, hi))


def plan_counts(seed: int, num_videos: int, minutes_per_video: float,
                events_per_min: float, micro_share: float,
                empty_videos: int) -> list[tuple[int, int]]:
  """`(macros, micros)` of every video of a rendering.

  The totals are exact: round(events_per_min x minutes) intervals, of which
  round(micro_share x total) micros, so every seed has the real density
  and share; which videos hold them is random.

  Args:
    seed: dataset seed.
    num_videos: videos of the rendering (in `video_params` order).
    minutes_per_video: length of each video in minutes.
    events_per_min: intervals per minute over the whole rendering.
    micro_share: share of micros among the intervals.
    empty_videos: videos with no interval at all.

  Returns:
    One `(n_macro, n_micro)` per video.
  """
  rng = np.random.default_rng([seed, num_videos, 505])
  total = int(round(events_per_min * minutes_per_video * num_videos))
  n_micro = int(round(micro_share * total))
  empty = rng.choice(num_videos, size=min(empty_videos, num_videos - 1),
                     replace=False)
  # Every other video holds at least one interval (as in the real lists,
  # where 95 of 98 CAS(ME)^2 videos and all SAMM-LV videos do); the rest
  # go to videos by gamma weights, so counts per video are skewed.
  has = np.ones(num_videos, bool)
  has[empty] = False
  weights = rng.gamma(1.0, size=num_videos) * has
  per_video = has.astype(int) * (total >= has.sum())
  per_video += rng.multinomial(total - per_video.sum(),
                               weights / weights.sum())
  is_micro = np.zeros(total, bool)
  is_micro[rng.choice(total, size=n_micro, replace=False)] = True
  owner = np.repeat(np.arange(num_videos), per_video)
  micros = np.bincount(owner[is_micro], minlength=num_videos)
  return [(int(n - m), int(m)) for n, m in zip(per_video, micros)]


def place_events(rng: np.random.Generator, num_frames: int, fps: float,
                 n_macro: int, n_micro: int, macro_frames, micro_frames,
                 macro_amp=(0.8, 1.3), micro_amp=(0.3, 0.45)
                 ) -> list[expressions.Event]:
  """Places the events of one video (the rules of `plan_events`).

  Macros never overlap macros, micros never micros (0.3 s apart at
  least); a micro may overlap a macro of another face region. Longest
  first, so a long macro still finds room.

  Args:
    rng: random generator.
    num_frames: video length.
    fps: frame rate.
    n_macro: macros to place.
    n_micro: micros to place.
    macro_frames: `(min, p10, median, p90, max)` macro duration, frames.
    micro_frames: the same for micros.
    macro_amp: amplitude range of macros.
    micro_amp: amplitude range of micros.

  Returns:
    Events sorted by onset (fewer than asked only if they cannot fit).
  """
  margin = max(2, int(0.3 * fps))
  gap = int(0.3 * fps)
  todo = [("macro", draw_frames(rng, macro_frames), macro_amp)
          for _ in range(n_macro)]
  todo += [("micro", draw_frames(rng, micro_frames), micro_amp)
           for _ in range(n_micro)]
  todo.sort(key=lambda x: -x[1])
  events: list[expressions.Event] = []
  for type_, length, amp in todo:
    length = min(length, num_frames - 2 * margin - 1)
    if length < 3:
      continue
    for _ in range(200):
      onset = int(rng.integers(margin + 1, num_frames - margin - length + 2))
      offset = onset + length - 1
      kind = expressions.KIND_NAMES[int(rng.integers(
          len(expressions.KIND_NAMES)))]
      if not any(onset <= e.offset + gap and e.onset <= offset + gap
                 and (e.type == type_ or expressions.REGION[e.kind]
                      == expressions.REGION[kind]) for e in events):
        apex = onset + int(round(rng.uniform(0.3, 0.55) * (length - 1)))
        events.append(expressions.Event(type_, kind, onset, apex, offset,
                                        float(rng.uniform(*amp))))
        break
  return sorted(events, key=lambda e: (e.onset, e.type))


def blinks(rng: np.random.Generator, num_frames: int, fps: float,
           per_min: float) -> np.ndarray:
  """Eye closure per frame: blinks at `per_min` on average.

  Inter-blink intervals are gamma (shape 2: rarely two blinks in quick
  succession, as in measured inter-blink distributions), each blink
  0.1-0.4 s (closing half, opening half).

  Args:
    rng: random generator.
    num_frames: video length.
    fps: frame rate.
    per_min: mean blinks per minute.

  Returns:
    `(num_frames,)` closure in [0, 1].
  """
  frames = np.arange(1, num_frames + 1)
  out = np.zeros(num_frames)
  mean_gap = 60.0 * fps / per_min
  start = rng.uniform(0, 1) * mean_gap
  while start < num_frames:
    length = max(3, int(rng.uniform(0.1, 0.4) * fps))
    on = int(start)
    out = np.maximum(out, expressions.envelope(on, on + length // 2,
                                               on + length, frames))
    start += max(length + 1, rng.gamma(2.0, mean_gap / 2.0))
  return out


def scale_micros(events, scale: float) -> list[expressions.Event]:
  """Micro amplitudes times `scale` (macros unchanged)."""
  if scale == 1.0:
    return list(events)
  return [dataclasses.replace(e, amplitude=e.amplitude * scale)
          if e.type == "micro" else e for e in events]
