"""Plots a researcher would rather look at than read."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from mespot_jax.io_utils import atomic_path
from mespot_jax.spotting import postprocess

_COLOURS = {"micro": "tab:orange", "macro": "tab:blue"}


def plot_video(path, meta, scores_T2, thresholds, pred_rows, method, params,
               title: str | None = None) -> None:
  """Smoothed scores, thresholds, spotted and true intervals of one video.

  Args:
    path: PNG to write (atomically).
    meta: object with `video`, `fps`, `intervals` (truth; may be empty).
    scores_T2: raw per-frame scores (micro, macro).
    thresholds: (micro, macro) thresholds on the smoothed signal.
    pred_rows: spotted intervals (objects with type, onset, offset).
    method: post-processor name.
    params: per-type post-processing parameters.
    title: plot title (default: the video name).
  """
  t_s = np.arange(1, len(scores_T2) + 1) / meta.fps
  fig, axes = plt.subplots(2, 1, figsize=(12, 5), sharex=True)
  for k, typ in enumerate(("micro", "macro")):
    ax = axes[k]
    smooth = postprocess.smooth(scores_T2[:, k], meta.fps, method,
                                params[typ]) if len(scores_T2) else []
    ax.plot(t_s, scores_T2[:, k], color="0.75", lw=0.6, label="raw score")
    ax.plot(t_s, smooth, color=_COLOURS[typ], lw=1.2, label="smoothed")
    ax.axhline(thresholds[k], color="k", ls="--", lw=0.8, label="threshold")
    for iv in meta.intervals:
      if iv.type == typ:
        ax.axvspan(iv.onset / meta.fps, iv.offset / meta.fps, ymin=0.0,
                   ymax=0.5, color="tab:green", alpha=0.3)
    for r in pred_rows:
      if r.type == typ:
        ax.axvspan(r.onset / meta.fps, r.offset / meta.fps, ymin=0.5,
                   ymax=1.0, color="tab:red", alpha=0.3)
    ax.set_ylabel(f"{typ}")
    ax.set_ylim(-0.05, 1.05)
  axes[0].legend(loc="upper right", fontsize=7, ncol=3)
  axes[1].set_xlabel("time (s)   green (lower half): truth, red (upper "
                     "half): spotted")
  fig.suptitle(title or meta.video)
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with atomic_path(path) as tmp:
    fig.savefig(tmp, dpi=90, format="png")
  plt.close(fig)
