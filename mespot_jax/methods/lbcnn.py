"""Pan et al. (2020): the LBCNN spotter, per-frame classes to intervals.

The method plug-in of the local bilinear CNN (`config.method = "lbcnn"`;
its fields in `config.lbcnn`). Training samples are single frames drawn
uniformly per class (neutral, micro, macro; `sampler.class_probs`) from
the fold's training subjects' videos, with the harness's augmentation
(`config.augment`: flip and rotation on the host, applied to the face and
its ROI boxes alike; gain, gamma and contrast on device), and the
cross-entropy of the model's 3-class softmax (`models/lbcnn.py`). A frame
inside both a micro and a macro interval is a micro frame (the rarer and
harder class). Validation: the loss, and UAR / UF1 of the argmax
(`val_metrics`).

Scoring a held-out video: every frame's class probabilities, in
fixed-shape batches through one jitted function (the ROI crops are cut on
device from the frame's boxes, `FrameStore.rois`); `scores_T2` are the
micro and macro probabilities. The paper's decoder is `runs`
(`mespot_jax.decoders.runs`) with this method's parameters
(`blocks.lbcnn.paper_decoder` sets `eval.<post-processor>.<type>`):
smoothing (Butterworth for `automated`), runs of frames whose smoothed
probability passes the type's threshold (fitted on the validation
subjects, `eval.threshold_criterion`; never the test subject), merging
and the duration rules, the probabilities thresholded as they are
(normalise "none"). A micro run longer than `max_len` (0.5 s, the MEGC
limit of a micro-expression) is dropped, not re-typed: the same frames
become a macro interval only if their macro probability passes the macro
threshold, because that threshold was fitted on the macro column alone;
micro runs shorter than `min_len` and macro runs shorter than theirs are
dropped too.

Offline scoring (`mespot_jax.score`) hands this method (`stream_rois`)
each aligned crop with the aligner's ROI boxes, scaled to the crop size.
"""
import functools

import cv2
import jax
import jax.numpy as jnp
import numpy as np
import optax

from mespot_jax import models
from mespot_jax.config.blocks import lbcnn as lbcnn_block
from mespot_jax.config.blocks.lbcnn import default_config  # pylint: disable=unused-import
from mespot_jax.data import sampler as sampler_lib
from mespot_jax.data import samples as samples_lib
from mespot_jax.face import align
from mespot_jax.methods import spotting
from mespot_jax.metrics import recognition as rec_metrics
from mespot_jax.models import lbcnn as lbcnn_model
from mespot_jax.train import inference
from mespot_jax.train import steps as steps_lib

NEUTRAL, MICRO, MACRO = 0, 1, 2






def frame_classes(labels_T2: np.ndarray) -> np.ndarray:
  """(T,) int class per frame: micro (1) where micro, else macro (2) where
  macro, else neutral (0)."""
  lab = np.asarray(labels_T2).astype(bool)
  return np.where(lab[:, 0], MICRO, np.where(lab[:, 1], MACRO, NEUTRAL))


@functools.lru_cache(maxsize=None)
def _inputs_fn(roi_size: int):
  """`(batch, train) -> {"face", "rois"}`: uint8 faces to [0, 1], intensity
  augmentation when training, ROI crops cut on device."""

  def inputs(batch, train: bool):
    face = steps_lib.to_float(batch["x"])
    if train:
      face = steps_lib.apply_intensity(face, batch["aug"])
    return {"face": face,
            "rois": lbcnn_model.crop_rois(face, batch["rois"], roi_size)}

  return inputs


ROI_BOXES = lbcnn_block.CHOICES["roi_boxes"]


def template_boxes(size: int) -> np.ndarray:
  """(4, 4) float32 ROI boxes of the canonical aligned face of side
  `size` (`face.align.template_68`)."""
  return align.roi_boxes(align.template_68(size), size).astype(np.float32)


def video_boxes(store, v: int, mode: str) -> np.ndarray:
  """(T, 4, 4) ROI boxes of video `v` of `store` under `lbcnn.roi_boxes`."""
  if mode == "frame":
    return store.rois(v)
  if mode == "template":
    return np.broadcast_to(template_boxes(store.image_size),
                           (store.videos[v].num_frames, 4, 4))
  raise ValueError(f"lbcnn.roi_boxes={mode!r}; expected one of {ROI_BOXES}")


def _loss(logits_B3, batch):
  return optax.softmax_cross_entropy_with_integer_labels(
      logits_B3, batch["y"]).mean()


class FrameSampler(sampler_lib.FoldSampler):
  """Single frames of the folds' subjects, drawn uniformly per class.

  A draw picks a class with `class_probs` (classes a pool lacks are left
  out), then a frame uniformly among that class's frames with a face in the
  pool's videos. Batches: {"x": (K, B, S, S, C) uint8, "rois": (K, B, 4, 4)
  float32, "y": (K, B) int32 class, "aug": (K, B, 3) float32}.
  """

  def __init__(self, store, folds, *, class_probs, augment, seed: int,
               roi_boxes: str = "frame"):
    self.roi_boxes = roi_boxes
    self.class_probs = np.asarray(class_probs, np.float64)
    self.augment = augment
    self._boxes = {}  # video -> its (T, 4, 4) boxes under `roi_boxes`
    self._cands = []
    for v, lab in enumerate(store.labels):
      face = np.asarray(store.face_found(v), bool)
      cls = frame_classes(lab)
      self._cands.append([np.flatnonzero((cls == c) & face)
                          for c in range(3)])
    super().__init__(store, folds, seed)

  def make_pool(self, fold, subjects):
    """(videos, per class the cumulative candidate counts, the class
    probabilities)."""
    del fold
    vids = self.units(subjects)
    cums = [np.cumsum([len(self._cands[v][c]) for v in vids]).astype(
        np.int64) for c in range(3)]
    probs = np.array([p if cum.size and cum[-1] else 0.0
                      for p, cum in zip(self.class_probs, cums)])
    if probs.sum() == 0:
      raise ValueError(f"no frame with a face to sample in {list(subjects)}")
    return vids, cums, probs / probs.sum()

  def _geometric(self, rng, frame, boxes):
    """Rotation and mirror of the face; its boxes follow (a box becomes the
    bounding box of its moved corners; mirrored, the brows swap)."""
    a = self.augment
    flip = rng.random() < a.flip_prob
    angle = rng.uniform(-1, 1) * a.max_rotation_deg
    size = frame.shape[0]
    m = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), angle, 1.0)
    if flip:
      m = np.array([[-1, 0, size - 1], [0, 1, 0]], np.float64) @ np.vstack(
          [m, [0, 0, 1]])
    out = cv2.warpAffine(frame, m, (size, size), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT101).reshape(frame.shape)
    # m maps pixel indices (OpenCV: pixel i is centred at i): a box's
    # corner pixels x0 and x1 - 1 move, the new box spans their bounds.
    x0, y0, x1, y1 = (boxes[:, i] for i in range(4))
    cx = np.stack([x0, x1 - 1, x1 - 1, x0], 1)
    cy = np.stack([y0, y0, y1 - 1, y1 - 1], 1)
    px = m[0, 0] * cx + m[0, 1] * cy + m[0, 2]
    py = m[1, 0] * cx + m[1, 1] * cy + m[1, 2]
    moved = np.stack([px.min(1), py.min(1), px.max(1) + 1, py.max(1) + 1], 1)
    moved = np.clip(moved, 0, size).astype(np.float32)
    if flip:
      moved = moved[[1, 0, 2, 3]]
    return out, moved

  def draw(self, rng, fold, pool, train: bool, slot) -> dict:
    """One frame, its ROI boxes, class and intensity augmentation; the
    geometric augmentation on the host when training."""
    del fold, slot
    vids, cums, probs = pool
    c = int(rng.choice(3, p=probs))
    j = int(rng.integers(cums[c][-1]))
    k = int(np.searchsorted(cums[c], j, side="right"))
    v = int(vids[k])
    t = int(self._cands[v][c][j - (cums[c][k - 1] if k else 0)])  # 0-based
    frame = self.store.get(v, [t + 1])[0]
    if v not in self._boxes:  # once per video, not per draw
      self._boxes[v] = video_boxes(self.store, v, self.roi_boxes)
    boxes = np.array(self._boxes[v][t], np.float32)
    aug = np.ones(3, np.float32)
    if train and self.augment.enabled:
      frame, boxes = self._geometric(rng, frame, boxes)
      lo, hi = self.augment.intensity_range
      aug = rng.uniform(lo, hi, 3).astype(np.float32)
    return {"x": frame, "rois": boxes, "y": np.int32(c), "aug": aug}


def iter_frame_probs(predict_fn, variables, items, batch_size: int):
  """Yields class probabilities (n, 3) of a stream, batch by batch.

  Args:
    predict_fn: `steps.make_predict_fn` of the method's step functions.
    variables: one fold's model variables.
    items: iterator of (crop (S, S, C) uint8, boxes (4, 4)) pairs.
    batch_size: frames per jitted call (the last batch is padded, so the
      function compiles once).
  """
  xs, bs = [], []

  def flush():
    n = len(xs)
    x = np.zeros((batch_size,) + xs[0].shape, np.uint8)
    r = np.zeros((batch_size, 4, 4), np.float32)
    r[:, :, 2:] = 1.0
    x[:n], r[:n] = np.stack(xs), np.stack(bs)
    xs.clear()
    bs.clear()
    return np.asarray(predict_fn(variables, {"x": x, "rois": r}),
                      np.float32)[:n]

  for crop, boxes in items:
    xs.append(np.asarray(crop))
    bs.append(np.asarray(boxes, np.float32))
    if len(xs) == batch_size:
      yield flush()
  if xs:
    yield flush()


class LBCNN(spotting.SpottingMethod):
  """The local bilinear CNN spotter."""
  name = "lbcnn"
  metric_modes = {"uar": "max", "uf1": "max"}
  oracle_metric = "uar"
  stream_rois = True  # offline scoring hands (crop, ROI boxes) pairs


  # --------------------------------------------------------------- training
  @property
  def step_fns(self) -> steps_lib.StepFns:
    model = models.get_model(dict(name="lbcnn", **self.block.model))
    return steps_lib.StepFns(model, _inputs_fn(int(self.block.roi_size)),
                             _loss, jax.nn.softmax)

  def make_sampler(self, store, folds):
    return FrameSampler(
        store, folds, class_probs=self.block.sampler.class_probs,
        augment=samples_lib.AugmentConfig(**dict(self.config.augment.items())),
        seed=self.config.seed, roi_boxes=self.block.roi_boxes)

  def example_input(self, store):
    r = int(self.block.roi_size)
    return {"face": jnp.zeros((1, store.image_size, store.image_size,
                               store.channels), jnp.float32),
            "rois": jnp.zeros((1, 4, r, r, store.channels), jnp.float32)}

  def val_metrics(self, scores_KB, batch) -> dict:
    y = np.asarray(batch["y"])
    pred = np.asarray(scores_KB).argmax(-1)
    out = {"uar": [], "uf1": []}
    for k in range(len(y)):
      res = rec_metrics.uf1_uar(y[k], pred[k], 3)
      out["uar"].append(res["uar"])
      out["uf1"].append(res["uf1"])
    return {k: np.asarray(v, np.float64) for k, v in out.items()}

  # ---------------------------------------------------------------- scoring
  def _probs(self, variables, items, batch_size) -> np.ndarray:
    predict = steps_lib.make_predict_fn(self.step_fns)
    parts = list(iter_frame_probs(predict, variables, items,
                                  inference.resolve_batch_size(batch_size)))
    return np.concatenate(parts) if parts else np.zeros((0, 3), np.float32)

  def score_stream(self, variables, crops, fps, choices, batch_size=0):
    """(T, 2) micro and macro probabilities of a stream of crops, each a
    (crop, boxes) pair (`stream_rois`) or a crop alone (then the canonical
    face's boxes at the crop's size, as with `roi_boxes="template"`)."""
    del fps, choices
    if self.block.roi_boxes not in ROI_BOXES:
      raise ValueError(f"lbcnn.roi_boxes={self.block.roi_boxes!r}; "
                       f"expected one of {ROI_BOXES}")
    per_frame = self.block.roi_boxes == "frame"

    def items():
      for item in crops:
        crop, boxes = item if isinstance(item, tuple) else (item, None)
        if boxes is None or not per_frame:
          boxes = template_boxes(crop.shape[0])
        yield crop, boxes

    return self._probs(variables, items(), batch_size)[:, 1:3]

  def score_videos(self, variables, store, indices, choices) -> dict:
    """Micro and macro probabilities of every frame of `indices`."""
    bs = self.config.eval.score_batch_size
    return {"model": {
        v: self._probs(variables, zip(store.video(v),
                                      video_boxes(store, v,
                                                  self.block.roi_boxes)),
                       bs)[:, 1:3] for v in indices}}
