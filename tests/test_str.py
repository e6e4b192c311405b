"""Spot-then-recognise (`methods/spot_then_recognise.py`, docs/STR.md).

The STR metrics on a hand-worked case; the leakage checks (the
recogniser's labelled clips never come from the test subject, and the test
subject's true emotions are first read when the fold is scored); the smoke
config end to end through `experiment.run`, with its golden metrics.
"""
import csv
import dataclasses
import os
import types

import pytest

from mespot_jax import config as config_lib
from mespot_jax import experiment
from mespot_jax.data import datasets
from mespot_jax.data import frames as frames_lib
from mespot_jax.data.schema import Interval
from mespot_jax.data.source import VideoMeta
from mespot_jax.methods import convlstm
from mespot_jax.methods import recognition
from mespot_jax.methods import spot_then_recognise as str_lib
from mespot_jax.metrics import intervals
from mespot_jax.metrics.io import IntervalRow
from tests import smoke_runs


def test_str_metrics_hand_worked():
  # 3 true micro intervals, 4 spotted: p1 = g1 (IoU 1, right emotion),
  # p2 on g2 (IoU 9/11, wrong emotion), p3 far from all, p4 on g3 with
  # IoU 8/21 < 0.5. Spotting: TP 2, FP 2, FN 1 -> F1 = 4/7.
  # Analysis on the 2 pairs (gt, pred) = (neg, neg), (pos, neg); classes
  # {neg, pos}: neg P 1/2 R 1, pos P 0 R 0 -> mean P 1/4, mean R 1/2,
  # F1 = 2 (1/4)(1/2) / (3/4) = 1/3. STRS = 4/7 x 1/3 = 4/21.
  truth = (Interval("micro", 10, 19, 14, "negative"),
           Interval("micro", 40, 49, 44, "positive"),
           Interval("micro", 70, 79, 74, "surprise"))
  meta = VideoMeta(0, "v1", "s1", 30.0, 200, 0, truth)
  spotted = [IntervalRow("v1", "micro", 10, 19, "s1", emotion="negative"),
             IntervalRow("v1", "micro", 41, 50, "s1", emotion="negative"),
             IntervalRow("v1", "micro", 100, 109, "s1", emotion="surprise"),
             IntervalRow("v1", "micro", 72, 90, "s1", emotion="positive")]
  store = types.SimpleNamespace(videos=[meta])
  out = types.SimpleNamespace(test_ids=[0], predictions={"model": spotted})
  h = str_lib.str_headline(store, [out], 0.5)
  assert (h["tp"], h["fp"], h["fn"]) == (2, 2, 1)
  assert h["spotting_f1"] == pytest.approx(4 / 7)
  assert (h["analysis_pairs"], h["analysis_correct"]) == (2, 1)
  assert h["analysis_f1"] == pytest.approx(1 / 3)
  assert h["strs"] == pytest.approx(4 / 21)


def test_analysis_f1_is_of_the_mean_precision_and_recall():
  # Not the mean of per-class F1s (UF1 would be (4/5 + 2/3) / 2 = 11/15):
  # neg P 1 R 2/3, pos P 1/2 R 1 -> P 3/4, R 5/6, F1 = 15/19.
  pair = lambda g, p: (types.SimpleNamespace(emotion=g),
                       types.SimpleNamespace(emotion=p))
  res = intervals.str_analysis([pair("neg", "neg"), pair("neg", "neg"),
                                pair("neg", "pos"), pair("pos", "pos")])
  assert res["f1_analysis"] == pytest.approx(15 / 19)


class _Tracked(str):
  """An emotion that logs every read of its text to `LOG`."""
  LOG = []

  def _read(self):
    _Tracked.LOG.append(_PHASE[0])

  def strip(self, *a):
    self._read()
    return str.strip(self, *a)

  def lower(self):
    self._read()
    return str.lower(self)

  def __str__(self):
    self._read()
    return str.__str__(self)

  def __eq__(self, other):
    self._read()
    return str.__eq__(self, other)

  __hash__ = str.__hash__

  def __len__(self):
    self._read()
    return str.__len__(self)


_PHASE = ["training"]


@pytest.fixture(scope="module")
def smoke(tfds_dir, tmp_path_factory):
  """The smoke config run once (golden metrics checked), every store
  handed to the recogniser recorded."""
  handed = []
  with pytest.MonkeyPatch.context() as m:
    sampler = convlstm.ConvLSTM.make_sampler
    m.setattr(convlstm.ConvLSTM, "make_sampler",
              lambda self, store, folds: handed.append(
                  (store, folds)) or sampler(self, store, folds))
    workdir = str(tmp_path_factory.mktemp("str_smoke"))
    metrics = smoke_runs.run_smoke("synthetic_str", tfds_dir, workdir)
  return metrics, workdir, handed


@pytest.mark.slow
def test_smoke_runs_end_to_end_and_reports_str(smoke):
  metrics, workdir, _ = smoke
  assert metrics["task"] == "str" and metrics["recogniser"] == "convlstm"
  row = metrics["str"]["synthetic_lv"]
  assert set(row) >= {"spotting_f1", "analysis_f1", "strs"}
  assert row["strs"] == pytest.approx(row["spotting_f1"] *
                                      row["analysis_f1"])
  assert "str" in metrics["model"]
  assert os.path.exists(os.path.join(workdir, "metrics.json"))
  with open(os.path.join(workdir, "predictions.csv")) as f:
    assert "emotion" in next(csv.reader(f))


@pytest.mark.slow
def test_recogniser_trains_on_no_clip_of_its_test_subject(smoke):
  _, _, handed = smoke
  assert len(handed) == 3  # one recogniser per fold
  for store, folds in handed:
    (fold,) = folds
    subjects = {c.subject for c in store.clips}
    assert subjects and not subjects & set(fold.test_subjects)
    assert subjects <= set(fold.train_subjects) | set(fold.val_subjects)


@pytest.mark.slow
def test_test_subject_emotions_first_read_when_scored(tfds_dir, tmp_path,
                                                     monkeypatch):
  # One fold (test s02). Its true emotions log every read; the spotter is
  # helped to find s02's micro interval (its frames only) so a clip is
  # classified. Nothing may read those emotions before the fold is scored
  # (`fold_row`, `evaluate`).
  config = config_lib.load("synthetic_str", "smoke")
  config.dataset.data_dir = tfds_dir
  config.train.test_folds = ("s02",)
  store = datasets.open_store(config, "str")
  videos = [dataclasses.replace(v, intervals=tuple(
      dataclasses.replace(iv, emotion=_Tracked(iv.emotion))
      for iv in v.intervals)) if v.subject == "s02" else v
            for v in store.videos]
  store = frames_lib.relabelled(store, videos)
  truth = {(v.video, iv.onset, iv.offset) for v in store.videos
           if v.subject == "s02" for iv in v.intervals if iv.type == "micro"}
  predict = str_lib.SpotThenRecognise.predict

  def helped(self, store, indices, scores, fitted):
    out = predict(self, store, indices, scores, fitted)
    found = [IntervalRow(v, "micro", on, off, "s02") for v, on, off in truth]
    return {k: rows + found for k, rows in out.items()}

  classified = []
  score = recognition.RecognitionMethod.score

  def spy_score(self, variables, clips, indices, choices):
    classified.extend(clips.clips[i] for i in indices)
    return score(self, variables, clips, indices, choices)

  def scoring(name):
    original = getattr(str_lib.SpotThenRecognise, name)
    return lambda *a: _PHASE.__setitem__(0, "scoring") or original(*a)

  monkeypatch.setattr(str_lib.SpotThenRecognise, "predict", helped)
  monkeypatch.setattr(recognition.RecognitionMethod, "score", spy_score)
  for name in ("fold_row", "evaluate"):
    monkeypatch.setattr(str_lib.SpotThenRecognise, name, scoring(name))
  _PHASE[0], _Tracked.LOG[:] = "training", []
  metrics = experiment.run(config, str(tmp_path / "run"), store=store)
  # The spotted clip of s02 was classified, unlabelled ...
  spotted = [c for c in classified if c.subject == "s02"]
  assert spotted and all(c.label == -1 and not c.emotion for c in spotted)
  # ... and s02's labelled clips were never handed to the recogniser.
  assert all(c.label == -1 for c in classified if c.subject == "s02")
  assert _Tracked.LOG and set(_Tracked.LOG) == {"scoring"}
  row = metrics["str"]["synthetic_lv"]
  assert row["tp"] == 1 and row["analysis_pairs"] == 1
