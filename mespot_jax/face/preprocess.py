"""The one face preprocessing: from an aligned crop to the model's input.

Every path from a video to a model goes through the same stages:

1. align (`track.VideoAligner` at `align_size`, grey or RGB, smoothed over
   `smooth_window` frames), which gives a crop, its landmarks and ROI boxes;
2. `stored_crop`: the crop faded to black outside the face when
   `mask_face` (`align.mask_crop`, as OpenFace's aligned faces), which is
   what a build stores (the `frames` records of a spotting dataset, a
   recognition dataset's clip frames);
3. `model_crops`: stored crops resized to `image_size` (area interpolation)
   and converted to grey or RGB, which is what the model reads;
   `model_rois` scales the ROI boxes from `align_size` to `image_size`.

`model_input` is stages 2 and 3 from aligned crops, the function offline
scoring (`stream_scoring`) calls per frame; a build calls `stored_crop`
and the store (`FrameStore`, of which `ClipStore` is a view) calls
`model_crops` and `model_rois` on what the build stored, so training and
scoring cannot drift apart. `FacePreprocess` names the choices; a deploy
record keeps it (`to_dict`) so that scoring prepares a new video exactly
as training did
(`tests/test_train_serve_parity.py` checks it pixel for pixel).
"""
import dataclasses

import cv2
import numpy as np

from mespot_jax.face import align


@dataclasses.dataclass(frozen=True, kw_only=True)
class FacePreprocess:
  """How a face crop became model input (what a deploy record stores).

  Attributes:
    align_size: side the faces were aligned at (the stored crops).
    align_grey: whether frames were read and aligned in grey.
    mask_face: whether the stored crops are face-masked (`align.mask_crop`).
    image_size: side of the crops the model reads.
    grey: one channel (else three) in the model's crops.
    smooth_window: the face tracker's smoothing window.
  """
  align_size: int
  align_grey: bool
  mask_face: bool
  image_size: int
  grey: bool
  smooth_window: int = 5

  @property
  def channels(self) -> int:
    """Channels of the model's crops."""
    return 1 if self.grey else 3

  def to_dict(self) -> dict:
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, d: dict, **defaults) -> "FacePreprocess":
    """The spec of `to_dict`'s output; `defaults` fill fields `d` lacks
    (KeyError: a field is missing from both)."""
    d = {**defaults, **d}
    return cls(align_size=int(d["align_size"]),
               align_grey=bool(d["align_grey"]),
               mask_face=bool(d["mask_face"]),
               image_size=int(d["image_size"]), grey=bool(d["grey"]),
               smooth_window=int(d["smooth_window"]))

  def aligner(self, **kwargs):
    """The face tracker of this spec (`track.VideoAligner`); `kwargs` go
    to it (a shared detector and predictor)."""
    from mespot_jax.face import track  # pylint: disable=g-import-not-at-top
    return track.VideoAligner(size=self.align_size, grey=self.align_grey,
                              smooth_window=self.smooth_window, **kwargs)


def resize_crops(frames_NSSC: np.ndarray, size: int) -> np.ndarray:
  """Resizes square crops with area interpolation (no-op at the same size
  or for `size` 0)."""
  if size <= 0 or frames_NSSC.shape[1] == size:
    return frames_NSSC
  out = np.empty((len(frames_NSSC), size, size, frames_NSSC.shape[-1]),
                 frames_NSSC.dtype)
  for i, f in enumerate(frames_NSSC):
    out[i] = cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA
                        ).reshape(size, size, -1)
  return out


def convert_channels(frames_NSSC: np.ndarray, grey: bool) -> np.ndarray:
  """(N, S, S, C) crops to one channel (`align.to_grey_frames`) or three
  (a grey channel repeated); unchanged when they already are."""
  c = frames_NSSC.shape[-1]
  if grey and c == 3:
    return align.to_grey_frames(frames_NSSC)[..., None]
  if not grey and c == 1:
    return np.repeat(frames_NSSC, 3, axis=-1)
  return frames_NSSC


def stored_crop(crop_SSC: np.ndarray, landmarks_68: np.ndarray,
                mask_face: bool) -> np.ndarray:
  """An aligned crop as a build stores it: masked when `mask_face`.

  Args:
    crop_SSC: (S, S, C) uint8 aligned crop.
    landmarks_68: (68, 2) its landmarks in crop coordinates.
    mask_face: fade everything outside the face (`align.mask_crop`).

  Returns:
    (S, S, C) uint8.
  """
  return align.mask_crop(crop_SSC, landmarks_68) if mask_face else crop_SSC


def model_crops(stored_NSSC: np.ndarray, spec: FacePreprocess) -> np.ndarray:
  """Stored crops as the model reads them: resized to `spec.image_size`
  and converted to `spec.grey`; (N, S, S, C) uint8 -> (N, s, s, c)."""
  return convert_channels(resize_crops(stored_NSSC, spec.image_size),
                          spec.grey)


def model_input(crops_NSSC: np.ndarray, landmarks_N68: np.ndarray,
                spec: FacePreprocess) -> np.ndarray:
  """Aligned crops straight to the model's input (`stored_crop`, then
  `model_crops`): what offline scoring hands the model.

  Args:
    crops_NSSC: (N, S, S, C) uint8 aligned crops at `spec.align_size`.
    landmarks_N68: (N, 68, 2) their landmarks in crop coordinates.
    spec: the preprocessing.

  Returns:
    (N, s, s, c) uint8 at `spec.image_size` with `spec.channels`.
  """
  crops = np.asarray(crops_NSSC)
  stored = (np.stack([stored_crop(c, lm, True)
                      for c, lm in zip(crops, landmarks_N68)])
            if spec.mask_face and len(crops) else crops)
  return model_crops(stored, spec)


def model_rois(boxes_N44, spec: FacePreprocess) -> np.ndarray:
  """ROI boxes at `spec.align_size` (as aligned and stored, int32) scaled
  to the model's crops: (..., 4, 4) float32 [x0, y0, x1, y1], x1 and y1
  exclusive."""
  return (np.asarray(boxes_N44, np.float32)
          * np.float32(spec.image_size / spec.align_size))
