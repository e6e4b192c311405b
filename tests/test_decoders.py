"""The decoders: known answers on planted curves, records, and any scorer
with any decoder of its task.

Hand-worked answers: `runs` turns a box of high scores into one interval
over it; `apex` puts an interval of the fitted width around a planted peak
and fits its threshold between a true and a false peak; `peaks` (its rule
is worked by hand in test_mdmd / test_flow_roi) keeps nothing of a type
the scorer does not score. Every record is frozen and goes through JSON
unchanged (what deploy.json and the audit compare). Then the runner: the
MDMD's flow curves decoded by `runs` and the 3D-CNN's frame scores by
`apex`, on an in-memory store, end to end.
"""
import dataclasses
import json

import numpy as np
import pytest

from mespot_jax import decoders
from mespot_jax import experiment
from mespot_jax.config import check
from mespot_jax.config import common
from mespot_jax.config import load_module as load_config
from mespot_jax.data.schema import Interval
from mespot_jax.decoders import apex
from mespot_jax.decoders import label
from mespot_jax.decoders import peaks
from mespot_jax.decoders import runs
from mespot_jax.spotting import postprocess
from tests import fake_spotting

FPS = 30.0
NEVER = postprocess.NO_DETECTION


def _unit(scores, intervals=()):
  labels = np.zeros((len(scores), 2), np.uint8)
  for iv in intervals:
    labels[iv.onset - 1:iv.offset, 0 if iv.type == "micro" else 1] = 1
  return decoders.Unit(np.asarray(scores, np.float32), FPS, "v", "s",
                       tuple(intervals), labels)


def test_runs_turns_a_box_into_one_interval():
  config = common.get_config("yap3dcnn")
  s = np.full((150, 2), 0.1, np.float32)
  s[60:90, 1] = 0.9  # a 1 s macro box, frames 61-90
  record = runs.RunsRecord("automated", runs.post_params(config),
                           [NEVER, 0.5], {"micro": None, "macro": None})
  (row,) = decoders.get(config).decode(s, FPS, record, "v")
  assert row.type == "macro"
  assert abs(row.onset - 61) <= 3 and abs(row.offset - 90) <= 3
  signal, thresholds = decoders.get(config).signal(s, FPS, record)
  assert signal.shape == s.shape and thresholds == [NEVER, 0.5]


def test_apex_widths_thresholds_and_intervals_by_hand():
  config = common.get_config("tran_lstm")
  config.decoder.apex.threshold = "fitted"
  dec = decoders.get(config, decoders.ScorerInfo(("micro", "macro")))
  # Known subjects: micro intervals of 6 and 10 frames -> width 8 frames.
  known = [_unit(np.zeros((100, 2)), [Interval("micro", 11, 16),
                                      Interval("micro", 41, 50)])]
  s = np.zeros((100, 2), np.float32)
  s[29, 0], s[69, 0] = 0.8, 0.5  # apexes at frames 30 (true) and 70
  fit = [_unit(s, [Interval("micro", 27, 33)])]
  record = dec.fit(fit, known)
  assert record.interval_width["micro"] == pytest.approx(8 / FPS)
  assert record.interval_width["macro"] == pytest.approx(23 / 30)  # none
  # 0.8 alone: TP 1 -> F1 1; 0.5 adds a false positive: 2/3.
  assert record.thresholds[0] == pytest.approx(0.8)
  assert record.thresholds[1] == NEVER  # no macro truth to find
  rows = dec.decode(s, FPS, record, "v")
  assert [(r.type, r.apex, r.onset, r.offset) for r in rows] == [
      ("micro", 30, 27, 34)]  # 8 frames centred on 30: 30 - 3 .. 30 + 4
  # A type the scorer does not score is never predicted.
  micro_only = decoders.get(config, decoders.ScorerInfo(("micro",)))
  assert micro_only.fit(fit, known).thresholds[1] == NEVER


def test_peaks_skips_a_type_the_scorer_does_not_score():
  config = load_config("synthetic_mdmd").get_config("smoke")
  dec = decoders.get(config, decoders.ScorerInfo(
      ("macro",), {"micro": 0.2, "macro": 0.6}))
  s = np.zeros((200, 2), np.float32)
  s[100:130] = 1.0
  record = dec.fit([_unit(s, [Interval("macro", 90, 140)])])
  assert record.values[0] is None and record.values[1] is not None
  assert {r.type for r in dec.decode(s, FPS, record)} == {"macro"}
  assert dec.never(record) == ["micro"]


@pytest.mark.parametrize("record", [
    runs.RunsRecord("manual", {"micro": {"window_s": 0.2}, "macro": {}},
                    [0.25, NEVER], {"micro": [0.1, 0.9], "macro": None}),
    apex.ApexRecord([0.0, NEVER], "paper", {"micro": 0.3, "macro": 1.0},
                    0.1),
    peaks.PeaksRecord("relative", [0.4, None], {"micro": 0.2, "macro": 0.6},
                      1.0, True, 0.0, 0.5, False),
    label.LabelRecord("prior", [0.5, -0.25, -0.25]),
])
def test_records_are_frozen_and_survive_json(record):
  again = type(record).from_dict(json.loads(json.dumps(record.to_dict())))
  assert again == record
  with pytest.raises(dataclasses.FrozenInstanceError):
    record.thresholds = []  # pylint: disable=attribute-defined-outside-init
  with pytest.raises(ValueError, match="missing"):
    type(record).from_dict({})


def test_a_decoder_of_another_task_is_refused_before_data():
  config = load_config("synthetic_3dcnn").get_config("smoke")
  config.decoder.name = "label"
  with pytest.raises(check.ConfigError, match="decoder.name"):
    check.validate(config)


@pytest.mark.slow
@pytest.mark.parametrize("config_name, decoder, field", [
    ("synthetic_mdmd", "runs", "thresholds"),  # flow curves, runs
    ("tiny", "apex", "interval_width"),  # 3D-CNN frame scores, apexes
])
def test_any_scorer_with_any_decoder_end_to_end(tmp_path, config_name,
                                                decoder, field):
  config = load_config(config_name).get_config(
      "smoke" if config_name != "tiny" else "")
  config.decoder.name = decoder
  config.train.oracle = False
  config.train.num_epochs = 1
  if config_name == "synthetic_mdmd":
    config.mdmd.cache_dir = "none"
  check.validate(config)
  store = fake_spotting.make_store(num_subjects=3, num_frames=90)
  metrics = experiment.run(config, str(tmp_path / "run"), store=store)
  assert metrics["decoder"] == decoder
  for f in metrics["folds"]:
    assert field in f["model_decoder"]
  for typ in ("micro", "macro", "overall"):
    assert 0.0 <= metrics["model"]["megc2020"][typ]["f1"] <= 1.0
