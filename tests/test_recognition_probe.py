"""The recognition probe's pieces: motion features and LOSO ridge."""
import numpy as np

from mespot_jax.metrics import probe


def test_motion_feature_is_the_largest_change_from_onset():
  x = np.zeros((1, 3, 2, 2, 1), np.uint8)
  x[0, 1, 0, 0] = 51   # +0.2 at frame 1
  x[0, 2, 0, 0] = 255  # +1.0 at frame 2
  x[0, 2, 1, 1] = 102  # +0.4
  np.testing.assert_allclose(probe.motion_features(x), [[1.0, 0, 0, 0.4]],
                             atol=1e-6)


def test_loso_ridge_separates_classes_seen_in_other_subjects():
  # Class c lights feature c: every held-out subject is predicted right,
  # whatever its own offset; a -1 clip is neither used nor predicted.
  rng = np.random.default_rng(0)
  labels = np.tile([0, 1, 2], 8)
  subjects = np.repeat(np.arange(8), 3)
  feats = np.eye(3)[labels] * 5 + rng.normal(0, 0.3, (24, 3))
  feats += subjects[:, None] * 0.1
  labels[5] = -1
  pred = probe.loso_ridge(feats, labels, subjects, 3)
  assert pred[5] == -1
  keep = labels >= 0
  np.testing.assert_array_equal(pred[keep], labels[keep])
  # Shuffled labels carry nothing: about chance, far from perfect.
  shuffled = rng.permutation(labels[keep])
  pred = probe.loso_ridge(feats[keep], shuffled, subjects[keep], 3)
  assert np.mean(pred == shuffled) < 0.7
