"""Facial expressions as smooth local deformations around the 68 landmarks.

An expression kind (brow raise, lip-corner pull, ...) moves a few landmarks
by a vector given in units of the inter-ocular distance (IOD); the dense
displacement field is the Gaussian-windowed interpolation of those vectors,
so the deformation is local and smooth and its size is known exactly. The
time course is an onset -> apex -> offset raised-cosine envelope; frame
numbers are 1-based and inclusive, as in the real datasets' annotations.
"""
import dataclasses

import numpy as np

# kind -> (AU code, emotion class, [(landmark ids, (dx, dy) in IOD)], sigma
# in IOD). Image axes: x to the right, y down; landmarks 17-21 are the brow
# on the image's left, 22-26 the other.
KINDS = {
    "brow_raise": ("AU1+2", "surprise",
                   [(range(17, 27), (0.0, -0.11)),
                    ((37, 38, 43, 44), (0.0, -0.03))], 0.13),
    "brow_lower": ("AU4", "negative",
                   [((17, 18, 19, 20, 21), (0.05, 0.07)),
                    ((22, 23, 24, 25, 26), (-0.05, 0.07))], 0.12),
    "lip_corner_pull": ("AU12", "positive",
                        [((48,), (-0.09, -0.07)), ((54,), (0.09, -0.07)),
                         ((49, 59), (-0.04, -0.03)),
                         ((53, 55), (0.04, -0.03))], 0.12),
    "nose_wrinkle": ("AU9", "negative",
                     [((31, 32, 33, 34, 35), (0.0, -0.06)),
                      ((29, 30), (0.0, -0.04)),
                      ((50, 51, 52), (0.0, -0.04))], 0.10),
    "lip_corner_depress": ("AU15", "negative",
                           [((48,), (-0.02, 0.08)), ((54,), (0.02, 0.08)),
                            ((58, 59, 55, 56), (0.0, 0.03))], 0.12),
    "jaw_drop": ("AU26", "surprise",
                 [((56, 57, 58, 65, 66, 67), (0.0, 0.07)),
                  ((6, 7, 8, 9, 10), (0.0, 0.07))], 0.14),
    # One lip corner tightened and raised (contempt); clips only.
    "lip_corner_unilateral": ("AU14", "negative",
                              [((54,), (0.06, -0.045)),
                               ((53, 55, 64), (0.025, -0.02))], 0.11),
}
# Kinds only the short clips use (synthetic_me's 5 classes): the long
# videos plant the others, as before the kind existed.
CLIP_ONLY_KINDS = ("lip_corner_unilateral",)
KIND_NAMES = tuple(k for k in KINDS if k not in CLIP_ONLY_KINDS)
# Kinds sharing a region are not planted on top of each other.
REGION = {"brow_raise": "brow", "brow_lower": "brow", "nose_wrinkle": "nose",
          "lip_corner_pull": "mouth", "lip_corner_depress": "mouth",
          "jaw_drop": "mouth", "lip_corner_unilateral": "mouth"}


def inter_ocular(landmarks_68: np.ndarray) -> float:
  """Distance between the eye centres (landmarks 36-41 and 42-47)."""
  left = landmarks_68[36:42].mean(0)
  right = landmarks_68[42:48].mean(0)
  return float(np.linalg.norm(right - left))


def displacement_field(landmarks_68: np.ndarray,
                       moves: list[tuple[tuple[int, ...], tuple[float, float]]],
                       sigma_iod: float, shape_hw: tuple[int, int]
                       ) -> np.ndarray:
  """Dense forward displacement field moving landmarks by given vectors.

  The field is sum_k w_k(x) d_k / max(1, sum_k w_k(x)) with Gaussian
  windows w_k around the moved landmarks, so neighbouring landmarks moving
  together move their surroundings by d (not by a multiple of it).

  Args:
    landmarks_68: `(68, 2)` (x, y) landmarks in the image the field lives on.
    moves: `(landmark ids, (dx, dy) in IOD units)` pairs.
    sigma_iod: Gaussian window width in IOD units.
    shape_hw: field size `(H, W)`.

  Returns:
    `(H, W, 2)` float32 displacement in pixels (dx, dy).
  """
  iod = inter_ocular(landmarks_68)
  sigma = sigma_iod * iod
  h, w = shape_hw
  ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
  num = np.zeros((h, w, 2), np.float32)
  den = np.zeros((h, w), np.float32)
  for ids, (dx, dy) in moves:
    for k in ids:
      px, py = landmarks_68[k]
      wk = np.exp(-((xs - px) ** 2 + (ys - py) ** 2) / (2 * sigma ** 2))
      num[..., 0] += wk * dx * iod
      num[..., 1] += wk * dy * iod
      den += wk
  return num / np.maximum(1.0, den)[..., None]


def kind_field(kind: str, landmarks_68: np.ndarray,
               shape_hw: tuple[int, int]) -> np.ndarray:
  """The `(H, W, 2)` displacement of expression `kind` at full strength."""
  _, _, moves, sigma = KINDS[kind]
  return displacement_field(landmarks_68, moves, sigma, shape_hw)


def blink_field(landmarks_68: np.ndarray,
                shape_hw: tuple[int, int]) -> np.ndarray:
  """Displacement closing both eyes: upper lids move onto the lower lids."""
  iod = inter_ocular(landmarks_68)
  moves = []
  for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
    d = (landmarks_68[lower] - landmarks_68[upper]) * 0.95 / iod
    moves.append(((upper,), (float(d[0]), float(d[1]))))
  return displacement_field(landmarks_68, moves, 0.07, shape_hw)


@dataclasses.dataclass(frozen=True)
class Event:
  """A planted expression (frames 1-based, inclusive)."""
  type: str  # "micro" or "macro"
  kind: str  # a key of KINDS
  onset: int
  apex: int
  offset: int
  amplitude: float  # multiplier of the kind's nominal displacement

  @property
  def au(self) -> str:
    return KINDS[self.kind][0]

  @property
  def emotion(self) -> str:
    return KINDS[self.kind][1]


def envelope(onset: int, apex: int, offset: int,
             frames: np.ndarray) -> np.ndarray:
  """Raised-cosine rise onset->apex and fall apex->offset; 0 outside.

  Args:
    onset: first frame (value 0).
    apex: peak frame (value 1).
    offset: last frame (value 0).
    frames: 1-based frame numbers.

  Returns:
    Envelope values in [0, 1], same shape as `frames`.
  """
  f = np.asarray(frames, np.float64)
  out = np.zeros_like(f)
  rise = (f >= onset) & (f <= apex)
  fall = (f > apex) & (f <= offset)
  out[rise] = 0.5 - 0.5 * np.cos(np.pi * (f[rise] - onset)
                                 / max(apex - onset, 1))
  out[fall] = 0.5 + 0.5 * np.cos(np.pi * (f[fall] - apex)
                                 / max(offset - apex, 1))
  return out


def _duration_frames(rng, spec: tuple[float, float, float], fps: float
                     ) -> int:
  lo, mean, hi = spec
  # Log-normal around the mean, clipped: skewed like real durations.
  d = float(np.clip(rng.lognormal(np.log(mean), 0.35), lo, hi))
  return max(3, int(round(d * fps)))


def plan_events(rng: np.random.Generator, num_frames: int, fps: float,
                n_macro: int, n_micro: int,
                macro_s: tuple[float, float, float],
                micro_s: tuple[float, float, float],
                macro_amp: tuple[float, float] = (0.8, 1.3),
                micro_amp: tuple[float, float] = (0.3, 0.45)
                ) -> list[Event]:
  """Places macro- and micro-expressions in a video.

  Macros never overlap each other; micros never overlap micros; a micro may
  overlap a macro of another face region (as in real long videos).

  Args:
    rng: random generator.
    num_frames: video length.
    fps: frame rate.
    n_macro: wanted macros (fewer if they do not fit).
    n_micro: wanted micros.
    macro_s: (min, mean, max) macro duration in seconds.
    micro_s: (min, mean, max) micro duration in seconds.
    macro_amp: amplitude range of macros.
    micro_amp: amplitude range of micros (subtle).

  Returns:
    Events sorted by onset.
  """
  margin = max(2, int(0.3 * fps))
  events: list[Event] = []
  for type_, n, spec, amp in (("macro", n_macro, macro_s, macro_amp),
                              ("micro", n_micro, micro_s, micro_amp)):
    placed = 0
    for _ in range(50 * max(n, 1)):
      if placed >= n:
        break
      length = _duration_frames(rng, spec, fps)
      if length + 2 * margin >= num_frames:
        continue
      onset = int(rng.integers(margin + 1, num_frames - margin - length + 1))
      offset = onset + length - 1
      apex = onset + int(round(rng.uniform(0.3, 0.55) * (length - 1)))
      kind = KIND_NAMES[int(rng.integers(len(KIND_NAMES)))]
      clash = False
      for e in events:
        gap = int(0.3 * fps)
        overlaps = onset <= e.offset + gap and e.onset <= offset + gap
        if overlaps and (e.type == type_ or REGION[e.kind] == REGION[kind]):
          clash = True
          break
      if clash:
        continue
      events.append(Event(type_, kind, onset, apex, offset,
                          float(rng.uniform(*amp))))
      placed += 1
  return sorted(events, key=lambda e: (e.onset, e.type))
