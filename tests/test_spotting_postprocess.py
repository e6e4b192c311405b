"""Tests of mespot_jax.spotting.postprocess (scores -> intervals)."""
import numpy as np
import pytest
from scipy import signal

from mespot_jax.errors import InputError
from mespot_jax.spotting import interval_rules
from mespot_jax.spotting import postprocess
from mespot_jax.spotting import signals

FPS = 30.0
PLANTED = [(61, 90), (181, 230)]  # 1-based inclusive


def _trace(planted=PLANTED, num=300, noise=0.03, seed=0):
  rng = np.random.default_rng(seed)
  x = 0.1 + noise * rng.standard_normal(num)
  for on, off in planted:
    x[on - 1:off] += 0.8
  return x


def _close(got, want, tol=2):
  return len(got) == len(want) and all(
      abs(g[0] - w[0]) <= tol and abs(g[1] - w[1]) <= tol
      for g, w in zip(got, want))


@pytest.mark.parametrize("method", ["automated", "manual"])
def test_planted_bumps_are_recovered(method):
  got = postprocess.get(method)(_trace(), FPS, 0.5, None)
  assert _close(got, PLANTED), got


def test_planted_bumps_at_200_fps():
  planted = [(401, 480), (1201, 1600)]
  x = _trace(planted, num=2000)
  for method in ("automated", "manual"):
    got = postprocess.get(method)(x, 200.0, 0.5, {})
    assert _close(got, planted), (method, got)


def test_registry_and_interfaces_call_form():
  assert postprocess.get("automated") is postprocess.automated
  assert postprocess.get("manual") is postprocess.manual
  with pytest.raises(InputError, match="unknown post-processor"):
    postprocess.get("bogus")
  x = _trace()
  # docs/INTERFACES.md form: fn(scores_T, fps, params) with the threshold
  # inside params.
  a = postprocess.automated(x, FPS, {"threshold": 0.5})
  b = postprocess.automated(x, FPS, 0.5, {})
  assert a == b
  assert postprocess.automated(x, FPS, {"threshold": 0.99}) != a


def test_unknown_parameter_is_rejected():
  with pytest.raises(InputError, match="cutof_hz"):
    postprocess.automated(_trace(), FPS, 0.5, {"cutof_hz": 3.0})
  with pytest.raises(InputError, match="frame 4"):
    x = _trace()
    x[3] = np.inf  # NaN is a frame without a score; inf is a bug
    postprocess.manual(x, FPS, 0.5)


def test_min_duration_drops_short_spike():
  x = np.zeros(200)
  x[50:80] = 1.0    # 1.0 s run, frames 51-80
  x[140:143] = 1.0  # 0.1 s spike, frames 141-143
  no_filter = {"cutoff_hz": None}
  assert postprocess.automated(x, FPS, 0.5, no_filter) == [(51, 80),
                                                            (141, 143)]
  got = postprocess.automated(x, FPS, 0.5, dict(no_filter, min_len=0.3))
  assert got == [(51, 80)]
  got = postprocess.automated(x, FPS, 0.5, dict(no_filter, max_len=0.5))
  assert got == [(141, 143)]


def test_merge_joins_close_runs_only():
  x = np.zeros(200)
  x[20:40] = 1.0  # frames 21-40
  x[43:60] = 1.0  # frames 44-60: 3 frames (0.1 s) between
  x[100:120] = 1.0  # 40 frames away
  p = {"cutoff_hz": None}
  assert len(postprocess.automated(x, FPS, 0.5, p)) == 3
  got = postprocess.automated(x, FPS, 0.5, dict(p, merge_gap=0.2))
  assert got == [(21, 60), (101, 120)]
  # Gap of exactly 3 frames is not below 0.1 s: no merge.
  assert len(postprocess.automated(x, FPS, 0.5, dict(p, merge_gap=0.1))) == 3


def test_merge_happens_before_min_duration():
  x = np.zeros(100)
  x[10:14] = 1.0
  x[15:19] = 1.0  # two 4-frame fragments, one frame apart
  p = {"cutoff_hz": None, "min_len": 0.25, "merge_gap": 0.1}
  assert postprocess.automated(x, FPS, 0.5, p) == [(11, 19)]


def test_butterworth_keeps_constant_signal():
  y = signals.butter_lowpass(np.full(500, 0.7), 200.0, 2.0, 3)
  np.testing.assert_allclose(y, 0.7, atol=1e-9)
  y = postprocess.smooth(np.full(50, 0.3), FPS, "automated",
                         {"normalise": "none"})
  np.testing.assert_allclose(y, 0.3, atol=1e-9)


def test_butterworth_removes_high_frequency():
  t = np.arange(600) / 200.0
  slow, fast = np.sin(2 * np.pi * 0.5 * t), 0.5 * np.sin(2 * np.pi * 40 * t)
  y = signals.butter_lowpass(slow + fast, 200.0, 2.0, 3)
  np.testing.assert_allclose(y[100:-100], slow[100:-100], atol=0.02)


def test_short_video_does_not_crash():
  sos = signal.butter(4, 2.0, fs=200.0, output="sos")
  with pytest.raises(ValueError):  # what the fallback protects against
    signal.sosfiltfilt(sos, np.ones(10))
  p = {"order": 4, "cutoff_hz": 2.0}
  for num in (0, 1, 2, 5, 10):
    x = np.linspace(0, 1, num)
    y = postprocess.smooth(x, 200.0, "automated", p)
    assert y.shape == (num,) and np.all(np.isfinite(y))
    postprocess.automated(x, 200.0, 0.5, p)
    y = postprocess.smooth(x, 200.0, "manual", {"window_s": 0.5})
    assert y.shape == (num,) and np.all(np.isfinite(y))
    postprocess.manual(x, 200.0, 0.5)
  # A 10-frame ramp is shorter than the pad: extended by its edge values it
  # stays within its range and rising (scipy's odd extension, shortened to
  # fit, turned it into a flat -0.9).
  y = signals.butter_lowpass(np.linspace(0, 1, 10), 200.0, 2.0, 4)
  assert np.all((y >= 0) & (y <= 1)) and np.all(np.diff(y) > 0)


def test_savgol_window_is_odd_and_large_enough():
  # window 0.1 s at 30 fps = 3 frames < polyorder + 2 = 5: a cubic would be
  # fitted exactly by 3 points, so it must be widened to 5.
  x = np.random.default_rng(1).standard_normal(40)
  y = signals.savgol(x, FPS, 0.1, 3)
  np.testing.assert_allclose(y, signal.savgol_filter(x, 5, 3))
  y = signals.savgol(x, FPS, 0.2, 2)  # 6 frames -> 7
  np.testing.assert_allclose(y, signal.savgol_filter(x, 7, 2))


def test_minmax_versus_none_on_empty_video():
  flat = 0.1 + 0.01 * np.random.default_rng(2).standard_normal(300)
  # Min-max stretches noise to [0, 1]: something is always found ...
  assert postprocess.automated(flat, FPS, 0.5, {"normalise": "minmax"})
  # ... while calibrated scores kept as they are give nothing.
  assert postprocess.automated(flat, FPS, 0.5, {"normalise": "none"}) == []
  # A constant video normalises to zeros, not NaN.
  assert postprocess.automated(np.ones(50), FPS, 0.5) == []


def test_scores_to_intervals_types_and_scores():
  micro = _trace([(101, 110)], num=300, seed=3)
  macro = _trace([(31, 90), (201, 260)], num=300, seed=4)
  scores_T2 = np.stack([micro, macro], axis=1)
  for method in ("automated", "manual"):
    rows = postprocess.scores_to_intervals(scores_T2, FPS, (0.5, 0.5), method)
    types = [r[0] for r in rows]
    assert types == ["micro", "macro", "macro"], rows
    assert _close([r[1:3] for r in rows[:1]], [(101, 110)])
    assert _close([r[1:3] for r in rows[1:]], [(31, 90), (201, 260)])
    # score = mean smoothed signal inside the interval.
    p = postprocess.params_for_type(method, None, "macro")
    x = postprocess.smooth(macro, FPS, method, p)
    _, on, off, score = rows[1]
    assert score == pytest.approx(x[on - 1:off].mean())
    assert score > 0.5


def test_params_by_type_are_applied_per_type():
  p = postprocess.params_for_type(
      "automated", {"micro": {"min_len": 0.1}}, "micro")
  assert p["min_len"] == 0.1 and p["cutoff_hz"] == 5.0
  p = postprocess.params_for_type(
      "automated", {"micro": {"min_len": 0.1}}, "macro")
  assert p["min_len"] is None and p["cutoff_hz"] == 2.0
  p = postprocess.params_for_type("manual", {"polyorder": 3}, "macro")
  assert p["polyorder"] == 3 and p["window_s"] == 0.5
  with pytest.raises(InputError):
    postprocess.scores_to_intervals(np.zeros((10, 3)), FPS)


def test_widen_short_known_answers():
  widen = interval_rules.widen_short
  # 0.5 s at 30 fps = 15 frames. A 4-frame interval grows about its centre
  # (an odd excess goes after it); a 21-frame one is left alone.
  assert widen([(21, 24), (60, 80)], FPS, 0.5, 200) == [(16, 30), (60, 80)]
  # Clipped to the video by shifting, not shrinking.
  assert widen([(2, 3)], FPS, 0.5, 200) == [(1, 15)]
  assert widen([(198, 200)], FPS, 0.5, 200) == [(186, 200)]
  # A video shorter than the width: the whole video.
  assert widen([(4, 5)], FPS, 0.5, 10) == [(1, 10)]
  # Intervals that overlap or touch once widened are joined, in order.
  assert widen([(21, 24), (35, 36), (60, 62)], FPS, 0.5, 200) == [
      (16, 43), (54, 68)]
  assert widen([(21, 24), (38, 38)], FPS, 0.5, 200) == [(16, 45)]
  # Off: unchanged.
  assert widen([(21, 24)], FPS, None, 200) == [(21, 24)]
  assert widen([(21, 24)], FPS, 0.0, 200) == [(21, 24)]


def test_min_width_widens_runs_after_duration_limits():
  x = np.zeros(300)
  x[100:106] = 1.0  # frames 101-106 (0.2 s)
  x[200:201] = 1.0  # one frame: dropped by min_len before any widening
  p = {"cutoff_hz": None, "min_len": 0.1}
  assert postprocess.automated(x, FPS, 0.5, p) == [(101, 106)]
  got = postprocess.automated(x, FPS, 0.5, dict(p, min_width=1.0))
  assert got == [(89, 118)]  # 30 frames, same centre (103.5)
  manual = {"window_s": 0.1, "polyorder": 0, "min_len": 0.1, "min_width": 1.0}
  assert postprocess.manual(x, FPS, 0.5, manual) == [(89, 118)]
  with pytest.raises(InputError, match="train_median"):
    postprocess.automated(x, FPS, 0.5, dict(p, min_width="train_median"))
  with pytest.raises(InputError, match="min_width"):
    postprocess.automated(x, FPS, 0.5, dict(p, min_width=-1.0))


# -- frames without a score (NaN: no face) -----------------------------------
def test_nan_frames_break_the_video_into_segments():
  x = _trace([(41, 100)], num=200, seed=5)
  x[60:80] = np.nan  # frames 61-80: no face, in the middle of the bump
  for method in ("automated", "manual"):
    got = postprocess.get(method)(x, FPS, 0.5, None)
    # The bump is cut in two where the face is gone; nothing spans the gap.
    assert _close(got, [(41, 60), (81, 100)]), (method, got)
    # Merging, widening and duration limits stay inside a segment.
    wide = postprocess.get(method)(x, FPS, 0.5, dict(merge_gap=2.0,
                                                     min_width=3.0))
    assert all(off <= 60 or on >= 81 for on, off in wide), (method, wide)
    # (41-60 widened to 90 frames is its whole segment, 1-60; 81-100 is
    # shifted to stay in its own, starting at 81.)
    assert len(wide) == 2 and wide[0] == (1, 60) and wide[1][0] == 81
    y = postprocess.smooth(x, FPS, method)
    assert np.isnan(y[60:80]).all() and np.isfinite(np.delete(
        y, np.s_[60:80])).all()
  # Min-max over the scored frames; each segment is smoothed on its own.
  z = signals.normalise(x)
  assert np.nanmin(z) == 0 and np.nanmax(z) == 1 and np.isnan(z[60:80]).all()
  y = postprocess.smooth(x, FPS, "automated", {"cutoff_hz": 5.0})
  np.testing.assert_allclose(
      y[:60], np.clip(signals.butter_lowpass(z[:60], FPS, 5.0, 3), 0, 1))
  np.testing.assert_allclose(
      y[80:], np.clip(signals.butter_lowpass(z[80:], FPS, 5.0, 3), 0, 1))


def test_scores_to_intervals_with_no_scored_frame_or_a_short_segment():
  x = np.full((50, 2), np.nan)
  assert postprocess.scores_to_intervals(x, FPS) == []
  x[10:13] = [0.2, 0.9]  # a 3-frame segment
  for method in ("automated", "manual"):
    rows = postprocess.scores_to_intervals(x, FPS, (0.5, 0.5), method)
    assert all(11 <= on <= off <= 13 for _, on, off, _ in rows), rows
    assert all(np.isfinite(score) for *_, score in rows)
