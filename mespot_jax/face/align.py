"""Similarity alignment of a face to a canonical crop, and facial ROI boxes.

The canonical template is the dlib 68-point model's own reference shape: the
shape it predicts inside a unit box on a featureless image (`MEAN_SHAPE_68`,
box coordinates in [0, 1]; measured once from
`shape_predictor_68_face_landmarks.dat` and stored here so this module needs
no dlib). `template_68(size)` places that shape in a `size x size` crop so the
whole face, brows to chin, fits with a margin and the face is centred (a
little lower than the centre, leaving room for raised brows).

The image-to-crop transform is a similarity (rotation, uniform scale,
translation) fitted in closed form (Umeyama, least squares) on the stable
points only: eye corners 36, 39, 42, 45 and nose 27-30, 33. Mouth and brows
move with expressions and would turn an expression into crop motion.

Landmark indices follow the dlib/iBUG 68-point scheme. "Left" in ROI names
means IMAGE left (the subject's right as seen by the camera): `left_brow` is
points 17-21, the brow with the smaller x in the image.
"""

import cv2
import numpy as np

# Stable landmarks used to estimate the similarity transform.
STABLE_POINTS = (27, 28, 29, 30, 33, 36, 39, 42, 45)
# Outer and inner eye corners (image left eye first), nose bridge/tip.
EYE_CORNERS = (36, 39, 42, 45)

ROI_NAMES = ("left_brow", "right_brow", "nose", "mouth")
_ROI_POINTS = (
    tuple(range(17, 22)),  # image-left brow
    tuple(range(22, 27)),  # image-right brow
    tuple(range(27, 36)),  # nose bridge, tip, nostrils
    tuple(range(48, 68)),  # outer and inner lips
)

# dlib 68-point shape on a featureless image, in unit-box coordinates (x, y).
# It is what the predictor starts from inside a detector box, so it also maps
# landmarks back to a detector-like box when tracking (`box_from_landmarks`).
MEAN_SHAPE_68 = np.array([
    0.074, 0.361, 0.076, 0.476, 0.089, 0.591, 0.119, 0.705, 0.166, 0.814,
    0.232, 0.915, 0.310, 1.001, 0.402, 1.060, 0.507, 1.076, 0.614, 1.057,
    0.709, 0.995, 0.787, 0.906, 0.852, 0.804, 0.896, 0.692, 0.919, 0.577,
    0.926, 0.461, 0.925, 0.345, 0.163, 0.243, 0.222, 0.206, 0.294, 0.202,
    0.368, 0.213, 0.433, 0.245, 0.539, 0.244, 0.603, 0.210, 0.677, 0.197,
    0.749, 0.199, 0.813, 0.230, 0.488, 0.316, 0.489, 0.395, 0.488, 0.472,
    0.489, 0.552, 0.399, 0.605, 0.444, 0.622, 0.494, 0.635, 0.542, 0.620,
    0.587, 0.603, 0.237, 0.324, 0.282, 0.298, 0.336, 0.295, 0.384, 0.324,
    0.333, 0.337, 0.283, 0.338, 0.597, 0.321, 0.645, 0.291, 0.700, 0.293,
    0.746, 0.318, 0.700, 0.334, 0.649, 0.333, 0.323, 0.771, 0.383, 0.739,
    0.449, 0.727, 0.495, 0.735, 0.540, 0.725, 0.611, 0.735, 0.676, 0.766,
    0.622, 0.827, 0.551, 0.859, 0.501, 0.865, 0.451, 0.861, 0.381, 0.832,
    0.350, 0.771, 0.450, 0.762, 0.495, 0.766, 0.541, 0.761, 0.648, 0.767,
    0.545, 0.796, 0.498, 0.804, 0.452, 0.799,
], np.float32).reshape(68, 2)

# Template placement: the face's landmark extent (about 0.88 box units tall)
# spans `_FACE_SCALE` of the crop; `_FACE_DROP` moves it down so raised brows
# and forehead stay inside.
_FACE_SCALE = 0.8
_FACE_DROP = 0.02


def template_68(size):
  """Canonical 68 landmark positions in a `size x size` aligned crop.

  Args:
    size: side of the aligned crop in pixels.

  Returns:
    (68, 2) float32 (x, y) crop coordinates.
  """
  lo, hi = MEAN_SHAPE_68.min(0), MEAN_SHAPE_68.max(0)
  # Centre x on the eyes and nose (the face's midline), y on the extent.
  centre = np.array([MEAN_SHAPE_68[list(STABLE_POINTS), 0].mean(),
                     (lo[1] + hi[1]) / 2], np.float32)
  unit = _FACE_SCALE * (MEAN_SHAPE_68 - centre) + np.array(
      [0.5, 0.5 + _FACE_DROP], np.float32)
  return (unit * size).astype(np.float32)


def umeyama(src_N2, dst_N2):
  """Least-squares similarity mapping `src` onto `dst` (Umeyama 1991).

  Args:
    src_N2: (N, 2) source points, N >= 2.
    dst_N2: (N, 2) destination points.

  Returns:
    (2, 3) float64 matrix M with dst ~= M[:, :2] @ src + M[:, 2].
  """
  src = np.asarray(src_N2, np.float64)
  dst = np.asarray(dst_N2, np.float64)
  mu_s, mu_d = src.mean(0), dst.mean(0)
  s0, d0 = src - mu_s, dst - mu_d
  var_s = (s0 ** 2).sum() / len(src)
  cov = d0.T @ s0 / len(src)
  u, sig, vt = np.linalg.svd(cov)
  d = np.ones(2)
  if np.linalg.det(u) * np.linalg.det(vt) < 0:  # no reflections
    d[-1] = -1
  rot = u @ np.diag(d) @ vt
  scale = (sig * d).sum() / max(var_s, 1e-12)
  m = np.zeros((2, 3))
  m[:, :2] = scale * rot
  m[:, 2] = mu_d - scale * rot @ mu_s
  return m


def similarity_transform(landmarks_68, size):
  """Image-to-crop similarity fitted on the stable landmarks.

  Args:
    landmarks_68: (68, 2) landmark (x, y) positions in the image.
    size: side of the aligned crop.

  Returns:
    (2, 3) float32 affine matrix from image to crop coordinates.
  """
  pts = np.asarray(landmarks_68, np.float64)
  idx = list(STABLE_POINTS)
  return umeyama(pts[idx], template_68(size)[idx]).astype(np.float32)


def transform_points(points_N2, M):
  """Applies a (2, 3) affine matrix to points.

  Args:
    points_N2: (N, 2) (x, y) points.
    M: (2, 3) affine matrix.

  Returns:
    (N, 2) float32 transformed points.
  """
  pts = np.asarray(points_N2, np.float64)
  m = np.asarray(M, np.float64)
  return (pts @ m[:, :2].T + m[:, 2]).astype(np.float32)


def to_grey(image):
  """RGB (HxWx3), HxWx1 or HxW uint8 image -> HxW uint8 grey (cv2 weights)."""
  if image.ndim == 3 and image.shape[2] == 3:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
  if image.ndim == 3:
    return image[:, :, 0]
  return image


def to_grey_frames(frames) -> np.ndarray:
  """(T, H, W, C) or (T, H, W) uint8 frames -> (T, H, W) uint8 grey: the
  one grey conversion of frames (`to_grey` of each, OpenCV's RGB2GRAY
  weights and rounding)."""
  f = np.asarray(frames)
  if f.ndim == 3:
    return f
  if f.shape[-1] != 3:
    return f[..., 0]
  return np.stack([to_grey(x) for x in f]) if len(f) else f[..., 0]


def warp_face(image, M, size, grey):
  """Warps an image into the aligned crop.

  Args:
    image: HxW, HxWx1 or HxWx3 (RGB) uint8 image.
    M: (2, 3) image-to-crop affine matrix.
    size: side of the crop.
    grey: True for a 1-channel grey crop, False for RGB (a grey input is
      replicated to 3 channels).

  Returns:
    (size, size, C) uint8 crop, C = 1 if `grey` else 3. Pixels from outside
    the image replicate the border, so the crop has no artificial edges.
  """
  image = np.asarray(image)
  if grey:
    src = to_grey(image)
  elif image.ndim == 2 or image.shape[2] == 1:
    src = cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2RGB)
  else:
    src = image
  out = cv2.warpAffine(
      np.ascontiguousarray(src), np.asarray(M, np.float64), (size, size),
      flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
  return out.reshape(size, size, 1 if grey else 3)


def roi_boxes(landmarks_crop_68, size, margin=0.06):
  """ROI boxes of brows, nose and mouth from landmarks in crop coordinates.

  Order is `ROI_NAMES`; "left" is image left (see module docstring).

  Args:
    landmarks_crop_68: (68, 2) landmarks in aligned-crop coordinates.
    size: side of the crop.
    margin: padding on every side as a fraction of `size`.

  Returns:
    (4, 4) int32 [x0, y0, x1, y1] per ROI, x1/y1 exclusive (so
    `crop[y0:y1, x0:x1]` is the ROI), clipped to [0, size] and at least one
    pixel wide and tall.
  """
  pts = np.asarray(landmarks_crop_68, np.float64)
  pad = margin * size
  boxes = np.zeros((4, 4), np.int32)
  for r, idx in enumerate(_ROI_POINTS):
    p = pts[list(idx)]
    x0, y0 = np.floor(p.min(0) - pad)
    x1, y1 = np.ceil(p.max(0) + pad) + 1
    x0, x1 = np.clip([x0, x1], 0, size)
    y0, y1 = np.clip([y0, y1], 0, size)
    # Landmarks far outside the crop would give an empty box: keep 1 px.
    x0, y0 = min(x0, size - 1), min(y0, size - 1)
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    boxes[r] = (x0, y0, x1, y1)
  return boxes


def decompose(M, size):
  """Splits an image-to-crop similarity into smoothable parameters.

  Args:
    M: (2, 3) similarity matrix.
    size: side of the crop.

  Returns:
    (4,) float64 [log scale, angle (radians), cx, cy], where (cx, cy) is the
    image point mapped to the crop centre. Unlike the raw translation, the
    centre does not change when only the angle changes, so averaging the four
    numbers independently is meaningful.
  """
  m = np.asarray(M, np.float64)
  scale = np.hypot(m[0, 0], m[1, 0])
  angle = np.arctan2(m[1, 0], m[0, 0])
  centre = np.linalg.solve(m[:, :2], np.full(2, size / 2) - m[:, 2])
  return np.array([np.log(scale), angle, centre[0], centre[1]])


def compose(params, size):
  """Inverse of `decompose`: parameters -> (2, 3) float32 similarity."""
  log_s, angle, cx, cy = params
  s = np.exp(log_s)
  a = s * np.array([[np.cos(angle), -np.sin(angle)],
                    [np.sin(angle), np.cos(angle)]])
  m = np.zeros((2, 3))
  m[:, :2] = a
  m[:, 2] = size / 2 - a @ np.array([cx, cy])
  return m.astype(np.float32)


def face_mask(landmarks_crop_68: np.ndarray, size: int) -> np.ndarray:
  """A soft mask of the face, as OpenFace's aligned output masks it.

  The convex hull of the jaw line and brows, with the brows raised by
  0.6 of their height above the eyes plus 5% of the crop so the forehead
  (where brow raises show) stays in; feathered with a Gaussian of 2% of the
  crop so the border does not flicker with landmark noise. Everything
  outside (background, hair, neck) moves independently of expressions.

  Args:
    landmarks_crop_68: (68, 2) landmarks in crop coordinates.
    size: crop side.

  Returns:
    (size, size) float32 in [0, 1].
  """
  pts = np.asarray(landmarks_crop_68, np.float32)[:27].copy()
  eye_y = float(np.asarray(landmarks_crop_68)[36:48, 1].mean())
  brows = pts[17:27]
  brows[:, 1] -= 0.6 * np.clip(eye_y - brows[:, 1], 0, None) + 0.05 * size
  mask = np.zeros((size, size), np.float32)
  cv2.fillConvexPoly(mask, cv2.convexHull(np.round(pts).astype(np.int32)), 1.0)
  return cv2.GaussianBlur(mask, (0, 0), 0.02 * size)


def mask_crop(crop_SSC: np.ndarray, landmarks_crop_68: np.ndarray
              ) -> np.ndarray:
  """`crop` with everything outside `face_mask` faded to black (uint8)."""
  m = face_mask(landmarks_crop_68, crop_SSC.shape[0])[..., None]
  return np.round(crop_SSC.astype(np.float32) * m).astype(np.uint8)
