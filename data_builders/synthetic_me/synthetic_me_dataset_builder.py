"""`synthetic_me`: short face clips, each around one planted expression.

Rendered deterministically from a seed (no download) by
`mespot_jax.synthetic.clips` with the renderer of `synthetic_lv` (eight
real people's photographs, one identity per subject), written
once as numbered PNG frame folders under `<data_dir>/_synthetic_me_frames/`
and then built by the shared `RecognitionBuilder` (the same face tracker,
clip cache and schema as CASME II or SAMM). Each clip's label is one of the
MEGC2019 composite's three classes (negative, positive, surprise): the
`emotion` of its expression, so the class is visible only in the facial
motion. Classes are balanced within every subject.
"""
import os
import shutil

import cv2
import numpy as np
import tensorflow_datasets as tfds

from mespot_jax.data import recognition_builder
from mespot_jax.data.annotations.clip_common import ClipAnnotation
from mespot_jax.synthetic import clips as clips_lib
from mespot_jax.synthetic import expressions

SOURCE = "synthetic_me"
FRAMES_ROOT = "_synthetic_me_frames"


# Our label set -> the recognition schema's label set of the same classes.
_LABEL_SET = {"3class": "3class", "5class": "samm_5class"}


class SyntheticMeConfig(recognition_builder.RecognitionBuilderConfig):
  """Size and timing of a synthetic recognition dataset."""

  def __init__(self, *, subjects: int, clips_per_subject: int,
               num_frames: int, fps: float = 30.0,
               frame_hw: tuple[int, int] = (150, 200), face_size: int = 95,
               seed: int = 0, class_set: str = "3class", **kwargs):
    super().__init__(label_set=_LABEL_SET[class_set], keep_unmapped=False,
                     **kwargs)
    self.class_set = class_set
    self.subjects = subjects
    self.clips_per_subject = clips_per_subject
    self.num_frames = num_frames
    self.fps = fps
    self.frame_hw = frame_hw
    self.face_size = face_size
    self.seed = seed


def seeded_config(base: str, seed: int) -> SyntheticMeConfig:
  """Builder config `base` rendered with another seed: `<base>_seed<N>`.

  Other subjects' identities and people, clip order and expressions from
  the same recipe, for results on data nobody tuned on (seed 1 of
  `default` is the development set). Built and cached under its own name.
  """
  by_name = {c.name: c for c in Builder.BUILDER_CONFIGS}
  if base not in by_name:
    raise ValueError(f"synthetic_me has no config {base!r}; expected one of "
                     f"{sorted(by_name)}")
  if seed < 0:
    raise ValueError(f"seed {seed}; expected >= 0")
  c = by_name[base]
  fields = {k: getattr(c, k) for k in (
      "subjects", "clips_per_subject", "num_frames", "fps", "frame_hw",
      "face_size", "class_set", "image_size", "grey")}
  return SyntheticMeConfig(name=f"{base}_seed{seed}", seed=seed,
                           description=f"{c.description} Seed {seed}.",
                           **fields)


class Builder(recognition_builder.RecognitionBuilder):
  """Synthetic micro-expression clips labelled negative/positive/surprise."""

  VERSION = tfds.core.Version("2.0.0")
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "1.1.0": "Subjects drawn from eight real people's "
                            "photographs (render.FACES), not one.",
                   "2.0.0": recognition_builder.ONE_SCHEMA_NOTE}
  BUILDER_CONFIGS = [
      SyntheticMeConfig(
          name="default", description=(
              "8 subjects x 15 clips (120 clips, 40 per class) of 24 frames "
              "at 30 fps, 240x180 frames, 64x64 grey crops."),
          image_size=64, subjects=8, clips_per_subject=15, num_frames=24,
          frame_hw=(180, 240), face_size=110),
      SyntheticMeConfig(
          name="5class", description=(
              "As default with SAMM's five classes of the ConvLSTM paper "
              "(happiness, other, anger, contempt, surprise): 8 subjects x "
              "15 clips (24 per class)."),
          image_size=64, subjects=8, clips_per_subject=15, num_frames=24,
          frame_hw=(180, 240), face_size=110, class_set="5class"),
      SyntheticMeConfig(
          name="tiny", description=(
              "For tests: 4 subjects x 6 clips of 20 frames at 30 fps, "
              "200x150 frames, 32x32 grey crops."),
          image_size=32, subjects=4, clips_per_subject=6, num_frames=20),
  ]
  DEFAULT_CONFIG_NAME = "default"

  def clip_params(self) -> list[tuple[str, str, clips_lib.ClipParams]]:
    """`(clip id, subject id, render parameters)` of every clip; within a
    subject the labels cycle through the classes in a seeded order."""
    c = self.builder_config
    k = len(clips_lib.LABEL_SETS[c.class_set])
    out = []
    for s in range(c.subjects):
      rng = np.random.default_rng([c.seed, s, 505])
      labels = [i % k for i in range(c.clips_per_subject)]
      rng.shuffle(labels)
      for j, label in enumerate(labels):
        p = clips_lib.ClipParams(
            seed=c.seed, subject=s, clip=j, label=int(label), fps=c.fps,
            num_frames=c.num_frames, frame_hw=tuple(c.frame_hw),
            face_size=c.face_size, label_set=c.class_set)
        out.append((f"s{s + 1:02d}_{j + 1:02d}", f"s{s + 1:02d}", p))
    return out

  def label_of(self, clip: ClipAnnotation) -> int:
    return clips_lib.LABEL_SETS[self.builder_config.class_set].index(
        clip.emotion)

  def _frames_dir(self) -> str:
    return os.path.join(self._data_dir_root, FRAMES_ROOT,
                        self.builder_config.name, str(self.version))

  def _render(self, folder: str, p: clips_lib.ClipParams) -> None:
    """Writes the clip's frames as `img<n>.png` (n = 1..T), atomically."""
    if os.path.isdir(folder):
      return
    tmp = folder + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for n, frame in enumerate(clips_lib.iter_clip_frames(p), start=1):
      cv2.imwrite(os.path.join(tmp, f"img{n}.png"),
                  cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    os.replace(tmp, folder)

  def _list_clips(self, dl_manager) -> list[ClipAnnotation]:
    del dl_manager  # nothing to download
    root = self._frames_dir()
    out = []
    for clip, subject, p in self.clip_params():
      folder = os.path.join(root, subject, clip)
      os.makedirs(os.path.dirname(folder), exist_ok=True)
      self._render(folder, p)
      e = clips_lib.plan_clip(p).events[0]
      out.append(ClipAnnotation(
          source=SOURCE, subject=subject, clip=clip, frames_dir=folder,
          fps=p.fps, first_frame=1, num_frames=p.num_frames, onset=e.onset,
          apex=e.apex, offset=e.offset, apex_annotated=True,
          emotion=p.class_name, au=expressions.KINDS[e.kind][0]))
    return out
