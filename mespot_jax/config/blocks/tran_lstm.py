"""The config block of Tran et al.'s LSTM dense-prediction scorer
(`mespot_jax.methods.tran_lstm`): plain data.

`config.tran_lstm` is built here without importing JAX, so that a config
resolves and is checked (`mespot_jax.config.check`) before any model or
data is touched. `CHOICES` lists the block's choice-valued fields with
their allowed values; `VAL_METRICS` the validation metrics that early
stopping may watch besides the loss.
"""
import ml_collections

from mespot_jax.config import vocab

TITLE = "Tran et al.'s LSTM dense-prediction scorer"
TASK = "spotting"
VAL_METRICS = ()


def default_config() -> ml_collections.ConfigDict:
  """The block `config.tran_lstm`: the paper's CASME II settings."""
  b = ml_collections.ConfigDict()
  b.feature = "hog_top"  # lbp_top | hog_top | higo_top
  b.grid = (4, 4)  # blocks over the face (rows, cols); the paper: unstated
  b.bins = 8  # orientation bins of HOG-TOP / HIGO-TOP
  b.precision = "float64"  # float32 on TPUs (features.common)
  b.span_s = 23 / 30  # L: frames per feature position, in seconds
  b.window_s = 32 / 30  # M: positions per LSTM window, in seconds (30-40)
  b.target = "overlap"  # overlap (eq. 1) | apex (eq. 2)
  b.target_floor = 0.5  # targets below this are 0 (the paper)
  b.types = ("micro",)  # types trained and spotted (the paper: micro only)
  b.units = 20  # LSTM units (K)
  # Training windows: with this probability a window holds the apex
  # position of a training interval, else it starts anywhere.
  b.expression_prob = 0.5
  b.test_stride = 0.5  # test window stride, as a fraction of M
  # none: the descriptors as they are (the paper); video: each dimension
  # standardised over the video's own positions (removes what is constant
  # in a video, such as the person's face; labels play no part).
  b.feature_norm = "none"
  # Features on disk: "" = <data_dir>/mespot_features; "none" = no cache.
  b.feature_cache_dir = ""
  b.feature_chunk = 64  # positions per jitted feature call
  return b


def smoke(block: ml_collections.ConfigDict) -> None:
  """Shrinks the block in place for a config's `:smoke` variant."""
  block.grid = (2, 2)
  block.units = 8
  block.feature_chunk = 32


DECODER = "apex"


def paper_decoder(c: ml_collections.ConfigDict) -> None:
  """The paper's decoding (`config.decoder.apex`): its per-video
  threshold, a suppression radius of half the interval width, and L
  (`span_s`) as the width of a type the training subjects lack."""
  p = c.decoder.apex
  p.threshold, p.nms_min_s = "paper", 0.0
  p.fallback_width_s = c.tran_lstm.span_s


CHOICES = {
    "feature": ("lbp_top", "hog_top", "higo_top"),
    "precision": ("float64", "float32"),
    "target": ("overlap", "apex"),
    "types": vocab.Subset(vocab.TYPES),
    "feature_norm": ("none", "video"),
}
