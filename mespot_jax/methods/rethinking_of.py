"""`rethinking_of`: Zhao et al.'s training-free optical-flow spotter.

"Rethinking optical flow methods for micro-expression spotting" (Zhao,
Tong, Zhu, Sheng, Dai, Xu, Xia, Yu, Li; ACM MM'22; MEGC2022, overall F1
0.3467), ported from the authors' code (github:shengjianda/micro-
expression-spot, `spot_util_casme.draw_roiline19`); docs/RETHINKING_OF.md
gives every step, value and deviation. Per video:

1. ROIs from landmarks, offsets in pixels of a 256 px normalised face
   (`roi_features.face_scale`): each brow (its whole region and boxes at
   3 brow points), the mouth (whole, both corners, upper and lower lip
   centres, inner upper lip), both nostril wings; the eyes masked out of
   every ROI (`roi_features.eye_mask`); a nose-tip box as the rigid
   reference.
2. Windows of `window_s` (200 frames at 30 fps) every `step_s`; each
   frame's flow against its window's first frame (`reference="fixed"`,
   the authors'; "sliding": against the frame `window_s` before).
3. Per ROI the mean of its largest `percent` flow vectors minus the nose
   tip's (the top `tip_percent` of its vectors): head motion removed; the
   magnitude in normalised-face pixels.
4. Per window and ROI, the ends dropped, the ideal low-pass filter
   (`lowpass_hz`) and the signal minus its EMD residue.
5. Peak evidence (the authors' `find_peak` tests as ratios): min of
   `baseline_term(x)` / `peak_relative_inf` (x - min x, with their window
   quirks: a window's last frame never kept, a one-frame gap checked),
   the rise over the +-1 s minimum / the ROI's `flow_gap`, and the EMD
   signal's rise / `ext_gap`; the frame's score the largest over ROIs and
   windows. A frame passes the authors' tests exactly where its score
   exceeds 1 (theirs: >= for the first test).

Both score columns hold that curve (the authors type intervals by
length only). Decoding: `mespot_jax.decoders.rethinking` (the authors'
window rules) with tau = 1 (`decoder.rethinking.params="released"`) or
tau fitted per type on the fold's known subjects.
"""
import numpy as np

from mespot_jax.config.blocks import rethinking_of as block
from mespot_jax.config.blocks.rethinking_of import default_config  # pylint: disable=unused-import
from mespot_jax.flow import roi_features as rf
from mespot_jax.methods import training_free as ff

TYPES = ff.TYPES

# (name, group, landmarks, (left, up), (right, down)) in normalised-face px
# (the authors' offsets; "whole" regions are their region boxes less their
# 10 px border). Groups pick `flow_gap`; `percent` by group, the mouth's
# whole region by "mouth_whole".
LAYOUT = (
    ("left_brow", "left_brow", range(17, 22), (-5, 5), (-10, -5)),
    ("left_brow_20", "left_brow", (20,), (10, 10), (10, 10)),
    ("left_brow_19", "left_brow", (19,), (10, 10), (10, 10)),
    ("left_brow_18", "left_brow", (18,), (10, 10), (10, 10)),
    ("right_brow", "right_brow", range(22, 27), (-10, 5), (-10, -5)),
    ("right_brow_23", "right_brow", (23,), (10, 10), (10, 10)),
    ("right_brow_24", "right_brow", (24,), (10, 10), (10, 10)),
    ("right_brow_25", "right_brow", (25,), (10, 10), (10, 10)),
    ("mouth_whole", "mouth", range(48, 67), (10, 5), (10, 0)),
    ("mouth_48", "mouth", (48,), (10, 10), (20, 10)),
    ("mouth_54", "mouth", (54,), (20, 10), (10, 10)),
    ("mouth_51", "mouth", (51,), (10, 10), (10, 10)),
    ("mouth_57", "mouth", (57,), (10, 10), (10, 10)),
    ("mouth_62", "mouth", (62,), (10, 10), (10, 10)),
    ("nose_31", "nose", (31,), (20, 20), (10, 5)),
    ("nose_35", "nose", (35,), (10, 20), (20, 5)),
)
# The nose tip box (29, 30 +- 13 px) less the authors' [15:-10, 5:-5].
TIP = ((29, 30), (8, -2), (8, 3))


def regions(landmarks_68, size: int) -> dict:
  """{name: box} of `LAYOUT` and "tip" in a `size` crop."""
  s = rf.face_scale(landmarks_68)
  out = {name: rf.landmark_box(landmarks_68, pts, lo, hi, s, size)
         for name, _, pts, lo, hi in LAYOUT}
  out["tip"] = rf.landmark_box(landmarks_68, *TIP, s, size)
  return out


def roi_motion(flows_NHW2, boxes, percents, tip_percent, mask_HW, scale):
  """(N, R) head-motion-free ROI flow magnitudes, normalised-face px."""
  head = rf.top_percent_mean(flows_NHW2, boxes["tip"], tip_percent)
  rois = np.stack([rf.top_percent_mean(flows_NHW2, boxes[n], percents[n],
                                       mask_HW) for n, *_ in LAYOUT], 1)
  return np.hypot(*np.moveaxis(rf.remove_head_motion(rois, head), -1, 0)
                  ) * scale


def baseline_term(low) -> np.ndarray:
  """The first of the authors' `find_peak` tests as a level: the largest
  k for which frame j is checked when the threshold is k.

  They check the frames `range(head, tail)` of every window of frames
  with `low - min(low) >= pri` (joined when fewer than 3 frames apart): a
  frame is checked when it, or both its neighbours (a one-frame gap), reach
  the threshold, and it is not a window's last frame (a point with no
  other within the next 2 frames). With a = low - min(low):
  min(max(a[j], min(a[j-1], a[j+1])), max(a[j+1], a[j+2])), frames
  beyond the ends counting 0; j is checked at threshold k exactly when
  this is >= k."""
  a = np.asarray(low, np.float64) - np.min(low)
  z = np.concatenate((a, [0.0, 0.0]))
  prev = np.concatenate(([0.0], a[:-1]))
  inside = np.maximum(a, np.minimum(prev, z[1:-1]))
  not_tail = np.maximum(z[1:-1], z[2:])
  return np.minimum(inside, not_tail)


def evidence(mag_TR, fps, b) -> np.ndarray:
  """(T,) peak evidence of one window's ROI magnitudes (steps 4-5)."""
  t = len(mag_TR)
  out = np.full(t, np.nan)
  if t < 4:
    return out
  half = ff.frames_of(1.0, fps)  # l_expand = fps
  best = np.full(t - 2, -np.inf)
  for r, (_, group, *_) in enumerate(LAYOUT):
    low = rf.ideal_lowpass(mag_TR[1:-1, r], fps, float(b.lowpass_hz))
    ext = rf.emd_detrend(low)
    e = np.minimum.reduce([
        baseline_term(low) / float(b.peak_relative_inf),
        rf.local_rise(low, half) / float(b.flow_gap[group]),
        rf.local_rise(ext, half) / float(b.ext_gap)])
    best = np.maximum(best, e)
  out[1:-1] = best
  return out


class RethinkingOF(ff.TrainingFreeSpotter):
  """Zhao et al.'s spotter (registered as `rethinking_of`)."""
  name = "rethinking_of"
  stream_rois = True

  def __init__(self, config):
    super().__init__(config)
    b = self.block
    missing = ({g for _, g, *_ in LAYOUT} - set(b.flow_gap)) | (
        {g for _, g, *_ in LAYOUT} | {"mouth_whole"}) - set(b.percent)
    if missing:
      raise ValueError(f"rethinking_of: no flow_gap/percent for "
                       f"{sorted(missing)} (block.use_release sets them)")

  def percents(self) -> dict:
    p = self.block.percent
    return {n: float(p["mouth_whole"] if n == "mouth_whole" else p[g])
            for n, g, *_ in LAYOUT}

  def frames(self, fps) -> tuple:
    return (ff.frames_of(self.block.window_s, fps),
            max(ff.frames_of(self.block.step_s, fps), 1))

  def reach_s(self) -> dict:
    """A frame is compared with a reference up to a window before it."""
    return {t: float(self.block.window_s) for t in TYPES}

  def invalid_frames(self, face_found_T, fps, choices) -> np.ndarray:
    """No score where the frame has no face (its windows' references are
    the windows' business: a frame with a face is always scored)."""
    del fps, choices
    return np.repeat(~np.asarray(face_found_T, bool)[:, None], 2, 1)

  def feature_params(self, fps) -> dict:
    b = self.block
    return dict(self.flow_params(), reference=str(b.reference),
                frames=list(self.frames(fps)), lowpass_hz=float(b.lowpass_hz),
                eye_margin=float(b.eye_margin), percent=self.percents(),
                tip_percent=float(b.tip_percent),
                flow_gap=b.flow_gap.to_dict(),
                peak_relative_inf=float(b.peak_relative_inf),
                ext_gap=float(b.ext_gap), layout=repr(LAYOUT),
                emd="pyemd1", baseline="find_peak_windows")

  def stream_context(self, fps) -> ff.StreamContext:
    """Fixed reference: frame i's score is the largest over the windows
    holding it, each read whole (its low-pass and EMD), windows starting
    at multiples of the step (the last one ends at the video's end): the
    window - 1 frames before i from a window start, and a window after.
    Sliding: the filters run over the whole video's curve."""
    window, step = self.frames(fps)
    if str(self.block.reference) == "sliding":
      return ff.StreamContext(whole=True)
    return ff.StreamContext(history=window - 1, future=window, period=step)

  def curves_of_grey(self, grey, boxes, fps) -> np.ndarray:
    """(T, 2) evidence curves of a video's grey frames and its median ROI
    boxes (4, 4)."""
    b = self.block
    t, size = len(grey), grey.shape[1]
    lmk = rf.landmarks_in_crop(boxes, size)
    scale = rf.face_scale(lmk)
    mask = rf.eye_mask(lmk, size, float(b.eye_margin) / scale)
    window, step = self.frames(fps)
    src, dst, wid = rf.reference_pairs(t, str(b.reference), window, step)
    mags = np.zeros((len(src), len(LAYOUT)))
    boxes = regions(lmk, size)
    for s, flows in ff.video_flows(grey, src, dst, b.flow,
                                   int(b.flow_batch), b.flow_params.to_dict()):
      mags[s:s + len(flows)] = roi_motion(
          flows, boxes, self.percents(), float(b.tip_percent),
          mask, scale)
    curve = np.full(t, np.nan)
    if str(b.reference) == "sliding":
      curve[dst] = evidence(mags, fps, b)
    else:
      for w in np.unique(wid):
        sel = wid == w
        curve[dst[sel]] = np.fmax(curve[dst[sel]], evidence(mags[sel], fps,
                                                            b))
    return np.repeat(curve[:, None], 2, 1).astype(np.float32)

  def video_choices(self, choices, fps) -> dict:
    del choices
    return {self.name: {"window_frames": list(self.frames(fps))}}
