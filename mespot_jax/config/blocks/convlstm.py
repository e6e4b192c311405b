"""The config block of Shukla et al.'s shallow ConvLSTM
(`mespot_jax.methods.convlstm`): plain data.

`config.convlstm` is built here without importing JAX, so that a config
resolves and is checked (`mespot_jax.config.check`) before any model or
data is touched. `CHOICES` lists the block's choice-valued fields with
their allowed values; `VAL_METRICS` the validation metrics that early
stopping may watch besides the loss.
"""
import ml_collections

from mespot_jax.config import vocab

TITLE = "Shukla et al.'s shallow ConvLSTM"
TASK = "recognition"
VAL_METRICS = ('uf1', 'uar', 'accuracy')


def default_config() -> ml_collections.ConfigDict:
  """The ConvLSTM's block: the paper's SAMM settings (section 3)."""
  b = ml_collections.ConfigDict()
  b.model = ml_collections.ConfigDict()
  b.model.filters = 32
  b.model.kernel_size = 3
  b.model.dense_features = 48
  b.model.dropout_rate = 0.3
  b.model.peephole = False  # Keras' ConvLSTM2D has none
  b.model.padding = "VALID"  # Keras' default
  b.model.gate_activation = "sigmoid"  # the paper's sigma
  # Compute dtype of the convolutions and dense layers ("bfloat16" on
  # accelerators); parameters, the cell state and logits stay float32.
  b.model.dtype = "float32"
  # The number of classes comes from the dataset (3 or 5 on SAMM).
  return b


def smoke(block: ml_collections.ConfigDict) -> None:
  """Shrinks the block in place for a config's `:smoke` variant."""
  block.model.filters = 4
  block.model.dense_features = 8


CHOICES = {
    "model.padding": ("VALID", "SAME"),
    "model.gate_activation": ("sigmoid", "hard_sigmoid"),
    "model.dtype": vocab.DTYPES,
}
