"""SMIC-E (HS 100 fps, VIS and NIR 25 fps): micro-expression clips.

The release is licensed: the user downloads it and points `--manual_dir` at
the folder holding the annotation workbooks `SMIC-{HS,VIS,NIR}-E_annotation
.xlsx` and the clip frame folders. Configs `hs`, `vis`, `nir` build the
recognition schema (one example per clip, apex = middle frame: SMIC has
none); `hs_spotting`, `vis_spotting`, `nir_spotting` build the spotting
schema of `samm_lv` from the same long clips (each one micro interval, apex
unknown), as the LSTM spotter of Tran et al. is evaluated on SMIC-VIS-E.
Parsing and policies: `mespot_jax.data.annotations.smic` (README.md).
"""
import collections
import functools

from mespot_jax.data import recognition_builder
from mespot_jax.data import spotting_builder
from mespot_jax.data import video_io
from mespot_jax.data.annotations import smic
from mespot_jax.data.schema import Interval


class SmicConfig(recognition_builder.RecognitionBuilderConfig):
  """A modality (`hs`, `vis`, `nir`) and a task."""

  def __init__(self, *, modality: str, **kwargs):
    super().__init__(**kwargs)
    self.modality = modality


def _configs() -> list[SmicConfig]:
  out = []
  for m in smic.MODALITIES:
    fps = f"{smic.FPS[m]:g} fps"
    out.append(SmicConfig(
        name=m, modality=m, description=(
            f"SMIC-{m.upper()}-E clips ({fps}), 112x112 grey crops, "
            "negative/positive/surprise."), label_set="3class"))
  for m in smic.MODALITIES:
    out.append(SmicConfig(
        name=f"{m}_spotting", modality=m, task="spotting", mask_face=True,
        description=(f"SMIC-{m.upper()}-E long clips ({smic.FPS[m]:g} fps) "
                     "as spotting videos (spotting schema), 112x112 grey, "
                     "face-masked as the spotting builders.")))
  return out


class Builder(recognition_builder.RecognitionBuilder):
  """SMIC-E clips: recognition (per clip) or spotting (per long clip)."""

  VERSION = "2.0.0"
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "2.0.0": recognition_builder.ONE_SCHEMA_NOTE}
  HOMEPAGE = "https://www.oulu.fi/en/university/faculties-and-units/" \
      "faculty-information-technology-and-electrical-engineering/" \
      "center-machine-vision-and-signal-analysis"
  BUILDER_CONFIGS = _configs()
  DEFAULT_CONFIG_NAME = "hs"
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  SMIC is licensed: request SMIC-E from the University of Oulu (see
  HOMEPAGE), unpack it, and pass `--manual_dir=DIR` where DIR holds
    - the workbook of each modality you build: `SMIC-HS-E_annotation.xlsx`,
      `SMIC-VIS-E_annotation.xlsx`, `SMIC-NIR-E_annotation.xlsx` (in DIR or
      one folder below), and
    - the clip frame folders, anywhere below DIR, each named as the
      workbook's `Filename` (`s1_ne_01/`); where several modalities share
      clip names, the folder whose path names the modality (`HS`, `VIS`,
      `NIR`) is used.
  """

  @property
  def modality(self) -> str:
    return self.builder_config.modality

  def _release(self, dl_manager):
    release = smic.parse_smic(str(dl_manager.manual_dir), self.modality)
    return release.clips, collections.Counter(release.policies)

  def _list_clips(self, dl_manager):
    clips, policies = self._release(dl_manager)
    for name, n in policies.items():
      self.count_policy(name, n)
    return clips

  def _list_videos(self, dl_manager):
    clips, policies = self._release(dl_manager)
    # The spotting schema keeps an unknown apex as -1, not the middle.
    policies["apex_unknown_kept"] = policies.pop(
        "apex_not_released_used_middle", 0)
    for name, n in policies.items():
      self.count_policy(name, n)
    return [spotting_builder.VideoSpec(
        video=c.clip, subject=c.subject, fps=c.fps,
        intervals=[Interval("micro", c.onset - c.first_frame + 1,
                            c.offset - c.first_frame + 1,
                            emotion=c.emotion)],
        frames_fn=functools.partial(video_io.iter_frames, c.frames_dir,
                                    grey=self.grey),
        num_frames_hint=c.num_frames, source=c.source,
        first_frame=c.first_frame) for c in clips]
