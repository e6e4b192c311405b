r"""A linear reference for a recognition dataset: is the class in the motion?

  python scripts/recognition_probe.py [--dataset=synthetic_me]
      [--config=default] [--seed=-1] [--image_size=32] [--json=F]

Leave-one-subject-out ridge regression (one-vs-rest, closed form, no
training loop) on the per-pixel maximum over the clip's 9 frames of the
absolute difference to the onset frame, each fold standardising with its
training clips only. The feature was chosen on the development rendering
of `synthetic_me` (`--seed=1`) among three (this one, the signed
difference at the frame of largest change, the raw frames); the ridge
strength (10 per 100 features) was set once and not tuned. It is a
reference for the learned recognisers, as the frame-difference baseline
is for the spotters: a model at chance where this probe is well above it
has not learnt what the data show. Prints accuracy, UF1 and UAR (from
counts summed over the folds, as MEGC2019).
"""
import json
import os

from absl import app
from absl import flags
import numpy as np

from mespot_jax.data.clip_store import ClipStore
from mespot_jax.data.clips import ClipSource
from mespot_jax.metrics import recognition as rmetrics

_DATASET = flags.DEFINE_string("dataset", "synthetic_me", "Builder name.")
_CONFIG = flags.DEFINE_string("config", "default", "Builder config.")
_SEED = flags.DEFINE_integer("seed", -1, "Synthetic dataset seed (-1: the "
                             "config's own).")
_SIZE = flags.DEFINE_integer("image_size", 32, "Crop side read.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir.")
_JSON = flags.DEFINE_string("json", None, "Also write the result here.")


def motion_features(x_NTHWC: np.ndarray) -> np.ndarray:
  """(N, D): max over frames of |frame - onset frame|, pixels in [0, 1]."""
  x = x_NTHWC.astype(np.float32) / 255.0
  return np.abs(x - x[:, :1]).max(1).reshape(len(x), -1)


def loso_ridge(features_ND: np.ndarray, labels_N: np.ndarray,
               subjects_N: np.ndarray, num_classes: int) -> np.ndarray:
  """Leave-one-subject-out predictions of a one-vs-rest ridge regression.

  Args:
    features_ND: one row per clip.
    labels_N: class indices (clips labelled -1 are neither trained on nor
      predicted: their prediction is -1).
    subjects_N: subject of each clip.
    num_classes: classes.

  Returns:
    (N,) predicted class per clip.
  """
  pred = np.full(len(labels_N), -1)
  for s in np.unique(subjects_N):
    train = (subjects_N != s) & (labels_N >= 0)
    test = (subjects_N == s) & (labels_N >= 0)
    if not test.any():
      continue
    mean = features_ND[train].mean(0)
    std = features_ND[train].std(0) + 1e-6
    a = (features_ND[train] - mean) / std
    y = np.eye(num_classes)[labels_N[train]]
    lam = 0.1 * a.shape[1]
    # Dual form: (A A^T + lam I)^-1 is N_train x N_train.
    w = a.T @ np.linalg.solve(a @ a.T + lam * np.eye(len(a)), y)
    pred[test] = np.argmax(((features_ND[test] - mean) / std) @ w, 1)
  return pred


def main(argv):
  del argv
  config = _CONFIG.value
  if _SEED.value >= 0:
    if _DATASET.value != "synthetic_me":
      raise app.UsageError("--seed renders synthetic_me only")
    from data_builders.synthetic_me import synthetic_me_dataset_builder as b  # pylint: disable=g-import-not-at-top
    config = b.seeded_config(config, _SEED.value)
  data_dir = _DATA_DIR.value or os.environ.get("TFDS_DATA_DIR") or (
      os.path.expanduser("~/tensorflow_datasets"))
  store = ClipStore.from_source(
      ClipSource.prepare(_DATASET.value, data_dir, config), 9, _SIZE.value)
  labels = np.asarray(store.labels)
  subjects = np.array([v.subject for v in store.videos])
  k = store.num_classes
  pred = loso_ridge(motion_features(store.x), labels, subjects, k)
  keep = labels >= 0
  res = rmetrics.uf1_uar(labels[keep], pred[keep], k)
  res["accuracy"] = float(np.mean(labels[keep] == pred[keep]))
  res.update(dataset=_DATASET.value, config=_CONFIG.value, seed=_SEED.value,
             image_size=_SIZE.value, clips=int(keep.sum()))
  print(f"{_DATASET.value}/{_CONFIG.value} seed {_SEED.value}, "
        f"{_SIZE.value}x{_SIZE.value}: ridge probe UF1 {res['uf1']:.3f} "
        f"UAR {res['uar']:.3f} accuracy {res['accuracy']:.3f} "
        f"({res['clips']} clips)")
  if _JSON.value:
    with open(_JSON.value, "w", encoding="utf-8") as f:
      json.dump(res, f, indent=2, default=float)


if __name__ == "__main__":
  app.run(main)
