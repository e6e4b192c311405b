"""`synthetic_lv`: long face videos with known micro- and macro-expressions.

Rendered deterministically from a seed (no download) by
`mespot_jax.synthetic.render` from photographs of eight real people
(shipped in PyPI packages, listed in README.md), then aligned by the same face tracker as the real datasets
(`SpottingBuilder`). Configs copy the frame rate and expression durations of
CAS(ME)^2 (`casme2`, 30 fps, the default the README's main command trains
on) and SAMM-LV (`samm`, 200 fps); `tiny` is for tests.
"""
import functools

import tensorflow_datasets as tfds

from mespot_jax.data import schema
from mespot_jax.data import spotting_builder
from mespot_jax.synthetic import render


class SyntheticConfig(spotting_builder.SpottingBuilderConfig):
  """Size and timing of a synthetic dataset."""

  def __init__(self, *, fps: float, subjects: int, videos_per_subject: int,
               seconds: float, frame_hw: tuple[int, int], face_size: int,
               macro_s: tuple[float, float, float],
               micro_s: tuple[float, float, float], grey_source: bool = False,
               seed: int = 0, **kwargs):
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


# Durations (min, mean, max) in seconds follow the real datasets (paper
# Table 2); macros are capped at 4 s to keep videos short.
_CASME2 = dict(fps=30.0, subjects=8, videos_per_subject=2, seconds=20.0,
               frame_hw=(240, 320), face_size=110,
               macro_s=(0.6, 1.25, 3.9), micro_s=(0.27, 0.42, 0.5))
_SAMM = dict(fps=200.0, subjects=8, videos_per_subject=2, seconds=20.0,
             frame_hw=(272, 510), face_size=120, grey_source=True,
             macro_s=(0.55, 2.17, 4.0), micro_s=(0.15, 0.37, 0.5))


def seeded_config(base: str, seed: int) -> SyntheticConfig:
  """Builder config `base` rendered with another seed: `<base>_seed<N>`.

  Other subjects, expressions and nuisance from the same recipe, so that
  results can be checked on data that nobody tuned on. Built and cached
  like the listed configs (under its own name in the data dir).
  """
  by_name = {c.name: c for c in Builder.BUILDER_CONFIGS}
  if base not in by_name:
    raise ValueError(f"synthetic_lv has no config {base!r}; expected one of "
                     f"{sorted(by_name)}")
  if seed < 0:
    raise ValueError(f"seed {seed}; expected >= 0")
  c = by_name[base]
  fields = {k: getattr(c, k) for k in (
      "fps", "subjects", "videos_per_subject", "seconds", "frame_hw",
      "face_size", "macro_s", "micro_s", "grey_source", "image_size",
      "grey", "smooth_window", "mask_face")}
  return SyntheticConfig(name=f"{base}_seed{seed}", seed=seed,
                         description=f"{c.description} Seed {seed}.",
                         **fields)


class Builder(spotting_builder.SpottingBuilder):
  """Synthetic long videos with planted micro/macro-expressions."""

  VERSION = tfds.core.Version("1.2.0")
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "1.1.0": "Faces masked as OpenFace does (config mask_face).",
                   "1.2.0": "Subjects drawn from eight real people's "
                            "photographs (render.FACES), not one."}
  BUILDER_CONFIGS = [
      SyntheticConfig(
          name="casme2", description=(
              "CAS(ME)^2-like, the default: 30 fps, 8 subjects x 2 videos x "
              "20 s (9,600 frames), 320x240 frames, 112x112 grey crops."),
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
          name="samm", description=(
              "SAMM-LV-like: 200 fps grey source, 8 subjects x 2 videos x "
              "20 s (64,000 frames), 510x272 frames, 112x112 grey crops."),
          image_size=112, **_SAMM),
      SyntheticConfig(
          name="tiny", description=(
              "For tests: 3 subjects x 1 video x 3 s at 30 fps, 200x150 "
              "frames, 32x32 grey crops."),
          image_size=32, fps=30.0, subjects=3, videos_per_subject=1,
          seconds=3.0, frame_hw=(150, 200), face_size=95,
          macro_s=(0.6, 1.0, 1.5), micro_s=(0.27, 0.35, 0.45)),
  ]
  DEFAULT_CONFIG_NAME = "casme2"

  def video_params(self) -> list[tuple[str, str, render.VideoParams]]:
    """`(video id, subject id, render parameters)` of every video."""
    c = self.builder_config
    out = []
    for s in range(c.subjects):
      for v in range(c.videos_per_subject):
        p = render.VideoParams(
            seed=c.seed, subject=s, video=v, fps=c.fps,
            num_frames=int(round(c.seconds * c.fps)),
            frame_hw=tuple(c.frame_hw), face_size=c.face_size,
            grey=c.grey_source, macro_s=tuple(c.macro_s),
            micro_s=tuple(c.micro_s))
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

