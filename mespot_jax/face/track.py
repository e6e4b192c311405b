"""Face alignment over a video: detect once, track landmarks, smooth.

`VideoAligner.align_stream` turns a stream of frames into one `AlignedFrame`
per frame, in input order, holding only a bounded number of frames:

1. Landmarks. The detector runs on the first frame only. On each later frame
   the shape predictor runs inside the box implied by the previous frame's
   landmarks (no detector call). The result is accepted if the new box agrees
   with the searched one (IoU, scale) and the aligned face still looks like
   the face at the last detection (normalised cross-correlation of a 32x32
   grey aligned patch); otherwise the detector runs on that frame. With
   `redetect_every > 0` the detector also runs every that many frames.
2. Smoothing. Each frame's image-to-crop similarity is split into log-scale,
   angle and face centre (`align.decompose`) and averaged over a centred
   window of `smooth_window` frames (an even window is widened by one) that
   stays inside one tracking segment (a segment ends when the face is lost)
   and shrinks symmetrically at segment ends, so landmark jitter does not
   show as crop motion and steady motion is followed without lag. The
   look-ahead buffer holds `smooth_window // 2` frames.
3. Faceless frames get `face_found=False` and carry the last output
   transform and crop landmarks. Frames before the first face are held (at
   most `max_hold` of them) until a face appears and then use its transform;
   if none appears in time (or the stream ends), they use a centred fallback
   transform that maps the largest centred square of the frame onto the crop,
   with the template landmarks (`align.template_68`) for their ROIs.

Frames are uint8 HxW, HxWx1 or HxWx3 in RGB order (grey conversion via cv2).
"""

import collections
import dataclasses

import cv2
import numpy as np

from mespot_jax.face import align
from mespot_jax.face import detect

_PATCH = 32  # side of the appearance patch used to check tracking


@dataclasses.dataclass
class AlignedFrame:
  """One aligned output frame.

  Attributes:
    crop: (S, S, C) uint8 aligned face, C = 1 grey or 3 RGB.
    face_found: whether a face was found in this frame.
    rois: (4, 4) int32 [x0, y0, x1, y1] boxes in `align.ROI_NAMES` order.
    landmarks: (68, 2) float32 landmarks in crop coordinates (carried from
      the last good frame when no face was found).
    transform: (2, 3) float32 image-to-crop similarity.
  """
  crop: np.ndarray
  face_found: bool
  rois: np.ndarray
  landmarks: np.ndarray
  transform: np.ndarray


@dataclasses.dataclass
class _Entry:
  frame: np.ndarray
  landmarks: np.ndarray | None  # image coordinates
  params: np.ndarray | None  # align.decompose of the raw transform
  segment: int


def _iou(a, b):
  ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
  iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
  inter = ix * iy
  union = ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
           - inter)
  return inter / union if union > 0 else 0.0


def _ncc(a, b):
  a = a.astype(np.float64).ravel()
  b = b.astype(np.float64).ravel()
  a, b = a - a.mean(), b - b.mean()
  # A flat patch (blank frame, lens cap) is no face whatever it correlates to.
  if a.std() < 2.0 or b.std() < 2.0:
    return 0.0
  return float(a @ b / np.sqrt((a @ a) * (b @ b)))


class VideoAligner:
  """Aligns the faces of a video stream (see the module docstring)."""

  def __init__(self, size=112, grey=True, smooth_window=5, redetect_every=0,
               max_hold=30, min_track_iou=0.5, min_track_ncc=0.4,
               detector=None, predictor=None):
    """Configures the aligner.

    Args:
      size: side of the aligned crop (112; 224 for the bilinear model).
      grey: True for (S, S, 1) grey crops, False for (S, S, 3) RGB.
      smooth_window: frames in the centred moving average of the transform;
        1 disables smoothing.
      redetect_every: run the detector every this many frames even while
        tracking succeeds; 0 only on tracking failure.
      max_hold: most frames held before the first face is found.
      min_track_iou: least IoU between the searched box and the box implied
        by the tracked landmarks.
      min_track_ncc: least correlation between the tracked aligned patch and
        the patch at the last detection.
      detector: a `detect.FaceDetector` (default: a new one); pass one to
        share it between aligners.
      predictor: a `detect.LandmarkPredictor` (default: a new one, 0.7 s).
    """
    self.size = int(size)
    self.grey = bool(grey)
    self.half = max(0, int(smooth_window)) // 2
    self.redetect_every = int(redetect_every)
    self.max_hold = int(max_hold)
    self.min_track_iou = float(min_track_iou)
    self.min_track_ncc = float(min_track_ncc)
    self.detector = detector or detect.FaceDetector()
    self.predictor = predictor or detect.LandmarkPredictor()
    self.stats = {}
    self._reset()

  def _reset(self):
    self.stats = collections.Counter(
        frames=0, detected=0, tracked=0, redetected=0, no_face=0,
        detector_calls=0, track_failures=0, held=0, fallback=0)
    self._box = None  # search box for the next frame
    self._calib = None  # detector box relative to box_from_landmarks
    self._ref = None  # aligned patch at the last detection
    self._since_detect = 0
    self._segment = 0
    self._last_M = None
    self._last_lm_crop = None

  # ----- per-frame landmarks -----

  def _tracked_box(self, landmarks):
    """Detector-like box for landmarks, framed like the last detection."""
    x0, y0, x1, y1 = detect.box_from_landmarks(landmarks)
    side = x1 - x0
    dx, dy, k = self._calib
    cx, cy = (x0 + x1) / 2 + dx * side, (y0 + y1) / 2 + dy * side
    half = k * side / 2
    return np.array([cx - half, cy - half, cx + half, cy + half], np.float32)

  def _patch(self, grey, landmarks):
    m = align.similarity_transform(landmarks, _PATCH)
    return cv2.warpAffine(grey, m.astype(np.float64), (_PATCH, _PATCH),
                          flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)

  def _try_track(self, grey):
    lm = self.predictor.predict_grey(grey, self._box)
    box = self._tracked_box(lm)
    old = self._box
    ratio = (box[2] - box[0]) / max(old[2] - old[0], 1e-6)
    ok = (_iou(box, old) >= self.min_track_iou and 0.75 <= ratio <= 1.33
          and _ncc(self._patch(grey, lm), self._ref) >= self.min_track_ncc)
    return lm if ok else None

  def _detect(self, grey):
    self.stats["detector_calls"] += 1
    if self._calib is not None:
      self.stats["redetected"] += 1
    self._since_detect = 0
    boxes = self.detector.detect(grey)
    if not len(boxes):
      return None
    box = boxes[0]
    if self._box is not None:  # several faces: keep following the same one
      ious = [_iou(b, self._box) for b in boxes]
      if max(ious) > 0.3:
        box = boxes[int(np.argmax(ious))]
      else:  # another face or place: do not smooth across the jump
        self._segment += 1
    lm = self.predictor.predict_grey(grey, box)
    x0, y0, x1, y1 = detect.box_from_landmarks(lm)
    side = x1 - x0
    self._calib = (((box[0] + box[2]) - (x0 + x1)) / 2 / side,
                   ((box[1] + box[3]) - (y0 + y1)) / 2 / side,
                   (box[2] - box[0]) / side)
    self._ref = self._patch(grey, lm)
    self.stats["detected"] += 1
    return lm

  def _observe(self, frame, index):
    """Landmarks (image coords) of one frame, or None; updates the state."""
    grey = detect.as_grey(frame, where=f"frame {index + 1} (1-based)")
    lm = None
    tried_detector = False
    due = self.redetect_every > 0 and self._since_detect >= self.redetect_every
    if self._box is None or due:
      lm, tried_detector = self._detect(grey), True
    if lm is None and self._box is not None:
      # Tracking also rescues a scheduled re-detection that found nothing.
      lm = self._try_track(grey)
      if lm is not None:
        self.stats["tracked"] += 1
      else:
        self.stats["track_failures"] += 1
        self._segment += 1  # do not smooth across a lost track
        if not tried_detector:
          lm = self._detect(grey)
    self._since_detect += 1
    if lm is None:
      self.stats["no_face"] += 1
      self._segment += 1
      return None
    # The next frame is searched with the landmark-implied box (not the
    # detector's), so the search follows the face as it moves.
    self._box = self._tracked_box(lm)
    return lm

  # ----- smoothing and output -----

  def _smoothed(self, history, pending, j):
    """Smoothed transform of `pending[j]` (centred mean within its segment)."""
    window = list(history) + list(pending)
    c = len(history) + j
    centre = window[c]

    def same(k):
      return (0 <= k < len(window) and window[k].params is not None
              and window[k].segment == centre.segment)

    # Shrink the window symmetrically at segment and stream edges: a
    # one-sided mean would lag behind a moving face.
    h = 0
    while h < self.half and same(c - h - 1) and same(c + h + 1):
      h += 1
    ps = np.stack([e.params for e in window[c - h:c + h + 1]])
    mean = ps.mean(0)
    # Angles near +-pi would average wrongly; average offsets instead.
    d = np.angle(np.exp(1j * (ps[:, 1] - centre.params[1])))
    mean[1] = centre.params[1] + d.mean()
    return align.compose(mean, self.size)

  def _fallback(self, frame):
    h, w = frame.shape[:2]
    scale = self.size / min(h, w)
    return np.array([[scale, 0, self.size / 2 - scale * w / 2],
                     [0, scale, self.size / 2 - scale * h / 2]], np.float32)

  def _emit(self, pending, history):
    entry = pending[0]
    face = entry.params is not None
    if face:
      m = self._smoothed(history, pending, 0)
      lm_crop = align.transform_points(entry.landmarks, m)
      self._last_M, self._last_lm_crop = m, lm_crop
    elif self._last_M is not None:
      m, lm_crop = self._last_M, self._last_lm_crop
    else:
      j = next((k for k, e in enumerate(pending) if e.params is not None),
               None)
      if j is not None:
        m = self._smoothed(history, pending, j)
        lm_crop = align.transform_points(pending[j].landmarks, m)
        self.stats["held"] += 1
      else:
        m = self._fallback(entry.frame)
        lm_crop = align.template_68(self.size)
        self.stats["fallback"] += 1
    crop = align.warp_face(entry.frame, m, self.size, self.grey)
    out = AlignedFrame(
        crop=crop, face_found=face,
        rois=align.roi_boxes(lm_crop, self.size),
        landmarks=np.asarray(lm_crop, np.float32),
        transform=np.asarray(m, np.float32))
    pending.popleft()
    history.append(entry)
    entry.frame = None  # history keeps params only
    return out

  def _ready(self, pending, ended):
    if not pending:
      return False
    if ended:
      return True
    need = self.half
    if pending[0].params is None and self._last_M is None:
      j = next((k for k, e in enumerate(pending) if e.params is not None),
               None)
      if j is None:
        return len(pending) > self.max_hold
      need = j + self.half
    return len(pending) > need

  def align_stream(self, frames):
    """Aligns every frame of a stream.

    Args:
      frames: iterable of uint8 HxW, HxWx1 or HxWx3 (RGB) frames.

    Yields:
      One `AlignedFrame` per input frame, in input order. `self.stats`
      (reset at each call) counts: frames; detected / tracked (frames whose
      landmarks came from a detector box / from the previous frame's box);
      redetected (detector runs after the first face: tracking failures and
      `redetect_every`); detector_calls; track_failures; no_face; held
      (frames before the first face given its transform); fallback (frames
      given the centred fallback transform).

    Raises:
      InputError: a frame is not a uint8 grey or 3-channel image.
    """
    self._reset()
    pending = collections.deque()
    history = collections.deque(maxlen=self.half)
    for index, frame in enumerate(frames):
      frame = np.asarray(frame)
      self.stats["frames"] += 1
      lm = self._observe(frame, index)
      params = None
      if lm is not None:
        params = align.decompose(align.similarity_transform(lm, self.size),
                                 self.size)
      pending.append(_Entry(frame, lm, params, self._segment))
      while self._ready(pending, ended=False):
        yield self._emit(pending, history)
    while pending:
      yield self._emit(pending, history)
