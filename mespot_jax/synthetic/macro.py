"""A CK+-like macro-expression source set, rendered in memory.

Liu et al.'s domain adaptation trains on CK+ (posed macro-expressions)
beside the micro-expression clips. For the synthetic recognition set this
module renders the same kind of source with the `synthetic_me` renderer
(the subjects' identities, the expression kinds and their classes of
`synthetic.clips`), differing from the micro clips the way CK+ differs
from CASME II or SAMM:

* posed sequences: every sequence runs from a neutral first frame (onset =
  1) to the expression's peak at its last frame (apex = offset, as CK+);
* macro amplitude: the renderer's macro-expression range
  (`expressions.plan_events`' `macro_amp`, 0.8-1.3 times a kind's nominal
  displacement, against 0.45-0.8 for the micro clips) over a rise of
  0.3-1.3 s (half the renderer's macro durations);
* the class of a kind as in `synthetic_me` (3 classes).

Nothing here was tuned to a model: the ranges are the renderer's own.
Only the frames a recogniser of onset->apex flow needs are rendered (the
onset, the apex and the frame halfway between them, the "reduced" apex of
EMR), and aligned with the face tracker the builders use (one stream of
those three frames, transform smoothing over all of them, as the builders'
five-frame window over a still head). The subjects are other renderings
(their own seed) of the renderer's eight photographs: a face photo can
appear in both domains, with another warp, tone and lighting.
"""
import dataclasses
import functools

import numpy as np

from mespot_jax.face.preprocess import resize_crops
from mespot_jax.synthetic import clips as clips_lib
from mespot_jax.synthetic import expressions
from mespot_jax.synthetic import render

MACRO_AMP = (0.8, 1.3)     # expressions.plan_events' macro range
RISE_S = (0.3, 0.6, 1.3)   # onset -> apex (min, mean, max), seconds
SEED_SALT = 7001           # macro subjects are renderings of their own


@dataclasses.dataclass(frozen=True)
class MacroParams:
  """Everything that determines one posed sequence."""
  seed: int
  subject: int
  clip: int
  label: int
  fps: float = 30.0
  frame_hw: tuple[int, int] = (180, 240)
  face_size: int = 110


@dataclasses.dataclass
class MacroSet:
  """Aligned grey key frames of the sequences.

  Attributes:
    onset, half, apex: (N, S, S) uint8: the neutral first frame, the frame
      halfway between onset and apex (`onset + round((apex - onset) / 2)`),
      the peak.
    labels: (N,) int32 class of each (`clips.CLASSES`).
    subjects: (N,) subject ids ("m01", ...).
    frame_numbers: (N, 3) onset, halfway and apex frame numbers.
  """
  onset: np.ndarray
  half: np.ndarray
  apex: np.ndarray
  labels: np.ndarray
  subjects: list
  frame_numbers: np.ndarray


def plan_macro(p: MacroParams) -> render.VideoPlan:
  """The sequence's expression (onset 1, apex = offset = last frame)."""
  rng = np.random.default_rng([p.seed, p.subject, p.clip, 606])
  lo, mean, hi = RISE_S
  rise = int(round(float(np.clip(rng.lognormal(np.log(mean), 0.3), lo, hi))
                   * p.fps))
  t = max(rise, 2) + 1
  kinds = clips_lib.KINDS_OF_CLASS["3class"][clips_lib.CLASSES[p.label]]
  kind = kinds[int(rng.integers(len(kinds)))]
  event = expressions.Event("macro", kind, 1, t, t,
                            float(rng.uniform(*MACRO_AMP)))
  pose = clips_lib.still_pose(rng, t, p.frame_hw)
  gain = 1 + rng.uniform(-0.08, 0.08) + np.zeros(t)
  return render.VideoPlan([event], np.zeros(t), pose, gain)


class MacroRenderer(render.Renderer):
  """Renders any frame of one posed sequence."""

  def __init__(self, p: MacroParams):
    plan = plan_macro(p)
    super().__init__(render.VideoParams(
        seed=p.seed, subject=p.subject, video=2000 + p.clip, fps=p.fps,
        num_frames=len(plan.gain_T), frame_hw=tuple(p.frame_hw),
        face_size=p.face_size, grey=False, nuisance=True))
    self.plan = plan
    lms = self.style.landmarks
    hw = self.style.patch.shape[:2]
    self._fields = {e.kind: expressions.kind_field(e.kind, lms, hw)
                    for e in self.plan.events}


def macro_params(seed: int, subjects: int, clips_per_subject: int,
                 frame_hw=(180, 240), face_size=110) -> list[MacroParams]:
  """Every sequence's parameters; classes balanced within each subject."""
  k = len(clips_lib.CLASSES)
  out = []
  for s in range(subjects):
    rng = np.random.default_rng([seed, s, 707])
    labels = [i % k for i in range(clips_per_subject)]
    rng.shuffle(labels)
    for j, label in enumerate(labels):
      out.append(MacroParams(seed + SEED_SALT, s, j, int(label),
                             frame_hw=tuple(frame_hw), face_size=face_size))
  return out


@functools.lru_cache(maxsize=4)
def ckplus_like(seed: int = 0, subjects: int = 8, clips_per_subject: int = 12,
                image_size: int = 64, align_size: int = 64,
                frame_hw=(180, 240), face_size: int = 110) -> MacroSet:
  """Renders and aligns the CK+-like set (module docstring); cached.

  Args:
    seed: dataset seed (the sequences render with seed + `SEED_SALT`).
    subjects: subjects.
    clips_per_subject: sequences per subject (classes cycle through).
    image_size: side of the returned crops.
    align_size: side of the aligned crops before resizing (the size the
      micro-expression builder stores, so both domains are resized alike).
    frame_hw: rendered frame size.
    face_size: face size in the frame (px).

  Returns:
    A `MacroSet`.
  """
  from mespot_jax.data import spotting_builder  # pylint: disable=g-import-not-at-top
  from mespot_jax.face import track  # pylint: disable=g-import-not-at-top
  detector, predictor = spotting_builder._shared_face_models()  # pylint: disable=protected-access
  keys = {"onset": [], "half": [], "apex": []}
  labels, subj, numbers = [], [], []
  for p in macro_params(seed, subjects, clips_per_subject, frame_hw,
                        face_size):
    r = MacroRenderer(p)
    e = r.plan.events[0]
    half = e.onset + int(round((e.apex - e.onset) / 2))
    ns = (e.onset, half, e.apex)
    aligner = track.VideoAligner(size=align_size, grey=True, smooth_window=5,
                                 detector=detector, predictor=predictor)
    crops = np.stack([np.asarray(o.crop, np.uint8).reshape(
        align_size, align_size, 1)
                      for o in aligner.align_stream(r.frame(n) for n in ns)])
    crops = resize_crops(crops, image_size)[..., 0]
    for name, c in zip(keys, crops):
      keys[name].append(c)
    labels.append(p.label)
    subj.append(f"m{p.subject + 1:02d}")
    numbers.append(ns)
  return MacroSet(np.stack(keys["onset"]), np.stack(keys["half"]),
                  np.stack(keys["apex"]), np.asarray(labels, np.int32), subj,
                  np.asarray(numbers, np.int64))
