"""Random access to aligned frames of every video, with per-frame labels.

The one store of both tasks: spotting reads whole videos from it, and the
recognition store (`clip_store.ClipStore`) is a view over it by intervals
(a clip is a video and one interval).

`FrameStore` hides where the pixels live: all in host memory when the
dataset is small enough (the synthetic default), else read on demand from
the builder's array_record shards. The stored crops become model input
(resized to the configured size) through `face.preprocess.model_crops`,
the function offline scoring uses too.

Frames in which the builder found no face keep a crop (the last face
position, or a centred fallback) but are flagged: `face_found(v)` gives the
builder's per-frame flag, and training and evaluation honour it (no sample
is drawn on such a frame and it gets no score; see `methods.spotting`).

`rois(v)` gives each frame's ROI boxes (`face.align.ROI_NAMES`) as the
builder stored them, scaled to the returned crop size
(`face.preprocess.model_rois`); a store made from
arrays without boxes gives the canonical face's boxes.
"""
import logging
from typing import Sequence

import numpy as np

from mespot_jax.data import labels as labels_lib
from mespot_jax.face import align
from mespot_jax.face import preprocess


class FrameStore:
  """Frames and labels of a spotting dataset.

  Attributes:
    videos: the `VideoMeta` records (index = position in this list).
    labels: per video, `labels_T2` uint8 (micro, macro).
    image_size: side of the square crops returned.
    stored_size: side of the crops as aligned and stored (resized to
      `image_size` with area interpolation; scoring does the same).
    channels: channels of the crops returned (as stored unless `grey`
      was given).
    mask_face: whether the stored crops are face-masked (`align.mask_crop`).
    preprocess: the `face.preprocess.FacePreprocess` from the stored crops
      to the returned ones (what a deploy record keeps).
  """

  def __init__(self, videos: Sequence, source=None, arrays=None,
               image_size: int = 0, mask_face: bool = False,
               face_found=None, rois=None, smooth_window: int = 5,
               grey: bool | None = None):
    """Use `from_source` or `from_arrays` instead."""
    self.videos = list(videos)
    self._source = source
    self._arrays = arrays
    # Per video (T, 4, 4) boxes at `stored_size`, or None: read from
    # `source` when first asked (or the canonical face's without one).
    self._rois = (list(rois) if rois is not None
                  else [None] * len(self.videos))
    # Per video (T,) bool, or None: read from `source` when first asked.
    self._face_found = (list(face_found) if face_found is not None
                        else [None] * len(self.videos))
    self.labels = [labels_lib.frame_labels(v.num_frames, v.intervals)
                   for v in self.videos]
    if arrays is not None:
      first = arrays[0]
      self.stored_size = first.shape[1]
      stored_channels = first.shape[-1]
      self.mask_face = mask_face
    else:
      self.stored_size = source.image_size
      stored_channels = source.channels
      self.mask_face = source.mask_face
    self.image_size = image_size or self.stored_size
    self.preprocess = preprocess.FacePreprocess(
        align_size=int(self.stored_size), align_grey=stored_channels == 1,
        mask_face=bool(self.mask_face), image_size=int(self.image_size),
        grey=stored_channels == 1 if grey is None else bool(grey),
        smooth_window=int(smooth_window if source is None
                          else source.smooth_window))
    self.channels = self.preprocess.channels
    if arrays is not None:
      self._arrays = [preprocess.model_crops(a, self.preprocess)
                      for a in arrays]

  @classmethod
  def from_arrays(cls, videos: Sequence, arrays: Sequence[np.ndarray],
                  image_size: int = 0, mask_face: bool = False,
                  face_found: Sequence[np.ndarray] | None = None,
                  rois: Sequence[np.ndarray] | None = None
                  ) -> "FrameStore":
    """A store over in-memory videos, `arrays[i]` of shape (T, S, S, C);
    `face_found[i]` (T,) bool, default: a face in every frame; `rois[i]`
    (T, 4, 4) boxes in the arrays' pixels, default: the canonical face's
    (`align.template_68`)."""
    if face_found is None:
      face_found = [np.ones(len(a), bool) for a in arrays]
    face_found = [np.asarray(f, bool) for f in face_found]
    for v, a, f in zip(videos, arrays, face_found):
      if len(a) != v.num_frames or len(f) != v.num_frames:
        raise ValueError(f"video {v.video}: {len(a)} frames and {len(f)} "
                         f"face flags given, metadata says {v.num_frames}")
    return cls(videos, arrays=list(arrays), image_size=image_size,
               mask_face=mask_face, face_found=face_found, rois=rois)

  @classmethod
  def from_source(cls, source, image_size: int = 0,
                  in_memory_max_gib: float = 4.0) -> "FrameStore":
    """A store over a `SpottingSource`; loads it whole if it is small."""
    total = sum(v.num_frames for v in source.videos)
    nbytes = total * source.image_size ** 2 * source.channels
    if nbytes <= in_memory_max_gib * 2 ** 30:
      logging.info("loading %d frames (%.2f GiB) into memory", total,
                   nbytes / 2 ** 30)
      arrays, faces, rois = [], [], []
      for v in source.videos:  # one read per video: pixels, flags, boxes
        recs = source.records(v.index, range(1, v.num_frames + 1))
        arrays.append(np.stack([np.asarray(r["frame"]) for r in recs])
                      if recs else source.load_video(v.index))
        faces.append(np.array([bool(r["face_found"]) for r in recs]))
        rois.append(np.array([np.asarray(r["rois"]) for r in recs],
                             np.int32).reshape(-1, 4, 4))
      return cls(source.videos, arrays=arrays, image_size=image_size,
                 mask_face=source.mask_face, face_found=faces, rois=rois,
                 smooth_window=source.smooth_window)
    logging.info("%d frames (%.1f GiB) exceed dataset.in_memory_max_gib: "
                 "reading frames on demand", total, nbytes / 2 ** 30)
    return cls(source.videos, source=source, image_size=image_size)

  def get(self, video_index: int, frame_numbers) -> np.ndarray:
    """Frames of one video by 1-based number, shape (n, S, S, C) uint8."""
    frame_numbers = np.asarray(frame_numbers, np.int64)
    if self._arrays is not None:
      return self._arrays[video_index][frame_numbers - 1]
    frames = self._source.frames(video_index, frame_numbers)
    return preprocess.model_crops(frames, self.preprocess)

  def video(self, video_index: int) -> np.ndarray:
    """Every frame of a video, (T, S, S, C) uint8."""
    if self._arrays is not None:
      return self._arrays[video_index]
    return preprocess.model_crops(self._source.load_video(video_index),
                                  self.preprocess)

  def face_found(self, video_index: int) -> np.ndarray:
    """(T,) bool: whether the builder found the face in each frame."""
    if self._face_found[video_index] is None:  # on demand: read once
      self._face_found[video_index] = self._source.face_found(video_index)
    return self._face_found[video_index]

  def rois(self, video_index: int) -> np.ndarray:
    """(T, 4, 4) float32 ROI boxes [x0, y0, x1, y1] (x1, y1 exclusive) of
    each frame, in pixels of the crops `get` returns (`image_size`)."""
    boxes = self._rois[video_index]
    if boxes is None:
      if self._source is not None:
        boxes = self._source.rois(video_index)
      else:  # arrays without boxes: the canonical face's, every frame
        size = self.stored_size
        boxes = np.broadcast_to(align.roi_boxes(align.template_68(size),
                                                size),
                                (self.videos[video_index].num_frames, 4, 4))
      self._rois[video_index] = boxes
    return preprocess.model_rois(boxes, self.preprocess)

  def video_indices(self, subjects) -> list[int]:
    """Indices of the videos of the given subjects."""
    subjects = set(subjects)
    return [i for i, v in enumerate(self.videos) if v.subject in subjects]


def relabelled(store: FrameStore, videos: Sequence) -> FrameStore:
  """The same frames with other `VideoMeta` records (same order and frame
  counts): labels follow the new intervals. The leakage audit uses it to
  alter a test subject's labels."""
  if [v.num_frames for v in videos] != [v.num_frames for v in store.videos]:
    raise ValueError("relabelled videos must keep every video's frames")
  new = object.__new__(FrameStore)
  new.__dict__.update(store.__dict__)
  new.videos = list(videos)
  new.labels = [labels_lib.frame_labels(v.num_frames, v.intervals)
                for v in new.videos]
  return new
