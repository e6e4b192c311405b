"""A minimal spotting method for tests: a linear classifier of single frames.

It exists to show that a method plugs into the runner, deploy, scoring and
the audit through `methods.base.Method` alone: one class, a sampler of
single frames and a registry line (`methods.register`), nothing in the
runner. Each frame's crop is average-pooled to 4x4 and mapped to two logits
(micro, macro) by one dense layer.
"""
import functools

import flax.linen as nn
import grain
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from mespot_jax import methods
from mespot_jax.methods import spotting
from mespot_jax.train import steps as steps_lib


class FrameLinear(nn.Module):
  """Pool to 4x4, flatten, Dense(2)."""

  @nn.compact
  def __call__(self, x_BHWC, train: bool):
    del train
    b, h, w, c = x_BHWC.shape
    x = x_BHWC.reshape(b, 4, h // 4, 4, w // 4, c).mean(axis=(2, 4))
    return nn.Dense(2, name="head")(x.reshape(b, -1))


def _inputs(batch, train):
  del train
  return steps_lib.to_float(batch["x"])


def _loss(logits, batch):
  return optax.sigmoid_binary_cross_entropy(logits, batch["y"]).mean()


class FrameSampler:
  """Single frames with their labels, uniformly over the folds' subjects."""

  def __init__(self, store, folds, seed):
    self.store, self.folds, self.seed = store, list(folds), seed

  def _batch(self, subjects_of, n, key):
    xs, ys = [], []
    for f in self.folds:
      rng = np.random.default_rng([self.seed, *key, f.index])
      ids = self.store.video_indices(subjects_of(f))
      v = rng.choice(ids, n)
      t = [int(rng.integers(1, self.store.videos[i].num_frames + 1))
           for i in v]
      xs.append(np.stack([self.store.get(i, [k])[0] for i, k in zip(v, t)]))
      ys.append(np.stack([self.store.labels[i][k - 1] for i, k in zip(v, t)]
                         ).astype(np.float32))
    return {"x": np.stack(xs), "y": np.stack(ys)}

  def train_dataset(self, batch_size, num_steps):
    return grain.MapDataset.range(num_steps).map(
        lambda i: self._batch(lambda f: f.train_subjects, batch_size,
                              (1, int(i))))

  def val_batch(self, n):
    return self._batch(lambda f: f.val_subjects, n, (2, 0))

  def oracle_batch(self, n):
    return self._batch(lambda f: [f.test_subject], n, (3, 0))


class FrameMethod(spotting.SpottingMethod):
  """The test method (`config.method = "frame_linear"`)."""
  name = "frame_linear"

  @classmethod
  def default_config(cls):
    return ml_collections.ConfigDict({"unused": 0})

  @property
  def step_fns(self):
    return _step_fns()

  def make_sampler(self, store, folds):
    return FrameSampler(store, folds, self.config.seed)

  def example_input(self, store):
    return jnp.zeros((1, store.image_size, store.image_size, store.channels))

  def score_stream(self, variables, crops, fps, choices, batch_size=0):
    del fps, choices, batch_size
    frames = np.stack(list(crops))
    predict = steps_lib.make_predict_fn(self.step_fns)
    return np.asarray(predict(variables, {"x": frames}), np.float32)

  def score_videos(self, variables, store, indices, choices):
    return {"model": {v: self.score_stream(variables, iter(store.video(v)),
                                           store.videos[v].fps, choices)
                      for v in indices}}


@functools.lru_cache(maxsize=None)
def _step_fns():
  return steps_lib.StepFns(FrameLinear(), _inputs, _loss, jax.nn.sigmoid)


def config(base):
  """`base` (a tiny config) switched to this method."""
  from mespot_jax.config import common
  methods.register(FrameMethod)
  c = common.get_config(FrameMethod.name)
  for key in ("dataset", "train", "augment", "seed"):
    c[key] = base[key]
  for key in base.eval:
    c.eval[key] = base.eval[key]
  return c
