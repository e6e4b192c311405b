"""`rethinking_of` and its shared pieces (`flow.roi_features`), its decoder
(`decoders.rethinking`), the runner, the audit and offline scoring.

Known answers: the eye mask covers the eye landmarks; a whole-face
translation leaves ~0 ROI motion once the nose tip's flow is subtracted,
a moving ROI its displacement (in normalised-face px); the ideal filter
keeps a slow sine and removes a fast one; the EMD signal equals PyEMD's
(values PyEMD gave); the `find_peak` window quirks on a hand-worked
curve; the authors' window rules on hand-built curves; a texture patch that moves gives a score above 1
(the authors' tests pass) and a still one none; `params=released` fits
nothing; a variant fitting tau with the test subject fails the audit.
"""
import numpy as np
import pytest

from mespot_jax import audit, experiment, methods
from mespot_jax.config import load_module as load_config
from mespot_jax.decoders import rethinking as dec
from mespot_jax.face import align
from mespot_jax.flow import roi_features as rf
from mespot_jax.methods import rethinking_of as ro
from tests import fake_spotting
from tests import test_mdmd_deploy as mdmd_deploy
from tests.test_mdmd import _texture_video

synthetic_rethinking_of = load_config("synthetic_rethinking_of")
mdmd_deploy.CONFIGS["rethinking_of"] = synthetic_rethinking_of


def test_eye_mask_covers_the_eye_landmarks():
  lmk = align.template_68(64)
  mask = rf.eye_mask(lmk, 64)
  x, y = np.round(lmk[36:48]).astype(int).T
  assert mask[y, x].all()
  x, y = np.round(lmk[[30, 51, 19]]).astype(int).T  # nose, lip, brow
  assert not mask[y, x].any()


def test_head_motion_removed_and_roi_displacement():
  lmk = align.template_68(64)
  boxes, scale = ro.regions(lmk, 64), rf.face_scale(lmk)
  pct = {n: 0.2 for n, *_ in ro.LAYOUT}
  flows = np.zeros((2, 64, 64, 2), np.float32)
  flows[0] = (1.5, -0.5)  # the whole face moved: head motion only
  x0, y0, x1, y1 = boxes["mouth_48"]
  flows[1, y0:y1, x0:x1] = (0.0, 2.0)  # one mouth corner moved 2 px down
  mag = ro.roi_motion(flows, boxes, pct, 0.7, None, scale)
  np.testing.assert_allclose(mag[0], 0.0, atol=1e-5)
  names = [n for n, *_ in ro.LAYOUT]
  assert mag[1, names.index("mouth_48")] == pytest.approx(2.0 * scale)
  assert mag[1, names.index("left_brow")] == pytest.approx(0.0)


def test_top_percent_mean_and_mask():
  f = np.zeros((1, 4, 4, 2), np.float32)
  f[0, 0, :, 0] = [1, 2, 3, 4]  # 16 vectors; the top 25%: 4 of them
  m = rf.top_percent_mean(f, (0, 0, 4, 4), 0.25)
  np.testing.assert_allclose(m, [[2.5, 0.0]])
  mask = np.zeros((4, 4), bool)
  mask[0, 2:] = True  # the two largest masked out
  m = rf.top_percent_mean(f, (0, 0, 4, 4), 1 / 7, mask)  # 14 -> 2 kept
  np.testing.assert_allclose(m, [[1.5, 0.0]])


def test_ideal_lowpass_known_response():
  fps, t = 30.0, 200
  x = np.arange(t) / fps
  slow = 2.0 + np.sin(2 * np.pi * 0.6 * x)  # 0.6 Hz, an exact bin
  fast = 0.5 * np.sin(2 * np.pi * 9.0 * x)  # 9 Hz, above 5 Hz
  np.testing.assert_allclose(rf.ideal_lowpass(slow + fast, fps, 5.0), slow,
                             atol=1e-6)
  np.testing.assert_allclose(rf.ideal_lowpass(np.full(t, 3.0), fps, 5.0),
                             3.0)


def test_emd_detrend_removes_a_trend_and_local_rise():
  t = np.arange(200)
  x = 0.02 * t + np.sin(2 * np.pi * t / 20)
  d = rf.emd_detrend(x)
  assert abs(d[20:180].mean()) < 0.2 and np.ptp(d[20:180]) > 1.5
  # The authors' window x[j - 1 : j + 1]: its end (and the last frame)
  # left out, so the last frame is compared with the one before it.
  np.testing.assert_allclose(rf.local_rise([0, 1, 3, 1, 0], 1),
                             [0, 1, 2, 0, -1])

def test_emd_detrend_equals_pyemd_known_answers():
  """The authors' EMD signal (PyEMD 1.10 `EMD().emd`, every row but the
  last summed) on two signals, every 6th value, as PyEMD gave them; the
  second has plateaus and zeros (its extrema and zero-crossing rules).
  Our own code must give the same (before: a stand-in sifting that
  differed by up to 14 px on the authors' ROI signals)."""
  t = np.arange(60)
  x = (np.sin(2 * np.pi * t / 9) + 0.5 * np.sin(2 * np.pi * t / 31 + 1)
       + 0.002 * (t - 20) ** 2)
  np.testing.assert_allclose(rf.emd_detrend(x)[::6], [
      0.959190671238, -0.282029182427, 0.712616977014, -0.599168914993,
      -1.204338256635, 1.08445418543, 0.320883627217, -1.006935311209,
      0.465119957069, 0.244094851563], atol=1e-9)
  y = np.round(np.sin(2 * np.pi * t / 13) * 3 + 0.05 * t) / 2
  np.testing.assert_allclose(rf.emd_detrend(y)[::6], [
      -0.27690180484, 0.19586385898, -0.871166250008, 1.031742456806,
      -1.083010435792, 1.298061574799, -1.317774111299, 1.575936201921,
      -1.0143579898, 1.41779280928], atol=1e-9)
  imfs, residue = rf.emd(x)
  assert len(imfs) == 2  # PyEMD: 2 IMFs and the residue (3 rows)
  np.testing.assert_allclose(imfs.sum(0) + residue, x)


def test_baseline_term_is_find_peaks_checked_frames():
  """The authors' `find_peak` checks `range(head, tail)` of the windows
  of frames with x - min x >= pri (joined when < 3 apart): the last frame
  of a window never, a one-frame gap inside one always. Hand-worked, pri
  = 1: points 2, 3 | 6, 8 (gap 7) | 12 -> windows [2, 3], [6, 8], [12,
  12] -> checked 2, 6, 7."""
  x = np.array([0, 0, 1, 1, 0, 0, 1, 0.5, 1, 0, 0, 0, 1, 0, 0]) + 3.0
  k = ro.baseline_term(x)
  assert list(np.where(k >= 1.0)[0]) == [2, 6, 7]
  # The level is the largest threshold at which the frame is checked:
  # frame 7 (a gap) at 1 (its neighbours), not at 0.5 alone (then 7, 8
  # join 6 and the tail moves to 8).
  assert k[7] == 1.0 and k[3] == 0.0 and k[14] == 0.0


def test_reference_pairs_fixed_windows():
  src, dst, wid = rf.reference_pairs(10, "fixed", 4, 2)
  assert list(zip(src, dst))[:5] == [(0, 0), (0, 1), (0, 2), (0, 3), (2, 2)]
  assert wid.max() == 3 and list(dst[-4:]) == [6, 7, 8, 9]
  src, dst, _ = rf.reference_pairs(5, "sliding", 2)
  assert list(src) == [0, 1, 2] and list(dst) == [2, 3, 4]


def test_window_rules_hand_worked():
  assert dec.join_points([3, 4, 6, 10], 3) == [[3, 6], [10, 10]]
  x = np.zeros(60)
  x[20:30] = [0.2, 0.6, 1.0, 1.5, 2.0, 2.0, 1.5, 1.0, 0.6, 0.2]
  # Head: the valley (the first minimum within 15 frames, frame 7) lies
  # before it, so it walks left to the first frame below 0.33 x the peak
  # (21: 0.6 < 0.66). Tail: the first minimum of its +-15 frames is again
  # frame 12, not after it, so the small rule: the minimum of the next 5
  # frames (30) is lower by more than 0.1, the tail goes to 30 - 1.
  assert dec.expand(x, [[22, 27]], 0.33, 0.1, 15, 5) == [[21, 29]]
  # Two peaks (frames 5-14, 25-34), zeros between: the first minimum
  # searched 2 frames inside the ends is frame 15; both peaks (2.0) rise
  # above it by more than max(0.5, 0.33 x 2.0): split around it.
  x2 = np.concatenate([x[15:35], x[15:35]])
  assert dec.divide(x2, [[5, 34]], 0.33, 0.5, 20, 2) == [[5, 14], [16, 34]]
  assert dec.divide(x2, [[5, 34]], 0.33, 2.5, 20, 2) == [[5, 34]]
  assert dec.nms([[0, 10], [5, 12], [30, 40]], 0.34) == [[0, 12], [30, 40]]


def _method(**decoder):
  config = synthetic_rethinking_of.get_config("smoke")
  config.rethinking_of.cache_dir = "none"
  config.rethinking_of.flow_size = 0
  for k, v in decoder.items():
    config.decoder.rethinking[k] = v
  return methods.get(config)


def _local_motion_video(t, motion, box):
  """The still texture, with the pixels of `box` shifted by `motion[i]`
  px (y) in frame i: one ROI moves, the head does not."""
  still = _texture_video(t, np.zeros(t))
  moved = _texture_video(t, np.zeros(t))
  import cv2  # pylint: disable=g-import-not-at-top
  x0, y0, x1, y1 = box
  for i in range(t):
    m = np.float32([[1, 0, 0], [0, 1, motion[i]]])
    w = cv2.warpAffine(still[0, ..., 0], m, (48, 48),
                       borderMode=cv2.BORDER_REFLECT)
    moved[i, y0:y1, x0:x1, 0] = w[y0:y1, x0:x1]
  return moved


def test_planted_motion_passes_the_authors_tests():
  fps, t = 30.0, 60
  motion = np.zeros(t)
  motion[25:35] = np.sin(np.linspace(0, np.pi, 10)) * 2.0  # out and back
  m = _method()
  lmk = align.template_68(48)
  rois = np.tile(align.roi_boxes(lmk, 48), (t, 1, 1)).astype(np.float32)
  x0, y0, x1, y1 = ro.regions(lmk, 48)["mouth_whole"]
  local = m.curves_of_frames(
      _local_motion_video(t, motion, (x0 - 2, y0 - 2, x1 + 2, y1 + 2)),
      rois, fps)
  head = m.curves_of_frames(_texture_video(t, motion), rois, fps)
  still = m.curves_of_frames(_texture_video(t, np.zeros(t)), rois, fps)
  assert np.nanmax(local[25:35, 0]) > 1.0  # the authors' tests pass
  assert not (head[:, 0] > 1.0).any()  # head motion: removed
  assert not (still[:, 0] > 1.0).any()
  np.testing.assert_array_equal(local[:, 0], local[:, 1])


def test_released_fits_nothing_and_types_by_length():
  m = _method(params="released")
  rec = m.decoder.fit([])  # no fitting unit needed: nothing is fitted
  assert rec.values == [1.0, 1.0] and rec.params == "released"
  curve = np.zeros((150, 2))
  curve[20:34] = 2.0  # 14 frames above 1: 0-based [19, 33] after expand
  curve[60:90] = 2.0  # 30 frames: [59, 89]
  curve[120:125] = 2.0  # 5 frames: [119, 124], shorter than 12: dropped
  rows = m.decoder.decode(curve, 30.0, rec, "v")
  assert [(r.type, r.onset, r.offset) for r in rows] == [
      ("micro", 20, 34), ("macro", 60, 90)]


def test_runs_through_the_runner_with_nothing_trained(tmp_path):
  config = synthetic_rethinking_of.get_config("smoke")
  config.rethinking_of.cache_dir = str(tmp_path / "cache")
  store = fake_spotting.make_store(num_subjects=3, num_frames=90, size=32)
  metrics = experiment.run(config, str(tmp_path / "run"), store=store)
  assert metrics["method"] == "rethinking_of" and metrics["history"] == []
  for typ in ("micro", "macro", "overall"):
    assert 0.0 <= metrics["model"]["megc2020"][typ]["f1"] <= 1.0


class _LeakyTau(ro.RethinkingOF):
  """tau fitted on every subject, the test subject's included."""
  name = "leaky_rethinking_of"

  def fit_ids(self, store, fold):
    return super().fit_ids(store, fold) + store.video_indices(
        fold.test_subjects)


@pytest.mark.slow
def test_audit_passes_and_a_leaky_variant_fails(tmp_path):
  config = mdmd_deploy.smoke_config("rethinking_of", tmp_path)
  record = audit.audit(config, str(tmp_path / "ok"), (0, 3),
                       store=mdmd_deploy.audit_store())
  assert record["passed"], record["moved"]
  assert "values[model]" in {r["choice"] for r in record["checked"]}
  methods.register(_LeakyTau)
  config = mdmd_deploy.smoke_config("rethinking_of", tmp_path)
  config.method = _LeakyTau.name
  config[_LeakyTau.name] = config.rethinking_of
  record = audit.audit(config, str(tmp_path / "leaky"), (0, 1, 2, 3),
                       ("shift", "drop"), store=mdmd_deploy.audit_store())
  assert not record["passed"]
  assert "values[model]" in {r["choice"] for r in record["moved"]}


@pytest.mark.slow
def test_deploy_and_score_a_video_file(tmp_path):
  """Deploy record (the decoder's tau per type) and `score.run` on an mp4;
  offline scores equal the method's curves of the aligner's crops."""
  import json  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top
  from mespot_jax import deploy, score  # pylint: disable=g-import-not-at-top
  from mespot_jax.data import video_io  # pylint: disable=g-import-not-at-top
  from mespot_jax.face import track  # pylint: disable=g-import-not-at-top
  from tests.test_score import FPS  # pylint: disable=g-import-not-at-top
  from tests.test_score_lbcnn import held_out_frames, shared_store  # pylint: disable=g-import-not-at-top
  store = shared_store()
  config = mdmd_deploy.smoke_config("rethinking_of", tmp_path)
  config.train.deploy = True
  config.train.test_folds = ("s00",)
  workdir = str(tmp_path / "run")
  experiment.run(config, workdir, store=store)
  info = json.load(open(os.path.join(workdir, "deploy", "deploy.json")))
  assert info["method"] == "rethinking_of"
  assert info["decoder"]["name"] == "rethinking"
  assert len(info["decoder"]["record"]["values"]) == 2
  frames, _ = held_out_frames()
  video = str(tmp_path / "held_out.mp4")
  video_io.write_video(video, frames, FPS)
  summary = score.run(workdir, video, out=str(tmp_path / "iv.csv"),
                      json_path=str(tmp_path / "s.json"), progress=False)
  assert json.load(open(tmp_path / "s.json"))["num_frames"] == 180
  assert summary is not None
  dep = deploy.load_deployment(workdir)
  scored = score.score_frames(dep, video_io.iter_frames(video), FPS, 32,
                              progress=False)
  aligned = list(track.VideoAligner(32, grey=True).align_stream(
      video_io.iter_frames(video)))
  ref = dep.method.curves_of_frames(
      np.stack([a.crop for a in aligned]),
      np.stack([a.rois for a in aligned]).astype(np.float32), FPS)
  np.testing.assert_allclose(scored.scores_T2, ref, rtol=1e-5, atol=1e-6)
