"""The spotting task base (methods.spotting): frames without a face get no
score, and a type fitted as "never" is never predicted.

A stub spotting method scores every frame 1.0; the base must blank the
frames `invalid_frames` names, in every kind. The 3D-CNN extends the rule
to frames whose pair partner has no face. A box-shaped score, whose
low-pass smoothing overshoots the normalised [0, 1] range, must yield no
interval of a type whose threshold is `threshold.NO_DETECTION`, in the
path that writes the training reports (`predict`) and in the one offline
scoring uses (the decoder's `decode`).
"""
import numpy as np

from mespot_jax.config import load_module as load_config
from mespot_jax import methods
from mespot_jax.decoders import runs
from mespot_jax.methods import spotting
from mespot_jax.spotting import postprocess
from mespot_jax.spotting import signals
from mespot_jax.spotting import threshold
from tests import fake_spotting

tiny = load_config("tiny")

FPS = 30.0
NEVER = threshold.NO_DETECTION


class _Ones(spotting.SpottingMethod):
  """Scores 1.0 everywhere, in two kinds."""
  name = "yap3dcnn"  # borrows the tiny config's block

  @classmethod
  def default_config(cls):
    return None

  step_fns = make_sampler = example_input = None

  def score_videos(self, variables, store, indices, choices):
    del variables, choices
    return {kind: {v: np.ones((store.videos[v].num_frames, 2), np.float32)
                   for v in indices} for kind in ("model", "baseline")}


def _box(num=120, on=40, off=80):
  x = np.full(num, 0.1, np.float32)
  x[on:off] = 0.9
  return np.stack([x, x], axis=1)


def _record(method, thresholds):
  """A `runs` record of the tiny config's post-processing without its
  duration limits, with `thresholds`."""
  post = runs.post_params(method.config)
  return runs.RunsRecord(
      "automated", {t: dict(p, min_len=None, max_len=None)
                    for t, p in post.items()},
      list(thresholds), {"micro": None, "macro": None})


def test_frames_without_a_face_get_no_score_in_every_kind():
  store = fake_spotting.make_store(num_subjects=2, num_frames=90,
                                   faceless={1: (30, 50)})
  scores = _Ones(tiny.get_config()).score(None, store, [0, 1], {})
  for kind in ("model", "baseline"):
    assert np.isfinite(scores[kind][0]).all()
    nan = np.isnan(scores[kind][1])
    assert (nan[:, 0] == nan[:, 1]).all()
    assert np.flatnonzero(nan[:, 0]).tolist() == list(range(29, 50))


def test_3dcnn_frames_whose_partner_has_no_face_get_no_score():
  method = methods.get(tiny.get_config())
  face = np.ones(40, bool)
  face[19:25] = False  # frames 20-25
  choices = {"skips": {"fps": FPS, "skips": [3, 10]}}
  bad = method.invalid_frames(face, FPS, choices)
  # Stream k: frame t or its partner min(t + s_k, T) has no face.
  # 1-based: micro 17-25 (partners 20-25 and the frames themselves), macro
  # 10-15 (partners 20-25) and 20-25.
  assert np.flatnonzero(bad[:, 0]).tolist() == list(range(16, 25))
  assert np.flatnonzero(bad[:, 1]).tolist() == (list(range(9, 15))
                                                + list(range(19, 25)))
  # At 60 fps the skips double (by seconds): so does the reach.
  bad = method.invalid_frames(face, 2 * FPS, choices)
  assert np.flatnonzero(bad[:, 1]).tolist() == (list(range(0, 5))
                                                + list(range(19, 25)))
  assert np.flatnonzero(bad[:, 0]).tolist() == list(range(13, 25))
  # The last frames pair with the last one.
  face = np.ones(40, bool)
  face[-1] = False
  bad = method.invalid_frames(face, FPS, choices)
  assert np.flatnonzero(bad[:, 0]).tolist() == list(range(36, 40))


def test_never_means_never_in_reports_and_offline():
  method = methods.get(tiny.get_config())
  scores = _box()
  p = postprocess.params_for_type("automated", None, "micro")
  # The low-pass filter overshoots the normalised box above NO_DETECTION;
  # the post-processed signal is clipped to [0, 1].
  raw = signals.butter_lowpass(signals.normalise(
      scores[:, 0].astype(np.float64)), FPS, p["cutoff_hz"], p["order"])
  assert raw.max() > NEVER
  assert postprocess.smooth(scores[:, 0], FPS, "automated", p).max() <= 1.0
  store = fake_spotting.make_store(num_subjects=1, num_frames=120)
  for thresholds, want in (((NEVER, 0.5), {"macro"}),
                           ((0.5, NEVER), {"micro"}),
                           ((NEVER, NEVER), set()),
                           ((1.5, 2.0), set())):
    record = _record(method, thresholds)
    rows = method.predict(store, [0], {"model": {0: scores}},
                          {"model": record})["model"]  # the reports' path
    assert {r.type for r in rows} == want, thresholds
    offline = method.decoder.decode(scores, FPS, record, "v")  # offline
    assert {r.type for r in offline} == want, thresholds
    assert set(method.decoder.never(record)) == {"micro", "macro"} - want
  # Without min-max normalisation only NO_DETECTION itself means never.
  flat = dict(p, normalise="none")
  assert postprocess.automated(scores[:, 0], FPS, NEVER, flat) == []
  assert postprocess.automated(scores[:, 0] * 3, FPS, 1.5, flat)


def test_intervals_and_metrics_skip_frames_without_a_score():
  method = methods.get(tiny.get_config())
  scores = _box(120, 20, 100)
  scores[55:65] = np.nan  # frames 56-65: no face
  rows = method.decoder.decode(scores, FPS, _record(method, [0.5, 0.5]),
                               "v")
  assert rows and all(r.offset < 56 or r.onset > 65 for r in rows), rows
  assert {(r.type, r.onset < 56) for r in rows} == {
      ("micro", True), ("micro", False), ("macro", True), ("macro", False)}
  labels = np.zeros((120, 2), np.uint8)
  labels[20:100] = 1
  out = spotting.frame_level([(scores, labels)], [(scores, labels)])
  assert out["micro"]["frames_without_score"] == 10
  assert out["micro"]["auc"] == 1.0  # the scored frames separate perfectly
