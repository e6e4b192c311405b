"""Tests of the LOSO training loop: resume, determinism, sharding, steps.

All runs share one tiny model and the compiled steps (cached per model and
loss), on small in-memory videos (`fake_spotting`). The early-stopping
rules are in `test_train_stopping.py` (a file of its own so that the two
test workers share the loop's runs).
"""
import flax.linen as nn
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
  # The loop is the same for every formulation; the grouped depthwise conv
  # compiles in two thirds of the CPU default's time.
  config.yap3dcnn.model.depthwise_impl = "grouped"
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


# For runs that do not resume: a checkpoint after the last epoch only (each
# save costs about as much as a few of these tiny steps).
LAST_CHECKPOINT_ONLY = dict(checkpoint_every_epochs=1000)


def _flat(result):
  return np.concatenate([np.ravel(x) for x in jax.tree.leaves(
      result.best_variables)])


# threefry dropout keys: their bits do not depend on vmap or sharding (rbg's
# do; see train.state.rng_impl), but on CPU they cost far more than the
# default rbg keys at every step: only for the runs that need them.
THREEFRY = dict(dropout_rng_impl="threefry2x32")


def _train_step_of(setup, **train_overrides):
  """The cached compiled train step that `_train` with these overrides
  uses."""
  config = setup[0].copy_and_resolve_references()
  for k, v in train_overrides.items():
    config.train[k] = v
  return steps_lib.make_train_step(
      methods.get(config).step_fns,
      state_lib.rng_impl(config.train.dropout_rng_impl))


def test_same_seed_same_result_and_resume_matches(setup, tmp_path):
  # Four folds in four chunks of one (the CPU default), three epochs: one
  # compiled train step for all of it (emptied first: another test in this
  # process may have compiled it already).
  step = _train_step_of(setup)
  step.clear_cache()
  full = _train(setup, tmp_path / "a")
  assert step._cache_size() == 1  # pylint: disable=protected-access
  # Killed in the middle of epoch 1 (3 steps per epoch): the checkpoint of
  # epoch 0 is on disk; a new call resumes from it and ends identically.
  # The crashed run started afresh with the same seed, so this is also the
  # same-seed check: a second fresh run would add nothing (a run that
  # differed from `full` in any epoch would leave `resumed` different).
  with pytest.raises(loop_lib.SimulatedCrash):
    _train(setup, tmp_path / "c", crash_after=5)
  resumed = _train(setup, tmp_path / "c")
  np.testing.assert_array_equal(_flat(full), _flat(resumed))
  assert resumed.best_val_loss == full.best_val_loss
  assert [h["epoch"] for h in resumed.history] == [0, 1, 2]


def test_sharded_chunk_matches_looped_folds(setup, tmp_path):
  assert jax.device_count() == 4  # tests/conftest.py forces 4 host devices
  looped = _train(setup, tmp_path / "loop", folds_per_step=1, **THREEFRY,
                  **LAST_CHECKPOINT_ONLY)
  sharded = _train(setup, tmp_path / "shard", folds_per_step=4, **THREEFRY,
                   **LAST_CHECKPOINT_ONLY)
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
  # The four-fold sharded chunk of test_sharded_chunk_matches_looped_folds
  # (threefry keys, the loop's optimizer, a batch of the sampler), so that
  # this step is the program that test compiled. Folds 1 and 3 stopped.
  config, store, folds, model = setup
  config = config.copy_and_resolve_references()
  config.train.dropout_rng_impl = "threefry2x32"
  tc = config.train
  method = methods.get(config)
  impl = state_lib.rng_impl(tc.dropout_rng_impl)
  tx = state_lib.make_optimizer(tc.optimizer, tc.learning_rate,
                                tc.lr_schedule,
                                tc.num_epochs * tc.steps_per_epoch)
  sharding = loop_lib._fold_sharding(4)  # pylint: disable=protected-access
  state = jax.device_put(state_lib.init_stacked(
      model, tx, method.example_input(store), [0, 1, 2, 3], config.seed,
      impl), sharding)
  before = jax.device_get(state)
  sampler = method.make_sampler(store, folds)
  batch = next(iter(sampler.train_dataset(tc.batch_size, 1)
                    .to_iter_dataset()))
  batch = loop_lib._put_batch(  # pylint: disable=protected-access
      loop_lib._chunk_batch(batch, 0, 4, 4), sharding)  # pylint: disable=protected-access
  step = steps_lib.make_train_step(method.step_fns, impl)
  after, _ = step(state, batch, jnp.array([True, False, True, False]))
  after = jax.device_get(after)
  for b, a in zip(jax.tree.leaves(before.params),
                  jax.tree.leaves(after.params)):
    for stopped in (1, 3):  # stopped folds: unchanged
      np.testing.assert_array_equal(a[stopped], b[stopped])
  for trained in (0, 2):
    changed = [not np.array_equal(a[trained], b[trained]) for b, a in zip(
        jax.tree.leaves(before.params), jax.tree.leaves(after.params))]
    assert any(changed)
  assert [int(x) for x in after.step] == [1, 0, 1, 0]


class _Linear(nn.Module):
  """A linear scorer of the flattened input: what the loop does with a loss
  does not depend on the model, and this one compiles in no time."""

  @nn.compact
  def __call__(self, x, train=False):
    del train
    return nn.Dense(2)(x.reshape(x.shape[0], -1))


def test_non_finite_loss_names_fold_and_step(setup, tmp_path):
  config, store, folds, model = setup
  method = methods.get(config)
  fns = method.step_fns
  nan_loss = lambda logits, batch: jnp.nan * jnp.sum(logits)

  class NanLoss(type(method)):
    step_fns = steps_lib.StepFns(_Linear(), fns.inputs, nan_loss, fns.scores)

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
