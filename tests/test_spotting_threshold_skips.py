"""Tests of mespot_jax.spotting.threshold and mespot_jax.spotting.skips."""
import dataclasses

import numpy as np
import pytest

from mespot_jax.errors import InputError
from mespot_jax.spotting import postprocess
from mespot_jax.data import timing
from mespot_jax.spotting import skips
from mespot_jax.spotting import threshold


@dataclasses.dataclass(frozen=True)
class Iv:
  type: str
  onset: int
  offset: int


# ---------------------------------------------------------------- threshold


@pytest.mark.parametrize("criterion", ["youden", "f1"])
def test_separable_data_threshold_between_classes(criterion):
  rng = np.random.default_rng(0)
  neg, pos = rng.uniform(0.0, 0.4, 60), rng.uniform(0.6, 1.0, 40)
  labels = np.r_[np.zeros(60), np.ones(40)]
  scores = np.r_[neg, pos]
  perm = rng.permutation(100)
  thr = threshold.from_roc(labels[perm], scores[perm], criterion)
  assert neg.max() < thr < pos.min()
  assert threshold.youden_j(labels, scores, thr) == 1.0


def test_hand_computed_roc_thresholds():
  scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
  labels = np.array([0, 0, 1, 0, 1, 1])
  # Youden J per threshold (desc.): 1/3, 2/3, 1/3, 2/3, 1/3, 0; the tie
  # between 0.5 and 0.3 goes to the higher one -> midpoint (0.5 + 0.4) / 2.
  assert threshold.from_roc(labels, scores, "youden") == pytest.approx(0.45)
  # F1 per threshold: .5, .8, .667, .857, .75, .667 -> 0.3 -> (0.3+0.2)/2.
  assert threshold.from_roc(labels, scores, "f1") == pytest.approx(0.25)


def test_tied_scores_flip_together():
  thr = threshold.from_roc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.9])
  assert thr == pytest.approx(0.7)
  thr_values, tp, fp, pos, neg = threshold.roc_points(
      [0, 1, 0, 1], [0.5, 0.5, 0.5, 0.9])
  np.testing.assert_array_equal(thr_values, [0.9, 0.5])
  np.testing.assert_array_equal(tp, [1, 2])
  np.testing.assert_array_equal(fp, [0, 2])
  assert (pos, neg) == (2, 2)


def test_degenerate_data_falls_back():
  assert threshold.from_roc(np.zeros(10), np.linspace(0, 1, 10)) == 0.5
  assert threshold.from_roc(np.zeros(10), np.linspace(0, 1, 10),
                            fallback=0.3) == 0.3
  assert threshold.from_roc(np.ones(10), np.linspace(0, 1, 10)) == 0.5
  assert threshold.from_roc([], []) == 0.5
  with pytest.raises(InputError, match="labels"):
    threshold.from_roc([0, 1], [0.2, 0.3, 0.4])
  with pytest.raises(InputError, match="criterion"):
    threshold.from_roc([0, 1], [0.2, 0.3], "auc")


def _video(planted, num, seed, fps):
  rng = np.random.default_rng(seed)
  scores = 0.1 + 0.05 * rng.standard_normal((num, 2))
  labels = np.zeros((num, 2), bool)
  for k, (on, off) in enumerate(planted):
    scores[on - 1:off, k] += 0.7
    labels[on - 1:off, k] = True
  return scores, labels, fps


def test_fit_thresholds_works_on_smoothed_signal():
  videos = [_video([(41, 50), (101, 160)], 240, 0, 30.0),
            _video([(21, 28), (61, 130)], 200, 1, 30.0)]
  for method in ("automated", "manual"):
    thr_micro, thr_macro = threshold.fit_thresholds(videos, method)
    # Same as picking on the pooled, per-video smoothed signals.
    for k, (type_name, thr) in enumerate(
        [("micro", thr_micro), ("macro", thr_macro)]):
      p = postprocess.params_for_type(method, None, type_name)
      xs = [postprocess.smooth(s[:, k], f, method, p) for s, _, f in videos]
      ys = [l[:, k] for _, l, _ in videos]
      assert thr == pytest.approx(
          threshold.from_roc(np.concatenate(ys), np.concatenate(xs)))
    # The fitted thresholds recover the training intervals.
    rows = postprocess.scores_to_intervals(
        videos[0][0], 30.0, (thr_micro, thr_macro), method)
    got = {(t, on, off) for t, on, off, _ in rows}
    assert len(got) == 2
    for (t, on, off), (w_on, w_off) in zip(sorted(got, reverse=True),
                                           [(41, 50), (101, 160)]):
      assert abs(on - w_on) <= 2 and abs(off - w_off) <= 2, (method, got)


def test_fit_thresholds_without_positives_uses_fallback():
  s, l, f = _video([(41, 50), (101, 160)], 240, 0, 30.0)
  l[:, 1] = False
  thr_micro, thr_macro = threshold.fit_thresholds([(s, l, f)], fallback=0.4)
  assert thr_macro == 0.4 and thr_micro != 0.4
  with pytest.raises(InputError, match="video 0"):
    threshold.fit_thresholds([(s, l[:, :1], f)])


def test_frames_without_a_score_are_left_out_of_the_fit():
  scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
  labels = np.array([0, 0, 1, 0, 1, 1])
  # Two unscored frames (no face), one of each label: same threshold.
  assert threshold.from_roc(np.r_[labels, 1, 0],
                            np.r_[scores, np.nan, np.nan]) == pytest.approx(
                                threshold.from_roc(labels, scores))
  *_, pos, neg = threshold.roc_points(np.r_[labels, 1], np.r_[scores, np.nan])
  assert (pos, neg) == (3, 3)
  with pytest.raises(InputError, match="finite"):
    threshold.from_roc([0, 1], [np.inf, 0.3])
  # A video with a faceless stretch inside its macro interval fits on the
  # scored frames; the stretch breaks the interval in two.
  s, l, f = _video([(41, 50), (101, 160)], 240, 0, 30.0)
  s[121:131] = np.nan
  thr = threshold.fit_thresholds([(s, l, f)])
  assert all(np.isfinite(thr))
  rows = postprocess.scores_to_intervals(s, f, thr)
  assert [(t, on < 122) for t, on, _, _ in rows if t == "macro"] == [
      ("macro", True), ("macro", False)]
  thr_if1 = threshold.fit_thresholds_interval_f1([(s, [], f)])
  assert thr_if1 == (threshold.NO_DETECTION, threshold.NO_DETECTION)


# -------------------------------------------------------------------- skips


def test_kth_frame_skips_hand_computed():
  ivs = [Iv("micro", 1, 11),     # 11 frames: mid 5
         Iv("micro", 10, 17),    # 8 frames: 7 // 2 = 3
         Iv("micro", 100, 106),  # 7 frames: 3
         Iv("micro", 1, 2),      # 2 frames: 0
         Iv("macro", 1, 31),     # 15
         Iv("macro", 1, 45)]     # 22
  # micro (5 + 3 + 3 + 0) / 4 = 2.75 -> 3; macro 18.5 -> 19 (half up, not
  # Python's half-to-even 18).
  assert skips.kth_frame_skips(ivs, 30.0) == (3, 19)
  # Literal reading: odd-length intervals only: micro (5 + 3) / 2 = 4,
  # macro (15 + 22) / 2 -> 19.
  assert skips.kth_frame_skips(ivs, 30.0, odd_only=True) == (4, 19)


def test_kth_frame_skips_fallback_and_errors():
  ivs = [Iv("micro", 1, 11)]
  assert skips.kth_frame_skips(ivs, 200.0) == (5, 200)  # default 1.0 s
  assert skips.kth_frame_skips(ivs, 30.0, default_seconds=(0.2, 0.5)) == (
      5, 15)
  assert skips.kth_frame_skips([], 30.0) == (6, 30)
  assert skips.kth_frame_skips([Iv("micro", 5, 5)], 30.0)[0] == 1  # >= 1
  with pytest.raises(InputError, match="Micro"):
    skips.kth_frame_skips([Iv("Micro", 1, 5)], 30.0)
  with pytest.raises(InputError, match="offset 3 before onset 9"):
    skips.kth_frame_skips([Iv("macro", 9, 3)], 30.0)


def test_table3_random_skip_ranges():
  t = skips.TABLE3_RANDOM_SKIP_SECONDS
  assert t["samm_lv"] == ((0.125, 0.375), (1.0, 2.0))
  assert skips.random_skip_ranges_frames(t["samm_lv"], 200) == (
      (25, 75), (200, 400))
  assert skips.random_skip_ranges_frames(t["cas_me2"], 30) == (
      (3, 9), (16, 50))
  assert skips.random_skip_ranges_frames(((3, 9), (16, 50)), 30,
                                         unit="frames") == ((3, 9), (16, 50))
  with pytest.raises(InputError):
    skips.random_skip_ranges_frames(((9, 3), (16, 50)), 30, unit="frames")
  with pytest.raises(InputError):
    skips.random_skip_ranges_frames(((0.1, 0.3),), 30)


def test_rescale_skip():
  # SAMM-LV's k-th frame skips (200 fps) at CAS(ME)^2's 30 fps.
  assert timing.rescale_skip(37, 200, 30) == 6    # 5.55
  assert timing.rescale_skip(217, 200, 30) == 33  # 32.55
  assert timing.rescale_skip(6, 30, 200) == 40
  assert timing.rescale_skip(1, 200, 30) == 1     # never 0
  with pytest.raises(InputError):
    timing.rescale_skip(5, 0, 30)


# ------------------------------------------------ per-fold interval widths


def _store_with_macro_lengths(lengths, fps=30.0):
  from mespot_jax.data.frames import FrameStore  # pylint: disable=g-import-not-at-top
  from mespot_jax.data.source import Interval, VideoMeta  # pylint: disable=g-import-not-at-top
  metas, arrays = [], []
  for s, n in enumerate(lengths):
    ivs = (Interval("macro", 10, 9 + n), Interval("micro", 150, 155))
    metas.append(VideoMeta(s, f"s{s}_1", f"s{s}", fps, 200, s * 200, ivs))
    arrays.append(np.zeros((200, 8, 8, 1), np.uint8))
  return FrameStore.from_arrays(metas, arrays)


def test_train_median_width_comes_from_the_folds_known_subjects_only():
  from mespot_jax.config import load_module as load_config
  synthetic_3dcnn = load_config("synthetic_3dcnn")
  from mespot_jax import methods  # pylint: disable=g-import-not-at-top
  from mespot_jax.data import folds as folds_lib  # pylint: disable=g-import-not-at-top
  config = synthetic_3dcnn.get_config()
  config.eval.automated.macro.widen_to = "train_median"
  config.eval.automated.micro.widen_to = "none"
  store = _store_with_macro_lengths([12, 24, 36, 90])
  folds = folds_lib.make_folds(["s0", "s1", "s2", "s3"], 1, 0)
  method = methods.get(config)
  assert method.decoder.name == "runs"
  flat = {"model": {v: np.full((200, 2), 0.5, np.float32)
                    for v in range(len(store.videos))}}
  widths = {f.test_subject: method.fit(
      store, f, store.video_indices(f.val_subjects), flat)["model"].post
            for f in folds}
  # The median of the other three subjects' macro lengths, in seconds; the
  # test subject's own 90-frame interval never counts.
  assert widths["s3"]["macro"]["min_width"] == pytest.approx(24 / 30)
  assert widths["s0"]["macro"]["min_width"] == pytest.approx(36 / 30)
  assert widths["s1"]["macro"]["min_width"] == pytest.approx(36 / 30)
  assert "min_width" not in widths["s3"]["micro"]
  assert all("widen_to" not in p[t] for p in widths.values() for t in p)
  # Without known units nothing is widened; a bad value names the field.
  from mespot_jax.config import check  # pylint: disable=g-import-not-at-top
  from mespot_jax.decoders import runs  # pylint: disable=g-import-not-at-top
  assert "min_width" not in runs.post_params(config)["macro"]
  config.eval.automated.macro.widen_to = "mean"
  with pytest.raises(check.ConfigError, match="widen_to"):
    check.validate(config)
