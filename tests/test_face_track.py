"""Tests for mespot_jax.face.track.VideoAligner.

Sequences are made from scikit-image's astronaut face pasted into a grey
canvas and moved a few pixels per frame; the models load once per module.
"""

import numpy as np
import pytest
from skimage import data as skdata

from mespot_jax import face
from mespot_jax.errors import InputError
from mespot_jax.face import align

S = 112
BLANK = 6


@pytest.fixture(scope="module")
def models():
  return face.FaceDetector(), face.LandmarkPredictor()


def _sequence(n, blank=(), dx=3, dy=2):
  patch = skdata.astronaut()[40:220, 130:310]
  frames = []
  for t in range(n):
    f = np.full((300, 340, 3), 120, np.uint8)
    x, y = 40 + dx * t, 50 + dy * t
    f[y:y + 180, x:x + 180] = patch
    frames.append(np.full_like(f, 128) if t in blank else f)
  return frames


@pytest.fixture(scope="module")
def moving():
  return _sequence(12, blank=(BLANK,))


def _run(models, frames, **kw):
  aligner = face.VideoAligner(detector=models[0], predictor=models[1], **kw)
  return aligner, list(aligner.align_stream(iter(frames)))


class _Noisy:
  """Landmark predictor adding uniform +-1 px noise (seeded)."""

  def __init__(self, predictor, seed):
    self.predictor = predictor
    self.rng = np.random.default_rng(seed)

  def predict_grey(self, grey, box):
    lm = self.predictor.predict_grey(grey, box)
    return lm + self.rng.uniform(-1, 1, lm.shape).astype(np.float32)


def test_one_output_per_frame_and_blank_frame(models, moving):
  aligner, out = _run(models, moving)
  assert len(out) == len(moving)
  assert [o.face_found for o in out] == [t != BLANK for t in range(12)]
  for o in out:
    assert o.crop.shape == (S, S, 1) and o.crop.dtype == np.uint8
    assert o.rois.shape == (4, 4) and o.rois.dtype == np.int32
    assert o.landmarks.shape == (68, 2) and o.transform.shape == (2, 3)
  # The blank frame carries the previous transform and landmarks.
  np.testing.assert_array_equal(out[BLANK].transform, out[BLANK - 1].transform)
  np.testing.assert_array_equal(out[BLANK].landmarks, out[BLANK - 1].landmarks)
  st = aligner.stats
  assert st["frames"] == 12 and st["no_face"] == 1
  assert st["detected"] + st["tracked"] == 11
  # Detector on the first frame and on the blank one only.
  assert st["detector_calls"] == 2 and st["tracked"] == 10


def test_crops_follow_the_moving_face(models, moving):
  _, out = _run(models, moving)
  found = [t for t in range(12) if t != BLANK]
  # The face centre in the image moves by exactly (3, 2) px a frame.
  centres = np.array([align.decompose(out[t].transform, S)[2:] for t in found])
  steps = np.diff(centres, axis=0) / np.diff(found)[:, None]
  np.testing.assert_allclose(steps, np.tile([3.0, 2.0], (len(steps), 1)),
                             atol=0.5)
  # So the aligned crops barely change, and the landmarks stay on template.
  ref = out[0].crop.astype(float)
  for t in found:
    assert np.abs(out[t].crop - ref)[28:84, 28:84].mean() < 4.0
    stable = list(align.STABLE_POINTS)
    assert np.abs(out[t].landmarks[stable] -
                  face.template_68(S)[stable]).max() < 4.0


def test_redetect_every(models):
  aligner, out = _run(models, _sequence(9), redetect_every=4, grey=False)
  assert all(o.face_found for o in out) and out[0].crop.shape == (S, S, 3)
  assert aligner.stats["detector_calls"] == 3  # frames 0, 4, 8
  assert aligner.stats["redetected"] == 2 and aligner.stats["tracked"] == 6


def test_leading_faceless_frames_are_held_for_the_first_face(models):
  frames = _sequence(6, blank=(0, 1))
  aligner, out = _run(models, frames)
  assert [o.face_found for o in out] == [False, False, True, True, True, True]
  np.testing.assert_array_equal(out[0].transform, out[2].transform)
  assert aligner.stats["held"] == 2 and aligner.stats["fallback"] == 0


def test_no_face_at_all_uses_the_centred_fallback(models):
  frames = [np.full((90, 160), 100, np.uint8)] * 4
  aligner, out = _run(models, frames, max_hold=2)
  assert len(out) == 4 and not any(o.face_found for o in out)
  assert aligner.stats["fallback"] == 4
  # The frame centre maps to the crop centre; the crop spans 90 px.
  np.testing.assert_allclose(
      face.transform_points([[80, 45]], out[0].transform), [[S / 2, S / 2]],
      atol=1e-4)
  np.testing.assert_allclose(out[0].transform[0, 0], S / 90, rtol=1e-6)


def test_grey_inputs_match_rgb(models):
  rgb = _sequence(4)
  grey = [np.asarray(align.to_grey(f)) for f in rgb]
  _, out_rgb = _run(models, rgb)
  _, out_grey = _run(models, grey)
  _, out_g1 = _run(models, [g[..., None] for g in grey])
  for a, b, c in zip(out_rgb, out_grey, out_g1):
    np.testing.assert_allclose(a.transform, b.transform, atol=1e-4)
    np.testing.assert_array_equal(b.crop, c.crop)


def test_smoothing_reduces_landmark_jitter(models):
  frames = _sequence(15, dx=0, dy=0)  # a still face

  def jitter(window):
    aligner = face.VideoAligner(
        smooth_window=window, detector=models[0],
        predictor=_Noisy(models[1], seed=1))
    out = list(aligner.align_stream(frames))
    assert all(o.face_found for o in out)
    params = np.array([align.decompose(o.transform, S) for o in out])
    # Frame-to-frame motion of the face centre (px) and scale (log).
    return np.abs(np.diff(params[:, 2:], axis=0)).mean(), np.abs(
        np.diff(params[:, 0])).mean()

  raw_move, raw_scale = jitter(1)
  smooth_move, smooth_scale = jitter(5)
  assert raw_move > 0.1  # the noise does show without smoothing
  assert smooth_move < 0.5 * raw_move
  assert smooth_scale < 0.5 * raw_scale


def test_bad_frame_raises_input_error(models):
  frames = _sequence(2) + [np.zeros((300, 340, 3), np.float32)]
  aligner = face.VideoAligner(detector=models[0], predictor=models[1])
  with pytest.raises(InputError, match="frame 3"):
    list(aligner.align_stream(frames))
