"""Spot-then-recognise (STR): a spotter, then a recogniser of what it spots.

The method plug-in of `config.method = "str"` (docs/STR.md). It is made of
two registered methods, named in `config.str`: a spotting method (the
spotter) and a recognition method (the recogniser), each built from its
own view of the config (`part_config`). Per fold of the long videos
(leave-one-subject-out, the spotter's folds):

- the spotting half is exactly the spotting task's: the spotter trained
  on the fold's training subjects (nothing for a training-free one), its
  choices, scores, decoder fitted on the fitting videos, intervals of the
  held-out videos;
- the recogniser is trained on clips cut from the same long-video frames
  at the TRUE micro-expression intervals of the fold's training and
  validation subjects only (`known_clips`; labels: the intervals'
  emotions through `config.str.label_set`), validated on the validation
  subjects' clips, its `label` decoder fitted on them;
- each spotted micro interval of a held-out video becomes a clip (onset,
  apex = the frame of the highest micro score of the spotter inside the
  interval, offset) that the recogniser classifies (`finish_fold`); the
  class name is the row's `emotion`.

Nothing in the recogniser sees the test subject's labels or intervals:
its clips come from the other subjects' videos, and the test subject's
clips are the spotter's intervals. The truth of the test subject is read
by the evaluation only: the `str` protocol (`metrics.intervals`) on every
prediction, spotting F1, analysis F1 and STRS per dataset (`evaluate`).
"""
import dataclasses
import os

import ml_collections
import numpy as np

from mespot_jax.data import clips as clips_lib
from mespot_jax.data import labels as labels_lib
from mespot_jax.data.clip_store import ClipStore
from mespot_jax.data.schema import Interval
from mespot_jax.errors import InputError
from mespot_jax.methods import base
from mespot_jax.metrics import intervals as interval_metrics
from mespot_jax.methods import spotting
from mespot_jax.train import loop as loop_lib

REC = "recogniser"  # the key of the recogniser's record in `fitted`


def part_config(config, part: str) -> ml_collections.ConfigDict:
  """The config the spotter (`part="spotter"`) or the recogniser sees: a
  copy with its `method`; the recogniser's also takes `config.str`'s
  training, augmentation, clip and decoder fields, and never an oracle.
  """
  c = ml_collections.ConfigDict(config.to_dict())
  s = config.str
  c.method = str(s[part])
  if part == "spotter":
    return c
  c.train.update(s.train.to_dict())
  c.train.oracle = False
  c.augment.update(s.augment.to_dict())
  c.dataset.label_set = str(s.label_set)
  c.dataset.num_classes = len(labels_lib.classes(s.label_set))
  c.dataset.clip_frames = int(s.clip_frames)
  c.decoder = ml_collections.ConfigDict({"name": "label"})
  c.eval.calibration = str(s.calibration)
  return c


class SpotThenRecognise(base.Method):
  """Spot-then-recognise: any spotter, then any recogniser (module
  docstring)."""
  name = "str"
  task = "str"

  def __init__(self, config):
    super().__init__(config)
    if config.train.oracle:
      raise InputError("config field train.oracle=True: spot-then-recognise "
                       "has no oracle row yet (docs/STR.md); set "
                       "--config.train.oracle=False")
    from mespot_jax import methods  # pylint: disable=g-import-not-at-top
    self.spotter = methods.get(part_config(config, "spotter"))
    self.recogniser = methods.get(part_config(config, "recogniser"))
    self.classes = labels_lib.classes(self.block.label_set)
    # The scorer's choices are the spotter's (`fold_choices`); the audit
    # compares them.
    self.CHOICES = self.spotter.CHOICES  # pylint: disable=invalid-name

  # ------------------------------------------------------------ the spotter
  def make_folds(self, store) -> list:
    return self.spotter.make_folds(store)

  def fit_ids(self, store, fold) -> list:
    return self.spotter.fit_ids(store, fold)

  def fold_choices(self, store, fold) -> dict:
    return self.spotter.fold_choices(store, fold)

  def score(self, variables, store, indices, choices) -> dict:
    return self.spotter.score(variables["spotter"], store, indices, choices)

  def fit(self, store, fold, indices, scores, criterion=None) -> dict:
    return self.spotter.fit(store, fold, indices, scores, criterion)

  def oracle_fit(self, store, fold, indices, scores) -> dict:
    return self.spotter.oracle_fit(store, fold, indices, scores)

  def predict(self, store, indices, scores, fitted) -> dict:
    return self.spotter.predict(store, indices, scores,
                                {k: v for k, v in fitted.items() if k != REC})

  def save_scores(self, workdir, store, out) -> None:
    self.spotter.save_scores(workdir, store, out)

  # ---------------------------------------------------------------- training
  def known_clips(self, store, fold, subjects=None) -> ClipStore:
    """Clips of the true micro-expression intervals of `subjects` (default:
    the fold's training and validation subjects; never its test
    subjects), labelled by their emotions through the label set."""
    subjects = set(fold.train_subjects) | set(fold.val_subjects) \
        if subjects is None else set(subjects)
    if subjects & set(fold.test_subjects):
      raise ValueError(f"fold {fold.index}: the recogniser's clips may not "
                       f"come from its test subjects {fold.test_subjects}")
    metas, videos = [], []
    for v in store.video_indices(sorted(subjects)):
      video = store.videos[v]
      for iv in video.intervals:
        if iv.type == "micro":
          metas.append(clips_lib.clip_meta(video, self.block.label_set,
                                           index=len(metas), interval=iv))
          videos.append(v)
    return ClipStore.from_frames(store, metas, self.block.clip_frames,
                                 self.classes, self.block.label_set, videos)

  def train(self, store, folds, workdir, writer=None):
    """The spotter on every fold (stacked as the spotting task does), then
    per fold the recogniser on that fold's `known_clips` (checkpoints
    under `spotter/` and `recogniser/fold_<k>/`)."""
    spot = self.spotter.train(store, folds, os.path.join(workdir, "spotter"),
                              writer)
    recs = []
    for fold in folds:
      clips = self.known_clips(store, fold)
      recs.append(loop_lib.train_folds(
          self.recogniser.config, self.recogniser,
          self.recogniser.make_sampler(clips, [fold]), [fold],
          os.path.join(workdir, "recogniser", f"fold_{fold.index}")))
    return loop_lib.TrainResult(
        [{"spotter": s, REC: r.best_variables[0]}
         for s, r in zip(spot.best_variables, recs)],
        {"spotter": spot.history, REC: [r.history for r in recs]},
        [r.best_epoch[0] for r in recs], [r.best_val_loss[0] for r in recs],
        parts={"spotter": spot, REC: recs})

  def trained(self, result, k: int) -> dict:
    """The spotter's and the k-th fold's recogniser's choices (epoch,
    weights, validation metrics), each as its own method says them."""
    spot, recs = result.parts["spotter"], result.parts[REC]
    return {"spotter": self.spotter.trained(spot, k)[""],
            REC: self.recogniser.trained(recs[k], 0)[""]}

  # -------------------------------------------------------- the recogniser
  def spotted_clips(self, store, rows, scores) -> ClipStore:
    """The spotted micro intervals `rows` as unlabelled clips; apex: the
    frame of the highest micro score inside each (the onset when none)."""
    by_name = {m.video: i for i, m in enumerate(store.videos)}
    metas, videos = [], []
    for r in rows:
      v = by_name[r.video]
      inside = scores[v][r.onset - 1:r.offset, 0]
      apex = r.onset + (int(np.nanargmax(inside))
                        if np.isfinite(inside).any() else 0)
      iv = Interval("micro", int(r.onset), int(r.offset), apex)
      metas.append(clips_lib.clip_meta(store.videos[v], "", index=len(metas),
                                       interval=iv))
      videos.append(v)
    return ClipStore.from_frames(store, metas, self.block.clip_frames,
                                 self.classes, "", videos)

  def decoder_clips(self, store, fold) -> ClipStore:
    """The clips the recogniser's `label` decoder is fitted on: the true
    micro-expression clips of the fold's validation subjects."""
    return self.known_clips(store, fold, fold.val_subjects)

  def finish_fold(self, variables, store, out):
    """The recogniser's decoder fitted on `decoder_clips`, then every
    spotted micro interval of the held-out videos classified: its row gets
    the class as `emotion` and the apex."""
    rec, weights = self.recogniser, variables[REC]
    val = self.decoder_clips(store, out.fold)
    ids = [i for i in range(len(val.clips)) if val.labels[i] >= 0]
    fitted = rec.fit(val, out.fold, ids, rec.score(weights, val, ids, {}))
    predictions = {}
    for kind, rows in out.predictions.items():
      micro = [r for r in rows if r.type == "micro"]
      if not micro:
        predictions[kind] = rows
        continue
      clips = self.spotted_clips(store, micro, out.scores[kind])
      probs = rec.score(weights, clips, range(len(micro)), {})["model"]
      classified = iter([(c, probs[j]) for j, c in enumerate(clips.clips)])
      predictions[kind] = []
      for r in rows:
        if r.type == "micro":
          c, p = next(classified)
          r = dataclasses.replace(
              r, apex=c.apex - c.first_frame + 1, emotion=self.classes[
                  rec.decoder.decode(p, 0.0, fitted["model"])])
        predictions[kind].append(r)
    return dataclasses.replace(out, predictions=predictions,
                               fitted={**out.fitted, REC: fitted["model"]})

  # -------------------------------------------------------------- evaluation
  def _spotting_out(self, out):
    return dataclasses.replace(
        out, fitted={k: v for k, v in out.fitted.items() if k != REC})

  def fold_row(self, store, out) -> dict:
    row = self.spotter.fold_row(store, self._spotting_out(out))
    gt = [r for v in out.test_ids for r in spotting.gt_rows(store.videos[v])]
    res = interval_metrics.evaluate(gt, out.predictions["model"], "str",
                                    self.config.eval.iou_threshold)["micro"]
    row.update(micro_spot_f1=res["f1"], analysis_f1=res["f1_analysis"],
               strs=res["strs"])
    if REC in out.fitted:
      row["recogniser_decoder"] = out.fitted[REC].to_dict()
    return row

  def evaluate(self, store, outputs) -> dict:
    """The spotting task's metrics (protocols include `str`) and the STR
    headline per dataset: micro spotting F1, analysis F1 and STRS."""
    metrics = self.spotter.evaluate(
        store, [self._spotting_out(o) for o in outputs])
    metrics["task"] = "str"
    metrics["spotter"], metrics[REC] = self.spotter.name, self.recogniser.name
    metrics["classes"] = list(self.classes)
    metrics["str"] = {self.config.dataset.name: str_headline(
        store, outputs, self.config.eval.iou_threshold)}
    return metrics

  def oracle_metrics(self, store, outputs) -> dict:
    raise NotImplementedError("spot-then-recognise has no oracle row yet "
                              "(docs/STR.md)")

  def write_metrics(self, workdir, metrics, writer=None) -> None:
    """metrics.json, the spotting report's lines and the STR table."""
    self.spotter.write_metrics(workdir, metrics, writer)
    print(str_table(metrics), flush=True)

  def write_report(self, workdir, metrics, store, outputs, writer=None):
    """The spotting report's files; `predictions.csv` carries each spotted
    micro interval's class in `emotion` (`evaluate --protocol=str`)."""
    self.spotter.write_report(workdir, metrics, store,
                              [self._spotting_out(o) for o in outputs],
                              writer)


def str_headline(store, outputs, iou_threshold: float) -> dict:
  """Spotting F1 (micro, `one_to_one`), analysis F1 and STRS of the
  model's predictions (the `str` protocol, docs/STR.md)."""
  gt = [r for o in outputs for v in o.test_ids
        for r in spotting.gt_rows(store.videos[v])]
  rows = [r for o in outputs for r in o.predictions["model"]]
  m = interval_metrics.evaluate(gt, rows, "str", iou_threshold)["micro"]
  return {"spotting_f1": m["f1"], "analysis_f1": m["f1_analysis"],
          "strs": m["strs"], "tp": m["tp"], "fp": m["fp"], "fn": m["fn"],
          "analysis_pairs": m["analysis_pairs"],
          "analysis_correct": m["analysis_correct"]}


def str_table(metrics: dict) -> str:
  """The STR headline per dataset as printed lines."""
  lines = [f"spot-then-recognise ({metrics['spotter']} -> "
           f"{metrics[REC]}), micro-expressions:",
           f"{'dataset':<20}{'spot F1':>9}{'analysis F1':>13}{'STRS':>8}"
           f"{'TP':>5}{'right':>7}"]
  for name, r in sorted(metrics["str"].items()):
    lines.append(f"{name:<20}{r['spotting_f1']:>9.4f}{r['analysis_f1']:>13.4f}"
                 f"{r['strs']:>8.4f}{r['tp']:>5}{r['analysis_correct']:>7}")
  return "\n".join(lines)

