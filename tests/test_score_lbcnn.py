"""A deploy model of the LBCNN scores a video file (mespot_jax.score).

Synthetic face videos with planted brow expressions (`tests.test_score`'s
`_face_video`) are aligned into an in-memory store that keeps the
aligner's ROI boxes, the LBCNN's smoke-sized model trains with
`train.deploy=True`, and a held-out face video with a planted
macro-expression is written to mp4 and scored through `score.run` (the
command line only parses flags for `score.run`, whatever the method: its
runs are tests/test_score.py's, on a trained 3D-CNN, and
tests/test_mdmd_deploy.py's, on a method fed the aligner's boxes).
Offline scoring feeds the model the aligner's boxes: its scores are the
method's own scores of the same aligned frames, and the planted macro
scores higher inside than outside.
"""
import json
import os

import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import deploy, experiment, score
from mespot_jax.data import video_io
from mespot_jax.data.frames import FrameStore
from mespot_jax.data.source import VideoMeta
from mespot_jax.face import track
from mespot_jax.metrics import io as metrics_io
from tests.test_score import FPS, _face_video

synthetic_lbcnn = load_config("synthetic_lbcnn")

pytestmark = pytest.mark.slow  # whole pipeline on tiny data

SIZE = 32


def _store(num_subjects, num_frames, aligner):
  metas, arrays, rois, offset = [], [], [], 0
  for s in range(num_subjects):
    planted = (("macro", 15 + 3 * s, 30, 70.0), ("micro", 62 + s, 6, 35.0),
               ("macro", 95 - 2 * s, 30, 70.0))
    frames, ivs = _face_video(s, num_frames, planted)
    aligned = list(aligner.align_stream(iter(frames)))
    arrays.append(np.stack([a.crop for a in aligned]))
    rois.append(np.stack([a.rois for a in aligned]))
    metas.append(VideoMeta(s, f"s{s:02d}_0", f"s{s:02d}", FPS, num_frames,
                           offset, ivs))
    offset += num_frames
  return FrameStore.from_arrays(metas, arrays, rois=rois)


_SHARED = {}


def shared_store():
  """`_store(3, 150, ...)` of the 32 px grey aligner, aligned once per
  process: this module and the deploy tests of the training-free spotters
  (tests/test_mdmd_deploy.py) read the same store and never change it."""
  if "store" not in _SHARED:
    _SHARED["store"] = _store(3, 150, track.VideoAligner(SIZE, grey=True))
  return _SHARED["store"]


def held_out_frames():
  """A held-out subject's 180 frames with one planted macro (once per
  process): (frames, intervals)."""
  if "held_out" not in _SHARED:
    _SHARED["held_out"] = _face_video(7, 180, (("macro", 90, 30, 70.0),))
  return _SHARED["held_out"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  root = tmp_path_factory.mktemp("score_lbcnn")
  store = shared_store()
  config = synthetic_lbcnn.get_config("smoke")
  config.lbcnn.roi_size = 16
  config.train.deploy = True
  config.train.oracle = False
  config.train.test_folds = ("s00",)
  config.train.num_epochs = 4
  config.train.steps_per_epoch = 12
  config.train.batch_size = 8
  config.train.learning_rate = 3e-3
  config.train.early_stopping_metric = "none"
  workdir = str(root / "run")
  experiment.run(config, workdir, store=store)
  frames, ivs = held_out_frames()
  video = str(root / "held_out.mp4")
  video_io.write_video(video, frames, FPS)
  gt_csv = str(root / "gt.csv")
  metrics_io.write_intervals_csv(gt_csv, [
      metrics_io.IntervalRow("held_out", iv.type, iv.onset, iv.offset)
      for iv in ivs])
  return dict(workdir=workdir, video=video, gt_csv=gt_csv, ivs=ivs,
              aligner_size=SIZE)


def test_deploy_record_names_lbcnn(trained):
  info = json.load(open(os.path.join(trained["workdir"], "deploy",
                                     "deploy.json")))
  assert info["method"] == "lbcnn"
  assert info["preprocess"]["image_size"] == SIZE
  assert info["decoder"]["record"]["post"]["micro"]["max_len"] == 0.5
  dep = deploy.load_deployment(trained["workdir"])
  assert set(dep.variables["params"]) == {"global", "local", "fc1", "fc2"}


def test_score_run_writes_intervals_and_scores_the_planted_macro(
    trained, tmp_path):
  out, js = str(tmp_path / "iv.csv"), str(tmp_path / "s.json")
  summary = score.run(trained["workdir"], trained["video"], out=out,
                      json_path=js, gt=trained["gt_csv"], progress=False)
  rows = metrics_io.read_intervals_csv(out)
  assert all(r.video == "held_out" and r.type in ("micro", "macro")
             for r in rows)
  on_disk = json.load(open(js))
  assert on_disk["num_frames"] == 180 and on_disk["frames_without_face"] == 0
  assert set(summary["evaluation"]) == {"one_to_one", "megc2020"}
  dep = deploy.load_deployment(trained["workdir"])
  scored = score.score_frames(dep, video_io.iter_frames(trained["video"]),
                              FPS, 32, progress=False)
  s = scored.scores_T2
  assert s.shape == (180, 2) and np.isfinite(s).all()
  # The stream the scorer built: the aligner's crops and boxes, through the
  # method's own scorer, give the same probabilities.
  aligner = track.VideoAligner(SIZE, grey=True)
  pairs = [(a.crop, a.rois.astype(np.float32)) for a in aligner.align_stream(
      video_io.iter_frames(trained["video"]))]
  ref = dep.method.score_stream(dep.variables, iter(pairs), FPS, dep.choices,
                                16)
  np.testing.assert_allclose(s, ref, rtol=1e-4, atol=1e-5)
  (g,) = trained["ivs"]
  inside = np.zeros(180, bool)
  inside[g.onset - 1:g.offset] = True
  assert s[inside, 1].mean() > s[~inside, 1].mean()
