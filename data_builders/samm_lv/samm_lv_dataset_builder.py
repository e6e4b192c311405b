"""SAMM Long Videos (SAMM-LV): micro- and macro-expression spotting, 200 fps.

The release is licensed: the user downloads it and points `--manual_dir` at
the folder holding the annotation workbook and `SAMM_longvideos/`. The
workbook is parsed and its quirks repaired by `mespot_jax.data.annotations`
(each policy is listed in README.md and counted in
`info.metadata["policies"]`); faces are aligned and stored by the shared
`SpottingBuilder` in the schema of `synthetic_lv`.
"""
import collections
import dataclasses
import functools
import os

from mespot_jax.data import annotations
from mespot_jax.data import spotting_builder
from mespot_jax.data import video_io

FPS = 200.0


class Builder(spotting_builder.SpottingBuilder):
  """SAMM-LV long videos with their macro and micro intervals."""

  VERSION = "1.0.0"
  RELEASE_NOTES = {"1.0.0": "First release."}
  HOMEPAGE = "http://www2.docm.mmu.ac.uk/STAFF/m.yap/dataset.php"
  BUILDER_CONFIGS = [
      spotting_builder.SpottingBuilderConfig(
          name="112_grey", description="112x112 grey aligned crops.",
          image_size=112, grey=True),
      spotting_builder.SpottingBuilderConfig(
          name="224_grey", description="224x224 grey aligned crops.",
          image_size=224, grey=True),
  ]
  DEFAULT_CONFIG_NAME = "112_grey"
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  SAMM Long Videos is licensed: request it from the SAMM team (see
  HOMEPAGE), unpack it, and pass `--manual_dir=DIR` where DIR is the folder
  that directly contains BOTH
    - the annotation workbook (`SAMM_LongVideos_V1_Release.xlsx`, `_V2_`,
      `_V3_`, or a renamed copy such as `SAMMLV_gt.xlsx`; any .xlsx with a
      sheet `FACS_Movement_Only` is accepted), and
    - the folder `SAMM_longvideos/` holding one frame folder per video
      (`SAMM_longvideos/006_1/006_1_0001.jpg`, ...) or one video file per
      video (`SAMM_longvideos/006_1.mp4` or `.avi`).
  """

  def _list_videos(self, dl_manager) -> list[spotting_builder.VideoSpec]:
    release = annotations.parse_samm_lv(os.fspath(dl_manager.manual_dir))
    for name, n in release.policies.items():
      self.count_policy(name, n)
    return [spotting_builder.VideoSpec(
        video=v.video, subject=v.subject, fps=FPS, intervals=v.intervals,
        frames_fn=functools.partial(video_io.iter_frames, v.frames_dir,
                                    grey=self.grey),
        num_frames_hint=v.num_frames) for v in release.videos]

  def _check_intervals(self, spec, num_frames):
    # The parser clamped to the count found on disk; a video file's decoded
    # count can still differ from its header, so clamp again (counted).
    counts = collections.Counter()
    intervals = annotations.clamp_to_frames(spec.intervals, num_frames, counts)
    for name, n in counts.items():
      self.count_policy(name, n)
    return super()._check_intervals(
        dataclasses.replace(spec, intervals=intervals), num_frames)
