"""CAS(ME)^3 Part A: long videos for spotting (30 fps), and its
micro-expression clips for recognition.

The release is licensed: the user downloads it and points `--manual_dir` at
the Part A folder (label tables and `data/part_A/spNO.<n>/<v>/color/`). The
tables are parsed and their quirks repaired by
`mespot_jax.data.annotations.casme3` (each policy is listed in README.md and
counted in `info.metadata["policies"]`; which tables were read and how they
differ is in `info.metadata["label_files"]`). Configs `112_grey` (default),
`224_grey`, `112_rgb` build the spotting schema of `cas_me2` (one record per
long video); `clips_112_grey`, `clips_224_grey`, `clips_112_rgb` build one
video per micro-expression clip with its one interval, as `casme_ii` does.
"""
import collections
import dataclasses
import functools
import os

from mespot_jax.data import annotations
from mespot_jax.data import recognition_builder
from mespot_jax.data import spotting_builder
from mespot_jax.data import video_io
from mespot_jax.data.annotations import casme3
from mespot_jax.data.schema import Interval

FPS = casme3.FPS


def _configs() -> list[recognition_builder.RecognitionBuilderConfig]:
  spotting = [recognition_builder.RecognitionBuilderConfig(
      name=f"{size}_{'grey' if grey else 'rgb'}", task="spotting",
      mask_face=True, image_size=size, grey=grey,
      description=(f"Part A long videos, {size}x{size} "
                   f"{'grey' if grey else 'colour'} face-masked crops "
                   "(spotting schema)."))
              for size, grey in ((112, True), (224, True), (112, False))]
  return spotting + recognition_builder.sized_configs(
      prefix="clips_", label_set="3class", keep_unmapped=True)


class Builder(recognition_builder.RecognitionBuilder):
  """CAS(ME)^3 Part A: long videos (spotting) or micro clips (recognition)."""

  VERSION = "1.0.0"
  RELEASE_NOTES = {"1.0.0": "First release: Part A long videos with micro "
                            "and macro intervals and emotions; micro clips."}
  HOMEPAGE = "http://casme.psych.ac.cn/"
  BUILDER_CONFIGS = _configs()
  DEFAULT_CONFIG_NAME = "112_grey"
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  CAS(ME)^3 is licensed: request it from its authors (see HOMEPAGE), unpack
  Part A (unzip its per-subject archives) and pass `--manual_dir=DIR` where
  DIR (or a folder up to three levels below it) holds
    - the label tables `cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx` and
      `cas(me)3_part_A_MaE_label_JpgIndex_v2_emotion.xlsx` (read; they carry
      the emotions) and optionally `CAS(ME)3_part_A_v2.xlsx` (compared, or
      read when the other two are absent). `.xls` copies cannot be read:
      save them as `.xlsx` or `.csv`; and
    - the frames `data/part_A/spNO.1/a/color/1.jpg ...` (up to four levels
      below DIR; the `depth/` images are not read).
  """

  def _release(self, dl_manager) -> casme3.Cas3Release:
    release = casme3.parse_cas_me3(os.fspath(dl_manager.manual_dir))
    self._label_files = release.label_files
    return release

  def _list_videos(self, dl_manager) -> list[spotting_builder.VideoSpec]:
    release = self._release(dl_manager)
    for name, n in release.policies.items():
      self.count_policy(name, n)
    return [spotting_builder.VideoSpec(
        video=v.video, subject=v.subject, fps=FPS, intervals=v.intervals,
        frames_fn=functools.partial(video_io.iter_numbered_frames,
                                    v.frames_dir, grey=self.grey),
        num_frames_hint=v.num_frames, first_frame=v.first_frame)
            for v in release.videos]

  def _list_clips(self, dl_manager):
    release = self._release(dl_manager)
    policies = collections.Counter(release.policies)
    clips = casme3.micro_clips(release, policies)
    for name, n in policies.items():
      self.count_policy(name, n)
    # The file numbers of each clip, for positions in `_clip_spec`.
    self._clip_numbers = {
        c.clip: [n for n in release.numbers[c.clip.rsplit("_", 2)[0]]
                 if c.onset <= n <= c.offset] for c in clips}
    return clips

  def _clip_spec(self, c) -> spotting_builder.VideoSpec:
    """A clip as a video with one interval; positions are ranks among its
    files, which may skip numbers."""
    numbers = self._clip_numbers[c.clip]
    return spotting_builder.VideoSpec(
        video=c.clip, subject=self.subject_of(c), fps=c.fps,
        intervals=[Interval(self.EXPRESSION_TYPE, 1, len(numbers),
                            numbers.index(c.apex) + 1, emotion=c.emotion,
                            au=c.au, apex_annotated=c.apex_annotated)],
        frames_fn=functools.partial(
            video_io.iter_numbered_frames, c.frames_dir, grey=self.grey,
            first=c.onset, last=c.offset),
        num_frames_hint=c.num_frames, source=c.source,
        source_subject=c.subject, first_frame=c.first_frame,
        # pylint: disable-next=protected-access
        cache_name=recognition_builder._clip_key(c))

  def _check_intervals(self, spec, num_frames):
    if self.task == "spotting":
      # The parser clamped to the files listed; clamp again to the frames
      # decoded (counted), as `ReleaseBuilder` does.
      counts = collections.Counter()
      spec = dataclasses.replace(spec, intervals=annotations.clamp_to_frames(
          spec.intervals, num_frames, counts))
      for name, n in counts.items():
        self.count_policy(name, n)
    return super()._check_intervals(spec, num_frames)

  def _more_metadata(self, entries) -> None:
    super()._more_metadata(entries)
    self.info.metadata["label_files"] = self._label_files
