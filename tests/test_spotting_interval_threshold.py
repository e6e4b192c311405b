"""Thresholds chosen by interval F1 on validation videos."""
import dataclasses

import numpy as np
import pytest

from mespot_jax.spotting import postprocess, threshold


@dataclasses.dataclass(frozen=True)
class Iv:
  type: str
  onset: int
  offset: int


def _video(rng, length, bumps_by_type):
  """Scores (T, 2) with raised-cosine bumps on noise, and the true intervals."""
  scores = rng.uniform(0.0, 0.2, (length, 2))
  truth = []
  for k, typ in enumerate(("micro", "macro")):
    for on, off in bumps_by_type.get(typ, ()):
      scores[on - 1:off, k] += 0.7 * np.sin(np.linspace(0, np.pi, off - on + 1))
      truth.append(Iv(typ, on, off))
  return scores, truth


def test_recovers_planted_intervals_and_suppresses_noise_only_type():
  rng = np.random.default_rng(0)
  videos = []
  for _ in range(3):
    s, t = _video(rng, 300, {"macro": [(40, 100), (180, 230)]})
    # A micro truth the scores do not show: no threshold can find it.
    t.append(Iv("micro", 140, 150))
    videos.append((s, t, 30.0))
  params = {"micro": {"cutoff_hz": 5.0}, "macro": {"cutoff_hz": 2.0}}
  thr_micro, thr_macro = threshold.fit_thresholds_interval_f1(
      videos, "automated", params)
  assert thr_micro == threshold.NO_DETECTION
  # No micro interval can pass a threshold above every normalised score.
  assert postprocess.automated(videos[0][0][:, 0], 30.0, thr_micro,
                               params["micro"]) == []
  # The macro threshold reproduces every planted interval (IoU >= 0.5).
  for scores, truth, fps in videos:
    found = postprocess.automated(scores[:, 1], fps, thr_macro,
                                  params["macro"])
    planted = [(iv.onset, iv.offset) for iv in truth if iv.type == "macro"]
    assert len(found) == len(planted)
    for (on, off), (pon, poff) in zip(found, planted):
      inter = min(off, poff) - max(on, pon) + 1
      union = (off - on + 1) + (poff - pon + 1) - inter
      assert inter / union >= 0.5


def _noisy_micro_video(rng):
  """Macro scores show every true macro; micro scores show 1 of 3 true
  micros and 3 bumps where there is none."""
  scores, truth = _video(rng, 400, {"macro": [(40, 100), (220, 280)],
                                    "micro": [(120, 130), (300, 310),
                                              (190, 200)]})
  scores[300 - 1:310, 0] = rng.uniform(0.0, 0.2, 11)  # two micros unseen
  scores[190 - 1:200, 0] = rng.uniform(0.0, 0.2, 11)
  for on in (20, 160, 350):  # false micro bumps
    scores[on - 1:on + 10, 0] += 0.7 * np.sin(np.linspace(0, np.pi, 11))
  return scores, truth, 30.0


def test_overall_objective_drops_a_type_that_lowers_the_pooled_f1():
  rng = np.random.default_rng(1)
  videos = [_noisy_micro_video(rng) for _ in range(2)]
  params = {"micro": {"cutoff_hz": 5.0, "min_len": 0.1},
            "macro": {"cutoff_hz": 2.0}}
  per_type = threshold.fit_thresholds_interval_f1(videos, "automated",
                                                  params)
  overall = threshold.fit_thresholds_interval_f1(videos, "automated", params,
                                                 objective="overall")
  # Alone, micro intervals are worth predicting (1 TP in 4 beats none) ...
  assert per_type[0] != threshold.NO_DETECTION
  # ... but each costs the pooled F1 more than it adds: macros 4/4 and no
  # micro give 2*4/(8+6) = 0.57 > 2*6/(12+6+4) = 0.55 with them.
  assert overall[0] == threshold.NO_DETECTION
  assert overall[1] == per_type[1]
  with pytest.raises(ValueError, match="objective"):
    threshold.fit_thresholds_interval_f1(videos, objective="micro")
