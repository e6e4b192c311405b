"""Frame counts at one frame rate expressed at another.

Skips, window lengths and durations are configured at one frame rate and
used on videos of any other (SAMM-LV at 200 fps, CAS(ME)^2 at 30 fps, a
user's 23.98 fps recording). Counts are rounded half up, never to even, so
that a frame count does not depend on the parity of its integer part.
"""
import math
from typing import Sequence

from mespot_jax.errors import InputError


def round_half_up(x: float) -> int:
  """Rounds half up (Python's round() rounds half to even: 18.5 -> 18)."""
  return int(math.floor(x + 0.5 + 1e-9))


def seconds_to_frames(seconds: float, fps: float, least: int = 1) -> int:
  """Rounds `seconds * fps` half up to whole frames (at least `least`): the
  one conversion of a duration to frames (0.15 s at 30 fps is 5 frames)."""
  if fps <= 0 or seconds < 0:
    raise InputError(f"seconds={seconds}, fps={fps}; expected seconds >= 0 "
                     "and fps > 0")
  return max(int(least), round_half_up(float(seconds) * float(fps)))


def rescale_skip(skip_frames: int, fps_from: float, fps_to: float) -> int:
  """The same time span at another frame rate (rounded half up, >= 1)."""
  if fps_from <= 0 or fps_to <= 0:
    raise InputError(f"fps_from={fps_from}, fps_to={fps_to}; expected > 0")
  return max(1, round_half_up(skip_frames * fps_to / fps_from))


def rescale_skips(skips: Sequence[int], fps_from: float,
                  fps_to: float) -> tuple[int, ...]:
  """`rescale_skip` of each skip (unchanged when the rates are equal)."""
  return tuple(rescale_skip(int(k), fps_from, fps_to) for k in skips)
