"""Offline face detection and 68-point landmarks.

`FaceDetector` runs dlib's HOG frontal face detector and, when that finds
nothing, OpenCV's Haar cascade (`haarcascade_frontalface_default.xml`, shipped
with opencv-python-headless < 5). `LandmarkPredictor` runs dlib's 68-point
shape predictor from `face_recognition_models`. Nothing is downloaded.

Images are uint8 HxW grey, HxWx1, or HxWx3 in RGB order. Both detectors and
the predictor work on the grey image (converted with cv2), so grey and colour
inputs give the same boxes and landmarks.
"""

import importlib.util
import os

import cv2
import dlib
import numpy as np

from mespot_jax.errors import InputError
from mespot_jax.face import align

# A Haar box sits higher and is a little larger than a dlib box on the same
# face; these factors (measured on skimage's astronaut photograph) turn it
# into a dlib-like box, which the shape predictor was trained on.
_HAAR_TO_DLIB = (0.03, 0.17, 0.92)  # x shift, y shift, size (box fractions)


def shape_predictor_path() -> str:
  """The 68-point model file of the installed `face_recognition_models`.

  Found without importing the package: its `__init__` imports
  `pkg_resources`, which setuptools 81 and newer no longer ship (installing
  torch, say, upgrades setuptools).
  """
  spec = importlib.util.find_spec("face_recognition_models")
  if spec is None or not spec.submodule_search_locations:
    raise InputError("the face_recognition_models package is not installed "
                     "(pip install face-recognition-models)")
  path = os.path.join(list(spec.submodule_search_locations)[0], "models",
                      "shape_predictor_68_face_landmarks.dat")
  if not os.path.exists(path):
    raise InputError(f"{path} is missing: reinstall face-recognition-models")
  return path


def as_grey(image, where="image"):
  """Validates a uint8 image and returns its HxW grey version.

  Args:
    image: HxW, HxWx1 or HxWx3 (RGB) uint8 array.
    where: what to call the image in an error message (e.g. "frame 12").

  Returns:
    HxW uint8 contiguous array.

  Raises:
    InputError: wrong dtype or shape.
  """
  image = np.asarray(image)
  if image.dtype != np.uint8:
    raise InputError(f"{where}: expected a uint8 image, got {image.dtype}")
  if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3))):
    raise InputError(
        f"{where}: expected an HxW, HxWx1 or HxWx3 image, got shape "
        f"{image.shape}")
  if min(image.shape[:2]) < 8:
    raise InputError(f"{where}: image {image.shape[:2]} is too small")
  return np.ascontiguousarray(align.to_grey(image))


class FaceDetector:
  """dlib HOG face detector with a Haar-cascade fallback.

  Frames larger than `max_side` are down-scaled for detection (HOG cost grows
  with the pixel count) and the boxes are scaled back. With `upsample=0`
  dlib finds faces of about 80 px and more in the down-scaled image.
  """

  def __init__(self, upsample=0, haar_fallback=True, max_side=640):
    """Loads the detectors.

    Args:
      upsample: dlib pyramid up-sampling steps (1 finds faces half as big,
        at about 4x the cost).
      haar_fallback: run the Haar cascade when dlib finds no face.
      max_side: longest image side used for detection; 0 keeps full size.
    """
    self.upsample = int(upsample)
    self.max_side = int(max_side)
    self._hog = dlib.get_frontal_face_detector()
    self._haar = None
    if haar_fallback:
      path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
      self._haar = cv2.CascadeClassifier(path)
      if self._haar.empty():
        raise RuntimeError(f"cannot load the Haar cascade {path}")

  def detect(self, image):
    """Detects faces.

    Args:
      image: HxW, HxWx1 or HxWx3 (RGB) uint8 image.

    Returns:
      (N, 4) float32 [x0, y0, x1, y1] boxes in image pixels, largest first,
      where the size is weighted by the dlib confidence (area x (1 + score))
      so that a near-equal-size false positive with a weak score (e.g. the
      one dlib reports on the astronaut's suit at upsample 1) comes second.
    """
    boxes, _ = self.detect_with_scores(image)
    return boxes

  def detect_with_scores(self, image):
    """Like `detect`, also returning (N,) float32 scores (Haar boxes: 0)."""
    grey = as_grey(image)
    h, w = grey.shape
    factor = 1.0
    if self.max_side and max(h, w) > self.max_side:
      factor = self.max_side / max(h, w)
      grey = cv2.resize(grey, (max(1, round(w * factor)),
                               max(1, round(h * factor))),
                        interpolation=cv2.INTER_AREA)
    rects, scores, _ = self._hog.run(grey, self.upsample, 0.0)
    boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1]
                      for r in rects], np.float32).reshape(-1, 4)
    scores = np.asarray(scores, np.float32).reshape(-1)
    if not len(boxes) and self._haar is not None:
      boxes = self._haar_boxes(grey)
      scores = np.zeros(len(boxes), np.float32)
    if len(boxes):
      area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
      order = np.argsort(-area * (1 + np.maximum(scores, 0)), kind="stable")
      boxes, scores = boxes[order] / factor, scores[order]
    return boxes.astype(np.float32), scores

  def _haar_boxes(self, grey):
    min_side = max(24, min(grey.shape) // 10)
    found = self._haar.detectMultiScale(
        cv2.equalizeHist(grey), scaleFactor=1.1, minNeighbors=5,
        minSize=(min_side, min_side))
    dx, dy, k = _HAAR_TO_DLIB
    out = [[x + dx * w, y + dy * h, x + dx * w + k * w, y + dy * h + k * h]
           for x, y, w, h in np.reshape(found, (-1, 4))]
    return np.array(out, np.float32).reshape(-1, 4)


class LandmarkPredictor:
  """dlib 68-point shape predictor (iBUG 300-W scheme, `face_recognition_models`)."""

  def __init__(self, model_path=None):
    """Loads the model (about 0.7 s, 100 MB; share one instance).

    Args:
      model_path: a dlib .dat model; default the 68-point model of
        `face_recognition_models`.
    """
    path = model_path or shape_predictor_path()
    self._predictor = dlib.shape_predictor(path)

  def __call__(self, image, box):
    """Predicts landmarks inside a face box.

    Args:
      image: HxW, HxWx1 or HxWx3 (RGB) uint8 image.
      box: [x0, y0, x1, y1] face box in image pixels (x1, y1 exclusive).

    Returns:
      (68, 2) float32 (x, y) landmarks in image pixels.
    """
    grey = image if (image.ndim == 2 and image.flags.c_contiguous
                     and image.dtype == np.uint8) else as_grey(image)
    return self.predict_grey(grey, box)

  def predict_grey(self, grey, box):
    """Same as `__call__` for an already validated HxW uint8 grey image."""
    x0, y0, x1, y1 = (int(round(float(v))) for v in box)
    rect = dlib.rectangle(x0, y0, max(x1 - 1, x0 + 1), max(y1 - 1, y0 + 1))
    shape = self._predictor(grey, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], np.float32)


def box_from_landmarks(landmarks_68):
  """Detector-like box for landmarks (inverse of the predictor's framing).

  Fits the model's reference shape (`align.MEAN_SHAPE_68`, unit-box
  coordinates) to the stable landmarks; the unit box under that fit is the
  box the predictor would expect, which keeps tracking on the detector's
  scale instead of drifting.

  Args:
    landmarks_68: (68, 2) landmarks in image pixels.

  Returns:
    (4,) float32 [x0, y0, x1, y1].
  """
  idx = list(align.STABLE_POINTS)
  m = align.umeyama(align.MEAN_SHAPE_68[idx], np.asarray(landmarks_68)[idx])
  scale = np.hypot(m[0, 0], m[1, 0])
  cx, cy = m[:, :2] @ np.array([0.5, 0.5]) + m[:, 2]
  return np.array([cx - scale / 2, cy - scale / 2, cx + scale / 2,
                   cy + scale / 2], np.float32)
