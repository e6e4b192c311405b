"""The config block of MDMD, the MEGC2020 baseline
(`mespot_jax.methods.mdmd`): plain data.

`config.mdmd` is built here without importing JAX, so that a config
resolves and is checked (`mespot_jax.config.check`) before any model or
data is touched. `CHOICES` lists the block's choice-valued fields with
their allowed values; `VAL_METRICS` the validation metrics that early
stopping may watch besides the loss.
"""
import ml_collections

from mespot_jax.config import vocab

TITLE = "MDMD, the MEGC2020 baseline"
TASK = "spotting"
VAL_METRICS = ()
TRAINS = False  # training-free: thresholds are fitted, nothing trains


def default_config() -> ml_collections.ConfigDict:
  """The block `config.mdmd`."""
  b = ml_collections.ConfigDict()
  b.flow = "farneback"  # farneback (CPU) | tvl1 (JAX, any device)
  b.flow_size = 0  # frames resized to this side before the flow; 0 = as is
  b.flow_params = ml_collections.ConfigDict()  # flow keyword arguments
  b.flow_batch = 64  # pairs per flow call
  b.grid = (6, 6)  # blocks (rows, cols) over the face
  b.bins = 8  # direction bins of the main direction
  b.top_fraction = 1 / 3  # blocks averaged into a frame's score
  # k per type (seconds): HF = CF - k, TF = CF + k.
  b.k_s = ml_collections.ConfigDict({"micro": 0.2, "macro": 0.6})
  b.cache_dir = ""  # "" = <data_dir>/mespot_flow_features; "none" = off
  return b


def smoke(block: ml_collections.ConfigDict) -> None:
  """Shrinks the block in place for a config's `:smoke` variant."""
  block.grid = (3, 3)


CHOICES = {
    "flow": vocab.FLOW_BACKENDS,
}
DECODER = "peaks"


def paper_decoder(c: ml_collections.ConfigDict) -> None:
  """The baseline's decoding (`config.decoder.peaks`): the threshold
  `mean + p (max - mean)` per video, an interval from its first HF to its
  last TF (one k before and after the run), micro when at most 0.5 s."""
  p = c.decoder.peaks
  p.threshold_rule, p.extend, p.extend_after = "relative", 1.0, True
  p.merge_gap_s, p.micro_max_s, p.micro_wins = 0.0, 0.5, False
