r"""Re-fits a finished run's post-processing on its saved scores, no training.

  python scripts/refit_postprocess.py --workdir=RUN [--set=eval.x=y ...]
      [--json=out.json]

A run saves the raw per-frame scores of every held-out video
(`scores/<video>.npy`) and of every fold's validation videos
(`scores/val/fold_<k>/<video>.npy`). This script makes the run's folds
again (checked against `metrics.json`), and the method's test-time
choices from each fold's training and validation subjects, fits the
thresholds on the saved validation scores, predicts the held-out videos
and evaluates them, with
the run's config (`config.json`) changed by `--set` overrides (e.g.
`--set=eval.automated.macro.normalise=none`). With no override it must
reproduce the run's metrics (`reproduced` in the output): that checks the
post-processing code against the run. Prints the model's overall F1 per
protocol next to the run's.
"""
import json
import os

from absl import app
from absl import flags
import ml_collections
import numpy as np

from mespot_jax import experiment
from mespot_jax import methods
from mespot_jax.data import datasets

_WORKDIR = flags.DEFINE_string("workdir", None, "A finished run.")
_SET = flags.DEFINE_multi_string("set", [], "Config overrides a.b.c=value "
                                 "(value read as JSON, else a string).")
_JSON = flags.DEFINE_string("json", None, "Write the results here.")
flags.mark_flag_as_required("workdir")


def _tuples(x):
  if isinstance(x, dict):
    return {k: _tuples(v) for k, v in x.items()}
  if isinstance(x, list):
    return tuple(_tuples(v) for v in x)
  return x


def load_config(workdir: str, overrides=()) -> ml_collections.ConfigDict:
  """The run's config with `a.b=value` overrides applied."""
  with open(os.path.join(workdir, "config.json"), encoding="utf-8") as f:
    config = ml_collections.ConfigDict(_tuples(json.load(f)))
  for item in overrides:
    key, value = item.split("=", 1)
    try:
      value = json.loads(value)
    except json.JSONDecodeError:
      pass
    node = config
    *path, last = key.split(".")
    for p in path:
      node = node[p]
    node[last] = value
  return config


def refit(workdir: str, overrides=()) -> dict:
  """Metrics of the run's saved scores under the (overridden) config."""
  config = load_config(workdir, overrides)
  method = methods.get(config)
  with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
    run = json.load(f)
  store = datasets.open_store(config, method.task)
  folds = experiment.make_folds(config, store, method)
  outputs = []
  for row in run["folds"]:
    fold = folds[row["fold"]]
    if (fold.test_subject, list(fold.val_subjects)) != (
        row["test_subject"], row["val_subjects"]):
      raise ValueError(f"fold {fold.index} of {workdir} held out "
                       f"{row['test_subject']} (validation "
                       f"{row['val_subjects']}); this config makes another "
                       "fold: pass the run's own config")
    val_ids = store.video_indices(fold.val_subjects)
    test_ids = store.video_indices([fold.test_subject])
    load = lambda folder, v: np.load(os.path.join(
        workdir, "scores", folder, f"{store.videos[v].video}.npy"))
    scores = {"model": {**{v: load(os.path.join("val", f"fold_{fold.index}"),
                                   v) for v in val_ids},
                        **{v: load("", v) for v in test_ids}}}
    choices = method.fold_choices(store, fold)
    fitted = method.fit(store, fold, val_ids, scores)
    predictions = method.predict(store, test_ids, scores, fitted)
    outputs.append(methods.FoldOutput(fold, choices, fitted, scores,
                                      predictions, val_ids, test_ids))
  metrics = method.evaluate(store, outputs)
  again = {p: metrics["model"][p]["overall"] for p in config.eval.protocols}
  recorded = {p: run["model"][p]["overall"] for p in config.eval.protocols
              if p in run["model"]}
  return {"workdir": workdir, "overrides": list(overrides),
          "refit": again, "run": recorded,
          "reproduced": all(again[p] == recorded.get(p) for p in again),
          "decoder": [o.fitted["model"].to_dict() for o in outputs]}


def main(argv):
  del argv
  out = refit(_WORKDIR.value, _SET.value)
  for p, res in out["refit"].items():
    was = out["run"].get(p)
    print(f"{p:<16} refit overall F1 {res['f1']:.4f} "
          f"({res['tp']}/{res['fp']}/{res['fn']})"
          + (f", run {was['f1']:.4f}" if was else ""))
  print("reproduces the run" if out["reproduced"] else
        "differs from the run")
  if _JSON.value:
    with open(_JSON.value, "w", encoding="utf-8") as f:
      json.dump(out, f, indent=2)


if __name__ == "__main__":
  app.run(main)
