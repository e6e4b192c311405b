"""A training-free ROI optical-flow spotter (`config.method = "flow_roi"`).

In the spirit of the optical-flow feature-difference spotters that won the
MEGC spotting challenges without training. For each time scale (type) with
its reference offset k (`k_s`, seconds), every frame i is compared with the
sliding reference frame i - k:

1. the flow (i - k) -> i (Farneback on a CPU by default, `flow="tvl1"` for
   the JAX TV-L1 on any device), on the crops resized to `flow_size`;
2. global head motion removed: the mean flow of a rigid region, the nose
   ridge (the upper part of the nose box, between the eyes), is subtracted;
3. per ROI the magnitude of the mean remaining flow: both brows (their
   boxes' upper `brow_keep`, so the upper eyelids and blinks stay out), the
   nostrils (the lower part of the nose box) and both mouth corners (the
   outer `corner_fraction` of the mouth box); the eyes themselves (lower
   lids) are in no ROI;
4. the frame's score: the largest ROI magnitude.

ROI boxes are each video's median of the per-frame boxes the store (or, in
offline scoring, the aligner) gives (`face.align.ROI_NAMES`). Spotting:
the spotter's decoder is `peaks` (`mespot_jax.decoders.peaks`,
`config.decoder.peaks`): a threshold per type (`threshold_rule`:
"relative" = mean + p (max - mean) of the video's own scores, "absolute" =
a flow magnitude in pixels of the `flow_size` crop) fitted on the fold's
training and validation subjects by MEGC2020 interval F1; each run above
it (a peak) becomes [first - extend k, last]; micro vs macro from the two
time scales and the peak widths: micro intervals at most `micro_max_s`,
macro ones longer, and with `micro_wins` a macro interval overlapping a
kept micro one is dropped.
"""
import numpy as np

from mespot_jax.config.blocks import flow_roi as block
from mespot_jax.config.blocks.flow_roi import default_config  # pylint: disable=unused-import
from mespot_jax.methods import training_free as ff

TYPES = ff.TYPES
ROIS = block.ROIS




def roi_regions(boxes_44, size, brow_keep, corner_fraction) -> dict:
  """Integer [x0, y0, x1, y1] regions (x1, y1 exclusive) in a `size` crop.

  Args:
    boxes_44: the 4 boxes of `face.align.ROI_NAMES` (left_brow, right_brow,
      nose, mouth) in pixels of this crop.
    size: side of the crop.
    brow_keep: upper fraction of the brow boxes kept.
    corner_fraction: outer fraction of the mouth box per corner.

  Returns:
    {name: box} for `ROIS` and "nose_ridge" (the rigid reference).
  """
  b = np.asarray(boxes_44, np.float64)

  def box(x0, y0, x1, y1):
    x0, y0 = int(np.clip(np.floor(x0), 0, size - 1)), int(
        np.clip(np.floor(y0), 0, size - 1))
    x1, y1 = int(np.clip(np.ceil(x1), x0 + 1, size)), int(
        np.clip(np.ceil(y1), y0 + 1, size))
    return (x0, y0, x1, y1)

  out = {}
  for name, (x0, y0, x1, y1) in (("left_brow", b[0]), ("right_brow", b[1])):
    out[name] = box(x0, y0, x1, y0 + brow_keep * (y1 - y0))
  x0, y0, x1, y1 = b[2]
  w, h = x1 - x0, y1 - y0
  out["nose_ridge"] = box(x0 + w / 3, y0, x1 - w / 3, y0 + 0.4 * h)
  out["nose"] = box(x0, y0 + 0.6 * h, x1, y1)
  x0, y0, x1, y1 = b[3]
  w = x1 - x0
  out["left_mouth_corner"] = box(x0, y0, x0 + corner_fraction * w, y1)
  out["right_mouth_corner"] = box(x1 - corner_fraction * w, y0, x1, y1)
  return out


def roi_magnitudes(flows_NHW2, regions, names) -> np.ndarray:
  """(N, R) magnitudes of each ROI's mean flow minus the nose ridge's."""
  def mean(name):
    x0, y0, x1, y1 = regions[name]
    return flows_NHW2[:, y0:y1, x0:x1].mean((1, 2))  # (N, 2)
  ref = mean("nose_ridge")
  return np.stack([np.hypot(*(mean(n) - ref).T) for n in names], axis=1)


class FlowROI(ff.TrainingFreeSpotter):
  """The ROI flow spotter (registered as `flow_roi`)."""
  name = "flow_roi"
  stream_rois = True
  FRAME_OFFSETS = (-1, 0)  # the reference frame i - k and frame i

  def __init__(self, config):
    super().__init__(config)
    unknown = set(self.block.rois) - set(ROIS)
    if unknown or not self.block.rois:
      raise ValueError(f"flow_roi.rois={tuple(self.block.rois)}; expected "
                       f"a non-empty subset of {ROIS}")

  def feature_params(self, fps) -> dict:
    b = self.block
    return dict(self.flow_params(), rois=list(b.rois),
                brow_keep=float(b.brow_keep),
                corner_fraction=float(b.corner_fraction),
                smooth_s=float(b.smooth_s),
                k={t: self.k(t, fps) for t in TYPES})

  def smooth_frames(self, fps) -> int:
    """Width of the score's moving average in frames (1: none)."""
    b = self.block
    return ff.frames_of(b.smooth_s, fps) if b.smooth_s > 0 else 1

  def stream_context(self, fps) -> ff.StreamContext:
    """Frame i's flow reads i - k; the moving average (`np.convolve`,
    "same") of width w the scores i - w // 2 .. i + (w - 1) // 2."""
    k, w = max(self.k(t, fps) for t in TYPES), self.smooth_frames(fps)
    return ff.StreamContext(history=k + w // 2, future=(w - 1) // 2)

  def curves_of_grey(self, grey, boxes, fps) -> np.ndarray:
    """(T, 2) scores of a video's grey frames and its median ROI boxes."""
    b = self.block
    t, size = len(grey), grey.shape[1]
    regions = roi_regions(boxes, size, float(b.brow_keep),
                          float(b.corner_fraction))
    out = np.full((t, 2), np.nan, np.float32)
    for col, typ in enumerate(TYPES):
      k = self.k(typ, fps)
      i = np.arange(k, t)
      if not len(i):
        continue
      mags = np.zeros((len(i), len(b.rois)), np.float32)
      for s, flows in ff.video_flows(grey, i - k, i, b.flow,
                                     int(b.flow_batch),
                                     b.flow_params.to_dict()):
        mags[s:s + len(flows)] = roi_magnitudes(flows, regions,
                                                tuple(b.rois))
      score = mags.max(1)
      w = self.smooth_frames(fps)
      if w > 1:
        score = np.convolve(score, np.ones(w) / w, mode="same")
      out[i, col] = score
    return out

  def video_choices(self, choices, fps) -> dict:
    del choices
    return {"flow_roi": {"k_frames": {t: self.k(t, fps) for t in TYPES}}}
