"""The recognition task: what every micro-expression recogniser shares.

A recognition method classifies clips (`data.clip_store.ClipStore`: each
clip's onset, apex and offset and frames sampled between them). From the
class probabilities of a clip on, every recogniser shares the steps
implemented here: the folds (leave-one-subject-out, or subject-exclusive
stratified k-fold: `train.folds`, `train.num_folds`), the clip sampler
with minority-class augmentation (`data.clip_samples`), validation UF1 /
UAR / accuracy for early stopping, decoding by `config.decoder` (the
`label` decoder: argmax with an optional class-prior calibration fitted
on the validation clips, `eval.calibration`), UF1 and UAR from counts summed over all folds (MEGC2019), accuracy,
per-class F1 and the confusion matrix (per source dataset too when the
clips come from several), the predictions CSV and a confusion plot.

A subclass supplies its model (`step_fns` via `clip_step_fns`), its
config block and `smoke`.

Deploy (`train.deploy=True`, `mespot_jax.deploy`): a recogniser's deploy
record holds what rebuilds its model (`deploy_config`: the method's block,
the class count and the scoring batch, not the experiment), the decoder's
fitted record (the calibration bias per kind, the class names) and how
clips were prepared (`deploy_record`: the store's `ClipPreprocess`).
`mespot_jax.score --clip` prepares a new clip that way into a one-clip
store and scores it with `score` and the decoder, as the held-out clips
were.
"""
import csv
import logging
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from mespot_jax import decoders
from mespot_jax import io_utils
from mespot_jax.config import vocab
from mespot_jax.data import clip_samples
from mespot_jax.data import folds as folds_lib
from mespot_jax.errors import InputError
from mespot_jax.methods import base
from mespot_jax.metrics import recognition as rec_metrics
from mespot_jax.train import inference
from mespot_jax.train import steps as steps_lib

FOLDS = vocab.RECOGNITION_FOLDS
CALIBRATIONS = vocab.CALIBRATIONS
CSV_FIELDS = ("clip", "label", "pred", "subject", "dataset")


def _inputs(batch, train: bool):
  del train
  return steps_lib.to_float(batch["x"])


def _weighted_ce(logits, batch):
  """Softmax cross-entropy, mean over the real clips (`w` = 1)."""
  ce = optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"])
  w = batch["w"]
  return (ce * w).sum() / jnp.maximum(w.sum(), 1.0)


def clip_step_fns(model) -> steps_lib.StepFns:
  """The generic steps of a clip classifier returning logits (B, classes)."""
  return steps_lib.StepFns(model, _inputs, _weighted_ce, jax.nn.softmax)


def label_metrics(y, pred, num_classes: int) -> dict:
  """UF1, UAR, accuracy, per-class F1 and confusion of integer labels."""
  res = rec_metrics.uf1_uar(np.asarray(y, np.int64),
                            np.asarray(pred, np.int64), num_classes)
  n = len(y)
  res["accuracy"] = float(np.mean(np.asarray(y) == np.asarray(pred))) if n \
      else 0.0
  return res


class RecognitionMethod(base.Method):
  """Base of the recognition methods (module docstring)."""
  task = "recognition"
  metric_modes = {"uf1": "max", "uar": "max", "accuracy": "max"}
  oracle_metric = "uf1"

  # ------------------------------------------------------------------ folds
  def make_folds(self, store) -> list:
    """LOSO (`train.folds="loso"`) or subject-exclusive stratified k-fold
    (`"kfold"`, `train.num_folds` groups), over the labelled clips."""
    t = self.config.train
    if t.folds not in FOLDS:
      raise ValueError(f"train.folds={t.folds!r}; expected one of {FOLDS}")
    labelled = [c for c in store.clips if store.labels[c.index] >= 0]
    if t.folds == "loso":
      return folds_lib.make_folds(sorted({c.subject for c in labelled}),
                                  t.num_val_subjects, self.config.seed,
                                  tuple(t.test_folds))
    by_subject = {}
    for c in labelled:
      by_subject.setdefault(c.subject, []).append(int(store.labels[c.index]))
    return folds_lib.make_kfold(by_subject, t.num_folds, t.num_val_subjects,
                                self.config.seed)

  # --------------------------------------------------------------- training
  def check_num_classes(self, store) -> None:
    """The model's output size (`dataset.num_classes`) must be the
    store's class count."""
    if store.num_classes != self.config.dataset.num_classes:
      raise ValueError(
          f"dataset.num_classes={self.config.dataset.num_classes} but "
          f"{self.config.dataset.name}/{self.config.dataset.config} has "
          f"{store.num_classes} classes {store.classes}; set "
          f"--config.dataset.num_classes={store.num_classes}")

  def make_sampler(self, store, folds):
    self.check_num_classes(store)
    a = self.config.augment
    return clip_samples.ClipSampler(
        store, folds, balance=bool(self.config.train.balance_classes),
        augment=clip_samples.ClipAugment(
            enabled=bool(a.enabled), brightness=tuple(a.brightness),
            salt_pepper=tuple(a.salt_pepper)),
        seed=self.config.seed)

  def example_input(self, store):
    return jnp.zeros((1,) + store.x.shape[1:], jnp.float32)

  def val_metrics(self, scores_KB, batch) -> dict:
    """UF1, UAR and accuracy of each fold's validation clips."""
    scores = np.asarray(scores_KB)
    out = {m: np.zeros(len(scores)) for m in self.metric_modes}
    for k in range(len(scores)):
      real = np.asarray(batch["w"][k]) > 0
      res = label_metrics(np.asarray(batch["y"][k])[real],
                          scores[k][real].argmax(-1), scores.shape[-1])
      for m in out:
        out[m][k] = res[m]
    return out

  # ---------------------------------------------------------------- choices
  def fold_choices(self, store, fold) -> dict:
    del store, fold
    return {}

  def score(self, variables, store, indices, choices) -> dict:
    """{"model": {clip index: class probabilities (C,)}}, in fixed-size
    batches (the last one padded) so the scorer compiles once."""
    del choices
    predict = steps_lib.make_predict_fn(self.step_fns)
    ids = list(indices)
    p = inference.predict_in_batches(
        predict, variables, store.x[ids].astype(np.uint8),
        self.config.eval.score_batch_size)
    return {"model": {i: np.asarray(p[j], np.float32)
                      for j, i in enumerate(ids)}}

  # --------------------------------------------------------------- decoding
  @property
  def decoder(self):
    """The decoder of `config.decoder.name` (`label`)."""
    return decoders.get(self.config)

  def fit(self, store, fold, indices, scores, criterion=None) -> dict:
    """{kind: the decoder's record} fitted on the clips `indices`."""
    del fold, criterion  # the oracle's fit is the same on its clips
    dec = self.decoder
    return {kind: dec.fit([decoders.Unit(by_clip[i], store.clips[i].fps,
                                         store.clips[i].clip,
                                         store.clips[i].subject,
                                         labels=int(store.labels[i]))
                           for i in indices])
            for kind, by_clip in scores.items()}

  def predict(self, store, indices, scores, fitted) -> dict:
    """{kind: [row]}: per clip its true and predicted class (`CSV_FIELDS`
    plus `index`, `label_id`, `pred_id`)."""
    dec = self.decoder
    out = {}
    for kind, by_clip in scores.items():
      rows = []
      for i in indices:
        pred = dec.decode(by_clip[i], 0.0, fitted[kind])
        c = store.clips[i]
        y = int(store.labels[i])
        rows.append({"index": int(i), "clip": c.clip,
                     "label": store.classes[y], "pred": store.classes[pred],
                     "subject": c.subject, "dataset": c.source,
                     "label_id": y, "pred_id": pred})
      out[kind] = rows
    return out

  # ----------------------------------------------------------------- deploy
  def deploy_config(self) -> dict:
    """What rebuilds the model and its scorer (`methods.get` of it): the
    method's block, the class count, the decoder and the scoring batch.
    Not the
    experiment: no data, folds or training settings."""
    return {"method": self.name, self.name: self.block.to_dict(),
            "dataset": {"num_classes": int(self.config.dataset.num_classes)},
            "decoder": self.config.decoder.to_dict(),
            "eval": {"score_batch_size":
                     int(self.config.eval.score_batch_size),
                     "calibration": str(self.config.eval.calibration)}}

  def check_deploy(self, store) -> None:
    """Raises InputError when no deploy model can be made of this run
    (called before any training): the store must say how its clips were
    prepared, and the model must rebuild from `deploy_config` alone."""
    from mespot_jax import methods  # pylint: disable=g-import-not-at-top
    if store is not None and store.preprocess is None:
      raise InputError(
          "train.deploy=True: these clips were not read from a built "
          "dataset (the store has no preprocessing spec), so a new clip "
          "could not be prepared like them; set train.deploy=False")
    try:
      methods.get(ml_collections.ConfigDict(self.deploy_config())).step_fns
    except Exception as e:  # pylint: disable=broad-except
      raise InputError(f"train.deploy=True: {self.name} cannot rebuild its "
                       f"model from its deploy record ({e}); set "
                       "train.deploy=False") from None

  def deploy_record(self, store) -> dict:
    """The preprocessing spec, the label set and the training clips' frame
    rates and lengths (onset to offset, in frames)."""
    lengths = [c.offset - c.onset + 1 for c in store.clips]
    return {"preprocess": store.preprocess.to_dict(),
            "label_set": store.label_set,
            "train_fps": sorted({float(c.fps) for c in store.clips}),
            "train_clip_length": ([int(min(lengths)), int(max(lengths))]
                                  if lengths else None)}

  # ------------------------------------------------------------- evaluation
  def _metrics_of(self, store, rows) -> dict:
    res = label_metrics([r["label_id"] for r in rows],
                        [r["pred_id"] for r in rows], store.num_classes)
    res["per_class_f1"] = dict(zip(store.classes, res["per_class_f1"]))
    res["per_class_recall"] = dict(zip(store.classes,
                                       res["per_class_recall"]))
    return res

  def fold_row(self, store, out) -> dict:
    row = {"test_subjects": list(out.fold.test_subjects),
           "num_test_clips": len(out.test_ids)}
    for kind, rows in out.predictions.items():
      res = self._metrics_of(store, rows)
      row[f"{kind}_uf1"] = res["uf1"]
      row[f"{kind}_accuracy"] = res["accuracy"]
      if any(out.fitted[kind].bias):
        row[f"{kind}_bias"] = out.fitted[kind].bias
    return row

  def evaluate(self, store, outputs) -> dict:
    """Per kind: UF1 and UAR from the confusion matrix summed over all
    folds, accuracy, per-class F1 and recall; `per_dataset` the same for
    each source dataset when the clips have several."""
    metrics = {"task": "recognition", "classes": list(store.classes),
               "folds_protocol": self.config.train.folds}
    for kind in outputs[0].predictions:
      rows = [r for o in outputs for r in o.predictions[kind]]
      metrics[kind] = self._metrics_of(store, rows)
      sources = sorted({r["dataset"] for r in rows})
      if len(sources) > 1:
        metrics[kind]["per_dataset"] = {
            s: self._metrics_of(store, [r for r in rows if r["dataset"] == s])
            for s in sources}
    return metrics

  def oracle_metrics(self, store, outputs) -> dict:
    res = self._metrics_of(store, [r for o in outputs
                                   for r in o.predictions["model"]])
    return {k: res[k] for k in ("uf1", "uar", "accuracy")}

  def write_metrics(self, workdir, metrics, writer=None) -> None:
    """metrics.json, TensorBoard scalars and a printed summary."""
    from mespot_jax.report import report as report_lib  # pylint: disable=g-import-not-at-top
    report_lib.write_metrics_json(workdir, metrics)
    kinds = [k for k, v in metrics.items()
             if isinstance(v, dict) and "uf1" in v]
    if writer is not None:
      for kind in kinds:
        for m in ("uf1", "uar", "accuracy"):
          writer.add_scalar(f"{m}/{kind}", metrics[kind][m], 0)
      writer.flush()
    print(summary_table(metrics, kinds), flush=True)
    print(f"report written to {workdir}: metrics.json, predictions.csv, "
          "confusion.png", flush=True)

  def write_report(self, workdir, metrics, store, outputs, writer=None):
    """`predictions.csv` (`CSV_FIELDS`, the held-out clips of every fold)
    and `confusion.png` (model, summed over folds)."""
    for kind in outputs[0].predictions:
      name = "predictions.csv" if kind == "model" else f"{kind}_predictions.csv"
      with io_utils.atomic_write(os.path.join(workdir, name)) as f:
        w = csv.DictWriter(f, CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for o in outputs:
          w.writerows(o.predictions[kind])
    # One small figure: written even when eval.plots is off (smoke runs).
    plot_confusion(os.path.join(workdir, "confusion.png"),
                   np.asarray(metrics["model"]["confusion"]), store.classes,
                   f"{self.name}: UF1 {metrics['model']['uf1']:.3f}, "
                   f"UAR {metrics['model']['uar']:.3f}")


def summary_table(metrics: dict, kinds) -> str:
  """UF1, UAR and accuracy per kind (and per source dataset), and the
  oracle's in rows of their own."""
  lines = [f"{'method':<10}{'dataset':<20}{'UF1':>8}{'UAR':>8}"
           f"{'accuracy':>10}{'clips':>8}"]
  for kind in kinds:
    m = metrics[kind]
    parts = [("all", m)] + sorted(m.get("per_dataset", {}).items())
    for name, r in parts:
      lines.append(f"{kind:<10}{name:<20}{r['uf1']:>8.4f}{r['uar']:>8.4f}"
                   f"{r['accuracy']:>10.4f}{r['num_samples']:>8}")
  oracle = metrics.get("oracle")
  if oracle:
    lines.append("ORACLE (choices picked on the test subjects, as leaky code "
                 "does; not a result):")
    for label, key in (("bias", "fitted_on_test"),
                       ("epoch+bias", "epoch_and_fitted_on_test")):
      r = oracle[key]
      lines.append(f"{label:<12}{'all':<18}{r['uf1']:>8.4f}{r['uar']:>8.4f}"
                   f"{r['accuracy']:>10.4f}")
  return "\n".join(lines)


def plot_confusion(path: str, cm, classes, title: str) -> None:
  """A confusion matrix (rows true, columns predicted) as a PNG."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(1.2 * len(classes) + 2,
                                  1.2 * len(classes) + 1.5))
  ax.imshow(cm, cmap="Blues")
  ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
  ax.set_yticks(range(len(classes)), classes)
  ax.set_xlabel("predicted")
  ax.set_ylabel("true")
  ax.set_title(title, fontsize=9)
  top = cm.max() if cm.size else 0
  for i in range(cm.shape[0]):
    for j in range(cm.shape[1]):
      ax.text(j, i, int(cm[i, j]), ha="center", va="center",
              color="white" if cm[i, j] > top / 2 else "black")
  fig.tight_layout()
  with io_utils.atomic_path(path) as tmp:
    fig.savefig(tmp, format="png", dpi=100)
  plt.close(fig)
  logging.info("confusion matrix written to %s", path)
