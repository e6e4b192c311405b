"""The absolute normalisation mode: a raw score range fitted on validation
videos, applied to every video, so that a flat curve stays flat.

Known answers on hand-made scores: the fitted range is the min and max of
the validation videos' scored frames (NaN frames left out); a flat, low
curve gives intervals under per-video min-max normalisation (the paper's:
its noise is stretched to 0..1) and none in the absolute mode; a config
asking for `train_range` gets its range per fold from the validation videos.
"""
import dataclasses

import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import methods
from mespot_jax.config import check
from mespot_jax.decoders import runs
from mespot_jax.data import folds as folds_lib
from mespot_jax.spotting import postprocess
from mespot_jax.spotting import signals
from tests import fake_spotting

tiny = load_config("tiny")

FPS = 30.0


@pytest.fixture(scope="module")
def setup():
  config = tiny.get_config()
  config.eval.threshold_criterion = "youden"
  store = fake_spotting.make_store(num_subjects=4, num_frames=90)
  return config, store, methods.get(config)


def _scores(store, indices, rng):
  out = {}
  for v in indices:
    s = rng.uniform(0.2, 0.4, (90, 2)).astype(np.float32)
    s[store.labels[v] == 1] = 0.8  # expressions score high
    out[v] = s
  return out


def test_fitted_range_is_the_validation_videos_min_and_max(setup):
  config, store, method = setup
  fold = folds_lib.make_folds(sorted({v.subject for v in store.videos}), 2,
                              0)[0]
  val = store.video_indices(fold.val_subjects)
  scores = _scores(store, val, np.random.default_rng(0))
  scores[val[0]][5, 0] = 0.05  # the micro minimum
  scores[val[1]][7, 0] = np.nan  # no score: left out
  scores[val[1]][8, 1] = 0.95  # the macro maximum
  fitted = method.fit(store, fold, val, {"model": scores}, absolute=True)
  macro_lo = min(float(scores[v][:, 1].min()) for v in val)
  assert macro_lo >= 0.2  # drawn from [0.2, 0.4)
  assert fitted["model"].norm == {
      "micro": [pytest.approx(0.05), pytest.approx(0.8)],
      "macro": [pytest.approx(macro_lo), pytest.approx(0.95)]}
  # The default (the paper's per-video min-max) fits no range.
  per_video = method.fit(store, fold, val, {"model": scores})
  assert per_video["model"].norm == {"micro": None, "macro": None}
  # The range enters the parameters the fold applies.
  p = fitted["model"].params()
  assert p["micro"]["normalise"] == "fixed"
  assert p["micro"]["norm_lo"] == pytest.approx(0.05)


def test_flat_curve_gets_intervals_per_video_and_none_absolute(setup):
  config, store, method = setup
  post = runs.post_params(config)
  flat = 0.10 + 0.02 * np.random.default_rng(1).random((300, 2))
  per_video = runs.RunsRecord("automated", post, [0.5, 0.5],
                              {"micro": None, "macro": None})
  absolute = runs.RunsRecord("automated", post, [0.5, 0.5],
                             {"micro": [0.0, 1.0], "macro": [0.0, 1.0]})
  decode = method.decoder.decode
  assert decode(flat, FPS, per_video, "v")
  assert decode(flat, FPS, absolute, "v") == []
  # A real bump above the range's middle is still found in absolute mode.
  bump = flat.copy()
  bump[100:140, 1] = 0.9
  rows = decode(bump, FPS, absolute, "v")
  assert [r.type for r in rows] == ["macro"]
  assert rows[0].onset <= 110 and rows[0].offset >= 130


def test_train_range_config_fits_a_range_per_fold(setup):
  config, store, _ = setup
  config = config.copy_and_resolve_references()
  config.eval.automated.macro.normalise = "train_range"
  method = methods.get(config)
  fold = folds_lib.make_folds(sorted({v.subject for v in store.videos}), 1,
                              0)[2]
  val = store.video_indices(fold.val_subjects)
  scores = _scores(store, val, np.random.default_rng(2))
  fitted = method.fit(store, fold, val, {"model": scores})["model"]
  assert fitted.norm["micro"] is None
  lo = min(float(scores[v][:, 1].min()) for v in val)
  assert fitted.norm["macro"] == [pytest.approx(lo), pytest.approx(0.8)]
  unfitted = dataclasses.replace(fitted, norm={"micro": None, "macro": None})
  with pytest.raises(ValueError, match="train_range"):
    unfitted.params()
  config.eval.automated.micro.normalise = "zscore"
  with pytest.raises(check.ConfigError, match="normalise"):
    check.validate(config)


def test_fixed_normalisation_known_answer():
  x = np.array([0.2, 0.4, 0.6])
  np.testing.assert_allclose(signals.normalise(x, "fixed", 0.2, 0.6),
                             [0.0, 0.5, 1.0])
  with pytest.raises(Exception, match="norm_lo"):
    postprocess.resolve_params("automated", {"normalise": "fixed"})
