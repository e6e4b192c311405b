"""Recipe 2 of the long synthetic videos: the real datasets' statistics.

Recipe 1 (`render.plan_video` for `VideoParams.recipe == 1`, the
`synthetic_lv` configs before 2.0.0 and `tiny`) plants 3-5 macros and 2-4
micros per 20 s. Recipe 2 plants what the real annotations hold
(`stats.REAL`; sources in `data_builders/synthetic_lv/README.md`):

- **how many** (`plan_rendering`): a whole rendering holds exactly
  `events_per_min` intervals per minute and a `micro_share` of micros,
  spread unevenly over the videos (at least one each, the rest by gamma
  weights, so a few videos hold many, as in the real lists) except
  `empty_videos` videos that hold none;
- **how long**: durations in frames from a split log-normal whose 10 %,
  50 % and 90 % points are the real quantiles, clipped to the real
  minimum, with a log-uniform top decile up to the real maximum
  (`frames_at`), drawn at stratified quantiles over the rendering so that
  even a small rendering spans the real distribution;
- **nuisance**: blinks at a published resting rate (`blinks_per_min`, gamma
  inter-blink intervals, 0.1-0.4 s each), the head drift and jerks and the
  lighting drift of recipe 1; `nuisance=False` switches them all off
  (`keep_noise` keeps the sensor noise);
- **micro amplitude**: `micro_amp_scale` multiplies it (the difficulty
  ladder); this also applies to recipe 1.

Every draw is seeded by (seed, subject, video) as in recipe 1, except the
counts and durations, drawn once per rendering from (seed, number of
videos).
"""
import dataclasses
import math

import numpy as np
from scipy import special

from mespot_jax.synthetic import expressions

_Z90 = 1.2815515655446004  # standard normal 90 % point


def frames_at(u: float, spec: tuple[int, int, int, int, int]) -> int:
  """The duration in frames at quantile `u` of `(min, p10, median, p90,
  max)`.

  A split log-normal: below the median its log-spread puts the 10 % point
  at `p10`, above it the 90 % point at `p90`, clipped to the minimum; the
  top 10 % is log-uniform between `p90` and the maximum (real durations
  have a longer tail than a log-normal: SAMM-LV's macros reach 5,176
  frames, 7.5 times their 90 % point, and its 15 % of frames inside an
  interval needs them).

  Args:
    u: quantile in (0, 1).
    spec: the real duration figures, frames.

  Returns:
    Frames in the interval (offset - onset + 1).
  """
  lo, p10, med, p90, hi = spec
  if u > 0.9:
    return int(np.clip(round(p90 * (hi / p90) ** ((u - 0.9) / 0.1)), lo, hi))
  z = float(special.ndtri(u))
  sigma = math.log(med / p10) / _Z90 if z < 0 else math.log(p90 / med) / _Z90
  return int(np.clip(round(med * math.exp(sigma * z)), lo, hi))


def _stratified(rng, n: int, spec) -> list[int]:
  """`n` durations at stratified quantiles ((k + U) / n), in random order,
  so that even a rendering of a few intervals spans the real distribution
  instead of a chance corner of it."""
  u = (rng.permutation(n) + rng.uniform(size=n)) / max(n, 1)
  return [frames_at(float(x), spec) for x in u]


def plan_rendering(seed: int, num_videos: int, minutes_per_video: float,
                   events_per_min: float, micro_share: float,
                   empty_videos: int, macro_frames, micro_frames
                   ) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
  """The macro and micro durations (frames) of every video of a rendering.

  The totals are exact: round(events_per_min x minutes) intervals, of which
  round(micro_share x total) micros, so every seed has the real density
  and share. Every video but `empty_videos` of them holds at least one
  interval (as in the real lists, where 95 of 98 CAS(ME)^2 videos and all
  SAMM-LV videos do); the rest go to videos by gamma(1) weights, so counts
  per video are skewed. Durations are stratified over the real quantiles
  across the rendering (`_stratified`).

  Args:
    seed: dataset seed.
    num_videos: videos of the rendering (in `video_params` order).
    minutes_per_video: length of each video in minutes.
    events_per_min: intervals per minute over the whole rendering.
    micro_share: share of micros among the intervals.
    empty_videos: videos with no interval at all.
    macro_frames: `(min, p10, median, p90, max)` macro duration, frames.
    micro_frames: the same for micros.

  Returns:
    `(macro durations, micro durations)` per video.
  """
  rng = np.random.default_rng([seed, num_videos, 505])
  total = int(round(events_per_min * minutes_per_video * num_videos))
  n_micro = int(round(micro_share * total))
  empty = rng.choice(num_videos, size=min(empty_videos, num_videos - 1),
                     replace=False)
  has = np.ones(num_videos, bool)
  has[empty] = False
  weights = rng.gamma(1.0, size=num_videos) * has
  per_video = has.astype(int) * (total >= has.sum())
  per_video += rng.multinomial(total - per_video.sum(),
                               weights / weights.sum())
  is_micro = np.zeros(total, bool)
  is_micro[rng.choice(total, size=n_micro, replace=False)] = True
  owner = np.repeat(np.arange(num_videos), per_video)
  macros = iter(_stratified(rng, total - n_micro, macro_frames))
  micros = iter(_stratified(rng, n_micro, micro_frames))
  out = [([], []) for _ in range(num_videos)]
  for video, micro in zip(owner, is_micro):
    out[video][int(micro)].append(next(micros) if micro else next(macros))
  return [(tuple(a), tuple(b)) for a, b in out]


def place_events(rng: np.random.Generator, num_frames: int, fps: float,
                 macro_lengths, micro_lengths, macro_amp=(0.8, 1.3),
                 micro_amp=(0.3, 0.45)) -> list[expressions.Event]:
  """Places the events of one video (the rules of `plan_events`).

  Macros never overlap macros, micros never micros (0.3 s apart at
  least); a micro may overlap a macro of another face region. Longest
  first, so a long macro still finds room.

  Args:
    rng: random generator.
    num_frames: video length.
    fps: frame rate.
    macro_lengths: durations of the macros to place, frames.
    micro_lengths: durations of the micros.
    macro_amp: amplitude range of macros.
    micro_amp: amplitude range of micros.

  Returns:
    Events sorted by onset (fewer than asked only if they cannot fit).
  """
  margin = max(2, int(0.3 * fps))
  gap = int(0.3 * fps)
  todo = [("macro", n, macro_amp) for n in macro_lengths]
  todo += [("micro", n, micro_amp) for n in micro_lengths]
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
