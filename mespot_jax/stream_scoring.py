"""Aligns and scores a stream of video frames with a deploy model.

`score_frames` runs decode -> face tracking and alignment -> the deploy
model's method's scorer (`score_stream`) on an iterable of frames, keeping
only the per-frame scores, and returns a `ScoredVideo` that says which
frames had a face and were decoded. `mespot_jax.score` (the command line)
builds on it; `mespot_jax.score.score_frames` is the same function.
"""
import dataclasses

import numpy as np
from tqdm import tqdm

from mespot_jax.data.frames import resize_crops
from mespot_jax.face import align, track


@dataclasses.dataclass
class ScoredVideo:
  """The scores of one video and which frames could be trusted.

  Attributes:
    scores_T2: float32 [micro, macro] scores; NaN where a frame has no score
      (`invalid_frames` of frames without a face or not decoded).
    face_found_T: bool, the aligner found the face.
    decoded_T: bool, the frame was decoded (False: a stand-in, the previous
      good frame, for a frame that could not be decoded).
  """
  scores_T2: np.ndarray
  face_found_T: np.ndarray
  decoded_T: np.ndarray

  @property
  def frames(self) -> int:
    return len(self.scores_T2)

  @property
  def with_face(self) -> int:
    return int(self.face_found_T.sum())

  @property
  def usable_T(self) -> np.ndarray:
    """Frames decoded and with a face."""
    return self.face_found_T & self.decoded_T


class _FaceCounter:
  """Prepares aligned crops as the training data was (mask, resize) while
  recording which frames have a face; yields (crop, ROI boxes at the
  crop's size) pairs to a method that reads the boxes (`stream_rois`)."""

  def __init__(self, aligned, bar, dep):
    self._aligned = aligned
    self._bar = bar
    self._dep = dep
    self.face_found = []

  @property
  def frames(self) -> int:
    return len(self.face_found)

  @property
  def with_face(self) -> int:
    return int(sum(self.face_found))

  def __iter__(self):
    for a in self._aligned:
      self.face_found.append(bool(a.face_found))
      self._bar.update(1)
      crop = align.mask_crop(a.crop, a.landmarks) if self._dep.mask_face \
          else a.crop
      crop = resize_crops(crop[None], self._dep.image_size)[0]
      if getattr(self._dep.method, "stream_rois", False):
        scale = crop.shape[0] / a.crop.shape[0]
        yield crop, np.asarray(a.rois, np.float32) * np.float32(scale)
      else:
        yield crop


def score_frames(dep, frames, fps: float, batch_size: int, total=None,
                 aligner=None, progress: bool = True):
  """Aligns and scores a stream of frames with the deploy model's method.

  Args:
    dep: a `deploy.Deployment`.
    frames: iterable of `uint8` video frames (RGB or grey); a
      `video_io.FrameReader` also tells which frames were not decoded.
    fps: frame rate of the video.
    batch_size: frames per jitted scorer call.
    total: expected frame count (progress bar only).
    aligner: a `track.VideoAligner` (default: one at the model's crop size).
    progress: show a tqdm bar (frames per second).

  Returns:
    A `ScoredVideo`: NaN scores on the frames the method's `invalid_frames`
    names for the frames without a face or not decoded.
  """
  aligner = aligner or track.VideoAligner(dep.align_size or dep.image_size,
                                         dep.grey)
  bar = tqdm(total=total or None, unit="frame", desc="scoring",
             dynamic_ncols=True, disable=None if progress else True)
  counter = _FaceCounter(aligner.align_stream(iter(frames)), bar, dep)
  scores = np.asarray(dep.method.score_stream(
      dep.variables, iter(counter), fps, dep.choices, batch_size), np.float32)
  bar.close()
  face = np.asarray(counter.face_found, bool)
  decoded = np.ones(len(face), bool)
  stats = getattr(frames, "stats", None)  # a FrameReader's, when it is one
  if stats is not None and stats.read_errors:
    decoded[np.asarray(stats.read_errors, np.int64) - 1] = False
  bad_T2 = dep.method.invalid_frames(face & decoded, fps, dep.choices)
  return ScoredVideo(np.where(bad_T2, np.nan, scores).astype(np.float32),
                     face, decoded)
