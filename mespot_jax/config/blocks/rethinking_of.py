"""The config block of `rethinking_of` (Zhao et al., ACM MM'22, the
MEGC2022 optical-flow spotter; `mespot_jax.methods.rethinking_of`): plain
data, built without importing JAX.

`RELEASES` holds the authors' released values
(github:shengjianda/micro-expression-spot; docs/RETHINKING_OF.md): the
scorer's (ROI top-percent fractions, pixel thresholds of a 256 px
normalised face) and the decoder's (`config.decoder.rethinking`);
`use_release(c, name)` writes one into a config.
"""
import ml_collections

from mespot_jax.config import vocab

TITLE = "Rethinking optical flow (Zhao et al., MEGC2022), training-free"
TASK = "spotting"
VAL_METRICS = ()
TRAINS = False  # training-free: thresholds are the authors' or fitted
REFERENCES = ("fixed", "sliding")
GROUPS = ("left_brow", "right_brow", "mouth", "nose")

# The authors' values. "casme2": branch `megc2022` (the challenge
# submission, CAS(ME)^2 settings); "casme2_main": branch `main`; "samm":
# branch `main`, `main_casme2.main()`'s SAMM-LV settings (face 284 px,
# thresholds x 256/284 x 284/256: the same pixels of a 256 face).
_SCORER = ("tip_percent", "percent", "flow_gap", "peak_relative_inf",
           "ext_gap")
RELEASES = {
    "casme2": dict(
        tip_percent=0.68726687,
        percent=dict(left_brow=0.180330275, right_brow=0.180330275,
                     mouth_whole=0.329587946, mouth=0.196391502,
                     nose=0.253253899),
        flow_gap=dict(left_brow=1.8, right_brow=1.8, mouth=1.85, nose=2.1),
        peak_relative_inf=2.697395567, ext_gap=0.939653349,
        valley_ratio=0.244599954, peak_ratio=0.284047166,
        valley_gap=0.53090293, peak_inf=0.75216054),
    "casme2_main": dict(
        tip_percent=0.7,
        percent=dict(left_brow=0.2, right_brow=0.3, mouth_whole=0.3,
                     mouth=0.2, nose=0.2),
        flow_gap=dict(left_brow=1.8, right_brow=1.8, mouth=1.85, nose=2.1),
        peak_relative_inf=1.4, ext_gap=0.8, valley_ratio=0.33,
        peak_ratio=0.33, valley_gap=0.3, peak_inf=0.7),
    "samm": dict(
        tip_percent=0.7,
        percent=dict(left_brow=0.2, right_brow=0.3, mouth_whole=0.3,
                     mouth=0.2, nose=0.2),
        flow_gap=dict(left_brow=1.65, right_brow=1.65, mouth=1.5, nose=1.5),
        peak_relative_inf=1.4, ext_gap=0.8, valley_ratio=0.33,
        peak_ratio=0.33, valley_gap=0.3, peak_inf=0.7),
}


def use_release(c: ml_collections.ConfigDict, name: str) -> None:
  """Writes release `name` of `RELEASES` into `c.rethinking_of` and
  `c.decoder.rethinking` (the decoder's pixel values in units of the
  brows' flow gap, the unit of the scorer's evidence curve)."""
  r = RELEASES[name]
  b = c.rethinking_of
  b.release = name
  b.tip_percent = r["tip_percent"]
  b.percent = ml_collections.ConfigDict(r["percent"])
  b.flow_gap = ml_collections.ConfigDict(r["flow_gap"])
  b.peak_relative_inf, b.ext_gap = r["peak_relative_inf"], r["ext_gap"]
  d = c.decoder.rethinking
  unit = r["flow_gap"]["left_brow"]
  d.valley_ratio, d.peak_ratio = r["valley_ratio"], r["peak_ratio"]
  d.valley_gap, d.peak_inf = r["valley_gap"] / unit, r["peak_inf"] / unit


def default_config() -> ml_collections.ConfigDict:
  """The block `config.rethinking_of` (the "casme2" release's values are
  written by `paper_decoder`, which sees the whole config)."""
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
  b.lowpass_hz = 5.0  # the ideal filter's cut-off
  b.eye_margin = 5.0  # eye mask widening, normalised-face px
  b.release = "casme2"  # which RELEASES entry the values below are
  b.tip_percent = 0.0
  b.percent = ml_collections.ConfigDict()
  b.flow_gap = ml_collections.ConfigDict()
  b.peak_relative_inf = 0.0
  b.ext_gap = 0.0
  b.cache_dir = ""  # "" = <data_dir>/mespot_flow_features; "none" = off
  return b


def smoke(block: ml_collections.ConfigDict) -> None:
  """Shrinks the block in place for a config's `:smoke` variant: windows
  of 2 s (the tiny videos are a few seconds long)."""
  block.window_s, block.step_s = 2.0, 1.0


DECODER = "rethinking"


def paper_decoder(c: ml_collections.ConfigDict) -> None:
  """The authors' decoding (`config.decoder.rethinking`, their "casme2"
  release); thresholds fitted per fold unless `params="released"`."""
  use_release(c, "casme2")


CHOICES = {
    "flow": vocab.FLOW_BACKENDS,
    "reference": REFERENCES,
    "release": tuple(RELEASES),
}
