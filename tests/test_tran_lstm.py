"""Tests for Tran et al.'s targets, post-processing and model.

Targets worked by hand from equations 1 and 2 (with the 0.5 floor and the
middle-frame stand-in for an unknown apex); window starts and the merging
of overlapping windows; non-maximum suppression; the paper's threshold
heuristic; the fitted threshold; intervals around apexes; the model's
shapes and its causal LSTM (a later position never changes an earlier
score); the frames that get no score.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import methods
from mespot_jax.data.schema import Interval
from mespot_jax.decoders import apex as apex_dec
from mespot_jax.methods import tran_lstm_post as post
from mespot_jax.models.tran_lstm import TranLSTM
from mespot_jax.spotting import postprocess

synthetic_lstm = load_config("synthetic_lstm")


def test_overlap_targets_by_hand():
  # T = 12, L = 4: 9 positions; a micro interval on frames 5..7.
  t = post.targets(12, [Interval("micro", 5, 7)], 4, "overlap")
  # Position i covers frames i+1..i+4; inside frames: i=1: {5} 1/4 -> 0,
  # i=2: {5,6} 2/4, i=3: {5,6,7} 3/4, i=4: {5,6,7} 3/4, i=5: {6,7} 2/4,
  # i=6: {7} 1/4 -> 0.
  np.testing.assert_allclose(t[:, 0], [0, 0, .5, .75, .75, .5, 0, 0, 0])
  assert not t[:, 1].any()
  # Two macro intervals: the union of their frames counts.
  t = post.targets(8, [Interval("macro", 1, 2), Interval("macro", 3, 3)], 4)
  np.testing.assert_allclose(t[:, 1], [.75, .5, 0, 0, 0])


def test_apex_targets_by_hand():
  # L = 5: middle = i + 1 + 2. Apex 6: in spans of i = 1..5.
  t = post.targets(10, [Interval("micro", 4, 8, apex=6)], 5, "apex")
  # i=1: middle 4, 1 - 2/5 = 0.6; i=2: 0.8; i=3: 1; i=4: 0.8; i=5: 0.6.
  np.testing.assert_allclose(t[:, 0], [0, .6, .8, 1, .8, .6])
  # Unknown apex (-1): the middle frame (4 + 8) // 2 = 6, the same.
  t2 = post.targets(10, [Interval("micro", 4, 8, apex=-1)], 5, "apex")
  np.testing.assert_allclose(t2, t)
  # A higher floor zeroes the 0.6s.
  t3 = post.targets(10, [Interval("micro", 4, 8, apex=6)], 5, "apex", 0.7)
  np.testing.assert_allclose(t3[:, 0], [0, 0, .8, 1, .8, 0])
  with pytest.raises(ValueError, match="target"):
    post.targets(10, [], 5, "iou")


def test_windows_and_merging():
  assert post.window_starts(10, 4, 2) == [0, 2, 4, 6]
  assert post.window_starts(11, 4, 3) == [0, 3, 6, 7]
  assert post.window_starts(3, 4, 2) == [0]
  w = np.array([[[1.], [2.], [3.], [4.]], [[10.], [20.], [30.], [40.]]])
  merged = post.merge_windows(w, [0, 2], 6)
  # Positions 2, 3 are covered twice: (3 + 10) / 2, (4 + 20) / 2.
  np.testing.assert_allclose(merged[:, 0], [1, 2, 6.5, 12, 30, 40])


def test_nms_threshold_and_intervals():
  s = np.array([0.1, 0.9, 0.8, 0.2, 0.3, 0.7, np.nan, 0.95])
  # Radius 1: 7 (0.95) first, then 1 (0.9) suppresses 0 and 2, then 5
  # (0.7) suppresses 4; 3 (0.2) is not adjacent to a kept peak.
  np.testing.assert_array_equal(apex_dec.nms_peaks(s, 1), [7, 1, 5, 3])
  apexes, sc = apex_dec.candidates(s, 2)
  np.testing.assert_array_equal(apexes, [8, 2, 5])  # 1-based frames
  # The paper: (max + smallest non-zero) / 2, NaN and zeros ignored.
  assert apex_dec.paper_threshold([0.0, 0.2, 0.6, np.nan]) == pytest.approx(0.4)
  assert apex_dec.paper_threshold([0.0, np.nan]) == postprocess.NO_DETECTION
  assert apex_dec.apex_interval(10, 5, 100) == (8, 12)
  assert apex_dec.apex_interval(10, 4, 100) == (9, 12)
  assert apex_dec.apex_interval(2, 7, 4) == (1, 4)


def test_fitted_threshold_maximises_apex_f1():
  # Video 1: apexes 10 (0.9, inside [8, 12]), 50 (0.6, false), 30 (0.4,
  # inside [28, 33]). Thresholds 0.9: TP 1 FN 1 -> F1 2/3; 0.6: 1/1/1
  # -> 1/2; 0.4: 2/1/0 -> 4/5. Best: 0.4.
  vids = [([10, 50, 30], [0.9, 0.6, 0.4], [(8, 12), (28, 33)])]
  assert apex_dec.fit_threshold(vids) == pytest.approx(0.4)
  assert apex_dec.count_hits([10, 11, 50], [(8, 12)]) == (1, 2, 0)
  # Nothing found at any threshold: never predict.
  assert apex_dec.fit_threshold([([50], [0.9], [(1, 5)])]) == \
      postprocess.NO_DETECTION


def test_model_shapes_and_causality():
  model = TranLSTM(units=20, outputs=2, input_scale=8.0)
  x = jax.random.uniform(jax.random.key(0), (3, 7, 12))
  variables = model.init(jax.random.key(1), x)
  y = model.apply(variables, x)
  assert y.shape == (3, 7, 2)
  # One LSTM layer of 20 units (weights shared over time) + Dense(2).
  n = sum(p.size for p in jax.tree.leaves(variables["params"]))
  assert n == 4 * 20 * (12 + 20 + 1) + 20 * 2 + 2
  x2 = x.at[:, 4:].set(0.0)  # later positions changed
  y2 = model.apply(variables, x2)
  np.testing.assert_allclose(y2[:, :4], y[:, :4], atol=1e-6)
  assert jnp.abs(y2[:, 4:] - y[:, 4:]).max() > 1e-4


def test_unscored_frames():
  method = methods.get(synthetic_lstm.get_config("smoke"))
  span = method.span(30.0)
  assert span == 23 and method.window(30.0) == 32
  assert method.span(25.0) == 19 and method.span(200.0) == 153
  face = np.ones(60, bool)
  face[40] = False
  bad = method.invalid_frames(face, 30.0, {})[:, 0]
  ok = np.flatnonzero(~bad)
  # Apex frames 11 .. 11 + 37 (0-based); positions 18..37 read frame 40.
  np.testing.assert_array_equal(ok, np.arange(11, 11 + 18))


def test_per_video_feature_standardisation():
  from mespot_jax.methods import tran_lstm  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  f = rng.random((30, 5)).astype(np.float32)
  f[:, 2] = 0.25  # a dimension constant over the video
  z = tran_lstm.normalise_features(f, "video")
  np.testing.assert_allclose(z.mean(0), 0, atol=1e-6)
  np.testing.assert_allclose(np.delete(z.std(0), 2), 1, atol=1e-5)
  assert not z[:, 2].any()
  # What is constant in a video (a face's own histogram) drops out.
  np.testing.assert_allclose(
      tran_lstm.normalise_features(f * 3 + 0.5, "video"), z, atol=1e-5)
  assert tran_lstm.normalise_features(f, "none") is f


def test_subjects_without_a_feature_position_are_a_clear_error():
  """A fold whose validation subject has no video as long as one span gets
  a one-line InputError naming the subject, not a numpy traceback."""
  from mespot_jax.data import folds as folds_lib  # pylint: disable=g-import-not-at-top
  from mespot_jax.errors import InputError  # pylint: disable=g-import-not-at-top
  from mespot_jax.methods import tran_lstm  # pylint: disable=g-import-not-at-top
  from tests import fake_spotting  # pylint: disable=g-import-not-at-top
  store = fake_spotting.make_store(num_subjects=3, num_frames=90)
  folds = folds_lib.make_folds(sorted({v.subject for v in store.videos}), 1,
                               0, ())
  feats = {v: np.zeros((0 if m.subject == folds[0].val_subjects[0] else 10,
                        4), np.float32) for v, m in enumerate(store.videos)}
  targets = {v: np.zeros((len(f), 2), np.float32) for v, f in feats.items()}
  masks = {v: np.ones(len(f), np.float32) for v, f in feats.items()}
  sampler = tran_lstm.WindowSampler(store, folds[:1], feats, targets, masks,
                                    8, ("micro",), 0.5, 0)
  assert sampler.train_dataset(2, 1)[0]["x"].shape == (1, 2, 8, 4)
  with pytest.raises(InputError, match=folds[0].val_subjects[0]):
    sampler.val_batch(2)
