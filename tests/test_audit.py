"""The leakage audit: choices ignore the test subject, and leaks are caught.

Known answers for the label perturbations; direct checks that the k-th
frame skips, interval widths and thresholds of a fold do not move when its
test subject's labels do (and that the same choices computed over every
subject would move: the check can fail); the audit passing on the tiny
config's 3D-CNN and on the test-only method; and failing, naming the fold
and the choice, on two deliberately leaky variants.
"""
import dataclasses

import jax
import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import audit, experiment, methods
from mespot_jax.data import folds as folds_lib
from mespot_jax.data.frames import relabelled
from mespot_jax.data.schema import Interval
from mespot_jax.data.samples import PairSampler
from mespot_jax.methods import yap3dcnn
from mespot_jax.spotting import skips as skips_lib
from mespot_jax.train import state as state_lib
from tests import fake_spotting, frame_method

tiny = load_config("tiny")


def _tiny():
  """The tiny config, saving a checkpoint after the last epoch only: the
  audit trains each fold afresh and never resumes (a save costs about as
  much as a few of these tiny steps)."""
  config = tiny.get_config()
  config.train.checkpoint_every_epochs = 1000
  return config


@pytest.fixture(scope="module")
def store():
  return fake_spotting.make_store(num_subjects=4, num_frames=90)


def test_perturbations_known_answers(store):
  subject = "s01"
  (i,) = [k for k, v in enumerate(store.videos) if v.subject == subject]
  v = store.videos[i]  # 90 frames; macro and micro intervals
  drop = audit.perturb(store, subject, "drop")
  assert drop.videos[i].intervals == () and drop.labels[i].sum() == 0
  shift = audit.perturb(store, subject, "shift")
  for a, b in zip(v.intervals, shift.videos[i].intervals):
    assert b.offset - b.onset == a.offset - a.onset
    assert b.onset == (a.onset - 1 + 30) % (90 - (a.offset - a.onset)) + 1
  mirror = audit.perturb(store, subject, "permute")  # one video: mirrored
  for a, b in zip(v.intervals, mirror.videos[i].intervals):
    assert (b.onset, b.offset) == (91 - a.offset, 91 - a.onset)
  # Other subjects and every frame are untouched.
  for j, w in enumerate(store.videos):
    if j != i:
      assert drop.videos[j] == w
      np.testing.assert_array_equal(drop.labels[j], store.labels[j])
  np.testing.assert_array_equal(drop.video(i), store.video(i))


def test_skips_widths_and_thresholds_ignore_the_test_subject(store):
  config = tiny.get_config()
  config.eval.automated.macro.widen_to = "train_median"
  config.eval.threshold_criterion = "overall_f1"
  method = methods.get(config)
  fold = folds_lib.make_folds(sorted({v.subject for v in store.videos}), 1,
                              0)[1]
  # Untrained weights of fold 1: scores do not depend on labels.
  fns = method.step_fns
  init = state_lib.init_stacked(fns.model, state_lib.make_optimizer(
      "adam", 1e-3), method.example_input(store), [1], 0, None)
  variables = jax.tree.map(lambda a: np.asarray(a[0]),
                           state_lib.variables_of(init))
  # The test subject's intervals stretched to 60 and 20 frames: their
  # lengths change, which the k-th skip and the widths would see.
  stretched = relabelled(store, [
      dataclasses.replace(v, intervals=(
          Interval("macro", 10, 69), Interval("micro", 70, 89)))
      if v.subject == fold.test_subject else v for v in store.videos])
  altered = {how: audit.perturb(store, fold.test_subject, how)
             for how in audit.PERTURBATIONS}
  altered["stretched"] = stretched
  ref = experiment.evaluate_fold(method, store, fold, variables)
  for how, moved in altered.items():
    got = experiment.evaluate_fold(method, moved, fold, variables)
    assert got.choices == ref.choices, how
    assert got.fitted == ref.fitted, how
  # The same rules over every subject would see the change: the check can
  # fail.
  everyone = lambda s: skips_lib.kth_frame_skips(
      [iv for v in s.videos for iv in v.intervals], 30.0)
  assert everyone(store) != everyone(stretched)


@pytest.mark.slow
def test_audit_passes_on_the_tiny_config_and_the_plugged_method(store,
                                                                tmp_path):
  # One fold: every choice and perturbation is checked on it (two folds
  # that know different subjects: test_audit_lbcnn).
  record = audit.audit(_tiny(), str(tmp_path / "yap"), (2,), store=store)
  assert record["passed"], record["moved"]
  checked = {r["choice"] for r in record["checked"]}
  assert checked == {"epoch", "weights", "validation", "skips"} | {
      f"{field}[{kind}]" for kind in ("model", "baseline")
      for field in ("postprocess", "post", "thresholds", "norm")}
  assert {r["perturbation"] for r in record["checked"]} == set(
      audit.PERTURBATIONS)
  plugged = audit.audit(frame_method.config(_tiny()),
                        str(tmp_path / "frame"), (1,), ("drop",), store=store)
  assert plugged["passed"], plugged["moved"]


class _LeakySkips(yap3dcnn.Yap3DCNN):
  """k-th frame skips from every subject's intervals, the test's included."""
  name = "leaky_skips"

  def fold_choices(self, store, fold):
    out = super().fold_choices(store, fold)
    ivs = [iv for v in store.videos for iv in v.intervals]
    out["skips"] = {"fps": 30.0,
                    "skips": list(skips_lib.kth_frame_skips(ivs, 30.0))}
    return out


class _LeakySampler(PairSampler):
  """Validation samples drawn from the validation AND the test subjects."""

  def subjects_of(self, fold, purpose):
    subjects = super().subjects_of(fold, purpose)
    return subjects + (fold.test_subject,) if purpose == "val" else subjects


class _LeakyEarlyStopping(yap3dcnn.Yap3DCNN):
  name = "leaky_early_stopping"

  def make_sampler(self, store, folds):
    s = self.block.sampler
    return _LeakySampler(store, folds, random_skips=s.random_skips,
                         skip_fps=s.skip_fps, class_probs=s.class_probs,
                         augment=yap3dcnn.samples_lib.AugmentConfig(),
                         seed=self.config.seed)


def _leaky_config(cls):
  methods.register(cls)
  config = _tiny()
  config.method = cls.name
  config[cls.name] = config.yap3dcnn
  return config


@pytest.mark.slow
def test_audit_fails_on_leaky_variants_naming_fold_and_choice(store,
                                                              tmp_path):
  # Interval lengths that differ between subjects, so that a k-th skip over
  # every subject moves when one subject's intervals go.
  store = relabelled(store, [dataclasses.replace(v, intervals=(
      Interval("macro", 10, 25 + 8 * i), Interval("micro", 60, 64 + 2 * i)))
                             for i, v in enumerate(store.videos)])
  record = audit.audit(_leaky_config(_LeakySkips), str(tmp_path / "skips"),
                       (1,), ("drop",), retrain=False, store=store)
  assert not record["passed"]
  assert {(r["fold"], r["choice"]) for r in record["moved"]} >= {(1, "skips")}
  assert "skips" in audit.format_table(record).splitlines()[-1]
  config = _leaky_config(_LeakyEarlyStopping)
  config.train.early_stopping_metric = "loss"
  config.train.patience = 1
  config.train.num_epochs = 4
  record = audit.audit(config, str(tmp_path / "es"), (1,), ("drop",),
                       store=store)
  assert not record["passed"]
  assert "validation" in {r["choice"] for r in record["moved"]}
