"""`yu_of`: Yu et al.'s training-free optical-flow spotter (MEGC2022 first).

"Facial expression spotting based on optical flow features" (Yu, Cai,
Liu et al.; ACM MM'22; MEGC2022 first place, overall F1 0.3514), ported
from the authors' code (github:CZP-1/Facial-Expression-Spotting-Based-on-
Optical-Flow-Features-MindSpore, `cas_util.draw_roiline19`,
`samm_util.draw_roiline19`); docs/YU_OF.md gives every step, value and
deviation. Their ROI boxes are those of `rethinking_of` (the two codes
share them: `rethinking_of.LAYOUT`); a release picks which of them give a
signal. Per video:

1. ROIs from landmarks, offsets in pixels of the authors' face crop
   (`face_widths` inner-eye distances resized to `face_side` px; CAS:
   4 and 256, SAMM: 4.5 and 320; `roi_features.face_scale`): CAS, 20 x 20
   px boxes at 3 points of each brow, at both mouth corners, the lip
   centres and the inner upper lip, and both nostril wings; SAMM, both
   brows' and the mouth's whole regions and the nostril wings. The eyes
   masked out of every ROI (`roi_features.eye_mask`); a nose-tip box as
   the rigid reference.
2. Windows of `window_s` (200 frames at 30 fps) every `step_s`; each
   frame's flow against its window's first frame.
3. Per ROI the mean of its largest `percent` flow vectors minus the nose
   tip's (its top `tip_percent`): head motion removed; the magnitude in
   the crop's pixels.
4. Per window and ROI, the ends dropped, the ideal low-pass filter
   (`lowpass_hz`: CAS 2 Hz, SAMM 5 Hz) and the signal minus its EMD
   residue.
5. Peak evidence (the authors' `fenxi` tests as ratios, as in
   `rethinking_of`): min of `rethinking_of.baseline_term(x)` /
   `peak_relative_inf`, the rise over the +-1 s minimum / the ROI's
   `flow_gap`, and the EMD signal's rise / `ext_gap`; the frame's score
   the largest over ROIs and windows: > 1 exactly where the authors'
   tests pass.

Both score columns hold that curve (the authors type intervals by length
only). Decoding: `mespot_jax.decoders.yu` (their interval rules) with tau
= 1 (`decoder.yu.params="released"`) or tau fitted per type on the
fold's known subjects.
"""
import numpy as np

from mespot_jax.config.blocks import yu_of as block
from mespot_jax.config.blocks.yu_of import default_config  # pylint: disable=unused-import
from mespot_jax.flow import roi_features as rf
from mespot_jax.methods import rethinking_of as ro
from mespot_jax.methods import training_free as ff

TYPES = ff.TYPES
LAYOUT = {name: (group, pts, lo, hi) for name, group, pts, lo, hi
          in ro.LAYOUT}


def regions(landmarks_68, size: int, scale: float) -> dict:
  """{name: box} of every `LAYOUT` ROI and "tip" in a `size` crop, with
  `scale` of the authors' face pixels per crop pixel."""
  out = {n: rf.landmark_box(landmarks_68, pts, lo, hi, scale, size)
         for n, (_, pts, lo, hi) in LAYOUT.items()}
  out["tip"] = rf.landmark_box(landmarks_68, *ro.TIP, scale, size)
  return out


def roi_motion(flows_NHW2, boxes, names, percents, tip_percent, mask_HW,
               scale) -> np.ndarray:
  """(N, R) head-motion-free flow magnitudes of ROIs `names`, in the
  authors' face pixels."""
  head = rf.top_percent_mean(flows_NHW2, boxes["tip"], tip_percent)
  rois = np.stack([rf.top_percent_mean(flows_NHW2, boxes[n], percents[n],
                                       mask_HW) for n in names], 1)
  return np.hypot(*np.moveaxis(rf.remove_head_motion(rois, head), -1, 0)
                  ) * scale


def evidence(mag_TR, names, fps, b) -> np.ndarray:
  """(T,) peak evidence of one window's ROI magnitudes (steps 4-5)."""
  t = len(mag_TR)
  out = np.full(t, np.nan)
  if t < 4:
    return out
  half = ff.frames_of(1.0, fps)  # their +-30 frames
  best = np.full(t - 2, -np.inf)
  for r, name in enumerate(names):
    low = rf.ideal_lowpass(mag_TR[1:-1, r], fps, float(b.lowpass_hz))
    ext = rf.emd_detrend(low)
    e = np.minimum.reduce([
        ro.baseline_term(low) / float(b.peak_relative_inf),
        rf.local_rise(low, half) / float(b.flow_gap[LAYOUT[name][0]]),
        rf.local_rise(ext, half) / float(b.ext_gap)])
    best = np.maximum(best, e)
  out[1:-1] = best
  return out


class YuOF(ro.RethinkingOF):
  """Yu et al.'s spotter (registered as `yu_of`): Zhao et al.'s windows,
  reach, faceless frames, streaming context and choices (inherited), on a
  release's subset of their ROIs at its face scale."""
  name = "yu_of"

  def __init__(self, config):
    # Not RethinkingOF's check (every ROI of its layout): this release's.
    # pylint: disable-next=non-parent-init-called
    ff.TrainingFreeSpotter.__init__(self, config)
    b = self.block
    unknown = [n for n in self.rois() if n not in LAYOUT]
    if unknown or not self.rois():
      raise ValueError(f"yu_of.rois={b.rois!r}: {unknown or 'empty'}; "
                       f"expected names of {sorted(LAYOUT)}")
    groups = {LAYOUT[n][0] for n in self.rois()}
    missing = (groups - set(b.flow_gap)) | (
        groups | {"mouth_whole"}) - set(b.percent)
    if missing:
      raise ValueError(f"yu_of: no flow_gap/percent for {sorted(missing)} "
                       "(block.use_release sets them)")

  def rois(self) -> tuple:
    return tuple(n.strip() for n in str(self.block.rois).split(",")
                 if n.strip())

  def percents(self) -> dict:
    p = self.block.percent
    return {n: float(p["mouth_whole"] if n == "mouth_whole"
                     else p[LAYOUT[n][0]]) for n in self.rois()}

  def feature_params(self, fps) -> dict:
    b = self.block
    return dict(self.flow_params(), reference=str(b.reference),
                frames=list(self.frames(fps)), lowpass_hz=float(b.lowpass_hz),
                eye_margin=float(b.eye_margin), percent=self.percents(),
                tip_percent=float(b.tip_percent), rois=list(self.rois()),
                face=[float(b.face_side), float(b.face_widths)],
                flow_gap=b.flow_gap.to_dict(),
                peak_relative_inf=float(b.peak_relative_inf),
                ext_gap=float(b.ext_gap), layout=repr(ro.LAYOUT))

  def curves_of_grey(self, grey, boxes, fps) -> np.ndarray:
    """(T, 2) evidence curves of a video's grey frames and its median ROI
    boxes (4, 4)."""
    b = self.block
    t, size = len(grey), grey.shape[1]
    lmk = rf.landmarks_in_crop(boxes, size)
    scale = rf.face_scale(lmk, float(b.face_side), float(b.face_widths))
    mask = rf.eye_mask(lmk, size, float(b.eye_margin) / scale)
    window, step = self.frames(fps)
    src, dst, wid = rf.reference_pairs(t, str(b.reference), window, step)
    names = self.rois()
    mags = np.zeros((len(src), len(names)))
    boxes = regions(lmk, size, scale)
    for s, flows in ff.video_flows(grey, src, dst, b.flow,
                                   int(b.flow_batch), b.flow_params.to_dict()):
      mags[s:s + len(flows)] = roi_motion(
          flows, boxes, names, self.percents(), float(b.tip_percent), mask,
          scale)
    curve = np.full(t, np.nan)
    if str(b.reference) == "sliding":
      curve[dst] = evidence(mags, names, fps, b)
    else:
      for w in np.unique(wid):
        sel = wid == w
        curve[dst[sel]] = np.fmax(curve[dst[sel]],
                                  evidence(mags[sel], names, fps, b))
    return np.repeat(curve[:, None], 2, 1).astype(np.float32)


__all__ = ["YuOF", "block", "default_config"]
