"""The spotting task: what every spotting method shares after its scores.

A spotting method scores every frame of a video, `scores_T2` (column 0
micro, column 1 macro). From there all spotting methods share the same
steps, implemented here: per-type post-processing parameters (interval
widths from the fold's training and validation subjects), thresholds fitted
on the validation videos (`eval.threshold_criterion`), intervals, the MEGC
protocols and frame-level metrics, the interval CSVs and per-video plots.
A subclass supplies training (`step_fns`, `make_sampler`, ...), its own
test-time choices (`fold_choices`, extending this one), `score_videos` and
`score_stream`.

Every kind of score (`"model"` and any reference such as the 3D-CNN's
frame-difference baseline) goes through the same post-processing.

Frames without a face get no score. The crop of such a frame is only the
last face position (or a centred guess), so a score there would be noise:
`score` sets NaN wherever `invalid_frames` says so (by default the frames
the builder flagged `face_found=False`; a method whose score of frame t
also reads other frames extends it, e.g. the 3D-CNN's pair partners), and
offline scoring does the same with the frames where its aligner found no
face or that could not be decoded. Post-processing treats NaN frames as
breaks (no interval spans one), threshold fitting and frame metrics leave
them out, and the report counts them (`frames_without_score`). True
intervals inside such frames stay in the ground truth: an expression the
spotter could not see is a miss.
"""
import logging
import os

import numpy as np

from mespot_jax.config import vocab
from mespot_jax.data import folds as folds_lib
from mespot_jax.methods import base
from mespot_jax.metrics import frame as frame_metrics
from mespot_jax.metrics import intervals as interval_metrics
from mespot_jax.metrics.io import IntervalRow
from mespot_jax.spotting import postprocess
from mespot_jax.spotting import threshold as threshold_lib

TYPES = vocab.TYPES
WIDEN_TO = vocab.WIDEN_TO


def post_params(config, store=None, known_ids=()) -> dict:
  """Per-type post-processing parameters of the configured post-processor.

  A type's config field `widen_to` becomes the post-processor's `min_width`
  (seconds): "none" leaves intervals as found; "train_median" widens short
  intervals to the median duration of that type's intervals in the videos
  `known_ids` of `store` (a fold's training and validation subjects, never
  its test subject). Without `store` (or with no interval of the type in
  `known_ids`) there is nothing to take a median of and `min_width` is None.
  """
  name = config.eval.postprocess
  postprocess.get(name)  # validates the name
  out = {}
  for t in TYPES:
    p = dict(config.eval[name][t].items())
    if p.get("normalise") not in (*postprocess.NORMALISE, "train_range"):
      raise ValueError(f"eval.{name}.{t}.normalise={p.get('normalise')!r}; "
                       "expected minmax (each video's own range, the paper), "
                       "train_range (the validation videos' raw range), or "
                       "none")
    widen_to = p.pop("widen_to", "none")
    if widen_to not in WIDEN_TO:
      raise ValueError(f"eval.{name}.{t}.widen_to={widen_to!r}; expected "
                       f"one of {WIDEN_TO}")
    if widen_to == "train_median" and store is not None:
      secs = [(iv.offset - iv.onset + 1) / store.videos[i].fps
              for i in known_ids for iv in store.videos[i].intervals
              if iv.type == t]
      if secs:
        p["min_width"] = float(np.median(secs))
      else:
        logging.warning("no %s interval in the training subjects: %s "
                        "intervals are not widened", t, t)
    out[t] = p
  return out


def gt_rows(meta) -> list[IntervalRow]:
  """The true intervals of one video as evaluation rows."""
  return [IntervalRow(meta.video, iv.type, iv.onset, iv.offset,
                      subject=meta.subject, apex=iv.apex, emotion=iv.emotion)
          for iv in meta.intervals]


def frame_level(val, test) -> dict:
  """Frame F1/AUC per type (Yap et al. Table 4); the threshold is the
  validation frames' Youden point. `val`, `test`: [(scores_T2, labels_T2)].
  Frames without a score (NaN) are left out and counted.
  """
  out = {}
  for k, typ in enumerate(TYPES):
    cat = lambda pairs, i: (np.concatenate([p[i][:, k] for p in pairs])
                            if pairs else np.zeros(0))
    thr = threshold_lib.from_roc(cat(val, 1), cat(val, 0), "youden", 0.5)
    out[typ] = dict(frame_metrics.frame_f1_auc(cat(test, 1), cat(test, 0),
                                               thr), threshold=float(thr),
                    frames_without_score=int(np.isnan(cat(test, 0)).sum()))
  return out


class SpottingMethod(base.Method):
  """Base of the spotting methods: post-processing, thresholds, metrics."""
  task = "spotting"
  CHOICES = ("min_width", "thresholds", "norm")
  # Offline scoring hands `score_stream` (crop, ROI boxes) pairs instead of
  # crops when True (boxes of `face.align.ROI_NAMES` at the crop's size).
  stream_rois = False

  # ---------------------------------------------------------------- choices
  def fold_choices(self, store, fold) -> dict:
    """Interval widths from the fold's training and validation subjects."""
    params = post_params(self.config, store,
                         folds_lib.known_video_indices(store, fold))
    return {"post": params,
            "min_width": {t: params[t].get("min_width") for t in TYPES}}

  def oracle_fit(self, store, indices, scores, choices) -> dict:
    """The oracle's fit on the test videos: the thresholds that maximise
    their overall interval F1, as code that tunes on the test set does."""
    return self.fit(store, indices, scores, choices, "overall_f1")

  def fit(self, store, indices, scores, choices, criterion=None,
          absolute: bool = False) -> dict:
    """Thresholds per kind on the videos `indices` (validation subjects).

    `eval.threshold_criterion`: `youden` / `f1` pick a point of the frame
    ROC (the paper's automated method); `interval_f1` picks, per type, the
    threshold whose post-processed intervals score best; `overall_f1` picks
    the pair of thresholds that maximises the F1 of micro and macro
    intervals counted together (the overall score reported). `criterion`
    overrides the config's.

    A type whose `normalise` is "train_range" (or every type, with
    `absolute`: the absolute mode of offline scoring) is normalised with
    the raw score range of these videos (`norm`: [min, max] of their scored
    frames) instead of each video's own, before its threshold is fitted.

    Returns:
      {kind: {"thresholds": [micro, macro], "norm": {type: [lo, hi] or
      None}}}.
    """
    ev = self.config.eval
    criterion = criterion or ev.threshold_criterion
    name = ev.postprocess
    metas = [store.videos[v] for v in indices]
    out = {}
    for kind, by_video in scores.items():
      sc = [by_video[v] for v in indices]
      norm = {}
      for k, t in enumerate(TYPES):
        mode = choices["post"][t].get("normalise", "minmax")
        if absolute or mode == "train_range":
          pooled = np.concatenate([np.asarray(x)[:, k] for x in sc])
          pooled = pooled[np.isfinite(pooled)]
          norm[t] = ([float(pooled.min()), float(pooled.max())]
                     if pooled.size else [0.0, 1.0])
        else:
          norm[t] = None
      params = self.post_for(choices, {"norm": norm})
      if criterion in ("interval_f1", "overall_f1"):
        thr = threshold_lib.fit_thresholds_interval_f1(
            [(s, m.intervals, m.fps) for s, m in zip(sc, metas)], name,
            params, ev.iou_threshold,
            objective="overall" if criterion == "overall_f1" else "per_type")
      else:
        thr = threshold_lib.fit_thresholds(
            [(s, store.labels[v], m.fps)
             for s, v, m in zip(sc, indices, metas)],
            name, params, criterion)
      out[kind] = {"thresholds": [float(t) for t in thr], "norm": norm}
    return out

  @staticmethod
  def post_for(choices, fitted) -> dict:
    """The per-type post-processing parameters a fold applies: its
    `choices["post"]` with the fitted normalisation range of each type
    that has one (`normalise="fixed"`, `norm_lo`, `norm_hi`)."""
    out = {}
    for t in TYPES:
      p = dict(choices["post"][t])
      rng = (fitted.get("norm") or {}).get(t)
      if rng is not None:
        p.update(normalise="fixed", norm_lo=rng[0], norm_hi=rng[1])
      elif p.get("normalise") == "train_range":
        raise ValueError(f"{t}: normalise='train_range' needs a fitted range")
      out[t] = p
    return out

  # ---------------------------------------------------------------- scoring
  def invalid_frames(self, face_found_T, fps, choices) -> np.ndarray:
    """Frames that get no score: (T, 2) bool [micro, macro].

    Args:
      face_found_T: (T,) bool, frames whose face was found (offline
        scoring: found and decoded).
      fps: the video's frame rate.
      choices: the fold's `fold_choices`.

    Returns:
      True where a type's score must be NaN. Here: the frames without a
      face; a method whose score of frame t reads other frames extends it.
    """
    del fps, choices
    bad = ~np.asarray(face_found_T, bool)
    return np.stack([bad, bad], axis=1)

  def score_videos(self, variables, store, indices, choices) -> dict:
    """{kind: {index: scores_T2}} of the videos `indices`, every frame
    scored (`score` then blanks the invalid ones)."""
    raise NotImplementedError(f"method {self.name!r} scores no video")

  def score(self, variables, store, indices, choices) -> dict:
    """`score_videos` with NaN on every frame `invalid_frames` names (no
    face), in every kind; logs how many frames that was."""
    scores = self.score_videos(variables, store, indices, choices)
    blank, total = np.zeros(2, np.int64), 0
    for v in indices:
      meta = store.videos[v]
      bad_T2 = self.invalid_frames(store.face_found(v), meta.fps, choices)
      total += meta.num_frames
      if not bad_T2.any():
        continue
      blank += bad_T2.sum(0)
      for by_video in scores.values():
        by_video[v] = np.where(bad_T2, np.nan, by_video[v]).astype(
            np.float32)
    if blank.any():
      logging.info("frames without a face (or reading one) get no score: "
                   "micro %d, macro %d of the %d frames of %d video(s)",
                   blank[0], blank[1], total, len(indices))
    return scores

  # ------------------------------------------------------------- prediction
  def predict_video(self, scores_T2, fps, video, choices, fitted,
                    subject="") -> list[IntervalRow]:
    """Intervals of one video's scores (also what offline scoring uses);
    none spans a frame without a score (NaN), and a type whose threshold is
    `threshold.NO_DETECTION` gets none."""
    return [IntervalRow(video, typ, on, off, subject=subject, score=score)
            for typ, on, off, score in postprocess.scores_to_intervals(
                scores_T2, fps, fitted["thresholds"],
                self.config.eval.postprocess, self.post_for(choices, fitted))]

  def predict(self, store, indices, scores, choices, fitted) -> dict:
    out = {}
    for kind, by_video in scores.items():
      out[kind] = [r for v in indices for r in self.predict_video(
          by_video[v], store.videos[v].fps, store.videos[v].video, choices,
          fitted[kind], store.videos[v].subject)]
    return out

  # ------------------------------------------------------------- evaluation
  def fold_row(self, store, out) -> dict:
    """What the report lists of one fold: its choices and its F1."""
    row = {"skips": out.choices.get("skips"),
           "min_width": out.choices["min_width"]}
    gt = [r for v in out.test_ids for r in gt_rows(store.videos[v])]
    for kind, fitted in out.fitted.items():
      row[f"{kind}_thresholds"] = fitted["thresholds"]
      if any(fitted.get("norm", {}).values()):
        row[f"{kind}_norm"] = fitted["norm"]
      res = interval_metrics.evaluate(gt, out.predictions[kind], "one_to_one",
                                      self.config.eval.iou_threshold)
      row[f"{kind}_one_to_one_f1"] = res["overall"]["f1"]
    return row

  def evaluate(self, store, outputs) -> dict:
    """Interval metrics per kind and protocol, and frame-level metrics."""
    ev = self.config.eval
    test_ids = [v for o in outputs for v in o.test_ids]
    gt = [r for v in test_ids for r in gt_rows(store.videos[v])]
    metrics = {"postprocess": ev.postprocess}
    for kind in outputs[0].predictions:
      rows = [r for o in outputs for r in o.predictions[kind]]
      metrics[kind] = {}
      for p in ev.protocols:
        res = interval_metrics.evaluate(gt, rows, p, ev.iou_threshold)
        res.pop("per_video", None)
        metrics[kind][p] = res
      pool = lambda ids_of: [(o.scores[kind][v], store.labels[v])
                             for o in outputs for v in ids_of(o)]
      metrics[kind]["frame"] = frame_level(pool(lambda o: o.val_ids),
                                           pool(lambda o: o.test_ids))
    held_out = [o.scores["model"][v] for o in outputs for v in o.test_ids]
    metrics["frames_without_score"] = {
        "note": "held-out frames without a face (or whose score reads one): "
                "no score, no interval across them",
        "frames": int(sum(len(s) for s in held_out)),
        **{typ: int(sum(np.isnan(s[:, k]).sum() for s in held_out))
           for k, typ in enumerate(TYPES)}}
    return metrics

  def oracle_metrics(self, store, outputs) -> dict:
    """The oracle's headline: interval counts and F1 per protocol of the
    model (no frame-level metrics: the oracle scores no validation video)."""
    ev = self.config.eval
    gt = [r for o in outputs for v in o.test_ids
          for r in gt_rows(store.videos[v])]
    rows = [r for o in outputs for r in o.predictions["model"]]
    out = {}
    for p in ev.protocols:
      res = interval_metrics.evaluate(gt, rows, p, ev.iou_threshold)
      out[p] = {t: {k: res[t][k] for k in ("tp", "fp", "fn", "f1")}
                for t in ("micro", "macro", "overall")}
    return out

  def write_report(self, workdir, metrics, store, outputs, writer=None):
    """Interval CSVs (truth, predictions per kind) and per-video plots."""
    from mespot_jax.metrics import io as metrics_io  # pylint: disable=g-import-not-at-top
    from mespot_jax.report import plots  # pylint: disable=g-import-not-at-top
    test_ids = [v for o in outputs for v in o.test_ids]
    metrics_io.write_intervals_csv(
        os.path.join(workdir, "ground_truth.csv"),
        [r for v in test_ids for r in gt_rows(store.videos[v])])
    for kind in outputs[0].predictions:
      name = "predictions.csv" if kind == "model" else f"{kind}_predictions.csv"
      metrics_io.write_intervals_csv(
          os.path.join(workdir, name),
          [r for o in outputs for r in o.predictions[kind]])
    if not self.config.eval.plots:
      return
    for o in outputs:
      for v in o.test_ids:
        meta = store.videos[v]
        plots.plot_video(
            os.path.join(workdir, "plots", f"{meta.video}.png"), meta,
            o.scores["model"][v], o.fitted["model"]["thresholds"],
            [r for r in o.predictions["model"] if r.video == meta.video],
            self.config.eval.postprocess,
            self.post_for(o.choices, o.fitted["model"]))

  def save_scores(self, workdir, store, out) -> None:
    """Raw per-frame model scores of the fold's test videos
    (`scores/<video>.npy`) and validation videos (`scores/val/fold_<k>/`),
    enough to re-fit post-processing offline."""
    from mespot_jax.io_utils import atomic_path  # pylint: disable=g-import-not-at-top
    for folder, ids in (("", out.test_ids),
                        (os.path.join("val", f"fold_{out.fold.index}"),
                         out.val_ids)):
      score_dir = os.path.join(workdir, "scores", folder)
      os.makedirs(score_dir, exist_ok=True)
      for v in ids:
        with atomic_path(os.path.join(score_dir,
                                      f"{store.videos[v].video}.npy")) as tmp:
          np.save(tmp, out.scores["model"][v])

  # ----------------------------------------------------------------- deploy
  def deploy_record(self, store) -> dict:
    return {"image_size": int(store.image_size),
            "channels": int(store.channels),
            "grey": int(store.channels) == 1,
            "align_size": int(store.stored_size),
            "mask_face": bool(store.mask_face),
            "preprocess": store.preprocess.to_dict(),
            "train_fps": sorted({float(v.fps) for v in store.videos})}

  def video_choices(self, choices, fps) -> dict:
    """The choices as applied to a video at `fps` (offline scoring JSON)."""
    del choices, fps
    return {}

  def score_stream(self, variables, crops, fps, choices, batch_size):
    """Scores (T, 2) of a stream of prepared crops of one video."""
    raise NotImplementedError(f"method {self.name!r} cannot score a stream")
