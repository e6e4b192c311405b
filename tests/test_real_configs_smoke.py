"""Every real-dataset spotting config runs end to end on its builder's dummy
release.

Each `configs/samm_*.py`, `configs/casme2_*.py` and `configs/cas_me3_*.py`
of a spotting method (found by globbing, so a new method's configs are
covered with no change here) builds its dataset from the builder's `dummy_data/` (as the manual
dir, into a data dir shared by the configs of that builder), trains (or,
for a training-free method, fits) and evaluates every leave-one-subject-out
fold and writes the report. Only sizes shrink (`configs.common.shrink`: the
method's own `smoke` hook, batch, steps; crop and flow sides here); each
config's frame rate, sampler, loss, post-processing and thresholds stay as
they are, so e.g. SAMM's skips of 200..400 frames at 200 fps meet
20..30-frame videos.
"""
import glob
import json
import math
import os

import pytest

from mespot_jax.config import check
from mespot_jax.config import common
from mespot_jax.config import plan
from mespot_jax.config import load_module as load_config
from mespot_jax import experiment, methods
from mespot_jax.data.source import SpottingSource
from mespot_jax.metrics import io as metrics_io

pytestmark = pytest.mark.slow  # builds the dummy releases, runs each config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BUILDERS = os.path.join(ROOT, "data_builders")

# Builder -> subjects of its dummy release.
SUBJECTS = {"samm_lv": ["006", "007", "011"],
            "cas_me2": ["s15", "s16", "s17"],
            "cas_me3": ["spNO.1", "spNO.2", "spNO.3"]}
# Fields that define a config's method, kept through the shrink.
OWN_FIELDS = ("sampler", "loss", "post", "k_s", "threshold",
              "threshold_rule", "feature", "target", "types", "micro_max_s")


def _config_names() -> list[str]:
  names = []
  for path in sorted(glob.glob(os.path.join(ROOT, "configs", "*.py"))):
    name = os.path.splitext(os.path.basename(path))[0]
    if not name.startswith(("samm_", "casme2_", "cas_me3_")):
      continue
    config = load_config(name).get_config()
    if config.dataset.name in SUBJECTS:  # spotting releases only
      names.append(name)
  return names


CASES = _config_names()
# Trained configs that are shrunk and checked here but not run: the same
# method trains end to end on the other release above.
CONFIG_ONLY = ("casme2_3dcnn", "casme2_lstm", "samm_lbcnn")
RUN_CASES = [c for c in CASES if c not in CONFIG_ONLY]


def _own(config) -> dict:
  block = config[config.method]
  return {f: (block[f].to_dict() if hasattr(block[f], "to_dict")
              else block[f]) for f in OWN_FIELDS if f in block}


@pytest.fixture(scope="module")
def data_dirs(tmp_path_factory):
  return {b: str(tmp_path_factory.mktemp(b)) for b in SUBJECTS}


@pytest.fixture(scope="module")
def runs():
  return {}


def _shrunk(name, data_dir):
  """The config `name`, sized for its builder's dummy release."""
  config = load_config(name).get_config()
  builder = config.dataset.name
  config.dataset.data_dir = data_dir
  config.dataset.manual_dir = os.path.join(_BUILDERS, builder, "dummy_data")
  config.dataset.prepare = True
  config.dataset.image_size = 32
  common.shrink(config)
  block = config[config.method]
  if "flow_size" in block:
    block.flow_size = 32
  if "cache_dir" in block:
    block.cache_dir = "none"
  if "span_s" in block:  # the dummy videos are 20-30 frames long
    block.span_s, block.window_s = 0.02, 0.1  # (SAMM: 4 and 20 frames)
    block.feature_cache_dir = "none"
  config.train.num_epochs = 2
  config.train.steps_per_epoch = 2
  config.train.checkpoint_every_epochs = 1000  # after the last epoch only
  config.eval.score_batch_size = 16
  return config


@pytest.fixture(params=RUN_CASES)
def run(request, data_dirs, runs, tmp_path_factory):
  """The config's run on the dummy release (once per module)."""
  name = request.param
  if name not in runs:
    own = _own(load_config(name).get_config())
    builder = load_config(name).get_config().dataset.name
    config = _shrunk(name, data_dirs[builder])
    workdir = str(tmp_path_factory.mktemp(name) / "run")
    metrics = experiment.run(config, workdir)
    runs[name] = dict(name=name, builder=builder, own=own, config=config,
                      data_dir=data_dirs[builder], workdir=workdir,
                      metrics=metrics,
                      trains=methods.get_class(config.method).trains)
  return runs[name]


def _on_disk(run) -> dict:
  with open(os.path.join(run["workdir"], "metrics.json"),
            encoding="utf-8") as f:
    return json.load(f)


def test_every_spotting_method_has_real_configs():
  pairs = {(n.split("_", 1)[0],
            load_config(n).get_config().method)
           for n in CASES}
  on_any = {m for _, m in pairs}
  assert on_any >= {"yap3dcnn", "lbcnn", "tran_lstm", "mdmd", "flow_roi"}
  for method in on_any:  # one config per real long-video dataset
    assert {("samm", method), ("casme2", method)} <= pairs, method


def test_trained_methods_run_on_either_release():
  trained = {n for n in RUN_CASES
             if methods.get_class(load_config(n).get_config().method).trains}
  assert not set(CONFIG_ONLY) & set(RUN_CASES)
  assert {n.split("_", 1)[0] for n in trained} == {"samm", "casme2"}
  for name in CONFIG_ONLY:  # its method still trains on the other release
    method = load_config(name).get_config().method
    assert methods.get_class(method).trains, name
    assert any(load_config(n).get_config().method == method
               for n in trained), name


@pytest.mark.parametrize("name", CASES)
def test_shrunk_config_keeps_its_own_settings_and_passes_the_check(
    name, tmp_path):
  """Every config, the untrained `CONFIG_ONLY` ones included: the shrink
  changes sizes only, and the shrunk config passes the check and plans."""
  own = _own(load_config(name).get_config())
  config = _shrunk(name, str(tmp_path / "tfds"))
  assert _own(config) == own
  check.validate(config)
  described = plan.describe(config, str(tmp_path / "run"))
  assert f"method    {config.method} " in described
  assert not (tmp_path / "tfds").exists()


def test_config_keeps_its_own_settings(run):
  config = run["config"]
  assert _own(config) == run["own"]
  saved = json.load(open(os.path.join(run["workdir"], "config.json")))
  assert saved["dataset"]["manual_dir"] == config.dataset.manual_dir
  assert saved["method"] == config.method


def test_every_dummy_subject_is_a_test_fold(run):
  on_disk = _on_disk(run)
  assert on_disk["method"] == run["config"].method
  assert on_disk["dataset"] == run["builder"]
  subjects = SUBJECTS[run["builder"]]
  folds = on_disk["folds"]
  assert [f["test_subject"] for f in folds] == subjects
  for f in folds:
    assert f["test_subject"] not in f["val_subjects"]
    assert len(f["val_subjects"]) == 1
    assert set(f["val_subjects"]) < set(subjects)
  history = on_disk["history"]
  if not run["trains"]:
    assert history == []  # nothing trained
    return
  # Early stopping may end a run before its last epoch; every epoch run
  # trained every fold with finite losses (SAMM's 200..400-frame training
  # skips meet 20..30-frame videos: samplers must clamp them).
  assert [h["epoch"] for h in history] == list(range(len(history)))
  assert history
  for h in history:
    assert len(h["train_loss"]) == len(folds)
    assert all(math.isfinite(x) and x >= 0 for x in h["train_loss"]), h


def test_report_files_and_metric_keys(run):
  for name in ("metrics.json", "predictions.csv", "ground_truth.csv",
               "config.json"):
    assert os.path.exists(os.path.join(run["workdir"], name)), name
  model = _on_disk(run)["model"]
  for protocol in ("megc2020", "one_to_one"):
    for typ in ("micro", "macro", "overall"):
      row = model[protocol][typ]
      assert set(row) >= {"tp", "fp", "fn", "precision", "recall", "f1"}
      assert 0.0 <= row["f1"] <= 1.0


def test_ground_truth_is_what_the_builder_stored(run):
  source = SpottingSource.open(run["builder"], run["data_dir"])
  assert source.subjects == SUBJECTS[run["builder"]]
  stored = sorted(
      (v.video, v.subject, iv.type, iv.onset, iv.offset, iv.apex, iv.emotion)
      for v in source.videos for iv in v.intervals)
  gt = metrics_io.read_intervals_csv(
      os.path.join(run["workdir"], "ground_truth.csv"))
  got = sorted((r.video, r.subject, r.type, r.onset, r.offset, r.apex,
                r.emotion) for r in gt)
  assert stored  # the dummy releases plant labelled intervals
  assert got == stored


@pytest.mark.parametrize("run", [c for c in RUN_CASES
                                 if c.endswith("_3dcnn")],
                         indirect=True)
def test_3dcnn_skips_baseline_and_scores(run):
  """The 3D-CNN's own outputs: the frame-difference baseline, whole-frame
  test skips, one score file per held-out video."""
  workdir = run["workdir"]
  assert os.path.exists(os.path.join(workdir, "baseline_predictions.csv"))
  on_disk = _on_disk(run)
  for f in on_disk["folds"]:
    # Clamped when the config's skips are longer than the dummy's videos.
    assert all(isinstance(s, int) and s >= 1 for s in f["skips"]["skips"])
  for h in on_disk["history"]:
    assert all(math.isfinite(x) and x >= 0 for x in h["val_loss"]), h
  source = SpottingSource.open(run["builder"], run["data_dir"])
  scores = sorted(n for n in os.listdir(os.path.join(workdir, "scores"))
                  if n.endswith(".npy"))
  assert scores == sorted(f"{v.video}.npy" for v in source.videos)
