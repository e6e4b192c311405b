"""Renders synthetic long videos of faces with planted expressions.

Each subject is one of eight real people (`FACES`: photographs shipped in
PyPI packages, cut to face patches with their 68 dlib landmarks by
`scripts/make_synthetic_faces.py`), chosen by `person_of`, with its own
identity on top: a smooth warp of the face proportions (eye spacing, jaw
width, chin, nose, mouth, brows), skin tone, directional lighting and a
textured background. Each frame deforms the face
by the active expressions (`expressions.py`) and a blink field, places it at
a moving pose (slow drift plus sudden head jerks) in a larger frame, and
adds slow illumination drift and sensor noise. Everything is a pure
function of (seed, subject, video, frame number), so any frame can be
re-rendered on its own and two runs give identical pixels.
"""
import dataclasses
import functools
import json

import cv2
import importlib_resources
import numpy as np
from scipy import ndimage

from mespot_jax.synthetic import expressions
from mespot_jax.synthetic import recipe

_NOISE_BANK = 6


@dataclasses.dataclass(frozen=True)
class VideoParams:
  """Everything that determines one synthetic video (picklable)."""
  seed: int
  subject: int
  video: int
  fps: float
  num_frames: int
  frame_hw: tuple[int, int] = (240, 320)
  face_size: int = 110  # width of the detector's face box in the frame
  grey: bool = False
  macro_per_20s: tuple[int, int] = (3, 5)
  micro_per_20s: tuple[int, int] = (2, 4)
  macro_s: tuple[float, float, float] = (0.6, 1.25, 3.9)
  micro_s: tuple[float, float, float] = (0.27, 0.42, 0.5)
  nuisance: bool = True  # head motion, blinks, illumination drift, noise
  # Recipe 2 (`recipe.py`: the real datasets' statistics); recipe 1 is the
  # one of synthetic_lv before 2.0.0 (and of `tiny`), and ignores these.
  recipe: int = 1
  macro_lengths: tuple[int, ...] = ()  # the video's macro durations, frames
  micro_lengths: tuple[int, ...] = ()
  blinks_per_min: float = 17.0
  # Both recipes: micro amplitude factor (the difficulty ladder), and
  # sensor noise kept when `nuisance` is off (the `clean` control).
  micro_amp_scale: float = 1.0
  keep_noise: bool = False


# The people the subjects are drawn from: 200x200 patches of photographs
# shipped in PyPI packages, made by `scripts/make_synthetic_faces.py`, which
# also records each photo's package, path and licence in `faces.json`.
FACES = ("collins", "hopper", "obama", "biden", "coelho", "einstein",
         "curie", "kanade")
_FACE_BOX = 88.0  # the dlib box width every patch was scaled to, pixels


@functools.lru_cache(maxsize=None)
def _face_index() -> dict:
  text = (importlib_resources.files("mespot_jax.synthetic") / "faces"
          / "faces.json").read_text()
  return json.loads(text)


@functools.lru_cache(maxsize=len(FACES))
def source_face(name: str) -> tuple[np.ndarray, np.ndarray]:
  """One person's face patch and its 68 landmarks (read once per process).

  Args:
    name: one of `FACES`.

  Returns:
    `(patch (P, P, 3) uint8 RGB, landmarks (68, 2) float32 in patch
    coordinates)`; the face's detector box is `_FACE_BOX` pixels wide.
  """
  if name not in FACES:
    raise ValueError(f"no synthetic face {name!r}; expected one of {FACES}")
  data = (importlib_resources.files("mespot_jax.synthetic") / "faces"
          / f"{name}.png").read_bytes()
  patch = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
  patch = np.ascontiguousarray(patch[..., ::-1])
  lms = np.asarray(_face_index()[name]["landmarks"], np.float32)
  return patch, lms


def person_of(seed: int, subject: int) -> str:
  """The photograph subject `subject` of dataset seed `seed` is drawn from.

  A seeded permutation of `FACES`: the first `len(FACES)` subjects of a
  dataset are all different people (leave-one-subject-out meets a face it
  never trained on); later subjects cycle through them again, with their
  own warp, tone and lighting.
  """
  order = np.random.default_rng([seed, 404]).permutation(len(FACES))
  return FACES[int(order[subject % len(FACES)])]


@dataclasses.dataclass
class SubjectStyle:
  """A subject's identity: warped, recoloured face patch and its landmarks."""
  patch: np.ndarray  # (P, P, C) uint8
  alpha: np.ndarray  # (P, P) float32 face mask, feathered
  landmarks: np.ndarray  # (68, 2) float32, patch coordinates
  bg_tint: np.ndarray  # (3,) float32
  bg_texture: int


def _sample(field: np.ndarray, pts: np.ndarray) -> np.ndarray:
  return np.stack([ndimage.map_coordinates(field[..., c], [pts[:, 1],
                                                           pts[:, 0]],
                                           order=1, mode="nearest")
                   for c in range(2)], -1)


@functools.lru_cache(maxsize=8)
def subject_style(seed: int, subject: int, grey: bool) -> SubjectStyle:
  """The identity of one subject, deterministic in (seed, subject).

  Args:
    seed: dataset seed.
    subject: subject index.
    grey: produce a 1-channel patch.

  Returns:
    The subject's style.
  """
  rng = np.random.default_rng([seed, subject, 101])
  patch, lms = source_face(person_of(seed, subject))
  u = lambda lo, hi: float(rng.uniform(lo, hi))
  a, b, c, d, e, f = (u(-.06, .06), u(-.08, .08), u(-.06, .09),
                      u(-.05, .06), u(-.05, .06), u(-.06, .05))
  moves = [(range(36, 42), (-a, 0.0)), (range(42, 48), (a, 0.0)),
           (range(0, 5), (-b, 0.0)), (range(12, 17), (b, 0.0)),
           (range(6, 11), (0.0, c)), (range(31, 36), (0.0, d)),
           ((48,), (-e, 0.0)), ((54,), (e, 0.0)), (range(17, 27), (0.0, f))]
  shape = patch.shape[:2]
  field = expressions.displacement_field(lms, moves, 0.35, shape)
  # Global anisotropic scale about the face centre, in the same field.
  centre = lms.mean(0)
  ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
  sx, sy = u(0.93, 1.07), u(0.93, 1.07)
  field[..., 0] += (xs - centre[0]) * (1 - 1 / sx)
  field[..., 1] += (ys - centre[1]) * (1 - 1 / sy)
  warped = cv2.remap(patch, xs - field[..., 0], ys - field[..., 1],
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
  # A landmark p lands at q with q - D(q) = p: a few fixed-point steps.
  q = lms.copy()
  for _ in range(4):
    q = lms + _sample(field, q)
  # Skin tone (light to dark) and a directional light across the face.
  tone = u(0, 1)
  gain = ((1 - tone) * np.array([1.08, 1.0, 0.97])
          + tone * np.array([0.62, 0.47, 0.38]))
  theta = u(0, 2 * np.pi)
  ramp = ((xs - centre[0]) * np.cos(theta) + (ys - centre[1]) * np.sin(theta))
  light = 1 + u(0.15, 0.5) * ramp / shape[0]
  rgb = warped.astype(np.float32) * gain[None, None] * light[..., None]
  rgb = np.clip(rgb, 0, 255).astype(np.uint8)
  out = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None] if grey else rgb
  # Face mask: an ellipse from the brows to the chin, feathered.
  jaw_w = float(np.linalg.norm(q[16] - q[0]))
  top, chin = float(q[17:27, 1].min()), float(q[8, 1])
  h = chin - top
  mask = np.zeros(shape, np.float32)
  cv2.ellipse(mask, (int(q[27, 0]), int(top + 0.42 * h)),
              (int(0.62 * jaw_w), int(0.8 * h)), 0, 0, 360, 1.0, -1)
  mask = cv2.GaussianBlur(mask, (0, 0), 0.04 * shape[0])
  return SubjectStyle(out, mask, q.astype(np.float32),
                      rng.uniform(0.35, 1.0, 3).astype(np.float32),
                      int(rng.integers(3)))


@functools.lru_cache(maxsize=4)
def _background(seed: int, subject: int, frame_hw: tuple[int, int],
                grey: bool) -> np.ndarray:
  import skimage.data  # pylint: disable=g-import-not-at-top
  style = subject_style(seed, subject, grey)
  tex = (skimage.data.brick, skimage.data.grass,
         skimage.data.gravel)[style.bg_texture]().astype(np.float32)
  tex = cv2.resize(tex, frame_hw[::-1], interpolation=cv2.INTER_LINEAR)
  tex = 90 + 0.35 * (tex - tex.mean())
  rgb = np.clip(tex[..., None] * style.bg_tint[None, None] * 1.6, 0, 255)
  rgb = rgb.astype(np.uint8)
  return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if grey else rgb


def _smooth_noise(rng, n: int, sigma: float) -> np.ndarray:
  """Stationary smooth noise of unit variance (whatever the length)."""
  sigma = max(sigma, 1.0)
  pad = int(4 * sigma)
  x = ndimage.gaussian_filter1d(rng.normal(size=n + 2 * pad), sigma)
  # Scale by the theoretical std of filtered white noise, not the sample
  # std: a short clip of a slow process must stay small, not be blown up.
  return x[pad:pad + n] * np.sqrt(2 * np.sqrt(np.pi) * sigma)


@dataclasses.dataclass
class VideoPlan:
  """Per-video truth and nuisance, all per frame (index = frame - 1)."""
  events: list[expressions.Event]
  blink_T: np.ndarray  # eye closure in [0, 1]
  pose_T4: np.ndarray  # centre x, centre y (pixels), rotation (deg), scale
  gain_T: np.ndarray  # illumination gain


def _head_and_light(rng, p: VideoParams, pose: np.ndarray,
                    per: float) -> np.ndarray:
  """Adds head drift and jerks to `pose` (in place); returns the lighting
  gain per frame. `per` is the video's length in units of 20 s."""
  t, fps = p.num_frames, p.fps
  frames = np.arange(1, t + 1)
  face = p.face_size
  pose[:, 0] += 0.04 * face * _smooth_noise(rng, t, fps)
  pose[:, 1] += 0.03 * face * _smooth_noise(rng, t, fps)
  pose[:, 2] += 1.5 * _smooth_noise(rng, t, fps)
  pose[:, 3] += 0.015 * _smooth_noise(rng, t, 2 * fps)
  for _ in range(max(1, int(round(rng.uniform(1, 2.5) * per)))):
    # Sudden head jerks: the nuisance that fools frame differencing.
    length = max(4, int(rng.uniform(0.25, 0.7) * fps))
    on = int(rng.integers(1, max(2, t - length)))
    env = expressions.envelope(on, on + length // 2, on + length, frames)
    pose[:, 0] += env * rng.uniform(-0.08, 0.08) * face
    pose[:, 1] += env * rng.uniform(-0.06, 0.06) * face
    pose[:, 2] += env * rng.uniform(-4, 4)
  gain = 1 + 0.07 * np.sin(2 * np.pi * frames / (rng.uniform(5, 15) * fps)
                           + rng.uniform(0, 2 * np.pi))
  return gain


def plan_video(p: VideoParams) -> VideoPlan:
  """Plans the expressions and nuisance motion of one video (cheap).

  Args:
    p: video parameters.

  Returns:
    The plan; `events` are the ground truth (1-based inclusive frames).
  """
  if p.recipe == 2:
    return _plan_video_2(p)
  rng = np.random.default_rng([p.seed, p.subject, p.video, 202])
  t, fps = p.num_frames, p.fps
  per = t / fps / 20.0
  n_macro = int(round(rng.integers(p.macro_per_20s[0],
                                   p.macro_per_20s[1] + 1) * per))
  n_micro = int(round(rng.integers(p.micro_per_20s[0],
                                   p.micro_per_20s[1] + 1) * per))
  events = expressions.plan_events(rng, t, fps, max(n_macro, 1),
                                   max(n_micro, 1), p.macro_s, p.micro_s)
  frames = np.arange(1, t + 1)
  blink = np.zeros(t)
  h, w = p.frame_hw
  pose = np.zeros((t, 4))
  pose[:, 0] = w / 2 + rng.uniform(-0.08, 0.08) * w
  pose[:, 1] = h / 2 + rng.uniform(-0.05, 0.05) * h
  pose[:, 3] = 1.0
  gain = np.ones(t)
  if p.nuisance:
    start = rng.uniform(0.5, 3.0) * fps
    while start < t:  # blinks every 2-6 s, 0.1-0.3 s long
      length = max(3, int(rng.uniform(0.1, 0.3) * fps))
      on = int(start)
      blink = np.maximum(blink, expressions.envelope(
          on, on + length // 2, on + length, frames))
      start += rng.uniform(2.0, 6.0) * fps
    gain = _head_and_light(rng, p, pose, per)
  return VideoPlan(recipe.scale_micros(events, p.micro_amp_scale), blink,
                   pose, gain)


def _plan_video_2(p: VideoParams) -> VideoPlan:
  """`plan_video` of recipe 2 (`recipe.py`)."""
  rng = np.random.default_rng([p.seed, p.subject, p.video, 202])
  t, fps = p.num_frames, p.fps
  events = recipe.place_events(rng, t, fps, p.macro_lengths,
                               p.micro_lengths)
  h, w = p.frame_hw
  pose = np.zeros((t, 4))
  pose[:, 0] = w / 2 + rng.uniform(-0.08, 0.08) * w
  pose[:, 1] = h / 2 + rng.uniform(-0.05, 0.05) * h
  pose[:, 3] = 1.0
  blink, gain = np.zeros(t), np.ones(t)
  if p.nuisance:
    blink = recipe.blinks(rng, t, fps, p.blinks_per_min)
    gain = _head_and_light(rng, p, pose, t / fps / 20.0)
  return VideoPlan(recipe.scale_micros(events, p.micro_amp_scale), blink,
                   pose, gain)


class Renderer:
  """Renders any frame of one video; frames depend only on their number."""

  def __init__(self, p: VideoParams):
    self.p = p
    self.plan = plan_video(p)
    self.style = subject_style(p.seed, p.subject, p.grey)
    lms = self.style.landmarks
    hw = self.style.patch.shape[:2]
    kinds = {e.kind for e in self.plan.events}
    self._fields = {k: expressions.kind_field(k, lms, hw) for k in kinds}
    self._blink = expressions.blink_field(lms, hw)
    ys, xs = np.mgrid[0:hw[0], 0:hw[1]].astype(np.float32)
    self._grid = (xs, ys)
    self._background = _background(p.seed, p.subject, p.frame_hw, p.grey)
    self._scale = p.face_size / _FACE_BOX
    rng = np.random.default_rng([p.seed, p.subject, p.video, 303])
    shape = self._background.shape
    # A small bank of noise images (uint8 parts), drawn one at a time so a
    # 2040x1088 video never holds a float64 stack of them.
    self._noise_pos = np.empty((_NOISE_BANK,) + shape, np.uint8)
    self._noise_neg = np.empty((_NOISE_BANK,) + shape, np.uint8)
    for k in range(_NOISE_BANK):
      noise = rng.normal(0, 2.0, shape).astype(np.float32)
      self._noise_pos[k] = np.clip(noise, 0, 255)
      self._noise_neg[k] = np.clip(-noise, 0, 255)

  def __len__(self) -> int:
    return self.p.num_frames

  def expression_field(self, n: int) -> np.ndarray:
    """`(P, P, 2)` displacement of the planted expressions at frame `n`."""
    field = np.zeros(self._grid[0].shape + (2,), np.float32)
    for e in self.plan.events:
      if e.onset <= n <= e.offset:
        env = expressions.envelope(e.onset, e.apex, e.offset, [n])[0]
        field += np.float32(env * e.amplitude) * self._fields[e.kind]
    return field

  def frame(self, n: int) -> np.ndarray:
    """Frame `n` (1-based): `(H, W)` grey or `(H, W, 3)` RGB uint8."""
    i = n - 1
    field = self.expression_field(n)
    if self.plan.blink_T[i] > 0:
      field += np.float32(self.plan.blink_T[i]) * self._blink
    patch = self.style.patch
    if np.any(field):
      xs, ys = self._grid
      patch = cv2.remap(patch, xs - field[..., 0], ys - field[..., 1],
                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    cx, cy, rot, scale = self.plan.pose_T4[i]
    centre = self.style.landmarks.mean(0)
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])),
                                float(rot), float(scale * self._scale))
    m[:, 2] += np.array([cx, cy]) - centre
    h, w = self._background.shape[:2]
    side = patch.shape[0]
    corners = np.array([[0, 0, 1], [side, 0, 1], [0, side, 1],
                        [side, side, 1]], np.float64) @ m.T
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int), [w, h])
    out = self._background.copy()
    if x1 > x0 and y1 > y0:
      m_roi = m.copy()
      m_roi[:, 2] -= [x0, y0]
      size = (int(x1 - x0), int(y1 - y0))
      face = cv2.warpAffine(patch, m_roi, size, flags=cv2.INTER_LINEAR)
      alpha = cv2.warpAffine(self.style.alpha, m_roi, size,
                             flags=cv2.INTER_LINEAR)
      if face.ndim == 2 and out.ndim == 3:
        face = face[..., None]
      if out.ndim == 3:
        alpha = alpha[..., None]
      roi = out[y0:y1, x0:x1].astype(np.float32)
      out[y0:y1, x0:x1] = (roi + alpha * (face - roi) + 0.5).astype(np.uint8)
    if self.p.nuisance:
      out = cv2.convertScaleAbs(out, alpha=float(self.plan.gain_T[i]))
    if self.p.nuisance or self.p.keep_noise:
      k = (n * 2654435761 + self.p.seed) % _NOISE_BANK
      out = cv2.subtract(cv2.add(out, self._noise_pos[k]), self._noise_neg[k])
    return out

  def __iter__(self):
    for n in range(1, self.p.num_frames + 1):
      yield self.frame(n)


def iter_video_frames(p: VideoParams):
  """Streams the frames of a video (a picklable `frames_fn` target).

  Args:
    p: video parameters.

  Yields:
    `uint8` frames, `(H, W)` grey or `(H, W, 3)` RGB.
  """
  yield from Renderer(p)
