"""Liu et al.: a part-based recogniser with EMR and adversarial adaptation.

The method plug-in (`config.method = "partnet"`; fields in
`config.partnet`). The model (`models/partnet.py`): ResNet18 on the
onset->apex optical flow, part heads (top and bottom halves of the last
feature map, a classifier each and one on their concatenated reductions)
and a domain discriminator behind a gradient reversal layer. The data
(`methods/partnet_data.py`): TV-L1 flows of the micro-expression clips,
magnified by EVM with EMR; a macro-expression source (CK+, or the CK+-like
synthetic set) in the same classes, reduced to the frame halfway to its
apex with EMR, batched with the target clips.

The loss of a batch: L_t + L_b + L_c (softmax cross-entropy of the top,
bottom and concatenated classifiers, over the source and target examples
of the batch) + L_adv (binary cross-entropy of the discriminator, macro vs
micro); the reversal turns the encoder's share of L_adv into the paper's
-lambda L_adv, lambda on Ganin and Lempitsky's schedule over training
(`partnet.adv_weight` its final value).

The paper's Table I rows and the ablations are switches:

  partnet.parts        top/bottom heads (False: one global head)
  partnet.emr          magnify the micro clips, reduce the macro ones
  partnet.adversarial  the discriminator and its loss
  partnet.source.name  the macro source ("none": target only)

"Part + EMR" is `adversarial=False`; "Part + Adversarial + EMR" all on.
Everything else (folds, validation-subject early stopping, calibration,
UF1/UAR summed over folds, the oracle) is the recognition task's. Scores
come per head: `model` (the concatenated classifier, the headline),
`top` and `bottom` (the part classifiers) when the parts are on.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from mespot_jax.config.blocks.partnet import default_config  # pylint: disable=unused-import
from mespot_jax.errors import InputError
from mespot_jax.methods import partnet_data
from mespot_jax.methods import recognition
from mespot_jax.models.partnet import PartNet, grl_lambda
from mespot_jax.train import inference
from mespot_jax.train import steps as steps_lib

HEADS = ("top", "bottom", "concat")




def _ce(logits, batch):
  ce = optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"])
  w = batch["w"]
  return (ce * w).sum() / jnp.maximum(w.sum(), 1.0)


def part_loss(outputs, batch):
  """L_t + L_b + L_c (+ L_adv on training batches, which carry `d`)."""
  loss = sum(_ce(outputs[h], batch) for h in HEADS if h in outputs)
  if "domain" in outputs and "d" in batch:
    bce = optax.sigmoid_binary_cross_entropy(outputs["domain"], batch["d"])
    w = batch["w"]
    loss = loss + (bce * w).sum() / jnp.maximum(w.sum(), 1.0)
  return loss


@functools.lru_cache(maxsize=None)
def _make_inputs(total_steps: int, adv_weight: float):
  """Model inputs; in training (the batch holds the fold's `step`) with the
  gradient-reversal weight of that step: `grl_lambda` of the fraction of
  the `total_steps` steps done, rising to `adv_weight`."""

  def inputs(batch, train: bool):
    del train
    x = {"x": jnp.asarray(batch["x"], jnp.float32)}
    if "step" in batch:
      progress = batch["step"] / max(total_steps - 1, 1)
      x["lam"] = grl_lambda(progress, adv_weight)
    return x

  return inputs


def _scores(outputs):
  return jax.nn.softmax(outputs["concat"])


class PartNetMethod(recognition.RecognitionMethod):
  """The part-based recogniser (module docstring)."""
  name = "partnet"


  @property
  def model(self) -> PartNet:
    m = self.block.model
    return PartNet(num_classes=int(self.config.dataset.num_classes),
                   width=int(m.width), parts=bool(self.block.parts),
                   adversarial=bool(self.block.adversarial),
                   reduce_features=int(m.reduce_features),
                   disc_features=int(m.disc_features),
                   dtype=jnp.dtype(m.dtype), pretrained=str(m.pretrained))

  @property
  def step_fns(self):
    # The reversal weight's schedule spans the run's steps; a deploy
    # record (no training settings) only scores, where no lambda is used.
    t = self.config.get("train")
    total = int(t.num_epochs) * int(t.steps_per_epoch) if t else 1
    return _step_fns(self.model, total, float(self.block.adv_weight))

  def deploy_config(self) -> dict:
    """As the base's, without the pretrained backbone's path: it is read
    at `init` only, and a deploy model restores its trained weights."""
    out = super().deploy_config()
    out[self.name]["model"]["pretrained"] = ""
    return out

  # ------------------------------------------------------------------ data
  def _check(self, store):
    if store.channels != 1:
      raise InputError("partnet computes flows of grey frames; set "
                       "--config.dataset.grey=True")
    if self.block.adversarial and self.block.source.name == "none":
      raise InputError("partnet.adversarial needs a macro source; set "
                       "partnet.source.name or partnet.adversarial=False")

  def flows(self, store) -> np.ndarray:
    """(N, S, S, C) onset->apex flows of the store's clips."""
    self._check(store)
    return partnet_data.target_flows(store, self.block)

  def make_sampler(self, store, folds):
    self.check_num_classes(store)
    x = self.flows(store)
    xs, ys = partnet_data.source_flows(self.config, self.block, store)
    return partnet_data.PartSampler(
        store, folds, x, xs, ys, fraction=self.block.source.fraction,
        balance=bool(self.config.train.balance_classes),
        flip=bool(self.block.flip), seed=self.config.seed)

  def example_input(self, store):
    size = int(self.block.flow_size) or store.image_size
    c = 3 if self.block.strain else 2
    return {"x": jnp.zeros((1, size, size, c), jnp.float32),
            "lam": jnp.zeros((), jnp.float32)}

  # ---------------------------------------------------------------- scores
  def score(self, variables, store, indices, choices) -> dict:
    """{"model": concatenated classifier, "top", "bottom": the part
    classifiers (with parts)}: {clip index: class probabilities}."""
    del choices
    x_all = self.flows(store)
    predict = _predict_heads(self.step_fns)
    heads = HEADS if self.block.parts else ("concat",)
    ids = list(indices)
    p = inference.predict_in_batches(
        predict, variables, x_all[ids].astype(np.float32),
        self.config.eval.score_batch_size)
    out = {h: {i: np.asarray(p[h][j], np.float32) for j, i in enumerate(ids)}
           for h in heads}
    res = {"model": out.pop("concat")}
    res.update(out)
    return res


@functools.lru_cache(maxsize=None)
def _step_fns(model: PartNet, total_steps: int,
              adv_weight: float) -> steps_lib.StepFns:
  return steps_lib.StepFns(model, _make_inputs(total_steps, adv_weight),
                           part_loss, _scores)


@functools.lru_cache(maxsize=None)
def _predict_heads(fns: steps_lib.StepFns):
  """jit((variables, batch) -> {head: probabilities})."""

  def predict(variables, batch):
    out = fns.model.apply(variables, fns.inputs(batch, False), train=False)
    return {h: jax.nn.softmax(out[h]) for h in HEADS if h in out}

  return jax.jit(predict)
