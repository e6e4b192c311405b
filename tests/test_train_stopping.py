"""Early stopping in the LOSO training loop: per fold, on the validation
loss, on the AUC, or off (the runs and fixture of `test_train_loop.py`)."""
import numpy as np
import pytest

from tests import test_train_loop

setup = test_train_loop.setup
_ONCE = test_train_loop.LAST_CHECKPOINT_ONLY


def _train(setup, workdir, **overrides):
  return test_train_loop._train(setup, workdir, **_ONCE, **overrides)


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
  # Four epochs, as in test_no_early_stopping_keeps_the_last_epoch: the
  # same optimizer (its step count is part of it), so the same traced step.
  result = _train(setup, tmp_path / "auc", num_epochs=4, patience=4,
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
