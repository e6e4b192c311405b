"""The ROI flow spotter: regions, head motion removed, types, the runner.

Regions are hand-worked from boxes; a translation of the whole face (head
motion) gives ROI magnitudes near zero once the nose ridge's flow is
subtracted, while a brow that moves alone gives about its displacement;
micro intervals longer than `micro_max_s` are dropped and a macro
interval overlapping a micro one goes with `micro_wins`. `experiment.run`
runs it on an in-memory store without training anything.
"""
import numpy as np

from mespot_jax.config import load_module as load_config
from mespot_jax import experiment, methods
from mespot_jax.methods import flow_roi
from mespot_jax.metrics.io import IntervalRow
from mespot_jax.decoders import peaks
from tests import fake_spotting

synthetic_flow_roi = load_config("synthetic_flow_roi")


def test_roi_regions_hand_worked():
  boxes = np.array([[10, 20, 30, 40], [50, 20, 70, 40], [30, 30, 60, 80],
                    [20, 80, 80, 100]], np.float32)
  r = flow_roi.roi_regions(boxes, 128, brow_keep=0.75, corner_fraction=0.3)
  assert r["left_brow"] == (10, 20, 30, 35)
  assert r["right_brow"] == (50, 20, 70, 35)
  assert r["nose_ridge"] == (40, 30, 50, 50)  # middle third, upper 40%
  assert r["nose"] == (30, 60, 60, 80)  # lower 40%
  assert r["left_mouth_corner"] == (20, 80, 38, 100)
  assert r["right_mouth_corner"] == (62, 80, 80, 100)


def _regions():
  return {"nose_ridge": (10, 10, 20, 20), "left_brow": (0, 0, 8, 8),
          "nose": (22, 22, 30, 30)}


def test_head_motion_is_removed():
  flows = np.zeros((2, 32, 32, 2), np.float32)
  flows[0] = (1.5, -0.5)  # the whole face moved: head motion
  flows[1, 0:8, 0:8] = (0.0, -2.0)  # only the brow moved up 2 px
  mags = flow_roi.roi_magnitudes(flows, _regions(), ("left_brow", "nose"))
  np.testing.assert_allclose(mags[0], [0.0, 0.0], atol=1e-6)
  np.testing.assert_allclose(mags[1], [2.0, 0.0], atol=1e-6)


def _method(**peaks_params):
  config = synthetic_flow_roi.get_config("smoke")
  config.flow_roi.cache_dir = "none"
  # The hand-worked answers are for these (the method's defaults).
  config.flow_roi.k_s.micro, config.flow_roi.k_s.macro = 0.2, 0.6
  config.decoder.peaks.extend, config.decoder.peaks.merge_gap_s = 1.0, 0.0
  for k, v in peaks_params.items():
    config.decoder.peaks[k] = v
  return methods.get(config)


def _record(**peaks_params):
  """The spotter's decoder (`peaks`) record, with p = 0.5 for both types."""
  return _method(**peaks_params).decoder.record_with([0.5, 0.5])


def test_intervals_typed_by_width_and_micro_wins():
  m, rec = _method(), _record()
  fps = 30.0
  curve = np.zeros(200)
  curve[50:54] = 1.0  # 4 frames + k (6) before: 10 frames, micro
  curve[100:120] = 1.0  # 20 + 6 = 26 frames: too long for a micro
  assert rec.intervals(curve, "micro", 0.5, fps) == [(45, 54)]
  k = m.k("macro", fps)
  assert rec.intervals(curve, "macro", 0.5, fps) == [
      (51 - k, 54), (101 - k, 120)]
  rows = [IntervalRow("v", "micro", 45, 54), IntervalRow("v", "macro", 33, 54),
          IntervalRow("v", "macro", 83, 120)]
  kept = rec.resolve_types(rows)
  assert [(r.type, r.onset) for r in kept] == [("micro", 45), ("macro", 83)]
  off = _record(micro_wins=False)
  assert len(off.resolve_types(rows)) == 3


def test_peaks_closer_than_the_merge_gap_are_one_interval():
  assert peaks.merge_runs([(10, 12), (15, 20), (30, 31)], 2) == [
      (10, 20), (30, 31)]  # 2 frames (13, 14) between: joined; 9: not
  assert peaks.merge_runs([(10, 12), (16, 20)], 2) == [(10, 12), (16, 20)]
  assert peaks.merge_runs([(10, 12), (15, 20)], 0) == [(10, 12), (15, 20)]
  fps = 30.0
  curve = np.zeros(200)
  curve[100:110] = 1.0  # rise
  curve[115:125] = 1.0  # fall, 5 frames later
  k = _method().k("macro", fps)
  assert _record().intervals(curve, "macro", 0.5, fps) == [
      (101 - k, 110), (116 - k, 125)]
  merged = _record(merge_gap_s=0.2)  # 6 frames at 30 fps
  assert merged.intervals(curve, "macro", 0.5, fps) == [(101 - k, 125)]


def test_runs_through_the_runner_with_nothing_trained(tmp_path):
  config = synthetic_flow_roi.get_config("smoke")
  config.flow_roi.cache_dir = str(tmp_path / "cache")
  store = fake_spotting.make_store(num_subjects=3, num_frames=90, size=32)
  metrics = experiment.run(config, str(tmp_path / "run"), store=store)
  assert metrics["method"] == "flow_roi" and metrics["history"] == []
  assert [f["best_epoch"] for f in metrics["folds"]] == [0, 0, 0]
  for typ in ("micro", "macro", "overall"):
    assert 0.0 <= metrics["model"]["megc2020"][typ]["f1"] <= 1.0
