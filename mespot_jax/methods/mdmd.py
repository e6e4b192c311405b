"""MDMD: Main Directional Maximal Difference analysis (the MEGC2020 baseline).

Wang, Wu, Qian, Li and Fu (ACCV 2016; Neurocomputing 2017), as the MEGC2020
spotting baseline (He et al., FG 2020) applies it to long videos. The
method plug-in `config.method = "mdmd"` (fields in `config.mdmd`); nothing
is trained (`trains = False`).

For each type (micro, macro) with its interval k (`k_s`, seconds, rounded
to frames at the video's rate), each current frame CF = i has a head frame
HF = i - k and a tail frame TF = i + k. On a `grid` of blocks over the
aligned face:

1. the flow HF -> CF and the flow HF -> TF (Farneback on a CPU by default,
   `flow="tvl1"` for the JAX TV-L1 on any device);
2. the main direction of HF -> CF in a block: the one of `bins` direction
   bins holding the most flow vectors; rho_CF its vectors' mean magnitude;
   rho_TF the mean magnitude of the HF -> TF vectors in that same bin (0 if
   none);
3. the block's difference d = rho_CF - rho_TF: large when the face moved
   away from HF at CF and came back by TF (an expression), small for a
   movement that stays (a pose change);
4. the frame's score: the mean of the largest `top_fraction` of the blocks'
   differences (the paper's first b^2/3 blocks).

Frames i < k or i >= T - k, and frames whose HF, CF or TF has no face, get
no score. Spotting: the paper's decoder is `peaks`
(`mespot_jax.decoders.peaks`, `config.decoder.peaks`): the baseline's
per-video threshold `T = mean + p (max - mean)` of the video's scores;
each run of frames above it becomes the interval [first - k, last + k]
(its head to its tail frame; `extend` scales that k); p per type is fitted
on the fold's training and validation subjects (MEGC2020 interval F1 of
that type), never on the test subject. Micro vs macro by duration: a micro
interval longer than `micro_max_s` and a macro one not longer are dropped.
docs/FLOW_SPOTTERS.md says which values are published and which are ours.
"""
import numpy as np

from mespot_jax.config.blocks.mdmd import default_config  # pylint: disable=unused-import
from mespot_jax.methods import training_free as ff

TYPES = ff.TYPES




def block_main_direction(flow_c_NHW2, flow_t_NHW2, grid, bins):
  """Per block, rho_CF and rho_TF in the main direction of the CF flow.

  Args:
    flow_c_NHW2: (N, H, W, 2) flows HF -> CF.
    flow_t_NHW2: (N, H, W, 2) flows HF -> TF.
    grid: (rows, cols) blocks; H and W are cropped to multiples of them.
    bins: direction bins over [-pi, pi).

  Returns:
    (rho_c_NB, rho_t_NB, main_NB): mean magnitudes and the main bin.
  """
  gr, gc = grid
  n, h, w, _ = flow_c_NHW2.shape
  bh, bw = h // gr, w // gc

  def blocks(f):
    f = f[:, :gr * bh, :gc * bw]
    f = f.reshape(n, gr, bh, gc, bw, 2).transpose(0, 1, 3, 2, 4, 5)
    return f.reshape(n, gr * gc, bh * bw, 2)

  def polar(f):
    mag = np.hypot(f[..., 0], f[..., 1])
    ang = np.arctan2(f[..., 1], f[..., 0])
    b = np.floor((ang + np.pi) / (2 * np.pi / bins)).astype(np.int64) % bins
    return mag, np.eye(bins, dtype=np.float32)[b]  # (N, B, P), (N, B, P, K)

  mag_c, hot_c = polar(blocks(flow_c_NHW2))
  mag_t, hot_t = polar(blocks(flow_t_NHW2))
  count_c = hot_c.sum(2)  # (N, B, K)
  main = count_c.argmax(-1)  # ties: the first bin
  pick = lambda a: np.take_along_axis(a, main[..., None], -1)[..., 0]
  rho_c = pick((hot_c * mag_c[..., None]).sum(2)) / np.maximum(
      pick(count_c), 1)
  count_t = pick(hot_t.sum(2))
  rho_t = np.where(count_t > 0, pick((hot_t * mag_t[..., None]).sum(2)) /
                   np.maximum(count_t, 1), 0.0)
  return rho_c, rho_t, main


def frame_scores(rho_c_NB, rho_t_NB, top_fraction) -> np.ndarray:
  """(N,) mean of the largest `top_fraction` of the block differences."""
  d = np.sort(rho_c_NB - rho_t_NB, axis=1)[:, ::-1]
  s = max(1, int(round(d.shape[1] * top_fraction)))
  return d[:, :s].mean(1)


class MDMD(ff.TrainingFreeSpotter):
  """The MEGC2020 baseline (registered as `mdmd`)."""
  name = "mdmd"
  FRAME_OFFSETS = (-1, 0, 1)  # HF, CF, TF: no score where one is missing


  def feature_params(self, fps) -> dict:
    b = self.block
    return dict(self.flow_params(), grid=[int(g) for g in b.grid],
                bins=int(b.bins), top_fraction=float(b.top_fraction),
                k={t: self.k(t, fps) for t in TYPES})

  def curves_of_grey(self, grey, boxes, fps) -> np.ndarray:
    """(T, 2) MDMD scores of a video's grey frames (NaN where undefined);
    frame i reads i - k, i and i + k (`stream_context`)."""
    del boxes
    b = self.block
    t = len(grey)
    out = np.full((t, 2), np.nan, np.float32)
    for col, typ in enumerate(TYPES):
      k = self.k(typ, fps)
      cf = np.arange(k, t - k)
      if not len(cf):
        continue
      scores = []
      for s in range(0, len(cf), int(b.flow_batch)):
        i = cf[s:s + int(b.flow_batch)]
        (_, fc), = ff.video_flows(grey, i - k, i, b.flow, len(i),
                                  b.flow_params.to_dict())
        (_, ft), = ff.video_flows(grey, i - k, i + k, b.flow, len(i),
                                  b.flow_params.to_dict())
        rc, rt, _ = block_main_direction(fc, ft, tuple(b.grid), int(b.bins))
        scores.append(frame_scores(rc, rt, float(b.top_fraction)))
      out[cf, col] = np.concatenate(scores)
    return out

  def video_choices(self, choices, fps) -> dict:
    del choices
    return {"mdmd": {"k_frames": {t: self.k(t, fps) for t in TYPES}}}
