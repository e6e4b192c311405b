"""Tests for mespot_jax.face.detect and mespot_jax.face.align.

Real faces: scikit-image's astronaut photograph (one face, about
(175, 76)-(265, 166)). The models load once per module.
"""

import cv2
import dlib
import numpy as np
import pytest
from skimage import data as skdata

from mespot_jax import face
from mespot_jax.errors import InputError
from mespot_jax.face import align

S = 112
STABLE = list(align.STABLE_POINTS)
EYES = list(align.EYE_CORNERS)
NOSE = [27, 28, 29, 30, 33]


@pytest.fixture(scope="module")
def models():
  return face.FaceDetector(), face.LandmarkPredictor()


@pytest.fixture(scope="module")
def astronaut():
  return skdata.astronaut()


@pytest.fixture(scope="module")
def aligned(models, astronaut):
  detector, predictor = models
  box = detector.detect(astronaut)[0]
  lm = predictor(astronaut, box)
  m = face.similarity_transform(lm, S)
  return box, lm, m


def _align(models, image, size=S):
  detector, predictor = models
  lm = predictor(image, detector.detect(image)[0])
  m = face.similarity_transform(lm, size)
  return face.warp_face(image, m, size, True)[..., 0], face.transform_points(
      lm, m), m


def _iou(a, b):
  ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
  iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
  area = lambda r: (r[2] - r[0]) * (r[3] - r[1])
  return ix * iy / (area(a) + area(b) - ix * iy)


def test_detects_the_face_largest_first(models, astronaut):
  boxes = models[0].detect(astronaut)
  assert boxes.dtype == np.float32 and boxes.shape[1] == 4
  assert _iou(boxes[0], [175, 76, 265, 166]) > 0.7
  boxes1 = face.FaceDetector(upsample=1, haar_fallback=False).detect(astronaut)
  assert _iou(boxes1[0], [175, 76, 265, 166]) > 0.8


class _FakeHog:
  """Stands in for dlib's detector with fixed boxes and scores."""

  def __init__(self, rects, scores):
    self.out = (dlib.rectangles([dlib.rectangle(*r) for r in rects]), scores,
                [0] * len(scores))

  def run(self, *args):
    return self.out


def test_weak_false_positive_of_similar_size_comes_second(astronaut):
  # On the RGB astronaut at upsample 1 dlib reports a weak (score 0.12) box
  # on the suit, about as large as the face (score 1.16); a slightly larger
  # one here must still come after the face.
  detector = face.FaceDetector()
  detector._hog = _FakeHog([(126, 335, 217, 426), (175, 76, 264, 165)],
                           [0.12, 1.16])
  boxes = detector.detect(astronaut)
  np.testing.assert_allclose(boxes, [[175, 76, 265, 166], [126, 335, 218, 427]])
  # Equal confidence: plain largest first.
  detector._hog = _FakeHog([(10, 10, 49, 49), (100, 100, 199, 199)], [0.5, 0.5])
  np.testing.assert_allclose(detector.detect(astronaut)[0], [100, 100, 200, 200])


def test_grey_and_colour_inputs_agree(models, astronaut):
  detector, predictor = models
  grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
  b_rgb = detector.detect(astronaut)[0]
  np.testing.assert_allclose(detector.detect(grey)[0], b_rgb)
  np.testing.assert_allclose(detector.detect(grey[..., None])[0], b_rgb)
  np.testing.assert_allclose(predictor(grey, b_rgb),
                             predictor(astronaut, b_rgb))


def test_blank_image_has_no_face(models):
  assert models[0].detect(np.full((200, 240), 128, np.uint8)).shape == (0, 4)


def test_bad_image_raises_input_error(models):
  with pytest.raises(InputError, match="uint8"):
    models[0].detect(np.zeros((64, 64), np.float32))
  with pytest.raises(InputError, match="HxWx3"):
    models[0].detect(np.zeros((64, 64, 4), np.uint8))


def test_large_frames_are_downscaled_and_boxes_scaled_back(astronaut):
  big = cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_LINEAR)
  box = face.FaceDetector(max_side=512).detect(big)[0]
  small = face.FaceDetector(max_side=0).detect(astronaut)[0]
  np.testing.assert_allclose(box, 2 * small, atol=6)


def test_haar_fallback_box_feeds_the_predictor(models, astronaut, aligned):
  detector = face.FaceDetector()

  detector._hog = _FakeHog([], [])  # dlib finds nothing: Haar must answer
  box_dlib, lm_dlib, _ = aligned
  box = detector.detect(astronaut)[0]
  assert _iou(box, box_dlib) > 0.7
  lm = models[1](astronaut, box)
  assert np.abs(lm - lm_dlib)[STABLE].mean() < 2.0


def test_landmarks_land_on_the_face(aligned):
  box, lm, _ = aligned
  assert lm.shape == (68, 2) and lm.dtype == np.float32
  eyes = lm[EYES]
  assert np.all((eyes >= box[:2]) & (eyes <= box[2:]))
  # Image-left eye (36, 39) before image-right eye (42, 45), corners ordered.
  assert eyes[0, 0] < eyes[1, 0] < eyes[2, 0] < eyes[3, 0]
  assert lm[33, 1] > lm[27, 1] and lm[8, 1] > lm[57, 1] > lm[33, 1]


def test_aligned_crop_is_centred(aligned):
  box, lm, m = aligned
  assert m.shape == (2, 3) and m.dtype == np.float32
  lm_crop = face.transform_points(lm, m)
  tpl = face.template_68(S)
  for group in (EYES, NOSE):
    np.testing.assert_allclose(lm_crop[group].mean(0), tpl[group].mean(0),
                               atol=2.0)
  assert np.abs(lm_crop[STABLE] - tpl[STABLE]).max() < 4.0
  # Whole face (brows to chin, jaw) inside the crop, box centred.
  assert lm_crop.min() > 0.08 * S and lm_crop.max() < 0.92 * S
  corners = face.transform_points(box.reshape(2, 2), m)
  np.testing.assert_allclose(corners.mean(0), [S / 2, S / 2], atol=0.08 * S)


@pytest.mark.parametrize("size", [112, 224])
def test_template_is_symmetric_and_scales(size):
  tpl = face.template_68(size)
  # Mirror pairs of eye corners straddle the vertical centre line.
  np.testing.assert_allclose(tpl[36, 0] + tpl[45, 0], size, atol=0.01 * size)
  np.testing.assert_allclose(tpl[39, 0] + tpl[42, 0], size, atol=0.01 * size)
  np.testing.assert_allclose(tpl / size, face.template_68(100) / 100,
                             atol=1e-6)


def test_rotated_scaled_shifted_copy_aligns_back(models, astronaut):
  crop0, lm0, m0 = _align(models, astronaut)
  h, w = astronaut.shape[:2]
  rot = cv2.getRotationMatrix2D((w / 2, h / 2), 8.0, 0.8)
  rot[:, 2] += (12, -9)
  moved = cv2.warpAffine(astronaut, rot, (w, h), flags=cv2.INTER_LINEAR)
  crop1, lm1, _ = _align(models, moved)
  assert np.abs(lm1 - lm0)[STABLE].max() < 2.0
  assert np.abs(lm1 - lm0).mean() < 2.0
  centre = slice(S // 4, 3 * S // 4)
  diff = np.abs(crop1.astype(float) - crop0)[centre, centre].mean()
  assert diff < 10.0  # measured about 5 (resampling at 0.8x scale)
  # Control: the unaligned view (old transform on the moved image) is far off.
  wrong = face.warp_face(moved, m0, S, True)[..., 0]
  assert np.abs(wrong.astype(float) - crop0)[centre, centre].mean() > 3 * diff


def test_umeyama_recovers_a_known_similarity():
  rng = np.random.default_rng(0)
  src = rng.uniform(0, 100, (9, 2))
  a = 1.7 * np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]])
  dst = src @ a.T + [5.0, -3.0]
  m = align.umeyama(src, dst)
  np.testing.assert_allclose(m[:, :2], a, atol=1e-9)
  np.testing.assert_allclose(m[:, 2], [5.0, -3.0], atol=1e-9)
  np.testing.assert_allclose(align.compose(align.decompose(m, 50), 50), m,
                             atol=1e-4)


def test_warp_face_channels(astronaut, aligned):
  _, _, m = aligned
  rgb = face.warp_face(astronaut, m, 224, False)
  grey = face.warp_face(astronaut, m, 224, True)
  assert rgb.shape == (224, 224, 3) and grey.shape == (224, 224, 1)
  assert rgb.dtype == grey.dtype == np.uint8
  np.testing.assert_allclose(
      cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(float), grey[..., 0],
      atol=2)
  from_grey = face.warp_face(astronaut.mean(-1).astype(np.uint8), m, 64, False)
  assert from_grey.shape == (64, 64, 3)
  assert np.array_equal(from_grey[..., 0], from_grey[..., 2])


def test_roi_boxes_order_and_bounds(aligned):
  _, lm, m = aligned
  for size in (112, 224):
    lm_crop = face.transform_points(lm, face.similarity_transform(lm, size))
    rois = face.roi_boxes(lm_crop, size)
    assert rois.shape == (4, 4) and rois.dtype == np.int32
    assert face.ROI_NAMES == ("left_brow", "right_brow", "nose", "mouth")
    assert np.all(rois >= 0) and np.all(rois <= size)
    assert np.all(rois[:, 2] > rois[:, 0]) and np.all(rois[:, 3] > rois[:, 1])
    cy = (rois[:, 1] + rois[:, 3]) / 2
    cx = (rois[:, 0] + rois[:, 2]) / 2
    assert max(cy[0], cy[1]) < cy[2] < cy[3]  # brows above nose above mouth
    assert cx[0] < size / 2 < cx[1]  # "left" = image left
    # Each box holds its landmarks.
    for r, idx in enumerate([range(17, 22), range(22, 27), range(27, 36),
                             range(48, 68)]):
      p = lm_crop[list(idx)]
      assert np.all(p >= rois[r, :2]) and np.all(p < rois[r, 2:])


def test_roi_boxes_are_clipped_to_the_crop():
  lm = face.template_68(112) + np.array([-90.0, 200.0], np.float32)
  rois = face.roi_boxes(lm, 112)
  assert np.all(rois >= 0) and np.all(rois <= 112)
  assert np.all(rois[:, 2] > rois[:, 0]) and np.all(rois[:, 3] > rois[:, 1])


def test_face_mask_keeps_face_and_forehead_drops_background():
  size = 112
  lm = align.template_68(size)
  m = align.face_mask(lm, size)
  assert m.shape == (size, size) and m.dtype == np.float32
  # Every inner landmark (eyes, nose, mouth) lies well inside the mask.
  for x, y in lm[27:68]:
    assert m[int(round(y)), int(round(x))] > 0.9
  # The forehead above the brows is kept; the crop corners are not.
  brow_top = int(lm[17:27, 1].min())
  cx = int(lm[27, 0])
  assert m[max(brow_top - 4, 0), cx] > 0.5
  for y, x in ((0, 0), (0, size - 1), (size - 1, 0), (size - 1, size - 1)):
    assert m[y, x] < 0.01
  crop = np.full((size, size, 1), 200, np.uint8)
  masked = align.mask_crop(crop, lm)
  assert masked[0, 0, 0] == 0 and masked[int(lm[30, 1]), int(lm[30, 0]), 0] > 190


def test_landmark_model_found_without_pkg_resources():
  """setuptools >= 81 has no `pkg_resources` (face_recognition_models'
  `__init__` imports it): the predictor still loads."""
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  code = ("import sys; sys.modules['pkg_resources'] = None\n"
          "from mespot_jax.face import detect\n"
          "detect.LandmarkPredictor(); print('ok')")
  proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                        text=True, timeout=120)
  assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-800:]
