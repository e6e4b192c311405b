"""The config block of Liu et al.'s part-based recogniser
(`mespot_jax.methods.partnet`): plain data.

`config.partnet` is built here without importing JAX, so that a config
resolves and is checked (`mespot_jax.config.check`) before any model or
data is touched. `CHOICES` lists the block's choice-valued fields with
their allowed values; `VAL_METRICS` the validation metrics that early
stopping may watch besides the loss.
"""
import ml_collections

from mespot_jax.config import vocab

TITLE = "Liu et al.'s part-based recogniser"
TASK = "recognition"
VAL_METRICS = ('uf1', 'uar', 'accuracy')


def default_config() -> ml_collections.ConfigDict:
  """The block: the paper's settings where it gives them (module doc)."""
  b = ml_collections.ConfigDict()
  b.parts = True
  b.emr = True
  b.adversarial = True
  b.adv_weight = 1.0  # lambda's final value (Ganin and Lempitsky: 1)
  b.flow = "tvl1"  # tvl1 | farneback
  b.flow_size = 0  # side of the flow; 0 = the crops' (dataset.image_size)
  b.strain = False  # optical strain as a third input channel
  b.flip = True  # left-right flips of training flows (u negated)
  # EVM of the micro clips (EMR): the ideal band-pass over the clip's
  # frames, band in cycles per clip (the frames taken as evenly spaced).
  b.evm = ml_collections.ConfigDict()
  b.evm.alpha = 10.0
  b.evm.band = (0.5, 3.0)
  b.evm.levels = 0  # 0 = MIT's automatic pyramid height
  b.source = ml_collections.ConfigDict()
  b.source.name = "synthetic_ckplus_like"  # | ck_plus | none
  b.source.config = ""  # builder config of a recorded source
  b.source.manual_dir = ""  # where the licensed CK+ release lies
  b.source.fraction = 0.5  # share of each training batch from the source
  b.source.subjects = 8  # synthetic source only
  b.source.clips_per_subject = 12
  b.source.align_size = 64  # synthetic: aligned at the stored crop size
  b.model = ml_collections.ConfigDict()
  b.model.width = 64  # ResNet18
  b.model.reduce_features = 256
  b.model.disc_features = 256
  b.model.pretrained = ""  # torchvision resnet18 .npz; "" = from scratch
  b.model.dtype = "float32"
  return b


def smoke(block: ml_collections.ConfigDict) -> None:
  """Shrinks the block in place for a config's `:smoke` variant."""
  block.model.width = 4
  block.model.reduce_features = 8
  block.model.disc_features = 8
  block.flow_size = 40  # the part heads need >= 33 px
  block.source.subjects = 2
  block.source.clips_per_subject = 3
  block.source.align_size = 32
  if block.source.name != "none":
    block.source.name = "synthetic_ckplus_like"
    block.source.config = ""
    block.source.manual_dir = ""


CHOICES = {
    "flow": vocab.FLOW_BACKENDS,
    "source.name": ("synthetic_ckplus_like", "ck_plus", "none"),
    "model.dtype": vocab.DTYPES,
}
