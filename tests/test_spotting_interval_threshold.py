"""Thresholds chosen by interval F1 on validation videos."""
import dataclasses

import numpy as np

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
