"""Tests of the LOSO training loop: resume, determinism, sharding, stopping.

All runs share one tiny model and the compiled steps (cached per model and
loss), on small in-memory videos (`fake_spotting`).
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mespot_jax.config import load_module as load_config
from mespot_jax import methods
from mespot_jax.data import folds as folds_lib
from mespot_jax.methods import yap3dcnn
from mespot_jax.train import loop as loop_lib
from mespot_jax.train import state as state_lib
from mespot_jax.train import steps as steps_lib
from tests import fake_spotting

tiny = load_config("tiny")


@pytest.fixture(scope="module")
def setup():
  config = tiny.get_config()
  store = fake_spotting.make_store(num_subjects=4)
  folds = folds_lib.make_folds(sorted({v.subject for v in store.videos}),
                               config.train.num_val_subjects, config.seed)
  model = methods.get(config).step_fns.model
  return config, store, folds, model


def _train(setup, workdir, crash_after=None, **train_overrides):
  config, store, folds, model = setup
  config = config.copy_and_resolve_references()
  for k, v in train_overrides.items():
    config.train[k] = v
  method = methods.get(config)
  return loop_lib.train_folds(config, method,
                              method.make_sampler(store, folds), folds,
                              str(workdir), crash_after_steps=crash_after)


def _flat(result):
  return np.concatenate([np.ravel(x) for x in jax.tree.leaves(
      result.best_variables)])


def test_same_seed_same_result_and_resume_matches(setup, tmp_path):
  full = _train(setup, tmp_path / "a")
  again = _train(setup, tmp_path / "b")
  np.testing.assert_array_equal(_flat(full), _flat(again))
  assert full.best_val_loss == again.best_val_loss
  # Killed in the middle of epoch 1 (3 steps per epoch): the checkpoint of
  # epoch 0 is on disk; a new call resumes from it and ends identically.
  with pytest.raises(loop_lib.SimulatedCrash):
    _train(setup, tmp_path / "c", crash_after=5)
  resumed = _train(setup, tmp_path / "c")
  np.testing.assert_array_equal(_flat(full), _flat(resumed))
  assert resumed.best_val_loss == full.best_val_loss
  assert [h["epoch"] for h in resumed.history] == [0, 1, 2]


def test_sharded_chunk_matches_looped_folds(setup, tmp_path):
  assert jax.device_count() == 4  # tests/conftest.py forces 4 host devices
  # threefry dropout keys: their bits do not depend on vmap or sharding
  # (rbg's do; see train.state.rng_impl).
  looped = _train(setup, tmp_path / "loop", folds_per_step=1,
                  dropout_rng_impl="threefry2x32")
  sharded = _train(setup, tmp_path / "shard", folds_per_step=4,
                   dropout_rng_impl="threefry2x32")
  # Same per-fold data, init and dropout bits; only float reassociation
  # differs (a batch of 4 folds against 4 single-fold calls: gradients
  # agree to ~1e-6), which nine Adam steps amplify to 0.3-1.5% depending
  # on the seed and the model's formulation (measured 2026-12-01 over tiny
  # seeds 0-2: up to 1.03% with the NTHWC model, 1.51% with NHWTC). A
  # mix-up of folds would show as the differences between folds (more than
  # 10% here).
  np.testing.assert_allclose(sharded.best_val_loss, looped.best_val_loss,
                             rtol=3e-2)
  spread = np.ptp(looped.best_val_loss) / np.mean(looped.best_val_loss)
  assert spread > 0.1
  assert sharded.best_epoch == looped.best_epoch


def test_early_stopping_follows_validation_loss_per_fold(setup, tmp_path):
  patience = 1
  result = _train(setup, tmp_path / "es", num_epochs=8, patience=patience)
  val = np.array([h["val_loss"] for h in result.history])  # (epochs, K)
  active = np.array([h["active"] for h in result.history])
  stopped_early = []
  for f in range(val.shape[1]):
    epochs = np.flatnonzero(active[:, f])  # epochs the fold trained in
    last = epochs[-1]
    assert np.array_equal(epochs, np.arange(last + 1))  # no restart
    best = int(np.argmin(val[:last + 1, f]))
    assert result.best_epoch[f] == best
    assert result.best_val_loss[f] == pytest.approx(val[best, f])
    if last < len(val) - 1 or last - best >= patience:
      # A fold leaves exactly `patience` epochs after its best one.
      assert last - best == patience
      stopped_early.append(last < len(val) - 1)
  # Folds stop independently: one stopped while another went on.
  assert any(stopped_early) and active[-1].any()


def test_early_stopping_on_auc_keeps_the_best_auc_epoch(setup, tmp_path):
  result = _train(setup, tmp_path / "auc", num_epochs=5, patience=5,
                  early_stopping_metric="auc")
  auc = np.array([h["val_auc"] for h in result.history])  # (epochs, K)
  val = np.array([h["val_loss"] for h in result.history])
  for f in range(auc.shape[1]):
    # The first epoch with the highest AUC (ties keep the earlier one).
    best = int(np.argmax(auc[:, f]))
    assert result.best_epoch[f] == best
    assert result.best_val_loss[f] == pytest.approx(val[best, f])
  with pytest.raises(ValueError, match="early_stopping_metric"):
    _train(setup, tmp_path / "bad", early_stopping_metric="f1")


def test_no_early_stopping_keeps_the_last_epoch(setup, tmp_path):
  result = _train(setup, tmp_path / "none", num_epochs=4, patience=1,
                  early_stopping_metric="none")
  val = np.array([h["val_loss"] for h in result.history])
  assert len(result.history) == 4
  assert all(all(h["active"]) for h in result.history)
  assert result.best_epoch == [3] * val.shape[1]
  np.testing.assert_allclose(result.best_val_loss, val[-1])
  # With patience 1 and the loss, at least one fold stops or keeps an
  # earlier epoch: "none" is what changes the outcome.
  by_loss = _train(setup, tmp_path / "loss", num_epochs=4, patience=1)
  assert by_loss.best_epoch != result.best_epoch


def test_weighted_auc_known_values():
  y = np.array([[[1, 0], [0, 1], [1, 1], [0, 0]]], np.float32)
  # Micro ranks its positives first (AUC 1); macro ranks them last (AUC 0);
  # a tie between a positive and a negative counts half.
  s = np.array([[[0.9, 0.8], [0.1, 0.2], [0.8, 0.1], [0.2, 0.9]]])
  np.testing.assert_allclose(yap3dcnn.weighted_auc(s, y, (0.1, 0.9)), [0.1])
  np.testing.assert_allclose(yap3dcnn.weighted_auc(s, y, (1.0, 1.0)), [0.5])
  s_tie = np.array([[[0.5, 0.8], [0.5, 0.2], [0.8, 0.1], [0.2, 0.9]]])
  # micro: positives 0.5, 0.8 vs negatives 0.5, 0.2 -> (1 + .5 + 1 + 1) / 4
  np.testing.assert_allclose(
      yap3dcnn.weighted_auc(s_tie, y, (1.0, 0.0)), [0.875])


def test_inactive_fold_state_does_not_change(setup):
  config, store, folds, model = setup
  tx = state_lib.make_optimizer("adam", 0.1)
  size = store.image_size
  x = jnp.zeros((1, 2, 2, size, size, 1), jnp.float32)
  state = state_lib.init_stacked(model, tx, x, [0, 1], 0, "rbg")
  before = jax.device_get(state)
  rng = np.random.default_rng(0)
  batch = {"x": rng.integers(0, 255, (2, 4, 2, 2, size, size, 1), np.uint8),
           "y": np.ones((2, 4, 2), np.float32),
           "aug": np.ones((2, 4, 3), np.float32)}
  step = steps_lib.make_train_step(methods.get(config).step_fns, "rbg")
  after, _ = step(state, batch, jnp.array([True, False]))
  after = jax.device_get(after)
  for b, a in zip(jax.tree.leaves(before.params),
                  jax.tree.leaves(after.params)):
    np.testing.assert_array_equal(a[1], b[1])  # stopped fold: unchanged
  changed = [not np.array_equal(a[0], b[0]) for b, a in zip(
      jax.tree.leaves(before.params), jax.tree.leaves(after.params))]
  assert any(changed)
  assert int(after.step[1]) == 0 and int(after.step[0]) == 1


def test_non_finite_loss_names_fold_and_step(setup, tmp_path):
  config, store, folds, model = setup
  method = methods.get(config)
  fns = method.step_fns
  nan_loss = lambda logits, batch: jnp.nan * jnp.sum(logits)

  class NanLoss(type(method)):
    step_fns = steps_lib.StepFns(fns.model, fns.inputs, nan_loss, fns.scores)

  with pytest.raises(loop_lib.NonFiniteLossError, match=r"fold 0 .*step 0"):
    loop_lib.train_folds(config, NanLoss(config),
                         method.make_sampler(store, folds), folds,
                         str(tmp_path / "nan"))


def test_cosine_schedule_decays_the_step_to_five_percent():
  # SGD on a linear loss: each update moves the parameter by the current
  # learning rate, so the moves trace the schedule.
  tx = state_lib.make_optimizer("sgd", 0.1, "cosine", 10)
  w = jnp.zeros(())
  opt = tx.init(w)
  moves = []
  for _ in range(12):
    upd, opt = tx.update(jnp.ones(()), opt, w)
    moves.append(-float(upd))
    w = w + upd
  np.testing.assert_allclose(moves[0], 0.1, rtol=1e-6)
  assert all(a > b for a, b in zip(moves[:10], moves[1:10]))
  np.testing.assert_allclose(moves[10:], 0.005, rtol=1e-5)  # alpha = 5%
  const = state_lib.make_optimizer("sgd", 0.1)
  upd, _ = const.update(jnp.ones(()), const.init(w), w)
  np.testing.assert_allclose(-float(upd), 0.1, rtol=1e-6)
  with pytest.raises(ValueError, match="lr_schedule"):
    state_lib.make_optimizer("sgd", 0.1, "step", 10)
  with pytest.raises(ValueError, match="total_steps"):
    state_lib.make_optimizer("sgd", 0.1, "cosine", 0)
