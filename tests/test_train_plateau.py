"""The learning-rate plateau rule (worked by hand) and its use in the loop."""
import json

import jax
import numpy as np
import pytest

from mespot_jax.train import plateau
from mespot_jax.train import state as state_lib
from tests import test_train_loop


def test_rule_worked_by_hand():
  # Two folds, "max" mode, patience 2, factor 0.5, floor 0.2.
  # Fold 0: 0.5, 0.6, 0.6, 0.55 -> improves twice, then two bad epochs:
  #   halved after epoch 3, counter restarts.
  # Fold 1: 0.9 then NaN, NaN: NaN never improves -> halved after epoch 2;
  #   inactive in epoch 3 (state kept); then 0.1, 0.1: halved again, then
  #   held at the floor 0.2 (0.25 -> max(0.125, 0.2)).
  s = plateau.init(2)
  metrics = [(0.5, 0.9), (0.6, np.nan), (0.6, np.nan), (0.55, 0.8),
             (0.7, 0.1), (0.7, 0.1), (0.7, 0.1), (0.7, 0.1)]
  active = [(True, True)] * 3 + [(True, False)] + [(True, True)] * 4
  scales, bads = [], []
  for m, a in zip(metrics, active):
    s = plateau.update(s, m, a, "max", 2, 0.5, 0.2)
    scales.append(s.scale.tolist())
    bads.append(s.bad_epochs.tolist())
  assert [x[0] for x in scales] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
  assert [x[0] for x in bads] == [0, 0, 1, 0, 0, 1, 0, 1]
  assert [x[1] for x in scales] == [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2]
  assert [x[1] for x in bads] == [0, 1, 0, 0, 1, 0, 1, 0]
  # "min" mode reads a loss: lower is better.
  s = plateau.init(1)
  for loss in (1.0, 0.8, 0.9, 0.95):
    s = plateau.update(s, [loss], [True], "min", 2, 0.5, 0.01)
  assert s.scale.tolist() == [0.5]
  back = plateau.State.from_json(json.loads(json.dumps(s.to_json())))
  for field in ("scale", "best", "bad_epochs"):
    np.testing.assert_array_equal(getattr(back, field), getattr(s, field))
  with pytest.raises(ValueError, match="mode"):
    plateau.update(s, [1.0], [True], "none", 2, 0.5, 0.01)


def test_plateau_optimizer_takes_a_per_fold_rate():
  # SGD on a linear loss moves each parameter by its fold's rate.
  tx = state_lib.make_optimizer("sgd", 0.1, "plateau")
  w = jax.numpy.zeros((3,))
  opt = jax.vmap(tx.init)(w)
  state = state_lib.TrainState(step=0, apply_fn=None, params=w, tx=tx,
                               opt_state=opt, batch_stats={}, rng=w)
  state = state_lib.set_learning_rate(state, [0.1, 0.05, 0.025])
  np.testing.assert_allclose(state_lib.learning_rate_of(state),
                             [0.1, 0.05, 0.025], rtol=1e-6)
  upd, _ = jax.vmap(tx.update)(jax.numpy.ones((3,)), state.opt_state, w)
  np.testing.assert_allclose(-np.asarray(upd), [0.1, 0.05, 0.025], rtol=1e-6)


setup = test_train_loop.setup


def test_loop_halves_a_stalled_folds_rate_and_resumes_with_it(setup,
                                                              tmp_path):
  # Patience 1 on the validation loss over 4 epochs: a fold whose loss did
  # not fall in an epoch trains the next epoch at half the rate. The
  # history's rates must follow the rule applied to the history's losses.
  # The four folds in one sharded chunk, four epochs and a rate set after
  # every epoch (and changed where a fold stalled): one compiled train step
  # for all of it. (Across chunks of the constant schedule:
  # test_train_loop.test_same_seed_same_result_and_resume_matches.)
  # A rate of 0.05 over four epochs makes the tiny folds' validation losses
  # bounce (at 0.007 over three, whether any fold stalls at all turned on
  # a validation loss moving by under 1e-3, and one CI run saw none).
  kw = dict(lr_schedule="plateau", lr_plateau_patience=1,
            lr_plateau_factor=0.5, lr_plateau_min_scale=0.01,
            patience=10, folds_per_step=4, learning_rate=0.05,
            num_epochs=4)
  # Emptied first: another test in this process may have compiled it.
  step = test_train_loop._train_step_of(setup, **kw)
  step.clear_cache()
  # The uninterrupted run needs no checkpoint but its last (nor does the
  # resumed one: its result is compared, not resumed from).
  once = test_train_loop.LAST_CHECKPOINT_ONLY
  full = test_train_loop._train(setup, tmp_path / "a", **kw, **once)
  assert step._cache_size() == 1  # pylint: disable=protected-access
  base = kw["learning_rate"]
  s = plateau.init(len(full.history[0]["learning_rate"]))
  for h in full.history:
    np.testing.assert_allclose(h["learning_rate"], base * s.scale, rtol=1e-6)
    s = plateau.update(s, h["val_loss"], h["active"], "min", 1, 0.5, 0.01)
  assert min(min(h["learning_rate"]) for h in full.history) < base  # acted
  with pytest.raises(Exception, match="simulated crash"):
    test_train_loop._train(setup, tmp_path / "c", crash_after=5, **kw)
  resumed = test_train_loop._train(setup, tmp_path / "c", **kw, **once)
  np.testing.assert_array_equal(test_train_loop._flat(full),
                                test_train_loop._flat(resumed))
  assert [h["learning_rate"] for h in resumed.history] == [
      h["learning_rate"] for h in full.history]
