"""Shared part of the builders that read a licensed release (manual_dir).

`samm_lv` and `cas_me2` differ only in how their release is parsed and in
their frame rate; listing the videos, reporting the parser's quirk counts
and re-clamping labels to the decoded frame count live here once.
"""
import collections
import dataclasses
import functools
import os

from mespot_jax.data import annotations
from mespot_jax.data import spotting_builder
from mespot_jax.data import video_io


class ReleaseBuilder(spotting_builder.SpottingBuilder):
  """A spotting builder over an official release folder.

  Subclasses set `FPS` and implement `parse_release(manual_dir)` returning
  an `annotations.Release`.
  """

  FPS: float = 0.0

  def parse_release(self, manual_dir: str) -> annotations.Release:
    raise NotImplementedError

  def _list_videos(self, dl_manager) -> list[spotting_builder.VideoSpec]:
    release = self.parse_release(os.fspath(dl_manager.manual_dir))
    for name, n in release.policies.items():
      self.count_policy(name, n)
    return [spotting_builder.VideoSpec(
        video=v.video, subject=v.subject, fps=self.FPS, intervals=v.intervals,
        frames_fn=functools.partial(video_io.iter_frames, v.frames_dir,
                                    grey=self.grey),
        num_frames_hint=v.num_frames, first_frame=v.first_frame)
        for v in release.videos]

  def _check_intervals(self, spec, num_frames):
    # The parser clamped to the count found on disk; a video file's decoded
    # count can still differ from its header, so clamp again (counted).
    counts = collections.Counter()
    intervals = annotations.clamp_to_frames(spec.intervals, num_frames, counts)
    for name, n in counts.items():
      self.count_policy(name, n)
    return super()._check_intervals(
        dataclasses.replace(spec, intervals=intervals), num_frames)
