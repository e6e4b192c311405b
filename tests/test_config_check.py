"""Configs are plain data, checked in one place before any data is opened.

Every experiment config (and its `:smoke` variant) builds without JAX and
passes the check; a misspelt value of any choice-valued field fails at
once with one line naming the field, the value and the allowed ones; the
`--dry_run` plan of every config exits 0 without touching data; a bad
value on the command line exits 2.
"""
import glob
import json
import os
import subprocess
import sys

import pytest

from mespot_jax import config as config_lib
from mespot_jax.config import check
from mespot_jax.config import plan
from mespot_jax.config import vocab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(
    os.path.relpath(p, ROOT)
    for p in glob.glob(os.path.join(ROOT, "configs", "*.py")))


def test_every_config_builds_without_jax_and_passes_the_check():
  code = (
      "import sys\n"
      "from mespot_jax import config\n"
      "from mespot_jax.config import check, plan\n"
      f"for path in {CONFIGS!r}:\n"
      "  for variant in ('', 'smoke'):\n"
      "    c = config.load(path, variant)\n"
      "    check.validate(c)\n"
      "    plan.describe(c, 'runs/x')\n"
      "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
      "('jax', 'flax', 'tensorflow_datasets', 'grain'))\n"
      "assert not loaded, loaded\n")
  proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("path, field, bad, allowed", [
    ("synthetic_convlstm", "eval.calibration", "prio", ("none", "prior")),
    ("synthetic_3dcnn", "yap3dcnn.sampler.test_skip", "kht",
     ("kth", "manual")),
    ("synthetic_3dcnn", "eval.automated.micro.normalise", "min_max",
     vocab.NORMALISE),
    ("synthetic_3dcnn", "eval.automated.macro.widen_to", "median",
     ("none", "train_median")),
    ("synthetic_lbcnn", "eval.automated.micro.normalise", "nan",
     vocab.NORMALISE),
    ("synthetic_lbcnn", "eval.postprocess", "automatic",
     ("automated", "manual")),
    ("synthetic_mdmd", "mdmd.flow", "tvl-1", ("farneback", "tvl1")),
    ("synthetic_mdmd", "decoder.name", "peak", ("runs", "apex", "peaks")),
    ("synthetic_lstm", "decoder.apex.threshold", "papers",
     ("paper", "fitted")),
    ("synthetic_flow_roi", "decoder.peaks.threshold_rule", "relativ",
     ("relative", "absolute")),
    ("synthetic_convlstm", "decoder.name", "runs", ("label",)),
    ("synthetic_partnet", "partnet.source.name", "ckplus",
     ("synthetic_ckplus_like", "ck_plus", "none")),
    ("synthetic_3dcnn", "train.lr_schedule", "cos",
     ("constant", "cosine", "plateau")),
    ("synthetic_3dcnn", "train.early_stopping_metric", "uf1",
     ("loss", "none", "auc")),
    ("synthetic_3dcnn", "dataset.name", "synthetic_me",
     vocab.SPOTTING_DATASETS),
    ("samm_convlstm", "dataset.label_set", "5class",
     ("", "3class", "samm_5class")),
])
def test_a_misspelt_value_names_field_value_and_allowed(path, field, bad,
                                                        allowed):
  c = config_lib.load(path)
  node = c
  *parents, leaf = field.split(".")
  for key in parents:
    node = node[key]
  node[leaf] = bad
  with pytest.raises(check.ConfigError) as e:
    check.validate(c)
  msg = str(e.value)
  assert "\n" not in msg
  assert field in msg and repr(bad) in msg
  for a in allowed:
    assert repr(a) in msg


def test_subset_fields_and_counts():
  c = config_lib.load("synthetic_lstm")
  c.tran_lstm.types = ("micro", "mcro")
  with pytest.raises(check.ConfigError, match="tran_lstm.types"):
    check.validate(c)
  c.tran_lstm.types = ()
  with pytest.raises(check.ConfigError, match="non-empty"):
    check.validate(c)
  c = config_lib.load("synthetic_3dcnn")
  c.train.batch_size = 0
  with pytest.raises(check.ConfigError, match="train.batch_size=0"):
    check.validate(c)
  c = config_lib.load("samm_convlstm")  # 3 classes
  c.dataset.label_set = "samm_5class"
  with pytest.raises(check.ConfigError,
                     match="num_classes=3 but dataset.label_set='samm_5class'"
                     " has 5 classes"):
    check.validate(c)
  c = config_lib.load("samm_3dcnn")
  c.dataset.seed = 3
  with pytest.raises(check.ConfigError, match="recorded release"):
    check.validate(c)


def test_plan_reads_whether_the_dataset_is_built(tmp_path):
  c = config_lib.load("synthetic_3dcnn")
  c.dataset.data_dir = str(tmp_path)
  assert plan.built_version(c) is None
  assert "not built yet" in plan.describe(c, "runs/x")
  version = tmp_path / "synthetic_lv" / "casme2" / "9.9.9"
  version.mkdir(parents=True)
  (version / "dataset_info.json").write_text("{}")
  assert plan.built_version(c) == str(version)
  assert f"built: {version}" in plan.describe(c, "runs/x")
  c.dataset.seed = 7  # a seeded rendering is another, unbuilt, config
  assert plan.built_version(c) is None


def test_plan_names_seeded_renderings_as_the_builders_do():
  from mespot_jax.builders.synthetic_lv import synthetic_lv_dataset_builder as lv  # pylint: disable=g-import-not-at-top
  from mespot_jax.builders.synthetic_me import synthetic_me_dataset_builder as me  # pylint: disable=g-import-not-at-top
  for path, syn in (("synthetic_3dcnn", lv), ("synthetic_convlstm", me)):
    c = config_lib.load(path)
    c.dataset.seed = 4
    base = c.dataset.config or syn.Builder.DEFAULT_CONFIG_NAME
    assert plan.builder_config_name(c) == syn.seeded_config(base, 4).name


def test_dry_run_of_every_config_touches_no_data(tmp_path):
  data_dir = tmp_path / "tfds"
  for path in CONFIGS:
    workdir = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "mespot_jax.main", f"--config={path}",
         f"--config.dataset.data_dir={data_dir}", f"--workdir={workdir}",
         "--dry_run"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (path, proc.stderr[-2000:])
    method = config_lib.load(path).method
    assert proc.stdout.startswith(f"method    {method} "), proc.stdout
    assert "folds" in proc.stdout and "writes" in proc.stdout
    assert not workdir.exists() and not data_dir.exists()


def test_a_bad_value_on_the_command_line_exits_2_with_one_line(tmp_path):
  proc = subprocess.run(
      [sys.executable, "-m", "mespot_jax.main",
       "--config=configs/synthetic_convlstm.py:smoke",
       "--config.eval.calibration=prio", f"--workdir={tmp_path / 'run'}"],
      cwd=ROOT, capture_output=True, text=True, timeout=120)
  assert proc.returncode == 2
  lines = proc.stderr.strip().splitlines()
  assert lines == ["error: config field eval.calibration='prio' is not "
                   "allowed; expected one of 'none', 'prior'"]
  assert not (tmp_path / "run").exists()


def test_check_lists_what_the_code_reads():
  # The check's vocabularies are the code's own: an independent reading
  # of the code's registries must agree with them.
  from mespot_jax.metrics import intervals  # pylint: disable=g-import-not-at-top
  from mespot_jax.spotting import postprocess  # pylint: disable=g-import-not-at-top
  from mespot_jax.train import losses  # pylint: disable=g-import-not-at-top
  assert set(vocab.PROTOCOLS) == set(intervals.PROTOCOLS)
  assert set(vocab.POSTPROCESSORS) == set(postprocess.POSTPROCESSORS)
  from mespot_jax.config.blocks import yap3dcnn  # pylint: disable=g-import-not-at-top
  assert set(yap3dcnn.CHOICES["loss.name"]) == set(losses.LOSSES)
  assert json.dumps(vocab.TYPES) == json.dumps(["micro", "macro"])


def test_every_registered_method_has_a_plain_data_block():
  from mespot_jax import methods  # pylint: disable=g-import-not-at-top
  from mespot_jax.config import blocks  # pylint: disable=g-import-not-at-top
  built_in = {n for n, e in methods.METHODS.items()
              if isinstance(e, str) or e.__module__.startswith("mespot_jax")}
  assert built_in == set(blocks.NAMES)
  for name in blocks.NAMES:
    cls = methods.get_class(name)
    block = blocks.get(name)
    assert cls.task == block.TASK, name
    assert set(cls.metric_modes) == set(block.VAL_METRICS), name
    assert cls.trains == getattr(block, "TRAINS", True), name
