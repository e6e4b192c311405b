"""The spotting task: what every spotting method shares after its scores.

A spotting method is a scorer of every frame of a video, `scores_T2`
(column 0 micro, column 1 macro). From there the task takes over,
implemented here: the decoder of `config.decoder.name`
(`mespot_jax.decoders`: `runs`, `apex`, `peaks`) fitted per fold on the
fitting videos (`Method.fit_ids`) with the truth of the fold's known
subjects, the held-out videos decoded into intervals, the MEGC protocols
and frame-level metrics, the interval CSVs and per-video plots. A subclass
supplies training (`step_fns`, `make_sampler`, ...), its test-time choices
(`fold_choices`), `score_videos`, `score_stream` and, when they differ
from the defaults, the types it scores and how far a score reads
(`scored_types`, `reach_s`: what its decoder may know of it).

Every kind of score (`"model"` and any reference such as the 3D-CNN's
frame-difference baseline) goes through the same decoder.

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

from mespot_jax import decoders
from mespot_jax.config import vocab
from mespot_jax.data import folds as folds_lib
from mespot_jax.methods import base
from mespot_jax.metrics import frame as frame_metrics
from mespot_jax.metrics import intervals as interval_metrics
from mespot_jax.metrics.io import IntervalRow
from mespot_jax.spotting import threshold as threshold_lib

TYPES = vocab.TYPES


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


def units(store, indices, by_video=None) -> list:
  """The videos `indices` of `store` as decoder units: their scores (from
  `by_video`; None: truth only), truth and frame labels."""
  out = []
  for v in indices:
    m = store.videos[v]
    out.append(decoders.Unit(
        None if by_video is None else by_video[v], m.fps, m.video,
        m.subject, tuple(m.intervals),
        store.labels[v] if by_video is not None else None))
  return out


class SpottingMethod(base.Method):
  """Base of the spotting methods: the scorer's part they share (frames
  without a score), and the task: decoding through `config.decoder`,
  metrics and the report."""
  task = "spotting"
  # Offline scoring hands `score_stream` (crop, ROI boxes) pairs instead of
  # crops when True (boxes of `face.align.ROI_NAMES` at the crop's size).
  stream_rois = False

  # ----------------------------------------------------------------- scorer
  def scorer_info(self) -> decoders.ScorerInfo:
    """What a decoder may know of this scorer: the types it scores and
    how far from its frame a score reads (`reach_s`)."""
    return decoders.ScorerInfo(tuple(self.scored_types()), self.reach_s())

  def scored_types(self) -> tuple:
    """The score columns that mean something (default: both)."""
    return TYPES

  def reach_s(self) -> dict:
    """{type: seconds} a score reads before and after its frame."""
    return {t: 0.0 for t in TYPES}

  def fold_choices(self, store, fold) -> dict:
    """The scorer's test-time choices (none by default)."""
    del store, fold
    return {}

  # ---------------------------------------------------------------- decoder
  @property
  def decoder(self):
    """The decoder of `config.decoder.name` for this scorer."""
    return decoders.get(self.config, self.scorer_info())

  def fit(self, store, fold, indices, scores, criterion=None,
          absolute: bool = False) -> dict:
    """{kind: decoder record} fitted on the videos `indices` (the fold's
    fitting units) and the truth of the fold's known subjects.
    `criterion`: the oracle's (`overall_f1`); `absolute`: offline
    scoring's absolute mode."""
    dec = self.decoder
    known = units(store, folds_lib.known_video_indices(store, fold))
    return {kind: dec.fit(units(store, indices, by_video), known,
                          criterion=criterion, absolute=absolute)
            for kind, by_video in scores.items()}

  def oracle_fit(self, store, fold, indices, scores) -> dict:
    """The oracle's fit on the test videos: the choices that maximise
    their overall interval F1, as code that tunes on the test set does."""
    return self.fit(store, fold, indices, scores, "overall_f1")

  def predict(self, store, indices, scores, fitted) -> dict:
    """{kind: [IntervalRow]} of the videos `indices`."""
    dec = self.decoder
    out = {}
    for kind, by_video in scores.items():
      out[kind] = [r for v in indices for r in dec.decode(
          by_video[v], store.videos[v].fps, fitted[kind],
          store.videos[v].video, store.videos[v].subject)]
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

  # ------------------------------------------------------------- evaluation
  def fold_row(self, store, out) -> dict:
    """What the report lists of one fold: its choices and its F1."""
    row = dict(out.choices)
    gt = [r for v in out.test_ids for r in gt_rows(store.videos[v])]
    for kind, fitted in out.fitted.items():
      row[f"{kind}_decoder"] = fitted.to_dict()
      res = interval_metrics.evaluate(gt, out.predictions[kind], "one_to_one",
                                      self.config.eval.iou_threshold)
      row[f"{kind}_one_to_one_f1"] = res["overall"]["f1"]
    return row

  def evaluate(self, store, outputs) -> dict:
    """Interval metrics per kind and protocol, and frame-level metrics."""
    ev = self.config.eval
    test_ids = [v for o in outputs for v in o.test_ids]
    gt = [r for v in test_ids for r in gt_rows(store.videos[v])]
    metrics = {"decoder": self.decoder.name}
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
    dec = self.decoder
    for o in outputs:
      for v in o.test_ids:
        meta = store.videos[v]
        signal, thresholds = dec.signal(o.scores["model"][v], meta.fps,
                                        o.fitted["model"])
        plots.plot_video(
            os.path.join(workdir, "plots", f"{meta.video}.png"), meta,
            o.scores["model"][v], signal, thresholds,
            [r for r in o.predictions["model"] if r.video == meta.video],
            dec.name)

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
    return {"preprocess": store.preprocess.to_dict(),
            "train_fps": sorted({float(v.fps) for v in store.videos})}

  def video_choices(self, choices, fps) -> dict:
    """The choices as applied to a video at `fps` (offline scoring JSON)."""
    del choices, fps
    return {}

  def score_stream(self, variables, crops, fps, choices, batch_size):
    """Scores (T, 2) of a stream of prepared crops of one video."""
    raise NotImplementedError(f"method {self.name!r} cannot score a stream")
