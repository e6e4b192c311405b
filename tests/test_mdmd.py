"""MDMD (the MEGC2020 baseline): hand-worked block features, thresholds,
intervals, and a run through the generic runner with nothing trained.

The block feature is checked on flows built by hand (a uniform block, a
block with a majority direction, a tail flow that returns), the frame score
on a hand-sorted list, the baseline's threshold on a four-frame curve. On a
textured video a patch that moves away and comes back within 2k frames
scores higher at CF than one that moves and stays (MDMD's point), and the
first and last k frames get no score. `experiment.run` runs the method on
an in-memory store: no training happens (no checkpoints, no history), each
fold's p comes from its training subjects.
"""
import os

import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import experiment, methods
from mespot_jax.methods import mdmd
from mespot_jax.decoders import peaks
from tests import fake_spotting

synthetic_mdmd = load_config("synthetic_mdmd")


def test_block_main_direction_hand_worked():
  fc = np.zeros((1, 4, 4, 2), np.float32)
  ft = np.zeros((1, 4, 4, 2), np.float32)
  # Block 0 (top-left 2x2): all vectors (1, 0): bin of angle 0 is 4 of 8.
  fc[0, :2, :2] = (1.0, 0.0)
  # Block 1 (top-right): three vectors up (v = -2), one right (u = 5).
  fc[0, :2, 2:] = (0.0, -2.0)
  fc[0, 0, 3] = (5.0, 0.0)
  # Its tail flow: everything up with magnitude 1 (returns half-way).
  ft[0, :2, 2:] = (0.0, -1.0)
  rc, rt, main = mdmd.block_main_direction(fc, ft, (2, 2), 8)
  assert main[0, 0] == 4
  # angle -pi/2: floor((-pi/2 + pi) / (pi/4)) = 2.
  assert main[0, 1] == 2
  np.testing.assert_allclose(rc[0, :2], [1.0, 2.0], atol=1e-6)
  np.testing.assert_allclose(rt[0, :2], [0.0, 1.0], atol=1e-6)


def test_frame_score_is_the_mean_of_the_top_third():
  rc = np.array([[3.0, 1.0, 2.0, 0.0, 0.5, 0.0]])
  rt = np.zeros_like(rc)
  np.testing.assert_allclose(mdmd.frame_scores(rc, rt, 1 / 3), [2.5])


def test_relative_threshold_and_runs():
  assert peaks.threshold_of([0.0, 0.0, 0.0, 4.0], "relative", 0.5) == 2.5
  assert peaks.threshold_of([0.0, 4.0], "absolute", 0.3) == 0.3
  s = np.array([0, 3, 3, np.nan, 3, 0, 0, 3], np.float64)
  assert peaks.runs_above(s, 1.0) == [(1, 2), (4, 4), (7, 7)]


def _texture_video(t, motion):
  """A smooth random texture; frames shifted by `motion[i]` pixels (x)."""
  rng = np.random.default_rng(0)
  base = rng.uniform(0, 255, (48, 48)).astype(np.float32)
  import cv2  # pylint: disable=g-import-not-at-top
  base = cv2.GaussianBlur(base, (0, 0), 2.0)
  frames = []
  for i in range(t):
    m = np.float32([[1, 0, motion[i]], [0, 1, 0]])
    frames.append(cv2.warpAffine(base, m, (48, 48),
                                 borderMode=cv2.BORDER_REFLECT))
  return np.clip(np.stack(frames), 0, 255).astype(np.uint8)[..., None]


def _method(**block):
  config = synthetic_mdmd.get_config("smoke")
  config.mdmd.grid = (2, 2)
  config.mdmd.cache_dir = "none"
  # The hand-worked answers are for the method's default k.
  config.mdmd.k_s.micro, config.mdmd.k_s.macro = 0.2, 0.6
  for k, v in block.items():
    config.mdmd[k] = v
  return methods.get(config)


def test_transient_motion_scores_higher_than_a_lasting_one():
  m = _method()
  fps, t = 30.0, 40
  k = m.k("micro", fps)  # 6 frames
  cf = 20
  transient = np.zeros(t)
  transient[cf - 2:cf + 3] = 2.0  # away and back within HF..TF
  lasting = np.zeros(t)
  lasting[cf - 2:] = 2.0  # away and stays
  s_tr = m.curves_of_frames(_texture_video(t, transient), None, fps)
  s_la = m.curves_of_frames(_texture_video(t, lasting), None, fps)
  assert s_tr[cf, 0] > 1.0  # about the 2 px moved
  assert s_la[cf, 0] < 0.5 * s_tr[cf, 0]
  # No HF before the first k frames, no TF in the last k.
  assert np.isnan(s_tr[:k, 0]).all() and np.isnan(s_tr[t - k:, 0]).all()
  assert np.isfinite(s_tr[k:t - k, 0]).all()
  bad = m.invalid_frames(np.ones(t, bool), fps, {})
  np.testing.assert_array_equal(bad[:, 0], np.isnan(s_tr[:, 0]))


def test_intervals_span_head_to_tail_and_are_typed_by_duration():
  m = _method()
  rec = m.decoder.record_with([0.5, 0.5])  # the paper's decoder: peaks
  fps = 30.0
  curve = np.zeros(200)
  curve[50:53] = 1.0  # 3 frames: with k = 6 each side, 15 frames = 0.5 s
  curve[120:150] = 1.0  # 30 frames: 42 frames with k = 6
  assert rec.intervals(curve, "micro", 0.5, fps) == [(45, 59)]
  k = m.k("macro", fps)  # 18
  assert rec.intervals(curve, "macro", 0.5, fps) == [
      (51 - k, 53 + k), (121 - k, 150 + k)]


def test_runs_through_the_runner_with_nothing_trained(tmp_path):
  config = synthetic_mdmd.get_config("smoke")
  config.mdmd.grid = (2, 2)
  config.mdmd.cache_dir = str(tmp_path / "cache")
  store = fake_spotting.make_store(num_subjects=3, num_frames=90)
  metrics = experiment.run(config, str(tmp_path / "run"), store=store)
  assert metrics["method"] == "mdmd" and metrics["history"] == []
  assert not os.path.exists(tmp_path / "run" / "checkpoints")
  assert len(metrics["folds"]) == 3
  for f in metrics["folds"]:
    values = f["model_decoder"]["values"]
    assert f["best_epoch"] == 0 and len(values) == 2
    assert all(0.0 <= p <= 1.0 for p in values)
  for typ in ("micro", "macro", "overall"):
    assert 0.0 <= metrics["model"]["megc2020"][typ]["f1"] <= 1.0
  assert "oracle" in metrics  # thresholds fitted on the test subject
  # The per-video features were cached and are read back.
  m = methods.get(config)
  m.stored_curves(store, 0)
  cache = m.cache()
  cache.get(store.videos[0].video, store.video(0), "mdmd",
            m.feature_params(30.0), lambda: pytest.fail("not cached"))
  assert cache.hits == 1
