"""Short synthetic clips around one planted expression (the `synthetic_me` set).

The same renderer as the long videos (`render.Renderer`: the subject's
identity, the expression deformations, sensor noise), with a plan of its
own: exactly one expression per clip, of a kind drawn from the clip's
class, slow head drift and illumination drift but no head jerk and no blink,
so the class is visible only in the facial motion of the expression. Any
frame is a pure function of (seed, subject, clip index).

Two label sets (`LABEL_SETS`): the MEGC2019 composite's three classes
(`CLASSES`; each kind of expression belongs to the class its `emotion`
names in `expressions.KINDS`) and SAMM's five of the ConvLSTM paper
(happiness: lip-corner pull; other: nose wrinkle, lip-corner depressor;
anger: brow lowerer; contempt: one lip corner tightened and raised, a kind
only the clips use; surprise: brow raise, jaw drop).
"""
import dataclasses

import numpy as np

from mespot_jax.synthetic import expressions
from mespot_jax.synthetic import render

LABEL_SETS = {"3class": ("negative", "positive", "surprise"),
              "5class": ("happiness", "other", "anger", "contempt",
                         "surprise")}
CLASSES = LABEL_SETS["3class"]
_CLASS_OF_KIND = {
    "3class": {k: expressions.KINDS[k][1] for k in expressions.KIND_NAMES},
    "5class": {"lip_corner_pull": "happiness", "nose_wrinkle": "other",
               "lip_corner_depress": "other", "brow_lower": "anger",
               "lip_corner_unilateral": "contempt",
               "brow_raise": "surprise", "jaw_drop": "surprise"}}
# label set -> class -> kinds drawn for it, in `expressions.KINDS` order.
KINDS_OF_CLASS = {
    ls: {c: tuple(k for k in expressions.KINDS if table.get(k) == c)
         for c in LABEL_SETS[ls]}
    for ls, table in _CLASS_OF_KIND.items()}


@dataclasses.dataclass(frozen=True)
class ClipParams:
  """Everything that determines one synthetic clip (picklable)."""
  seed: int
  subject: int
  clip: int
  label: int  # index into LABEL_SETS[label_set]
  fps: float = 30.0
  num_frames: int = 20
  frame_hw: tuple[int, int] = (150, 200)
  face_size: int = 95
  duration_s: tuple[float, float, float] = (0.27, 0.42, 0.5)
  amplitude: tuple[float, float] = (0.45, 0.8)
  label_set: str = "3class"

  @property
  def class_name(self) -> str:
    return LABEL_SETS[self.label_set][self.label]


def still_pose(rng, t: int, frame_hw) -> np.ndarray:
  """(t, 4) pose of a short clip: the face near the frame's centre (x, y),
  a small roll and scale, drawn once and held (four draws from `rng`)."""
  h, w = frame_hw
  pose = np.zeros((t, 4))
  pose[:, 0] = w / 2 + rng.uniform(-0.05, 0.05) * w
  pose[:, 1] = h / 2 + rng.uniform(-0.04, 0.04) * h
  pose[:, 2] = rng.uniform(-3, 3)
  pose[:, 3] = 1.0 + rng.uniform(-0.03, 0.03)
  return pose


def plan_clip(p: ClipParams) -> render.VideoPlan:
  """The clip's one expression and its nuisance (cheap, deterministic).

  Returns:
    A `render.VideoPlan` whose `events` hold the clip's expression (onset,
    apex, offset 1-based inclusive, inside the clip).
  """
  rng = np.random.default_rng([p.seed, p.subject, p.clip, 404])
  t = p.num_frames
  lo, mean, hi = p.duration_s
  length = int(round(float(np.clip(rng.lognormal(np.log(mean), 0.3), lo, hi))
                     * p.fps))
  length = int(np.clip(length, 3, t - 2))
  onset = int(rng.integers(2, t - length + 2))
  offset = onset + length - 1
  apex = onset + int(round(rng.uniform(0.3, 0.55) * (length - 1)))
  kinds = KINDS_OF_CLASS[p.label_set][p.class_name]
  kind = kinds[int(rng.integers(len(kinds)))]
  event = expressions.Event("micro", kind, onset, apex, offset,
                            float(rng.uniform(*p.amplitude)))
  pose = still_pose(rng, t, p.frame_hw)
  # Slow drift only: a clip is a fraction of a second.
  pose[:, 0] += 0.01 * p.face_size * np.linspace(-1, 1, t) * rng.normal()
  pose[:, 1] += 0.01 * p.face_size * np.linspace(-1, 1, t) * rng.normal()
  gain = 1 + rng.uniform(-0.08, 0.08) + 0.01 * np.linspace(-1, 1, t)
  return render.VideoPlan([event], np.zeros(t), pose, gain)


class ClipRenderer(render.Renderer):
  """Renders any frame of one clip (frames depend only on their number)."""

  def __init__(self, p: ClipParams):
    super().__init__(render.VideoParams(
        seed=p.seed, subject=p.subject, video=1000 + p.clip, fps=p.fps,
        num_frames=p.num_frames, frame_hw=tuple(p.frame_hw),
        face_size=p.face_size, grey=False, nuisance=True))
    self.plan = plan_clip(p)
    lms = self.style.landmarks
    hw = self.style.patch.shape[:2]
    self._fields = {e.kind: expressions.kind_field(e.kind, lms, hw)
                    for e in self.plan.events}


def iter_clip_frames(p: ClipParams):
  """Streams the `(H, W, 3)` uint8 RGB frames of a clip."""
  yield from ClipRenderer(p)
