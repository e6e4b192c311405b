"""Deploy of a recognition method and `mespot_jax.score --clip`.

One module-scoped run: the ConvLSTM's smoke config on `synthetic_me/tiny`
with `train.deploy=True` and the prior calibration (one LOSO fold of one
one-step epoch, to keep the test short: the deploy model trains after the folds as in any run).
A clip of the rendering is exported as numbered PNG frames and scored
through `score --clip`; train/serve parity: the model input prepared from
the frame folder is the store's, pixel for pixel, and so are the class
probabilities. Known answers: a planted calibration bias decides the
label. Bad inputs are refused with one line, before the model loads.
"""
import json
import os
import shutil
import subprocess
import sys

import cv2
import ml_collections
import numpy as np
import pytest

from mespot_jax import deploy, experiment, methods, score, stream_scoring
from mespot_jax.builders.synthetic_me import synthetic_me_dataset_builder as sme
from mespot_jax.config import load_module as load_config
from mespot_jax.data import datasets
from mespot_jax.data.clip_store import ClipStore
from mespot_jax.data.clips import ClipSource
from mespot_jax.errors import InputError
from mespot_jax.methods import partnet_data
from mespot_jax.synthetic import clips as clips_lib
from mespot_jax.train import loop as loop_lib

synthetic_convlstm = load_config("synthetic_convlstm")
synthetic_partnet = load_config("synthetic_partnet")

pytestmark = pytest.mark.slow  # trains a tiny model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIP = "s02_03"  # a clip of a validation subject of the deploy model


def _export(params, folder, first=1):
  """Writes a rendered clip as `frame_<n>.png` frames numbered from
  `first` (PNG: lossless, so the pixels are the rendering's)."""
  os.makedirs(folder, exist_ok=True)
  for n, frame in enumerate(clips_lib.iter_clip_frames(params), start=first):
    cv2.imwrite(os.path.join(folder, f"frame_{n:05d}.png"),
                cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
  return folder


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, tfds_dir):
  root = tmp_path_factory.mktemp("recognition_deploy")
  config = synthetic_convlstm.get_config("smoke")
  config.dataset.data_dir = tfds_dir  # shared (tests/conftest.py)
  config.train.deploy = True
  config.train.test_folds = ("s01",)
  config.eval.calibration = "prior"
  # What the tests read is the deploy record and the model it saved, not
  # how well it learnt: one epoch of one step (the fold's and the deploy
  # model's) is enough.
  config.train.num_epochs = 1
  config.train.steps_per_epoch = 1
  # Built here in this process (no worker start-up); the run finds it.
  ClipSource.prepare("synthetic_me", config.dataset.data_dir, "tiny",
                     workers=1)
  workdir = str(root / "run")
  experiment.run(config, workdir)
  store = datasets.open_store(config, "recognition")
  builder = sme.Builder(data_dir=config.dataset.data_dir, config="tiny")
  params = {cid: p for cid, _, p in builder.clip_params()}
  index = [c.clip for c in store.clips].index(CLIP)
  folder = _export(params[CLIP], str(root / "clip_frames"))
  return dict(config=config, workdir=workdir, store=store, index=index,
              params=params, folder=folder, root=root)


def _key(store, i):
  c = store.clips[i]
  return c.onset, c.apex, c.offset


def test_deploy_record_holds_decoder_and_preprocessing_not_the_config(
    deployed):
  with open(os.path.join(deployed["workdir"], "deploy", "deploy.json")) as f:
    info = json.load(f)
  assert info["task"] == "recognition" and info["method"] == "convlstm"
  assert "config" not in info  # not the experiment config ...
  # ... only what rebuilds the model.
  assert sorted(info["model_config"]) == ["convlstm", "dataset", "decoder",
                                          "eval",
                                          "method"]
  assert info["model_config"]["dataset"] == {"num_classes": 3}
  assert info["model_config"]["convlstm"]["model"]["filters"] == 4  # smoke
  decoder = info["decoder"]
  assert decoder["classes"] == ["negative", "positive", "surprise"]
  assert decoder["name"] == "label"
  assert decoder["records"]["model"]["calibration"] == "prior"
  bias = decoder["records"]["model"]["bias"]
  assert len(bias) == 3 and any(bias) and abs(sum(bias)) < 1e-5
  # synthetic_me/tiny: 32x32 grey crops, unmasked; the smoke config reads
  # them as stored, 9 frames a clip; the builder's tracker window.
  assert info["preprocess"] == {
      "clip_frames": 9, "image_size": 32, "grey": True, "align_size": 32,
      "align_grey": True, "mask_face": False, "smooth_window": 5}
  assert info["train_fps"] == [30.0]


def test_score_clip_cli_prints_label_and_probabilities(deployed, tmp_path):
  onset, apex, offset = _key(deployed["store"], deployed["index"])
  out = str(tmp_path / "clip.json")
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.score",
       f"--workdir={deployed['workdir']}", f"--clip={deployed['folder']}",
       f"--onset={onset}", f"--apex={apex}", f"--offset={offset}",
       f"--json={out}"], cwd=ROOT, capture_output=True, text=True,
      timeout=300)
  assert proc.returncode == 0, proc.stderr[-2000:]
  lines = proc.stdout.strip().splitlines()
  assert lines[0].startswith("label ")
  label = lines[0].split()[1]
  probs = dict((l.split()[0], float(l.split()[1])) for l in lines[1:])
  assert list(probs) == ["negative", "positive", "surprise"]
  assert sum(probs.values()) == pytest.approx(1.0, abs=2e-4)
  assert label == max(probs, key=probs.get)
  summary = json.load(open(out))
  assert summary["label"] == label and summary["task"] == "recognition"
  assert summary["frame_numbers"][0] == onset
  assert summary["frame_numbers"][-1] == offset
  assert apex in summary["frame_numbers"]


def test_train_serve_parity(deployed, tmp_path):
  """The exported frames through `score`'s clip path give the store's
  model input exactly, and the same probabilities and label."""
  store, i = deployed["store"], deployed["index"]
  dep = deploy.load_deployment(deployed["workdir"])
  onset, apex, offset = _key(store, i)
  scored = stream_scoring.score_clip(dep, deployed["folder"], onset, apex,
                                     offset)
  np.testing.assert_array_equal(scored.clip.x, store.x[i])
  # Numbered from 101 as a release's files may be: the same frames.
  shifted = _export(deployed["params"][CLIP], str(tmp_path / "from101"),
                    first=101)
  again = stream_scoring.prepare_clip(dep.preprocess, shifted, onset + 100,
                                      apex + 100, offset + 100)
  np.testing.assert_array_equal(again.x, store.x[i])
  # Not vacuous: another clip's key frames give other frames.
  j = next(k for k in range(len(store.clips)) if not np.array_equal(
      store.x[k], store.x[i]))
  other = stream_scoring.prepare_clip(dep.preprocess, deployed["folder"],
                                      *_key(store, j))
  assert not np.array_equal(other.x, store.x[i])
  # The store path of the run: the method's scores and its predict.
  want = dep.method.score(dep.variables, store, [i], {})["model"][i]
  np.testing.assert_allclose(scored.probabilities["model"], want,
                             rtol=0, atol=1e-6)
  fitted = {"model": dep.records["model"]}
  row = dep.method.predict(store, [i], {"model": {i: want}},
                           fitted)["model"][0]
  assert scored.label == row["pred"]


def _copy_with_bias(workdir, dest, bias):
  shutil.copytree(os.path.join(workdir, "deploy"), dest)
  path = os.path.join(dest, deploy.DEPLOY_JSON)
  info = json.load(open(path))
  info["decoder"]["records"]["model"]["bias"] = bias
  json.dump(info, open(path, "w"))
  return dest


def test_planted_bias_decides_the_label(deployed, tmp_path):
  onset, apex, offset = _key(deployed["store"], deployed["index"])
  for k, name in enumerate(("negative", "positive", "surprise")):
    bias = [0.0, 0.0, 0.0]
    bias[k] = 50.0
    run = _copy_with_bias(deployed["workdir"], str(tmp_path / name), bias)
    s = score.run_clip(run, deployed["folder"], onset, apex, offset,
                       echo=False)
    assert s["label"] == name
    assert s["probabilities"][name] > 0.99
    # The model's own probabilities do not move with the bias.
    assert sum(s["model_probabilities"].values()) == pytest.approx(1.0)


def _bad_clip_inputs(deployed, tmp_path):
  """(workdir, clip, onset, apex, offset, message) that must fail."""
  store, i = deployed["store"], deployed["index"]
  onset, apex, offset = _key(store, i)
  w, folder = deployed["workdir"], deployed["folder"]
  gap = str(tmp_path / "gap")
  shutil.copytree(folder, gap)
  os.remove(os.path.join(gap, "frame_00005.png"))
  spotting = tmp_path / "spotting_run" / "deploy"
  spotting.mkdir(parents=True)
  (spotting / deploy.DEPLOY_JSON).write_text(json.dumps(
      {"format_version": deploy.FORMAT_VERSION, "method": "yap3dcnn",
       "model_dir": "model"}))
  n = store.clips[i].num_frames
  return [
      (w, folder, offset, apex, onset, "expected onset <= apex <= offset"),
      (w, gap, onset, apex, offset, "frames 5..5 are missing"),
      (w, folder, onset, apex, n + 3, f"past the clip's last frame {n}"),
      (w, str(tmp_path / "nowhere"), onset, apex, offset,
       "no such video file"),
      (w, folder, onset, None, offset, "--apex not given"),
      (str(spotting.parent), folder, onset, apex, offset,
       "pass --video=PATH instead of --clip"),
  ]


def test_bad_clip_inputs_fail_before_the_model_loads(deployed, tmp_path,
                                                     monkeypatch):
  def load(workdir):
    raise AssertionError(f"model of {workdir} loaded before the inputs "
                         "were checked")
  monkeypatch.setattr(deploy, "load_deployment", load)
  for w, clip, onset, apex, offset, message in _bad_clip_inputs(
      deployed, tmp_path):
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
      score.run_clip(w, clip, onset, apex, offset)
  # A recognition deploy model given a video to spot in.
  with pytest.raises(InputError, match="pass --clip=PATH"):
    score.run(deployed["workdir"], deployed["folder"], fps=30.0,
              progress=False)


def test_bad_input_cli_one_line_exit_2(deployed, tmp_path):
  """Two of the cases above through the command line (the others take
  the same path to stderr)."""
  cases = _bad_clip_inputs(deployed, tmp_path)
  w, folder, onset, apex, offset, _ = cases[0]
  runs = [
      ([f"--clip={folder}", f"--onset={onset}", f"--apex={apex}",
        f"--offset={offset}"], w, "expected onset <= apex <= offset"),
      ([f"--video={folder}", "--fps=30"], w, "instead of --video"),
  ]
  for args, workdir, message in runs:
    proc = subprocess.run(
        [sys.executable, "-m", "mespot_jax.score", f"--workdir={workdir}",
         *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert message in lines[0]


def test_deploy_refused_before_training(deployed, monkeypatch):
  """A store made in memory has no preprocessing spec to deploy with: the
  run stops before any fold trains."""
  def train(*a, **k):
    raise AssertionError("trained before the deploy check")
  monkeypatch.setattr(loop_lib, "train_folds", train)
  store = deployed["store"]
  in_memory = ClipStore(store.clips, store.x, store.labels, store.classes,
                        store.image_size, store.channels)
  config = ml_collections.ConfigDict(deployed["config"].to_dict())
  with pytest.raises(InputError, match="set train.deploy=False"):
    experiment.run(config, str(deployed["root"] / "refused"),
                   store=in_memory)
  config.train.num_val_subjects = 4  # the tiny set has four subjects
  with pytest.raises(InputError, match="lower train.num_val_subjects"):
    experiment.run(config, str(deployed["root"] / "refused2"), store=store)


def test_partnet_deploys_and_its_clip_flow_is_the_stores(deployed):
  """The part-based recogniser rebuilds from its deploy config, and the
  onset->apex flow of a one-clip store (what `score --clip` hands its
  `score`) is the flow of that clip in the whole store."""
  config = synthetic_partnet.get_config("smoke")
  config.dataset.num_classes = 3
  method = methods.get(config)
  store = deployed["store"]
  deploy.check_deployable(config, method, store)
  config.partnet.model.pretrained = "/training/machine/resnet18.npz"
  record = method.deploy_config()
  assert record["partnet"]["model"]["pretrained"] == ""  # read at init only
  rebuilt = methods.get(ml_collections.ConfigDict(record))
  config.partnet.model.pretrained = ""
  assert rebuilt.model == method.model
  block = method.block
  block.flow = "farneback"  # the same path as TV-L1, much cheaper here
  i = deployed["index"]
  dep = deploy.load_deployment(deployed["workdir"])
  clip = stream_scoring.prepare_clip(dep.preprocess, deployed["folder"],
                                     *_key(store, i))
  one = stream_scoring.clip_store(clip, store.classes)
  np.testing.assert_allclose(partnet_data.target_flows(one, block)[0],
                             partnet_data.target_flows(store, block)[i],
                             rtol=0, atol=1e-5)


def test_a_method_that_cannot_score_offline_is_refused_up_front():
  """A spotting method without `score_stream`, or a task without deploy
  models: `check_deployable` (run before training) says so in one line."""
  tiny = load_config("tiny")
  from mespot_jax.methods import spotting  # pylint: disable=g-import-not-at-top
  from tests import frame_method  # pylint: disable=g-import-not-at-top

  class NoStream(frame_method.FrameMethod):
    score_stream = spotting.SpottingMethod.score_stream

  class OtherTask(frame_method.FrameMethod):
    task = "segmentation"

  config = frame_method.config(tiny.get_config())
  deploy.check_deployable(config, frame_method.FrameMethod(config))  # fine
  with pytest.raises(InputError, match="no score_stream"):
    deploy.check_deployable(config, NoStream(config))
  with pytest.raises(InputError, match="for recognition, spotting methods"):
    deploy.check_deployable(config, OtherTask(config))
