"""The leakage audit of spot-then-recognise (`audit.py`, docs/AUDIT.md).

One fold of the STR smoke config: the audit checks both halves (the
spotter's epoch, weights and decoder records; the recogniser's epoch,
weights, validation metrics and `label` decoder record) and passes; two
leaky recognisers fail it, naming the choice that moved: one trained on
the test subject's true micro-expression clips, one whose decoder is
fitted on them.
"""
import dataclasses
import types

import pytest

from mespot_jax import audit
from mespot_jax import config as config_lib
from mespot_jax import methods
from mespot_jax.data import datasets
from mespot_jax.data.frames import relabelled
from mespot_jax.methods import spot_then_recognise as str_lib

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup(tfds_dir):
  """The smoke config, one fold (test subject s02), the `prior`
  calibration (a decoder record that depends on the clips it is fitted
  on), and its data."""
  config = config_lib.load("synthetic_str", "smoke")
  config.dataset.data_dir = tfds_dir
  config.train.test_folds = ("s02",)
  config.train.checkpoint_every_epochs = 1000  # after the last epoch only
  config.str.calibration = "prior"
  return config, datasets.open_store(config, "str")


def _with_test(fold, subjects):
  """`known_clips`' arguments that let the test subject's clips through."""
  return (types.SimpleNamespace(index=fold.index, test_subjects=()),
          set(subjects) | set(fold.test_subjects))


class _TrainsOnTest(str_lib.SpotThenRecognise):
  """The recogniser trained on the test subject's true micro clips too:
  its videos filed under a training subject (a wrong subject column)."""

  def known_clips(self, store, fold, subjects=None):
    if subjects is None:
      store = relabelled(store, [
          dataclasses.replace(v, subject=fold.train_subjects[0])
          if v.subject in fold.test_subjects else v for v in store.videos])
    return super().known_clips(store, fold, subjects)


class _DecoderOnTest(str_lib.SpotThenRecognise):
  """The recogniser's decoder fitted on the validation AND test subjects'
  true clips."""

  def decoder_clips(self, store, fold):
    return self.known_clips(store, *_with_test(fold, fold.val_subjects))


def test_audit_passes_checking_both_halves(setup, tmp_path):
  config, store = setup
  record = audit.audit(config, str(tmp_path), (0,), store=store)
  assert record["passed"], record["moved"]
  checked = {r["choice"] for r in record["checked"]}
  for part in ("spotter", "recogniser"):
    assert {f"{c}[{part}]" for c in ("epoch", "weights", "validation")
            } <= checked
  assert {"calibration[recogniser]", "bias[recogniser]"} <= checked
  assert {"rule[model]", "values[model]"} <= checked  # MDMD's decoder
  assert {r["perturbation"] for r in record["checked"]} == set(
      audit.PERTURBATIONS)


@pytest.mark.parametrize("leaky, retrain, moves", [
    (_TrainsOnTest, True, "weights[recogniser]"),
    (_DecoderOnTest, False, "bias[recogniser]")])
def test_audit_fails_on_leaky_recognisers(setup, tmp_path, monkeypatch,
                                          leaky, retrain, moves):
  config, store = setup
  monkeypatch.setitem(methods.METHODS, "str", leaky)
  record = audit.audit(config, str(tmp_path), (0,), ("shift",), retrain,
                       store=store)
  assert not record["passed"]
  moved = {r["choice"] for r in record["moved"]}
  assert moves in moved
  # The spotter's choices did not move: the leak is the recogniser's.
  assert not {m for m in moved if not m.endswith("[recogniser]")}
  assert moves in audit.format_table(record).splitlines()[-1]
