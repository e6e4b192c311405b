"""The config block of Yap et al.'s two-stream 3D-CNN
(`mespot_jax.methods.yap3dcnn`): plain data.

`config.yap3dcnn` is built here without importing JAX, so that a config
resolves and is checked (`mespot_jax.config.check`) before any model or
data is touched. `CHOICES` lists the block's choice-valued fields with
their allowed values; `VAL_METRICS` the validation metrics that early
stopping may watch besides the loss.
"""
import ml_collections

from mespot_jax.config import vocab

TITLE = "Yap et al.'s two-stream 3D-CNN"
TASK = "spotting"
VAL_METRICS = ('auc',)


def default_config() -> ml_collections.ConfigDict:
  """The 3D-CNN's block: the paper's SAMM-LV settings."""
  b = ml_collections.ConfigDict()
  b.model = ml_collections.ConfigDict()
  b.model.channels = (16, 32, 64)
  b.model.dense_features = 128
  b.model.dropout_rate = 0.2
  b.model.use_batchnorm = True
  b.model.use_lcn = True
  b.model.depthwise_impl = "auto"  # grouped | shifted | fused | auto
  # CPU speed (docs/PERFORMANCE.md), each tested equal to the plain model:
  # frames next to channels inside the encoder (auto | NTHWC | NHWTC),
  # batch norm folded into the conv at inference, and how dropout masks
  # are drawn (auto | bernoulli | threefry; auto: threefry on CPU, the same
  # rate but other masks than nn.Dropout's bernoulli for a given key).
  b.model.layout = "auto"
  b.model.fold_bn_eval = True
  b.model.dropout_bits = "auto"
  b.model.bn_momentum = 0.99  # Keras' default, as the paper's code
  # Compute dtype ("bfloat16" on accelerators); parameters, batch
  # statistics and logits stay float32.
  b.model.dtype = "float32"
  # Equation 2 (mespot_jax.train.losses.LOSSES).
  b.loss = ml_collections.ConfigDict()
  b.loss.name = "yap_weighted_bce"
  b.loss.class_weights = (0.1, 0.9)  # M_i: micro, macro
  b.loss.presence_weight = 0.75  # W: 0.75 SAMM-LV, 0.9 CAS(ME)^2
  b.loss.weighted = True  # False: plain BCE (Table 7 ablation)
  # Samples: reference frame t with partners t + skip per stream (Table 3).
  # Random training/validation skips in frames at `skip_fps`; rescaled to
  # each video's own frame rate, so a config works at any fps.
  b.sampler = ml_collections.ConfigDict()
  b.sampler.skip_fps = 200.0
  b.sampler.random_skips = ((25, 75), (200, 400))
  b.sampler.test_skip = "kth"  # kth (from the training subjects) | manual
  b.sampler.manual_skips = (30, 310)
  b.sampler.kth_default_seconds = (0.2, 1.0)  # when a fold has no interval
  # Probability of drawing a neutral, a micro and a macro reference frame.
  b.sampler.class_probs = (0.5, 0.25, 0.25)
  # The frame-difference baseline, scored with the same skips and
  # post-processing as the model (a reference kind in every report).
  b.baseline = True
  return b


def smoke(block: ml_collections.ConfigDict) -> None:
  """Shrinks the block in place for a config's `:smoke` variant."""
  block.model.channels = (4, 8, 8)
  block.model.dense_features = 16


CHOICES = {
    "model.depthwise_impl": ("auto", "grouped", "shifted", "fused"),
    "model.layout": ("auto", "NTHWC", "NHWTC"),
    "model.dropout_bits": ("auto", "bernoulli", "threefry"),
    "model.dtype": vocab.DTYPES,
    "loss.name": ("yap_weighted_bce", "bce"),
    "sampler.test_skip": ("kth", "manual"),
}
