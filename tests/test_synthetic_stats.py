"""synthetic_lv 2.0: the real datasets' statistics, the ladder, `clean`.

The label statistics of the `casme2` and `samm` renderings (their plans:
the truth the builder stores, checked against a small built rendering
below) must be within 20% of the published figures of CAS(ME)^2 and
SAMM-LV (`stats.REAL`; sources in data_builders/synthetic_lv/README.md), for every seed tried.
"""
import hashlib

import numpy as np
import pytest

from mespot_jax.builders.synthetic_lv import synthetic_lv_dataset_builder as syn
from mespot_jax import inspect_dataset
from mespot_jax.synthetic import recipe
from mespot_jax.synthetic import render
from mespot_jax.synthetic import stats


def _videos(config) -> list[dict]:
  """The label summary (as `inspect_dataset.summarize`) of a rendering."""
  b = syn.Builder(data_dir="/nonexistent", config=config)
  return [dict(fps=p.fps, num_frames=p.num_frames,
               intervals=[dict(type=e.type, onset=e.onset, offset=e.offset)
                          for e in render.plan_video(p).events])
          for _, _, p in b.video_params()]


@pytest.mark.parametrize("base,real", [("casme2", "casme2"),
                                       ("samm", "samm")])
def test_statistics_match_the_real_dataset(base, real):
  ref = stats.REAL[real]
  for seed in range(4):
    st = stats.label_statistics(_videos(syn.variant_config(base, seed=seed)))
    assert st["events_per_min"] == pytest.approx(ref.events_per_min, rel=0.05)
    assert st["micro_share"] == pytest.approx(ref.micro_share, rel=0.05)
    assert st["empty_videos"] == 1  # some videos with no expression
    for row in stats.compare(st, ref):
      if row["checked"]:
        assert abs(row["rel_diff"]) <= 0.2, (seed, row)


def test_counts_are_exact_and_skewed():
  ref = stats.REAL["casme2"]
  plan = recipe.plan_rendering(0, 16, 1.0, 2.6, 57 / 357, 1,
                               ref.macro_frames, ref.micro_frames)
  counts = [len(a) + len(b) for a, b in plan]
  assert sum(counts) == 42 and sum(len(b) for _, b in plan) == 7
  assert counts.count(0) == 1 and max(counts) >= 4


def test_durations_follow_the_real_quantiles():
  for spec in (stats.REAL["samm"].macro_frames,
               stats.REAL["casme2"].micro_frames):
    assert [recipe.frames_at(u, spec) for u in (1e-9, 0.1, 0.5, 0.9)] == [
        spec[0], spec[1], spec[2], spec[3]]
    assert recipe.frames_at(1 - 1e-12, spec) == spec[4]
  # Stratified: 19 draws already put the quantiles near the real ones.
  rng = np.random.default_rng(0)
  d = recipe._stratified(rng, 19, stats.REAL["samm"].macro_frames)  # pylint: disable=protected-access
  np.testing.assert_allclose(np.quantile(d, [0.1, 0.5, 0.9]),
                             [121, 223, 689], rtol=0.2)


def test_clean_has_no_nuisance_and_the_same_truth():
  default = syn.Builder(data_dir="/x", config="casme2").video_params()
  clean = syn.Builder(data_dir="/x", config="clean").video_params()
  for (_, _, p), (_, _, q) in zip(default[:3], clean[:3]):
    a, b = render.plan_video(p), render.plan_video(q)
    assert a.events == b.events
    assert a.blink_T.max() > 0.5 and not b.blink_T.any()
    assert np.ptp(a.pose_T4, axis=0).max() > 1.0
    assert not np.ptp(b.pose_T4, axis=0).any()  # the head stays put
    assert not np.ptp(b.gain_T) and np.ptp(a.gain_T) > 0.05
  # Blinks at the resting rate (17 per minute, Bentivoglio et al. 1997).
  closures = sum(int(np.sum(np.diff((render.plan_video(p).blink_T > 0)
                                    .astype(int)) == 1))
                 for _, _, p in default)
  assert closures / (len(default) * 1.0) == pytest.approx(17, rel=0.2)


def test_clean_frames_change_only_by_sensor_noise():
  c = syn.variant_config("clean", seed=0)
  _, _, p = syn.Builder(data_dir="/x", config=c).video_params()[0]
  p = p.__class__(**dict(vars(p), num_frames=400, macro_lengths=(), micro_lengths=(),
                         frame_hw=(120, 160), face_size=60))
  r = render.Renderer(p)
  f1, f2 = r.frame(10).astype(int), r.frame(300).astype(int)
  assert 0 < np.abs(f1 - f2).mean() < 3.0  # noise only (sigma 2)


def test_micro_amplitude_ladder():
  base = syn.Builder(data_dir="/x", config="casme2").video_params()
  for name, scale in (("casme2_micro_half", 0.5), ("casme2_micro_x4", 4.0)):
    ladder = syn.Builder(data_dir="/x", config=name).video_params()
    for (_, _, p), (_, _, q) in zip(base, ladder):
      a, b = render.plan_video(p).events, render.plan_video(q).events
      assert [(e.type, e.onset, e.offset) for e in a] == [
          (e.type, e.onset, e.offset) for e in b]
      for e, f in zip(a, b):
        want = e.amplitude * (scale if e.type == "micro" else 1.0)
        assert f.amplitude == pytest.approx(want)
  c = syn.variant_config("casme2", micro_amp_scale=2.0, seed=3)
  assert (c.name, c.micro_amp_scale, c.seed) == ("casme2_micro2_seed3", 2.0, 3)


def test_version_1_configs_render_as_before():
  # sha256 of the events of 1.2.0's casme2, casme2_dev and samm (and of
  # tiny), computed with the code of commit 033b1ae.
  want = {"casme2_v1": "44dc4e12a28bb1bf", "casme2_dev_v1": "95c484a231ef42b4",
          "samm_v1": "7155fe726a4f95b7", "tiny": "c89bcc9dfd181cd0"}
  for config, digest in want.items():
    h = hashlib.sha256()
    for vid, _, p in syn.Builder(data_dir="/x", config=config).video_params():
      plan = render.plan_video(p)
      h.update(repr([(vid, e.type, e.kind, e.onset, e.apex, e.offset,
                      round(e.amplitude, 6)) for e in plan.events]).encode())
      h.update(repr(int((plan.blink_T > 0).sum())).encode())
    assert h.hexdigest()[:16] == digest, config


def test_built_rendering_keeps_its_statistics(tmp_path, capsys):
  """A small recipe-2 rendering built end to end (face tracker included)
  stores the planned truth; inspect_dataset prints it beside the real."""
  c = syn.SyntheticConfig(
      name="casme2_small", description="2 x 40 s, tiny frames",
      image_size=32, fps=30.0, subjects=2, videos_per_subject=1,
      seconds=40.0, frame_hw=(150, 200), face_size=95, recipe=2,
      events_per_min=6.0, micro_share=0.25, empty_videos=0,
      macro_frames=stats.REAL["casme2"].macro_frames,
      micro_frames=stats.REAL["casme2"].micro_frames)
  src = inspect_dataset.source.SpottingSource.prepare(
      "synthetic_lv", str(tmp_path), c, workers=1)
  summary = inspect_dataset.add_statistics(
      inspect_dataset.summarize(src), "synthetic_lv", c.name)
  planned = stats.label_statistics(_videos(c))
  assert summary["statistics"] == planned
  assert planned["intervals"] == 8 and planned["micro"] == 2
  assert summary["real"] == "CAS(ME)^2"
  assert src.face_found(0).mean() > 0.95
  table = stats.format_comparison(summary["comparison"], summary["real"])
  assert "events_per_min" in table and "CAS(ME)^2" in table
