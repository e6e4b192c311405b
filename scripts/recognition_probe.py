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
counts summed over the folds, as MEGC2019). The probe itself is
`mespot_jax.metrics.probe`.
"""
import json
import os

from absl import app
from absl import flags
import numpy as np

from mespot_jax.data.clip_store import ClipStore
from mespot_jax.data.clips import ClipSource
from mespot_jax.metrics import recognition as rmetrics
from mespot_jax.metrics.probe import loso_ridge, motion_features

_DATASET = flags.DEFINE_string("dataset", "synthetic_me", "Builder name.")
_CONFIG = flags.DEFINE_string("config", "default", "Builder config.")
_SEED = flags.DEFINE_integer("seed", -1, "Synthetic dataset seed (-1: the "
                             "config's own).")
_SIZE = flags.DEFINE_integer("image_size", 32, "Crop side read.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir.")
_JSON = flags.DEFINE_string("json", None, "Also write the result here.")


def main(argv):
  del argv
  config = _CONFIG.value
  if _SEED.value >= 0:
    if _DATASET.value != "synthetic_me":
      raise app.UsageError("--seed renders synthetic_me only")
    from mespot_jax.builders.synthetic_me import synthetic_me_dataset_builder as b  # pylint: disable=g-import-not-at-top
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
