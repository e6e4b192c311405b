"""The config block of `yu_of` (Yu et al., ACM MM'22, "Facial expression
spotting based on optical flow features", MEGC2022 first place;
`mespot_jax.methods.yu_of`): plain data, built without importing JAX.

`RELEASES` holds the authors' released values (github:CZP-1/Facial-
Expression-Spotting-Based-on-Optical-Flow-Features-MindSpore, `cas_util.py`
for CAS(ME)^3 and `samm_util.py` for SAMM; docs/YU_OF.md): the scorer's
(which ROI signals, top-percent fractions, the face crop their pixels are
of, pixel thresholds, the low-pass cut-off) and the decoder's
(`config.decoder.yu`); `use_release(c, name)` writes one into a config.
"""
import ml_collections

from mespot_jax.config import vocab
from mespot_jax.config.blocks import rethinking_of

TITLE = "Optical-flow features (Yu et al., MEGC2022 first), training-free"
TASK = "spotting"
VAL_METRICS = ()
TRAINS = False  # training-free: thresholds are the authors' or fitted
REFERENCES = ("fixed", "sliding")

# The authors' values. Their `process(signal, 1.4, gap, ...)` adds c to
# both thresholds (cas: c = +0.2, samm: c = -0.1): peak_relative_inf =
# 1.4 + c, flow_gap = gap + c. Frame values (at 30 fps, SAMM after its
# stride 7) are the decoder's seconds x 30.
_CAS_POINTS = ("left_brow_20", "left_brow_19", "left_brow_18",
               "right_brow_23", "right_brow_24", "right_brow_25",
               "mouth_48", "mouth_54", "mouth_51", "mouth_57", "mouth_62",
               "nose_31", "nose_35")
RELEASES = {
    "cas": dict(
        face_side=256, face_widths=4.0, rois=_CAS_POINTS, tip_percent=0.7,
        percent=dict(left_brow=0.2, right_brow=0.3, mouth_whole=0.3,
                     mouth=0.2, nose=0.2),
        flow_gap=dict(left_brow=2.0, right_brow=2.0, mouth=2.05, nose=2.3),
        peak_relative_inf=1.6, ext_gap=0.5, lowpass_hz=2.0,
        valley_ratio=0.33, valley_gap=0.3, min_len_s=12 / 30,
        max_len_s=200 / 30, follow_gap_s=15 / 30, follow_min_s=15 / 30),
    "samm": dict(
        face_side=320, face_widths=4.5,
        rois=("left_brow", "right_brow", "mouth_whole", "nose_31",
              "nose_35"), tip_percent=0.7,
        percent=dict(left_brow=0.2, right_brow=0.3, mouth_whole=0.3,
                     mouth=0.2, nose=0.2),
        flow_gap=dict(left_brow=1.55, right_brow=1.55, mouth=1.4, nose=1.4),
        peak_relative_inf=1.3, ext_gap=0.8, lowpass_hz=5.0,
        valley_ratio=0.33, valley_gap=0.3, min_len_s=10 / 30, max_len_s=0.0,
        follow_gap_s=0.0, follow_min_s=15 / 30),
}
_SCORER = ("face_side", "face_widths", "tip_percent", "peak_relative_inf",
           "ext_gap", "lowpass_hz")
_DECODER = ("valley_ratio", "min_len_s", "max_len_s", "follow_gap_s",
            "follow_min_s")


def use_release(c: ml_collections.ConfigDict, name: str) -> None:
  """Writes release `name` of `RELEASES` into `c.yu_of` and `c.decoder.yu`
  (the valley gap, px, in units of the brows' flow gap: the unit of the
  scorer's evidence curve)."""
  r = RELEASES[name]
  b = c.yu_of
  b.release = name
  for k in _SCORER:
    b[k] = r[k]
  b.rois = ",".join(r["rois"])
  b.percent = ml_collections.ConfigDict(r["percent"])
  b.flow_gap = ml_collections.ConfigDict(r["flow_gap"])
  d = c.decoder.yu
  for k in _DECODER:
    d[k] = r[k]
  d.valley_gap = r["valley_gap"] / r["flow_gap"]["left_brow"]


def default_config() -> ml_collections.ConfigDict:
  """The block `config.yu_of` (the "cas" release's values are written by
  `paper_decoder`, which sees the whole config)."""
  b = ml_collections.ConfigDict()
  b.flow = "farneback"  # farneback (CPU) | tvl1 (JAX, any device)
  b.flow_size = 0  # frames resized to this side before the flow; 0 = as is
  # The authors' Farneback (OpenCV argument values).
  b.flow_params = ml_collections.ConfigDict(dict(
      pyr_scale=0.5, levels=3, winsize=15, iterations=5, poly_n=7,
      poly_sigma=1.5))
  b.flow_batch = 64
  b.reference = "fixed"  # fixed (per window, the authors') | sliding
  b.window_s = 200 / 30  # window length (fixed) or offset k (sliding)
  b.step_s = 100 / 30  # window step (fixed)
  b.eye_margin = 5.0  # eye mask widening, normalised-face px
  b.release = "cas"  # which RELEASES entry the values below are
  b.face_side = 256  # the authors' face crop: side (px) ...
  b.face_widths = 4.0  # ... and width in inner-eye-corner distances
  b.rois = ""  # comma-separated ROI names (methods.rethinking_of.LAYOUT)
  b.tip_percent = 0.0
  b.percent = ml_collections.ConfigDict()
  b.flow_gap = ml_collections.ConfigDict()
  b.peak_relative_inf = 0.0
  b.ext_gap = 0.0
  b.lowpass_hz = 0.0  # the ideal filter's cut-off
  b.cache_dir = ""  # "" = <data_dir>/mespot_flow_features; "none" = off
  return b


# The `:smoke` windows of 2 s are Zhao et al.'s block's.
smoke = rethinking_of.smoke


DECODER = "yu"


def paper_decoder(c: ml_collections.ConfigDict) -> None:
  """The authors' decoding (`config.decoder.yu`, their "cas" release);
  thresholds fitted per fold unless `params="released"`."""
  use_release(c, "cas")


CHOICES = {
    "flow": vocab.FLOW_BACKENDS,
    "reference": REFERENCES,
    "release": tuple(RELEASES),
}
