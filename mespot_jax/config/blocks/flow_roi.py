"""The config block of the training-free ROI optical-flow spotter
(`mespot_jax.methods.flow_roi`): plain data.

`config.flow_roi` is built here without importing JAX, so that a config
resolves and is checked (`mespot_jax.config.check`) before any model or
data is touched. `CHOICES` lists the block's choice-valued fields with
their allowed values; `VAL_METRICS` the validation metrics that early
stopping may watch besides the loss.
"""
import ml_collections

from mespot_jax.config import vocab

TITLE = "The training-free ROI optical-flow spotter"
TASK = "spotting"
VAL_METRICS = ()
TRAINS = False  # training-free: thresholds are fitted, nothing trains


ROIS = ("left_brow", "right_brow", "nose", "left_mouth_corner",
        "right_mouth_corner")


def default_config() -> ml_collections.ConfigDict:
  """The block `config.flow_roi`."""
  b = ml_collections.ConfigDict()
  b.flow = "farneback"  # farneback (CPU) | tvl1 (JAX, any device)
  b.flow_size = 0  # frames resized to this side before the flow; 0 = as is
  b.flow_params = ml_collections.ConfigDict()
  b.flow_batch = 64
  b.rois = ROIS  # which ROIs score
  b.brow_keep = 0.75  # upper part of each brow box kept (no eyelids)
  b.corner_fraction = 0.3  # outer part of the mouth box per corner
  b.k_s = ml_collections.ConfigDict({"micro": 0.2, "macro": 0.6})
  b.smooth_s = 0.0  # moving average of the score curve (seconds; 0 = off)
  b.cache_dir = ""  # "" = <data_dir>/mespot_flow_features; "none" = off
  return b


def smoke(block: ml_collections.ConfigDict) -> None:
  """Shrinks the block in place for a config's `:smoke` variant."""
  del block  # no size of this method's shrinks


DECODER = "peaks"


def paper_decoder(c: ml_collections.ConfigDict) -> None:
  """The spotter's decoding (`config.decoder.peaks`): intervals start
  one k before their first frame above the threshold and end at their
  last; a macro interval overlapping a micro one is dropped. Peaks closer
  than `merge_gap_s` (the rise and the fall of one expression against the
  sliding reference are two peaks) may be joined; 0: not joined."""
  p = c.decoder.peaks
  p.extend, p.extend_after, p.merge_gap_s = 1.0, False, 0.0
  p.micro_wins = True


CHOICES = {
    "flow": vocab.FLOW_BACKENDS,
    "rois": vocab.Subset(ROIS),
}
