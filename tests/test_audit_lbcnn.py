"""The leakage audit on the LBCNN: it passes, and a leaky variant fails it.

The smoke config's LBCNN (its paper decoder `runs`, macro intervals
widened to the training subjects' median duration) is audited on a small
in-memory store whose subjects' intervals differ in length: every field
of the decoder's record (`post` with its fitted `min_width`, thresholds,
normalisation) and the kept epoch, weights and validation metrics stay
put when the test subject's labels change. A variant whose decoder takes
the median over every subject, the test subject's included, fails, naming
the fold and the field.
"""
import dataclasses

import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import audit, methods
from mespot_jax.data.frames import relabelled
from mespot_jax.data.schema import Interval
from mespot_jax.methods import lbcnn
from mespot_jax.methods import spotting
from tests import fake_spotting

synthetic_lbcnn = load_config("synthetic_lbcnn")

pytestmark = pytest.mark.slow  # trains a fold per perturbation


@pytest.fixture(scope="module")
def store():
  base = fake_spotting.make_store(num_subjects=4, num_frames=90)
  return relabelled(base, [dataclasses.replace(v, intervals=(
      Interval("macro", 10, 29 + 8 * k), Interval("micro", 60, 64 + k)))
                           for k, v in enumerate(base.videos)])


def _config(name="lbcnn"):
  config = synthetic_lbcnn.get_config("smoke")
  config.eval.automated.macro.widen_to = "train_median"
  config.eval.threshold_criterion = "interval_f1"
  # The audit trains each fold afresh and never resumes: a checkpoint after
  # the last epoch only.
  config.train.checkpoint_every_epochs = 1000
  if name != "lbcnn":
    config.method = name
    config[name] = config.lbcnn
  return config


def test_audit_passes_for_lbcnn(store, tmp_path):
  record = audit.audit(_config(), str(tmp_path / "lbcnn"), (0, 3),
                       store=store)
  assert record["passed"], record["moved"]
  assert {r["choice"] for r in record["checked"]} == {
      "epoch", "weights", "validation", "postprocess[model]", "post[model]",
      "thresholds[model]", "norm[model]"}
  assert {r["perturbation"] for r in record["checked"]} == set(
      audit.PERTURBATIONS)
  widths = {r["value"]["macro"]["min_width"] for r in record["checked"]
            if r["choice"] == "post[model]"}
  assert len(widths) == 2  # folds 0 and 3 know different subjects


class _LeakyWidths(lbcnn.LBCNN):
  """The decoder told every subject's intervals, the test's included."""
  name = "leaky_lbcnn_widths"

  def fit(self, store, fold, indices, scores, criterion=None,
          absolute=False):
    everyone = spotting.units(store, range(len(store.videos)))
    return {kind: self.decoder.fit(spotting.units(store, indices, by_video),
                                   everyone, criterion, absolute)
            for kind, by_video in scores.items()}


def test_audit_fails_on_leaky_widths_naming_fold_and_choice(store, tmp_path):
  methods.register(_LeakyWidths)
  record = audit.audit(_config(_LeakyWidths.name), str(tmp_path / "leaky"),
                       (1,), ("drop",), retrain=False, store=store)
  assert not record["passed"]
  moved = {r["choice"] for r in record["moved"]}
  assert moved == {"post[model]"}
  assert {r["fold"] for r in record["moved"]} == {1}
  assert audit.format_table(record).splitlines()[0].endswith("FAILED")
