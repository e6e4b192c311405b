"""Yap et al. (2022): two-stream 3D-CNN with temporal oriented reference frames.

The method plug-in of the 3D-CNN (`config.method = "yap3dcnn"`; its fields
in `config.yap3dcnn`): two-stream frame-pair samples (`data.samples.
PairSampler`), the model of `models/yap3dcnn.py`, the weighted BCE of
equation 2, sigmoid multi-label outputs, the weighted ROC AUC as a
validation metric, the k-th-frame (or manual) test-time skips of each fold
and the pair scoring of held-out videos. Everything after the per-frame
scores is the spotting task's (`methods.spotting`); the parameter-free
frame-difference baseline is scored with the same skips as a reference
kind ("baseline"), through the same post-processing.

Scoring a video: frame t (1-based) is scored on the pairs
(t, min(t + s_k, T)) for the two test-time skips, the same convention as
training. Its stream-k score needs a face in both frames of its pair: a
frame whose partner has no face gets no score of that type either
(`invalid_frames`), as training never draws such a pair. Frames arrive
from an iterator (a decoded video, an aligner, an in-memory array) and
only a window of `max(skips) + batch_size` frames is held, so any video
length runs in bounded memory. Batches have a fixed
shape (the last one padded), so the jitted scorer compiles once.
"""
import functools
from typing import Iterable, Iterator

import jax
import jax.numpy as jnp
import numpy as np

from mespot_jax import models
from mespot_jax.config.blocks.yap3dcnn import default_config  # pylint: disable=unused-import
from mespot_jax.data import folds as folds_lib
from mespot_jax.data import samples as samples_lib
from mespot_jax.data import timing
from mespot_jax.methods import spotting
from mespot_jax.metrics import frame as frame_metrics
from mespot_jax.spotting import baseline
from mespot_jax.spotting import skips as skips_lib
from mespot_jax.train import inference, losses
from mespot_jax.train import steps as steps_lib




def weighted_auc(scores_KB2: np.ndarray, labels_KB2: np.ndarray,
                 class_weights) -> np.ndarray:
  """Per fold: the mean of the micro and macro ROC AUCs of the validation
  samples, weighted as the loss weights the types (M_i of equation 2); a
  type with one class only among the samples counts as chance (0.5)."""
  w = np.asarray(class_weights, np.float64)
  w = w / w.sum()
  out = []
  for f in range(len(scores_KB2)):
    aucs = [frame_metrics.roc_auc(labels_KB2[f, :, j], scores_KB2[f, :, j])
            for j in range(2)]
    out.append(sum(wj * (0.5 if np.isnan(a) else a)
                   for wj, a in zip(w, aucs)))
  return np.array(out)


def _inputs(batch, train: bool):
  """uint8 pairs -> float pixels; intensity augmentation when training."""
  x = steps_lib.to_float(batch["x"])
  return steps_lib.apply_intensity(x, batch["aug"]) if train else x


@functools.lru_cache(maxsize=None)
def _loss_on_batch(loss_fn):
  return lambda logits, batch: loss_fn(logits, batch["y"])


def iter_pair_scores(predict_fn, variables, frames: Iterable[np.ndarray],
                     skips, batch_size: int = 0) -> Iterator[np.ndarray]:
  """Yields per-frame scores (n, 2) in frame order, batch by batch.

  Args:
    predict_fn: `steps.make_predict_fn` of the method's step functions.
    variables: the model variables of one fold.
    frames: iterator of (S, S, C) uint8 aligned crops.
    skips: (s_micro, s_macro) test-time skips in frames.
    batch_size: reference frames per jitted call; 0 = per backend.

  Yields:
    float32 arrays (n, 2): [micro, macro] scores of consecutive frames.
  """
  skips = tuple(int(s) for s in skips)
  batch_size = inference.resolve_batch_size(batch_size)
  reach = max(skips)
  buf: list[np.ndarray] = []  # frames start, start+1, ... (0-based)
  start = 0  # 0-based index of buf[0]
  nxt = 0  # next reference frame to score (0-based)
  total = None

  def emit(count):
    refs = np.arange(nxt, nxt + count)
    last = (total - 1) if total is not None else None
    idx = [refs] + [np.minimum(refs + s, last) if last is not None
                    else refs + s for s in skips]
    local = [i - start for i in idx]
    x = np.zeros((batch_size, 2, 2) + buf[0].shape, np.uint8)
    stack = np.stack(buf)
    for k in range(2):
      x[:count, k, 0] = stack[local[0]]
      x[:count, k, 1] = stack[local[k + 1]]
    out = np.asarray(predict_fn(variables, {"x": x}))[:count]
    return out.astype(np.float32)

  it = iter(frames)
  while True:
    frame = next(it, None)
    if frame is None:
      break
    buf.append(np.asarray(frame))
    if start + len(buf) - 1 >= nxt + batch_size - 1 + reach:
      yield emit(batch_size)
      nxt += batch_size
      del buf[:nxt - start]
      start = nxt
  total = start + len(buf)
  while nxt < total:
    count = min(batch_size, total - nxt)
    yield emit(count)
    nxt += count


def _concat(parts) -> np.ndarray:
  return np.concatenate(parts) if parts else np.zeros((0, 2), np.float32)


class Yap3DCNN(spotting.SpottingMethod):
  """The two-stream 3D-CNN spotter."""
  name = "yap3dcnn"
  metric_modes = {"auc": "max"}
  oracle_metric = "auc"
  CHOICES = ("skips",)


  # --------------------------------------------------------------- training
  @property
  def step_fns(self) -> steps_lib.StepFns:
    model = models.get_model(dict(name="yap3dcnn", **self.block.model))
    loss = _loss_on_batch(losses.get_loss(self.block.loss))
    return steps_lib.StepFns(model, _inputs, loss, jax.nn.sigmoid)

  def make_sampler(self, store, folds):
    s = self.block.sampler
    return samples_lib.PairSampler(
        store, folds, random_skips=s.random_skips, skip_fps=s.skip_fps,
        class_probs=s.class_probs,
        augment=samples_lib.AugmentConfig(**dict(self.config.augment.items())),
        seed=self.config.seed)

  def example_input(self, store):
    return jnp.zeros((1, 2, 2, store.image_size, store.image_size,
                      store.channels), jnp.float32)

  def val_metrics(self, scores_KB, batch) -> dict:
    return {"auc": weighted_auc(scores_KB, np.asarray(batch["y"]),
                                tuple(self.block.loss.class_weights))}

  # ---------------------------------------------------------------- choices
  def test_skips(self, store, fold) -> dict:
    """Test-time skips of a fold: {"fps": reference fps, "skips": (s_micro,
    s_macro) at that fps}. The k-th-frame rule uses the intervals of the
    fold's training and validation subjects only (never the test subject).
    """
    s = self.block.sampler
    known = folds_lib.known_video_indices(store, fold)
    fps = float(np.median([store.videos[i].fps for i in known]))
    if s.test_skip == "kth":
      ivs = [iv for i in known for iv in store.videos[i].intervals]
      skips = skips_lib.kth_frame_skips(ivs, fps,
                                        tuple(s.kth_default_seconds))
    elif s.test_skip == "manual":
      skips = timing.rescale_skips(s.manual_skips, s.skip_fps, fps)
    else:
      raise ValueError(f"yap3dcnn.sampler.test_skip={s.test_skip!r}; "
                       "expected 'kth' or 'manual'")
    return {"fps": fps, "skips": [int(x) for x in skips]}

  def fold_choices(self, store, fold) -> dict:
    return dict(super().fold_choices(store, fold),
                skips=self.test_skips(store, fold))

  # ---------------------------------------------------------------- scoring
  def score_stream(self, variables, crops, fps, choices, batch_size=0):
    """Scores (T, 2) of a stream of crops at `fps` (skips rescaled)."""
    skips = self.video_skips(choices, fps)
    predict = steps_lib.make_predict_fn(self.step_fns)
    return _concat(list(iter_pair_scores(predict, variables, crops, skips,
                                         batch_size)))

  @staticmethod
  def video_skips(choices, fps) -> tuple[int, ...]:
    """The fold's skips rescaled from its reference fps to a video's."""
    info = choices["skips"]
    return timing.rescale_skips(info["skips"], info["fps"], fps)

  def invalid_frames(self, face_found_T, fps, choices) -> np.ndarray:
    """Frames without a face, and per stream the frames whose partner
    min(t + s_k, T) has none: (T, 2) bool [micro, macro]."""
    bad = ~np.asarray(face_found_T, bool)
    t = np.arange(len(bad))
    last = max(len(bad) - 1, 0)
    return np.stack([bad | bad[np.minimum(t + s, last)]
                     for s in self.video_skips(choices, fps)[:2]], axis=1)

  def video_choices(self, choices, fps) -> dict:
    s = self.video_skips(choices, fps)
    return {"skips": {"micro": s[0], "macro": s[1],
                      "model_skips": list(choices["skips"]["skips"]),
                      "model_fps": choices["skips"]["fps"]}}

  def score_videos(self, variables, store, indices, choices) -> dict:
    """Model scores and, if configured, the frame-difference baseline's of
    the videos `indices` (`score` blanks the frames without a face)."""
    bs = self.config.eval.score_batch_size
    out = {"model": {}}
    if self.block.baseline:
      out["baseline"] = {}
    for v in indices:
      frames = store.video(v)
      fps = store.videos[v].fps
      out["model"][v] = self.score_stream(variables, iter(frames), fps,
                                          choices, bs)
      if self.block.baseline:
        out["baseline"][v] = baseline.frame_difference_scores(
            frames, self.video_skips(choices, fps))
    return out
