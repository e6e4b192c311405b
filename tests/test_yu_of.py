"""`yu_of`, its shared piece (`roi_features.face_scale`'s crop), its
decoder (`decoders.yu`), the runner, the audit and offline scoring.

Known answers: the face scale of the authors' two crops; their interval
rules on hand-built curves (no split, the length limits, a long window
right after another dropped); a mouth patch that moves scores above 1
(the authors' tests pass) while the same motion of the whole face and a
still face do not; `params=released` fits nothing; one deploy run through
`experiment.run` serves the runner's metrics and `mespot_jax.score` on an
mp4; the audit passes and a variant fitting tau with the test subject
fails it. Tiny shapes throughout (the other pieces it shares with
`rethinking_of` are tested in tests/test_rethinking_of.py).
"""
import json
import os

import numpy as np
import pytest

from mespot_jax import audit, deploy, experiment, methods, score
from mespot_jax.config import load_module as load_config
from mespot_jax.config.blocks import yu_of as yu_block
from mespot_jax.data import video_io
from mespot_jax.decoders import yu as dec
from mespot_jax.face import align, track
from mespot_jax.flow import roi_features as rf
from mespot_jax.methods import yu_of
from tests import test_mdmd_deploy as mdmd_deploy
from tests.test_mdmd import _texture_video
from tests.test_rethinking_of import _local_motion_video
from tests.test_score import FPS, _face_video
from mespot_jax.data.frames import FrameStore
from mespot_jax.data.source import VideoMeta

synthetic_yu_of = load_config("synthetic_yu_of")
mdmd_deploy.CONFIGS["yu_of"] = synthetic_yu_of


def test_face_scale_of_both_crops():
  lmk = align.template_68(64)
  d = lmk[42, 0] - lmk[39, 0]
  assert rf.face_scale(lmk) == pytest.approx(256 / (4 * d))
  assert rf.face_scale(lmk, 320, 4.5) == pytest.approx(320 / (4.5 * d))
  # A point box: +-10 of the authors' px at mouth corner 48, +20 right.
  s = rf.face_scale(lmk, 320, 4.5)
  box = yu_of.regions(lmk, 64, s)["mouth_48"]
  x, y = lmk[48]
  assert box == rf.clip_box((x - 10 / s, y - 10 / s, np.ceil(x + 20 / s),
                             np.ceil(y + 10 / s)), 64)


def _decoder(**p):
  config = synthetic_yu_of.get_config("smoke")
  for k, v in p.items():
    config.decoder.yu[k] = v
  return methods.get(config).decoder


def test_released_fits_nothing_and_the_authors_rules():
  d = _decoder(params="released")
  rec = d.fit([])  # no fitting unit needed: nothing is fitted
  assert rec.values == [1.0, 1.0] and rec.params == "released"
  curve = np.zeros((300, 2))
  curve[20:34] = 2.0  # 14 frames above 1: [19, 33], micro
  curve[80:110] = 2.0  # [79, 109], 30 frames: macro
  curve[112:160] = 2.0  # a long one 2 frames after it: dropped (CAS)
  curve[200:205] = 2.0  # 5 frames, shorter than 12: dropped
  curve[240:244], curve[254:258] = 2.0, 2.0  # two short peaks: dropped
  rows = [(r.type, r.onset, r.offset) for r in d.decode(curve, 30.0, rec)]
  assert rows == [("micro", 20, 34), ("macro", 80, 110)]
  samm = _decoder(params="released", follow_gap_s=0.0, max_len_s=0.0)
  rows = [(r.type, r.onset, r.offset)
          for r in samm.decode(curve, 30.0, samm.fit([]))]
  assert ("macro", 112, 160) in rows  # SAMM: kept (head at the valley)
  assert dec.drop_followers([[0, 10], [20, 60], [70, 75]], 15, 15) == [
      [0, 10], [70, 75]]
  # Two peaks over one window (a dip to 1.2 between them): `rethinking`
  # splits it (its `divide`), theirs has no split: one interval.
  two = np.zeros((100, 2))
  two[20:60] = 2.0
  two[38:43] = 1.2
  assert [(r.type, r.onset, r.offset) for r in d.decode(two, 30.0, rec)
          ] == [("macro", 20, 60)]


def _method(release="cas"):
  config = synthetic_yu_of.get_config("smoke")
  yu_block.use_release(config, release)
  config.yu_of.cache_dir = "none"
  config.yu_of.flow_size = 0
  return methods.get(config)


def test_planted_mouth_motion_scores_and_head_motion_does_not():
  fps, t = 30.0, 60
  motion = np.zeros(t)
  motion[25:35] = np.sin(np.linspace(0, np.pi, 10)) * 2.0  # out and back
  m = _method()
  lmk = align.template_68(48)
  rois = np.tile(align.roi_boxes(lmk, 48), (t, 1, 1)).astype(np.float32)
  x0, y0, x1, y1 = yu_of.regions(lmk, 48, rf.face_scale(lmk))["mouth_62"]
  local = m.curves_of_frames(
      _local_motion_video(t, motion, (x0 - 2, y0 - 2, x1 + 2, y1 + 2)),
      rois, fps)
  head = m.curves_of_frames(_texture_video(t, motion), rois, fps)
  still = m.curves_of_frames(_texture_video(t, np.zeros(t)), rois, fps)
  assert np.nanmax(local[25:35, 0]) > 1.0  # the authors' tests pass
  assert not (head[:, 0] > 1.0).any()  # head motion: removed
  assert not (still[:, 0] > 1.0).any()
  np.testing.assert_array_equal(local[:, 0], local[:, 1])
  assert _method("samm").rois() == ("left_brow", "right_brow",
                                    "mouth_whole", "nose_31", "nose_35")


def _aligned_store(num_subjects, num_frames):
  """Face videos with a planted macro and micro, through the 32 px grey
  aligner (tests/test_score_lbcnn.py's store, shorter)."""
  aligner = track.VideoAligner(32, grey=True)
  metas, arrays, rois, offset = [], [], [], 0
  for s in range(num_subjects):
    frames, ivs = _face_video(s, num_frames, (
        ("macro", 12 + 3 * s, 20, 70.0), ("micro", 40 + s, 6, 35.0)))
    aligned = list(aligner.align_stream(iter(frames)))
    arrays.append(np.stack([a.crop for a in aligned]))
    rois.append(np.stack([a.rois for a in aligned]))
    metas.append(VideoMeta(s, f"s{s:02d}_0", f"s{s:02d}", FPS, num_frames,
                           offset, ivs))
    offset += num_frames
  return FrameStore.from_arrays(metas, arrays, rois=rois)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
  """One deploy run on a small aligned store (3 subjects x 60 frames),
  and the 60-frame held-out mp4 it scores."""
  root = tmp_path_factory.mktemp("yu_of")
  store = _aligned_store(3, 60)
  config = mdmd_deploy.smoke_config("yu_of", root)
  config.train.deploy = True
  config.train.test_folds = ("s00",)
  workdir = str(root / "run")
  metrics = experiment.run(config, workdir, store=store)
  frames, _ = _face_video(7, 60, (("macro", 25, 20, 35.0),))
  video = str(root / "held_out.mp4")
  video_io.write_video(video, frames, FPS)
  return root, workdir, metrics, video


@pytest.mark.slow
def test_runs_through_the_runner_with_nothing_trained(deployed):
  _, _, metrics, _ = deployed
  assert metrics["method"] == "yu_of" and metrics["history"] == []
  for typ in ("micro", "macro", "overall"):
    assert 0.0 <= metrics["model"]["megc2020"][typ]["f1"] <= 1.0


@pytest.mark.slow
def test_deploy_and_score_a_video_file(deployed):
  """Deploy record (tau per type) and `score.run` on an mp4; offline
  scores equal the method's curves of the aligner's crops."""
  root, workdir, _, video = deployed
  info = json.load(open(os.path.join(workdir, "deploy", "deploy.json")))
  assert info["method"] == "yu_of" and info["decoder"]["name"] == "yu"
  assert len(info["decoder"]["record"]["values"]) == 2
  summary = score.run(workdir, video, out=str(root / "iv.csv"),
                      json_path=str(root / "s.json"), progress=False)
  assert summary is not None
  assert json.load(open(root / "s.json"))["num_frames"] == 60
  dep = deploy.load_deployment(workdir)
  scored = score.score_frames(dep, video_io.iter_frames(video), FPS, 32,
                              progress=False)
  assert scored.face_found_T.all()  # this video: a face in every frame
  aligned = list(track.VideoAligner(32, grey=True).align_stream(
      video_io.iter_frames(video)))
  ref = dep.method.curves_of_frames(
      np.stack([a.crop for a in aligned]),
      np.stack([a.rois for a in aligned]).astype(np.float32), FPS)
  np.testing.assert_allclose(scored.scores_T2, ref, rtol=1e-5, atol=1e-6)


class _LeakyTau(yu_of.YuOF):
  """tau fitted on every subject, the test subject's included."""
  name = "leaky_yu_of"

  def fit_ids(self, store, fold):
    return super().fit_ids(store, fold) + store.video_indices(
        fold.test_subjects)


@pytest.mark.slow
def test_audit_passes_and_a_leaky_variant_fails(tmp_path):
  audited = mdmd_deploy.audit_store()
  config = mdmd_deploy.smoke_config("yu_of", tmp_path)
  record = audit.audit(config, str(tmp_path / "ok"), (0,), ("shift",),
                       store=audited)
  assert record["passed"], record["moved"]
  assert "values[model]" in {r["choice"] for r in record["checked"]}
  methods.register(_LeakyTau)
  config = mdmd_deploy.smoke_config("yu_of", tmp_path)
  config.method = _LeakyTau.name
  config[_LeakyTau.name] = config.yu_of
  record = audit.audit(config, str(tmp_path / "leaky"), (0, 1, 2, 3),
                       ("shift", "drop"), store=audited)
  assert not record["passed"]
  assert "values[model]" in {r["choice"] for r in record["moved"]}
