"""The config block of Pan et al.'s local bilinear CNN
(`mespot_jax.methods.lbcnn`): plain data.

`config.lbcnn` is built here without importing JAX, so that a config
resolves and is checked (`mespot_jax.config.check`) before any model or
data is touched. `CHOICES` lists the block's choice-valued fields with
their allowed values; `VAL_METRICS` the validation metrics that early
stopping may watch besides the loss.
"""
import ml_collections

from mespot_jax.config import common
from mespot_jax.config import vocab

TITLE = "Pan et al.'s local bilinear CNN"
TASK = "spotting"
VAL_METRICS = ('uar', 'uf1')


def default_config() -> ml_collections.ConfigDict:
  """The LBCNN's block: the paper's settings where it gives them (224 x 224
  inputs, three conv + two pooling + two FC layers, 3 classes, uniform
  sampling per class); the rest is this toolkit's choice (docs/LBCNN.md)."""
  b = ml_collections.ConfigDict()
  b.model = ml_collections.ConfigDict()
  b.model.features = (64, 128, 64)
  b.model.kernels = (11, 5, 3)  # AlexNet's first three
  b.model.strides = (4, 1, 1)
  b.model.pool_window = 3
  b.model.pool_stride = 2
  b.model.use_batchnorm = True
  b.model.bn_momentum = 0.9
  b.model.hidden = 256
  b.model.dropout_rate = 0.5
  b.model.share_roi_weights = True
  # Side of each ROI crop fed to the local branch (the face's is
  # dataset.image_size); the paper resizes every input to 224.
  b.roi_size = 224
  # Where the ROIs are: "frame", each frame's boxes as the builder stored
  # them (from that frame's landmarks, so a box follows its brow or lip),
  # or "template", the canonical aligned face's boxes in every frame
  # (fixed: an expression moves inside its box).
  b.roi_boxes = "frame"
  b.sampler = ml_collections.ConfigDict()
  b.sampler.class_probs = (1 / 3, 1 / 3, 1 / 3)  # neutral, micro, macro
  return b


DECODER = "runs"


def paper_decoder(c: ml_collections.ConfigDict) -> None:
  """The paper's decoding of the micro / macro probabilities: the `runs`
  decoder's post-processing (`eval.<postprocess>.<type>`) with the
  probabilities thresholded as they are (normalise "none") and micro runs
  of at most 0.5 s."""
  defaults = common.post_defaults(normalise="none", micro_max_len=0.5)
  c.eval.automated = ml_collections.ConfigDict(defaults["automated"])
  c.eval.manual = ml_collections.ConfigDict(defaults["manual"])


def smoke(block: ml_collections.ConfigDict) -> None:
  """Shrinks the block in place for a config's `:smoke` variant."""
  block.model.features = (4, 8, 8)
  block.model.kernels = (3, 3, 3)
  block.model.strides = (1, 1, 1)
  block.model.hidden = 16
  block.roi_size = 12


CHOICES = {
    "roi_boxes": ("frame", "template"),
}
