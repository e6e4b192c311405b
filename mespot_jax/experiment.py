"""One spotting experiment: data, LOSO training, scoring, post-processing, report.

`run(config, workdir)` is what `python -m mespot_jax.main` calls. The steps
are the data flow of DESIGN.md: open (or build) the dataset, make the
leave-one-subject-out folds, train every fold (resuming from `workdir`),
score every frame of each fold's validation and held-out videos, fit the
post-processing thresholds on the validation videos only, turn held-out
scores into intervals and evaluate them with every configured protocol, next
to a parameter-free frame-difference baseline that goes through the same
post-processing. The report lands in `workdir` (see `mespot_jax.report`).
"""
import functools
import logging
import os

import jax
import ml_collections
import numpy as np

from mespot_jax import models
from mespot_jax.data import folds as folds_lib
from mespot_jax.data.frames import FrameStore
from mespot_jax.data import samples as samples_lib
from mespot_jax.data.source import SpottingSource
from mespot_jax.io_utils import atomic_path, atomic_write
from mespot_jax.metrics import frame as frame_metrics
from mespot_jax.metrics import intervals as interval_metrics
from mespot_jax.metrics.io import IntervalRow
from mespot_jax.spotting import baseline, postprocess, skips as skips_lib
from mespot_jax.spotting import threshold as threshold_lib
from mespot_jax.train import inference, losses
from mespot_jax.train import loop as loop_lib


def default_data_dir(config) -> str:
  return (config.dataset.data_dir or os.environ.get("TFDS_DATA_DIR")
          or os.path.expanduser("~/tensorflow_datasets"))


def open_dataset(config) -> SpottingSource:
  """Opens the configured dataset, building it first when allowed."""
  d = config.dataset
  data_dir = default_data_dir(config)
  if not d.prepare:
    return SpottingSource.open(d.name, data_dir, d.config or None)
  kwargs = {}
  if d.manual_dir:
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    kwargs["download_config"] = tfds.download.DownloadConfig(
        manual_dir=os.path.expanduser(d.manual_dir))
  return SpottingSource.prepare(d.name, data_dir, d.config or None, **kwargs)


def make_loss(loss_config):
  """The loss function a config names, with its fields bound.

  The same config gives the same function object, so compiled steps that
  close over it are shared between runs in one process.
  """
  items = tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple)) else v)
                       for k, v in loss_config.items()))
  return _make_loss(items)


@functools.lru_cache(maxsize=None)
def _make_loss(items):
  cfg = dict(items)
  name = cfg.pop("name")
  if name not in losses.LOSSES:
    raise ValueError(f"unknown loss.name {name!r}; one of "
                     f"{sorted(losses.LOSSES)}")
  fn = losses.LOSSES[name]
  if fn is losses.yap_weighted_bce:
    return functools.partial(fn, **cfg)
  return fn


WIDEN_TO = ("none", "train_median")


def post_params(config, store=None, known_ids=()) -> dict:
  """Per-type post-processing parameters of the configured method.

  A type's config field `widen_to` becomes the post-processor's `min_width`
  (seconds): "none" leaves intervals as found; "train_median" widens short
  intervals to the median duration of that type's intervals in the videos
  `known_ids` of `store` (a fold's training and validation subjects, never
  its test subject). Without `store` (or with no interval of the type in
  `known_ids`) there is nothing to take a median of and `min_width` is None.
  """
  method = config.eval.postprocess
  out = {}
  for t in ("micro", "macro"):
    p = dict(config.eval[method][t].items())
    widen_to = p.pop("widen_to", "none")
    if widen_to not in WIDEN_TO:
      raise ValueError(f"eval.{method}.{t}.widen_to={widen_to!r}; expected "
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


def fold_post_params(config, store, fold) -> dict:
  """`post_params` of one fold: widths from its training and validation
  subjects only (never its test subject)."""
  return post_params(config, store, known_video_indices(store, fold))


def known_video_indices(store, fold) -> list[int]:
  """Videos of a fold's training and validation subjects: all that may
  shape its test-time choices (skips, interval widths)."""
  return store.video_indices(fold.train_subjects + fold.val_subjects)


def make_sampler(config, store, folds):
  return samples_lib.PairSampler(
      store, folds, random_skips=config.sampler.random_skips,
      skip_fps=config.sampler.skip_fps,
      class_probs=config.sampler.class_probs,
      augment=samples_lib.AugmentConfig(**dict(config.augment.items())),
      seed=config.seed)


def test_skips(config, store, fold) -> dict:
  """Test-time skips of a fold in frames at each frame rate it needs.

  The k-th-frame rule uses the intervals of the fold's training and
  validation subjects only (never the test subject).

  Returns:
    {"fps": reference fps, "skips": (s_micro, s_macro) at that fps}.
  """
  known = known_video_indices(store, fold)
  fps = float(np.median([store.videos[i].fps for i in known]))
  if config.sampler.test_skip == "kth":
    ivs = [iv for i in known for iv in store.videos[i].intervals]
    s = skips_lib.kth_frame_skips(ivs, fps,
                                  tuple(config.sampler.kth_default_seconds))
  elif config.sampler.test_skip == "manual":
    s = skips_lib.rescale_skips(config.sampler.manual_skips,
                                config.sampler.skip_fps, fps)
  else:
    raise ValueError(f"sampler.test_skip={config.sampler.test_skip!r}; "
                     "expected 'kth' or 'manual'")
  return {"fps": fps, "skips": [int(x) for x in s]}


def video_skips(skip_info, fps) -> tuple[int, int]:
  """Skips rescaled from the fold's reference fps to a video's fps."""
  return skips_lib.rescale_skips(skip_info["skips"], skip_info["fps"], fps)


def score_fold(config, predict_fn, variables, store, video_indices, skip_info,
               with_baseline: bool) -> dict:
  """Scores every frame of the given videos: {video index: (model, base)}."""
  out = {}
  for v in video_indices:
    meta = store.videos[v]
    s = video_skips(skip_info, meta.fps)
    frames = store.video(v)
    model_scores = inference.score_video(
        predict_fn, variables, iter(frames), s, config.eval.score_batch_size)
    base = (baseline.frame_difference_scores(frames, s) if with_baseline
            else None)
    out[v] = (model_scores, base)
  return out


def fit_thresholds(config, scores, metas, labels,
                   params=None) -> tuple[float, float]:
  """Post-processing thresholds from validation videos (never the test subject).

  `eval.threshold_criterion`: `youden` / `f1` pick a point of the frame ROC
  (the paper's automated method); `interval_f1` picks, per type, the
  threshold whose post-processed intervals score best on the validation
  videos; `overall_f1` picks the pair of thresholds that maximises the F1 of
  micro and macro intervals counted together (the overall score reported).
  `params`: the fold's post-processing parameters (`fold_post_params`);
  default `post_params(config)`.
  """
  method = config.eval.postprocess
  params = post_params(config) if params is None else params
  criterion = config.eval.threshold_criterion
  if criterion in ("interval_f1", "overall_f1"):
    return threshold_lib.fit_thresholds_interval_f1(
        [(s, m.intervals, m.fps) for s, m in zip(scores, metas)], method,
        params, config.eval.iou_threshold,
        objective="overall" if criterion == "overall_f1" else "per_type")
  return threshold_lib.fit_thresholds(
      [(s, l, m.fps) for s, l, m in zip(scores, labels, metas)], method,
      params, config.eval.threshold_criterion)


def evaluate_folds(config, model, store, folds, result, workdir):
  """Scores, thresholds and intervals of every fold; returns the report data."""
  method = config.eval.postprocess
  predict_fn = inference.make_predict_fn(model)
  with_base = bool(config.eval.baseline)
  kinds = ["model"] + (["baseline"] if with_base else [])
  preds = {kind: [] for kind in kinds}
  frame_pool = {kind: {"val": [], "test": []} for kind in kinds}
  per_fold, per_video = [], {}
  for fold, variables in zip(folds, result.best_variables):
    skip_info = test_skips(config, store, fold)
    params = fold_post_params(config, store, fold)
    val_ids = store.video_indices(fold.val_subjects)
    test_ids = store.video_indices([fold.test_subject])
    scores = score_fold(config, predict_fn, variables, store,
                        val_ids + test_ids, skip_info, with_base)
    fold_row = {"fold": fold.index, "test_subject": fold.test_subject,
                "val_subjects": list(fold.val_subjects),
                "best_epoch": result.best_epoch[fold.index],
                "best_val_loss": result.best_val_loss[fold.index],
                "skips": skip_info,
                "min_width": {t: params[t].get("min_width") for t in params}}
    for k, kind in enumerate(kinds):
      thr = fit_thresholds(config, [scores[v][k] for v in val_ids],
                           [store.videos[v] for v in val_ids],
                           [store.labels[v] for v in val_ids], params)
      fold_row[f"{kind}_thresholds"] = [float(t) for t in thr]
      frame_pool[kind]["val"] += [(scores[v][k], store.labels[v])
                                  for v in val_ids]
      fold_preds = []
      for v in test_ids:
        meta, sc = store.videos[v], scores[v][k]
        frame_pool[kind]["test"].append((sc, store.labels[v]))
        for typ, on, off, score in postprocess.scores_to_intervals(
            sc, meta.fps, thr, method, params):
          fold_preds.append(IntervalRow(meta.video, typ, on, off,
                                        subject=meta.subject, score=score))
        per_video.setdefault(meta.video, {})[kind] = {
            "scores": sc, "thresholds": thr, "params": params}
      preds[kind] += fold_preds
      gt = [r for v in test_ids for r in gt_rows(store.videos[v])]
      res = interval_metrics.evaluate(gt, fold_preds, "one_to_one",
                                      config.eval.iou_threshold)
      fold_row[f"{kind}_one_to_one_f1"] = res["overall"]["f1"]
    # Validation scores too, so post-processing can be re-fitted offline.
    for folder, ids in (("", test_ids),
                        (os.path.join("val", f"fold_{fold.index}"), val_ids)):
      score_dir = os.path.join(workdir, "scores", folder)
      os.makedirs(score_dir, exist_ok=True)
      for v in ids:
        with atomic_path(os.path.join(score_dir,
                                      f"{store.videos[v].video}.npy")) as tmp:
          np.save(tmp, scores[v][0])
    per_fold.append(fold_row)
    logging.info("fold %d (test %s): skips %s, model F1 %.3f%s", fold.index,
                 fold.test_subject, skip_info["skips"],
                 fold_row["model_one_to_one_f1"],
                 f", baseline F1 {fold_row['baseline_one_to_one_f1']:.3f}"
                 if with_base else "")
  return preds, frame_pool, per_fold, per_video


def gt_rows(meta) -> list[IntervalRow]:
  return [IntervalRow(meta.video, iv.type, iv.onset, iv.offset,
                      subject=meta.subject, apex=iv.apex, emotion=iv.emotion)
          for iv in meta.intervals]


def frame_level(pool) -> dict:
  """Frame F1/AUC per type (Table 4): threshold from validation ROC."""
  out = {}
  for k, typ in enumerate(("micro", "macro")):
    val_s = np.concatenate([s[:, k] for s, _ in pool["val"]]) if pool[
        "val"] else np.zeros(0)
    val_l = np.concatenate([l[:, k] for _, l in pool["val"]]) if pool[
        "val"] else np.zeros(0)
    thr = threshold_lib.from_roc(val_l, val_s, "youden", 0.5)
    test_s = np.concatenate([s[:, k] for s, _ in pool["test"]])
    test_l = np.concatenate([l[:, k] for _, l in pool["test"]])
    out[typ] = dict(frame_metrics.frame_f1_auc(test_l, test_s, thr),
                    threshold=float(thr))
  return out


def run(config: ml_collections.ConfigDict, workdir: str,
        store: FrameStore | None = None) -> dict:
  """Trains and evaluates every LOSO fold; writes the report to `workdir`.

  Args:
    config: the experiment config.
    workdir: run directory (resumed when it holds a checkpoint).
    store: frames to use instead of opening `config.dataset` (tests).

  Returns:
    The metrics dict also written to `workdir/metrics.json`.
  """
  from mespot_jax.report import report as report_lib  # pylint: disable=g-import-not-at-top
  os.makedirs(workdir, exist_ok=True)
  with atomic_write(os.path.join(workdir, "config.json")) as f:
    f.write(config.to_json_best_effort(indent=2))
  if store is None:
    store = FrameStore.from_source(open_dataset(config),
                                   config.dataset.image_size,
                                   config.dataset.in_memory_max_gib)
  subjects = sorted({v.subject for v in store.videos})
  folds = folds_lib.make_folds(subjects, config.train.num_val_subjects,
                               config.seed, tuple(config.train.test_folds))
  logging.info("%s: %d videos, %d subjects, %d folds, %dx%dx%d crops",
               config.dataset.name, len(store.videos), len(subjects),
               len(folds), store.image_size, store.image_size, store.channels)
  model = models.get_model(config.model)
  sampler = make_sampler(config, store, folds)
  writer = report_lib.make_writer(workdir)
  result = loop_lib.train_folds(config, model, make_loss(config.loss),
                                sampler, folds, workdir, writer)
  preds, frame_pool, per_fold, per_video = evaluate_folds(
      config, model, store, folds, result, workdir)
  test_ids = [i for f in folds for i in store.video_indices([f.test_subject])]
  gt = [r for v in test_ids for r in gt_rows(store.videos[v])]
  metrics = {"dataset": config.dataset.name, "dataset_config":
             config.dataset.config, "backend": jax.default_backend(),
             "postprocess": config.eval.postprocess, "folds": per_fold}
  for kind, rows in preds.items():
    metrics[kind] = {p: interval_metrics.evaluate(
        gt, rows, p, config.eval.iou_threshold) for p in config.eval.protocols}
    for p in metrics[kind]:
      metrics[kind][p].pop("per_video", None)
    metrics[kind]["frame"] = frame_level(frame_pool[kind])
  metrics["history"] = result.history
  report_lib.write_report(config, workdir, metrics, gt, preds, store,
                          test_ids, per_video, writer)
  if config.train.deploy:
    from mespot_jax import deploy  # pylint: disable=g-import-not-at-top
    deploy.train_deploy_model(config, workdir, store, model)
  return metrics
