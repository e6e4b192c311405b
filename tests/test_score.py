"""Offline scoring of a new video with a deploy model (mespot_jax.score).

One module-scoped run: synthetic face videos (the astronaut face of the
synthetic renderer, with planted expressions) are aligned into an in-memory
store, the tiny config is trained with `train.deploy=True`, and a held-out
face video with a planted macro-expression is written to mp4 and scored
through `score.run` and once through `python -m mespot_jax.score`.

What a user's recordings bring is tested on the same model: a face that
leaves the frame (frames replaced by the empty background), a truncated
copy of the mp4, a frame folder with undecodable frames in the middle, a
deploy record whose thresholds say "never", the deploy folder passed as
the workdir, and inputs checked before the model loads.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import deploy, experiment, score
from mespot_jax.data import video_io
from mespot_jax.data.frames import FrameStore
from mespot_jax.data.schema import Interval
from mespot_jax.data.source import VideoMeta
from mespot_jax.errors import InputError
from mespot_jax.face import track
from mespot_jax.metrics import intervals, io as metrics_io
from mespot_jax.spotting import threshold
from mespot_jax.synthetic import render
from tests.test_video_io import _faststart

tiny = load_config("tiny")

pytestmark = pytest.mark.slow  # whole pipeline on tiny data

FPS = 30.0
SIZE = 32
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _params(subject, num_frames):
  return render.VideoParams(seed=3, subject=subject, video=0, fps=FPS,
                            num_frames=num_frames, nuisance=False)


def _face_video(subject, num_frames, planted, faceless=None):
  """Frames of a still synthetic face with brightened-brow expressions.

  The renderer's own (subtle) expressions are removed so the planted ones
  are the only motion: a tiny model learns them in a few dozen steps.
  `faceless=(first, last)`: those frames (1-based) show the background
  only, as when the person leaves the frame.

  Returns:
    (frames list, intervals).
  """
  r = render.Renderer(_params(subject, num_frames))
  r.plan.events.clear()
  cx, cy = r.plan.pose_T4[0, :2]
  face = r.p.face_size
  y0, y1 = int(cy - 0.45 * face), int(cy - 0.15 * face)
  x0, x1 = int(cx - 0.35 * face), int(cx + 0.35 * face)
  frames = [f.astype(np.float32) for f in r]
  intervals = []
  for typ, onset, length, amp in planted:
    env = np.sin(np.linspace(0, np.pi, length)) * amp
    for k in range(length):
      frames[onset - 1 + k][y0:y1, x0:x1] += env[k]
    intervals.append(Interval(typ, onset, onset + length - 1,
                              apex=onset + length // 2))
  frames = [np.clip(f, 0, 255).astype(np.uint8) for f in frames]
  if faceless:
    empty = r._background  # pylint: disable=protected-access
    for i in range(faceless[0] - 1, faceless[1]):
      frames[i] = empty.reshape(frames[i].shape).copy()
  return frames, tuple(intervals)


def _make_store(num_subjects, num_frames, aligner):
  metas, arrays, offset = [], [], 0
  for s in range(num_subjects):
    planted = (("macro", 15 + 3 * s, 30, 70.0), ("micro", 62 + s, 6, 35.0),
               ("macro", 95 - 2 * s, 30, 70.0))
    frames, ivs = _face_video(s, num_frames, planted)
    crops = np.stack([a.crop for a in aligner.align_stream(iter(frames))])
    metas.append(VideoMeta(s, f"s{s:02d}_0", f"s{s:02d}", FPS, num_frames,
                           offset, ivs))
    arrays.append(crops)
    offset += num_frames
  return FrameStore.from_arrays(metas, arrays)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  root = tmp_path_factory.mktemp("score")
  aligner = track.VideoAligner(SIZE, grey=True)
  store = _make_store(3, 150, aligner)
  config = tiny.get_config()
  config.train.deploy = True
  config.train.test_folds = ("s00",)  # LOSO is not under test here
  config.train.num_epochs = 4
  config.train.steps_per_epoch = 12
  config.train.batch_size = 8
  config.train.patience = 4
  config.yap3dcnn.baseline = False
  config.yap3dcnn.sampler.class_probs = (0.4, 0.2, 0.4)
  config.eval.automated.macro.widen_to = "train_median"
  workdir = str(root / "run")
  experiment.run(config, workdir, store=store)
  # A held-out subject's video with a planted macro-expression.
  frames, ivs = _face_video(7, 180, (("macro", 90, 30, 70.0),))
  video = str(root / "held_out.mp4")
  video_io.write_video(video, frames, FPS)
  gt = [metrics_io.IntervalRow("held_out", iv.type, iv.onset, iv.offset)
        for iv in ivs]
  gt_csv = str(root / "gt.csv")
  metrics_io.write_intervals_csv(gt_csv, gt)
  return dict(root=root, workdir=workdir, video=video, gt=gt, gt_csv=gt_csv,
              config=config, store=store)


def test_deploy_record(trained):
  info = json.load(open(os.path.join(trained["workdir"], "deploy",
                                     "deploy.json")))
  spec = info["preprocess"]
  assert spec["image_size"] == SIZE and spec["grey"]
  assert info["train_fps"] == [FPS]
  assert info["method"] == "yap3dcnn"
  skips = info["choices"]["skips"]
  assert skips["fps"] == FPS and len(skips["skips"]) == 2
  assert not set(info["val_subjects"]) & set(info["train_subjects"])
  assert sorted(info["val_subjects"] + info["train_subjects"]) == [
      "s00", "s01", "s02"]
  dep = deploy.load_deployment(trained["workdir"])
  assert info["decoder"]["name"] == dep.decoder.name == "runs"
  assert dep.record.thresholds == info["decoder"]["record"]["thresholds"]
  # widen_to="train_median" is stored resolved: the median macro duration
  # (s) of the subjects the deploy model knows (all three here).
  secs = [(iv.offset - iv.onset + 1) / v.fps
          for v in trained["store"].videos for iv in v.intervals
          if iv.type == "macro"]
  post = dep.record.post
  assert post["macro"]["min_width"] == pytest.approx(np.median(secs))
  assert "widen_to" not in post["macro"]
  assert post["micro"].get("min_width") is None
  assert (dep.config.yap3dcnn.model.channels ==
          trained["config"].yap3dcnn.model.channels)
  assert set(dep.variables) == {"params", "batch_stats"}


def test_score_finds_planted_macro(trained, tmp_path):
  out, js, png = (str(tmp_path / n) for n in ("iv.csv", "s.json", "s.png"))
  summary = score.run(trained["workdir"], trained["video"], out=out,
                      plot=png, json_path=js, gt=trained["gt_csv"],
                      progress=False)
  rows = metrics_io.read_intervals_csv(out)
  assert all(r.video == "held_out" and r.score is not None for r in rows)
  assert os.path.getsize(png) > 0
  on_disk = json.load(open(js))
  assert on_disk["num_frames"] == 180 and on_disk["frames_without_face"] == 0
  assert on_disk["fps"] == pytest.approx(FPS)
  assert on_disk["warnings"] == []
  assert set(on_disk["evaluation"]) == {"one_to_one", "megc2020"}
  assert len(on_disk["intervals"]) == len(rows)
  # The planted macro is spotted: a macro interval with IoU >= 0.3 or its
  # centre inside, and the macro score is higher inside than outside.
  (g,) = [g for g in trained["gt"] if g.type == "macro"]
  hits = [r for r in rows if r.type == "macro" and (
      intervals.iou(r.onset, r.offset, g.onset, g.offset) >= 0.3
      or g.onset <= (r.onset + r.offset) / 2 <= g.offset)]
  assert hits, (rows, g)
  assert summary["evaluation"]["one_to_one"]["macro"]["tp"] == 1
  scores = _scores(trained, tmp_path)
  for g in trained["gt"]:
    if g.type == "macro":
      inside = np.zeros(len(scores), bool)
      inside[g.onset - 1:g.offset] = True
      assert scores[inside, 1].mean() > scores[~inside, 1].mean()


def _scores(trained, tmp_path):
  dep = deploy.load_deployment(trained["workdir"])
  scored = score.score_frames(
      dep, video_io.iter_frames(trained["video"]), FPS, 32, progress=False)
  s = scored.scores_T2
  assert scored.frames == scored.with_face == len(s) == 180
  assert np.isfinite(s).all()  # a face in every frame: every frame scored
  # Same fps: skips unchanged.
  assert dep.method.video_skips(dep.choices, FPS) == tuple(
      dep.choices["skips"]["skips"])
  return s


def test_cli_subprocess(trained, tmp_path):
  out = str(tmp_path / "cli.csv")
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.score",
       f"--workdir={trained['workdir']}", f"--video={trained['video']}",
       f"--out={out}", "--fps=25", "--batch_size=16",
       f"--json={tmp_path / 'cli.json'}",
       f"--annotate={tmp_path / 'annotated.mp4'}"],
      cwd=ROOT, capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr[-2000:]
  metrics_io.read_intervals_csv(out)
  summary = json.load(open(tmp_path / "cli.json"))
  annotated = video_io.probe(str(tmp_path / "annotated.mp4"))
  assert annotated["num_frames"] == summary["annotated_frames"] == 180
  # 25 fps was not trained on: skips are rescaled by seconds, and it says so.
  dep = deploy.load_deployment(trained["workdir"])
  model_skips = dep.choices["skips"]["skips"]
  assert summary["skips"]["macro"] == max(1, round(model_skips[1] * 25 / FPS))
  assert "not a frame rate the model was trained" in summary["warnings"][0]


def _bad_inputs(trained, root):
  text = root / "notes.mp4"
  text.write_text("not a video\n")
  grey = str(root / "grey.mp4")
  video_io.write_video(grey, [np.full((120, 160, 3), 128, np.uint8)] * 12,
                       FPS)
  folder = root / "frames"
  folder.mkdir(exist_ok=True)
  import cv2  # pylint: disable=g-import-not-at-top
  for i in range(3):
    cv2.imwrite(str(folder / f"img{i + 1}.png"), np.zeros((8, 8), np.uint8))
  nodeploy = root / "loso_only"
  nodeploy.mkdir(exist_ok=True)
  w = trained["workdir"]
  return [
      (w, str(root / "missing.mp4"), "no such video file"),
      (w, str(text), "cannot open video file"),
      (w, grey, "no face found"),
      (str(nodeploy), trained["video"], "--config.train.deploy=True"),
      (w, str(folder), "pass --fps"),
  ]


def test_bad_inputs_raise_input_error(trained, tmp_path):
  for workdir, video, message in _bad_inputs(trained, tmp_path):
    out = str(tmp_path / "never.csv")
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
      score.run(workdir, video, out=out, progress=False)
    assert not os.path.exists(out)


def test_bad_input_cli_exit_code(trained, tmp_path):
  # One command line: exit code 2 and the one error line are the
  # `InputError` handler of `score.main`, whatever the input; each input's
  # message, and that it is checked before the model loads, are
  # test_bad_inputs_raise_input_error's and
  # test_inputs_are_checked_before_the_model_loads'.
  for workdir, video, message in _bad_inputs(trained, tmp_path)[1:2]:
    proc = subprocess.run(
        [sys.executable, "-m", "mespot_jax.score", f"--workdir={workdir}",
         f"--video={video}"], cwd=ROOT, capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in proc.stderr and "Traceback" not in proc.stderr
    # Checked before the model loads: the error is all the user sees.
    assert proc.stderr.strip().splitlines() == [
        l for l in proc.stderr.strip().splitlines() if l.startswith("error:")
    ] and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_inputs_are_checked_before_the_model_loads(trained, tmp_path,
                                                   monkeypatch):
  def load(workdir):
    raise AssertionError(f"model of {workdir} loaded before the inputs "
                         "were checked")
  monkeypatch.setattr(deploy, "load_deployment", load)
  w, video = trained["workdir"], trained["video"]
  cases = [c for c in _bad_inputs(trained, tmp_path)
           if c[2] != "no face found"]  # known only once scored
  cases += [(w, video, "no ground-truth row", dict(gt=_other_gt(tmp_path))),
            (w, video, "does not exist",
             dict(json_path=str(tmp_path / "nowhere" / "s.json"))),
            (w, video, "batch_size", dict(batch_size=-1))]
  for workdir, video, message, *kwargs in cases:
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
      score.run(workdir, video, progress=False, **(kwargs[0] if kwargs
                                                   else {}))


def _other_gt(root):
  path = str(root / "other_gt.csv")
  metrics_io.write_intervals_csv(
      path, [metrics_io.IntervalRow("another_video", "macro", 1, 10)])
  return path


# -- a user's recordings -----------------------------------------------------
FACELESS = (70, 130)  # the person leaves the frame


def _unscored(first, last, skip, num_frames=180):
  """Runs of frames t (1-based) without a score when frames first..last
  are unusable: t itself, or its partner min(t + skip, T), is one of them."""
  t = np.arange(1, num_frames + 1)
  bad = lambda n: (n >= first) & (n <= last)
  mask = bad(t) | bad(np.minimum(t + skip, num_frames))
  edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
  return [[int(a) + 1, int(b)] for a, b in zip(edges[::2], edges[1::2])]


@pytest.fixture(scope="module")
def faceless_video(trained):
  """A held-out face that leaves the frame between two macro-expressions."""
  frames, _ = _face_video(7, 180, (("macro", 25, 30, 70.0),
                                   ("macro", 140, 30, 70.0)),
                          faceless=FACELESS)
  path = str(trained["root"] / "leaves.mp4")
  video_io.write_video(path, frames, FPS)
  return path


def test_frames_without_a_face_get_no_score_and_no_interval(
    trained, faceless_video, tmp_path):
  js, png, ann = (str(tmp_path / n) for n in ("s.json", "s.png", "a.mp4"))
  summary = score.run(trained["workdir"], faceless_video, json_path=js,
                      plot=png, annotate=ann, progress=False)
  assert json.load(open(js)) == json.loads(json.dumps(summary))
  first, last = FACELESS
  assert summary["num_frames"] == 180
  assert summary["frames_without_face"] == last - first + 1
  assert summary["frames_without_face_runs"] == [[first, last]]
  # A frame whose pair partner has no face has no score either.
  for typ in ("micro", "macro"):
    unscored = summary["frames_without_score"][typ]
    assert unscored["runs"] == _unscored(first, last, summary["skips"][typ]
                                         ), typ
    assert unscored["frames"] == last - first + 1 + summary["skips"][typ]
  # No interval touches an unscored frame of its type (before the fix one
  # macro interval spanned nearly the whole video).
  for iv in summary["intervals"]:
    for a, b in summary["frames_without_score"][iv["type"]]["runs"]:
      assert iv["offset"] < a or iv["onset"] > b, iv
  (warning,) = [w for w in summary["warnings"] if "no face" in w]
  assert f"no face found in {last - first + 1} of its 180 frames" in warning
  assert f"frames {first}-{last}" in warning
  assert summary["annotated_frames"] == 180 and os.path.getsize(png) > 0


def test_a_truncated_file_is_scored_as_far_as_it_goes(trained, tmp_path):
  data = _faststart(open(trained["video"], "rb").read())
  cut = tmp_path / "cut.mp4"  # the first 30% of a streamable mp4
  cut.write_bytes(data[:int(0.3 * len(data))])
  js = tmp_path / "cut.json"
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.score",
       f"--workdir={trained['workdir']}", f"--video={cut}", f"--json={js}",
       f"--out={tmp_path / 'cut.csv'}"],
      cwd=ROOT, capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr[-2000:]
  summary = json.load(open(js))
  decoded = summary["frames_decoded"]
  assert summary["frames_expected"] == 180 and 0 < decoded < 180
  assert summary["num_frames"] == decoded
  assert summary["frames_missing"] == 180 - decoded
  assert summary["undecodable_frames"] == []
  # The last lines of stderr say it, after the decoder's own messages.
  last = proc.stderr.strip().splitlines()[-1]
  assert last.startswith("warning: ") and "truncated" in last, proc.stderr
  assert f"frames {decoded + 1}-180 are not scored" in last


def test_undecodable_frames_get_no_score(trained, tmp_path):
  import cv2  # pylint: disable=g-import-not-at-top
  folder = tmp_path / "frames"
  folder.mkdir()
  for n, frame in enumerate(video_io.iter_frames(trained["video"]), 1):
    cv2.imwrite(str(folder / f"img{n}.png"),
                cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
  for n in range(90, 96):  # a corrupt stretch in the middle
    (folder / f"img{n}.png").write_bytes(b"broken")
  summary = score.run(trained["workdir"], str(folder), fps=FPS,
                      annotate=str(tmp_path / "a.mp4"), progress=False)
  assert summary["num_frames"] == summary["frames_expected"] == 180
  assert summary["frames_decoded"] == 174
  assert summary["undecodable_frames"] == [[90, 95]]
  for typ in ("micro", "macro"):
    assert summary["frames_without_score"][typ]["runs"] == _unscored(
        90, 95, summary["skips"][typ])
  (warning,) = [w for w in summary["warnings"] if "decode" in w]
  assert "6 could not be decoded (frames 90-95)" in warning
  assert summary["annotated_frames"] == 180
  # Nothing decodes: one line, before the model loads.
  for n in range(1, 181):
    (folder / f"img{n}.png").write_bytes(b"broken")
  with pytest.raises(InputError, match="cannot decode"):
    score.run(trained["workdir"], str(folder), fps=FPS, progress=False)


@pytest.fixture(scope="module")
def per_video(trained):
  """`score.run` of the held-out video with the defaults (per-video
  normalisation), shared by the tests that read it unchanged."""
  return score.run(trained["workdir"], trained["video"], progress=False)


def test_a_never_threshold_is_never_predicted(trained, per_video, tmp_path):
  # The deploy folder itself as --workdir, with thresholds that say "never".
  folder = tmp_path / "deploy"
  shutil.copytree(os.path.join(trained["workdir"], "deploy"), folder,
                  ignore=shutil.ignore_patterns("checkpoints"))
  info = json.load(open(folder / "deploy.json"))
  record = info["decoder"]["record"]
  normal = per_video  # the record as trained
  assert normal["never_predicted"] == [
      t for t, thr in zip(("micro", "macro"), record["thresholds"])
      if thr >= threshold.NO_DETECTION]
  assert "macro" in {iv["type"] for iv in normal["intervals"]}
  macro = record["thresholds"][1]
  for thresholds, never in (([threshold.NO_DETECTION, macro], ["micro"]),
                            ([threshold.NO_DETECTION] * 2,
                             ["micro", "macro"])):
    record["thresholds"] = thresholds
    with open(folder / "deploy.json", "w") as f:
      json.dump(info, f)
    summary = score.run(str(folder), trained["video"], progress=False)
    assert summary["never_predicted"] == never
    assert {iv["type"] for iv in summary["intervals"]} == (
        {"micro", "macro"} - set(never))
  # A deploy folder without its record (interrupted training) says so.
  (folder / "deploy.json").unlink()
  (folder / "checkpoints").mkdir()
  with pytest.raises(InputError, match="resumes it"):
    score.run(str(folder), trained["video"], progress=False)


def test_absolute_mode_uses_the_training_range(trained, per_video):
  info = json.load(open(os.path.join(trained["workdir"], "deploy",
                                     "deploy.json")))
  dec = info["decoder"]
  norm = dec["record_absolute"]["norm"]
  assert all(lo < hi for lo, hi in norm.values())
  assert dec["record"]["norm"] == {"micro": None, "macro": None}
  absolute = score.run(trained["workdir"], trained["video"], progress=False,
                       normalise="absolute")
  assert (per_video["normalise"], absolute["normalise"]) == (
      "per_video", "absolute")
  assert absolute["fitted"]["norm"] == norm
  assert per_video["fitted"] == dec["record"]
  assert absolute["thresholds"] == dec["record_absolute"]["thresholds"]
  # Same video, same scores: the raw range does not depend on the mode.
  assert absolute["raw_score_range"] == per_video["raw_score_range"]
  lo, hi = per_video["raw_score_range"]["macro"]
  assert 0.0 <= lo < hi <= 1.0
  with pytest.raises(InputError, match="normalise"):
    score.run(trained["workdir"], trained["video"], progress=False,
              normalise="zscore")
