"""Plots a researcher would rather look at than read: the scores of a video
with its spotted and true intervals, and a copy of the video with them
drawn on its frames."""
import os

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from mespot_jax.config import vocab
from mespot_jax.data import video_io
from mespot_jax.io_utils import atomic_path
from mespot_jax.spotting import interval_rules
from mespot_jax.spotting import postprocess

TYPES = vocab.TYPES
_COLOURS = {"micro": "tab:orange", "macro": "tab:blue"}
_COLOURS_BGR = {"micro": (0, 140, 255), "macro": (255, 120, 0)}


def _shade_unscored(ax, unscored_T, fps, label) -> None:
  """Grey bands over runs of frames without a score."""
  for on, off in interval_rules.runs_above(unscored_T.astype(np.float64), 0.5):
    ax.axvspan((on - 0.5) / fps, (off + 0.5) / fps, color="0.6", alpha=0.35,
               lw=0, label=label)
    label = None  # one legend entry


def plot_video(path, meta, scores_T2, signal_T2, thresholds, pred_rows,
               decoder: str = "", title: str | None = None,
               figsize=(12, 5)) -> None:
  """Scores, the signal the decoder thresholds, its thresholds, spotted and
  true intervals of one video.

  Frames without a score (NaN: no face) are shaded grey; the curves break
  there. A threshold that predicts nothing (at or above
  `postprocess.NO_DETECTION`) is drawn at the top and labelled "never".

  Args:
    path: PNG to write (atomically).
    meta: object with `video`, `fps`, `intervals` (truth; may be empty).
    scores_T2: raw per-frame scores (micro, macro); NaN where none.
    signal_T2: what the decoder thresholds (`SpottingDecoder.signal`: the
      smoothed scores of `runs`, the scores themselves of `apex` and
      `peaks`).
    thresholds: (micro, macro) thresholds on the signal of this video.
    pred_rows: spotted intervals (objects with type, onset, offset).
    decoder: the decoder's name (the legend).
    title: plot title (default: the video name).
    figsize: inches (at 90 dpi); the README's copy is shorter.
  """
  t_s = np.arange(1, len(scores_T2) + 1) / meta.fps
  fig, axes = plt.subplots(2, 1, figsize=figsize, sharex=True)
  for k, typ in enumerate(("micro", "macro")):
    ax = axes[k]
    ax.plot(t_s, scores_T2[:, k], color="0.75", lw=0.6, label="raw score")
    ax.plot(t_s, np.asarray(signal_T2)[:, k] if len(signal_T2) else [],
            color=_COLOURS[typ], lw=1.2,
            label=f"{decoder} signal" if decoder else "signal")
    never = float(thresholds[k]) >= postprocess.NO_DETECTION
    col = np.asarray(signal_T2, np.float64).reshape(-1, 2)[:, k]
    top = max(1.0, float(np.nanmax(col))) if np.isfinite(col).any() else 1.0
    ax.axhline(top if never else float(thresholds[k]), color="k", ls="--",
               lw=0.8,
               label="threshold: never" if never else "threshold")
    _shade_unscored(ax, np.isnan(np.asarray(scores_T2[:, k], np.float64)),
                    meta.fps, "no score (no face)")
    for iv in meta.intervals:
      if iv.type == typ:
        ax.axvspan(iv.onset / meta.fps, iv.offset / meta.fps, ymin=0.0,
                   ymax=0.5, color="tab:green", alpha=0.3)
    for r in pred_rows:
      if r.type == typ:
        ax.axvspan(r.onset / meta.fps, r.offset / meta.fps, ymin=0.5,
                   ymax=1.0, color="tab:red", alpha=0.3)
    ax.set_ylabel(f"{typ}")
    ax.set_ylim(-0.05 * top, 1.05 * top)
  axes[0].legend(loc="upper right", fontsize=7, ncol=3)
  axes[1].set_xlabel("time (s)   green (lower half): truth, red (upper "
                     "half): spotted")
  fig.suptitle(title or meta.video)
  fig.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with atomic_path(path) as tmp:
    fig.savefig(tmp, dpi=90, format="png")
  plt.close(fig)


def annotate_video(path: str, out: str, fps: float, scores_T2, rows,
                   face_found_T=None, decoded_T=None) -> int:
  """Writes a copy of a video with its scores and spotted intervals drawn.

  A second streaming pass over the video (`video_io.FrameReader` with
  `on_error="repeat"`, as scoring read it). Frames without a face or not
  decoded are greyed and labelled; a type without a score there shows "--".

  Args:
    path: the scored video (file or frame folder).
    out: the video file to write (`video_io.write_video`).
    fps: its frame rate.
    scores_T2: the scores (NaN where none).
    rows: spotted intervals (objects with type, onset, offset).
    face_found_T: (T,) bool, default all True.
    decoded_T: (T,) bool, default all True.

  Returns:
    The number of frames written.
  """
  num = len(scores_T2)
  face_found_T = np.ones(num, bool) if face_found_T is None else face_found_T
  decoded_T = np.ones(num, bool) if decoded_T is None else decoded_T
  active = np.zeros((num, 2), bool)
  for r in rows:
    active[r.onset - 1:r.offset, TYPES.index(r.type)] = True

  def frames():
    for i, frame in enumerate(video_io.FrameReader(path, on_error="repeat")):
      if i >= num:
        break
      img = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR)
      h, w = img.shape[:2]
      if not (face_found_T[i] and decoded_T[i]):
        img = cv2.addWeighted(img, 0.4, np.full_like(img, 128), 0.6, 0)
        cv2.putText(img, "NO FACE" if decoded_T[i] else "NOT DECODED",
                    (6, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.7,
                    (255, 255, 255), 2, cv2.LINE_AA)
      for k, typ in enumerate(TYPES):
        colour, y = _COLOURS_BGR[typ], 18 + 20 * k
        score = float(scores_T2[i, k])
        text = f"{typ} --" if np.isnan(score) else f"{typ} {score:.2f}"
        cv2.putText(img, text, (6, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour,
                    1, cv2.LINE_AA)
        if np.isnan(score):
          continue
        bar_w = int(round(min(max(score, 0.0), 1.0) * min(100, w // 3)))
        cv2.rectangle(img, (110, y - 10), (110 + bar_w, y - 2), colour, -1)
        if active[i, k]:
          pad = 2 + 4 * k
          cv2.rectangle(img, (pad, pad), (w - 1 - pad, h - 1 - pad), colour, 3)
          cv2.putText(img, typ.upper(), (6, h - 10 - 20 * k),
                      cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2, cv2.LINE_AA)
      yield cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

  return video_io.write_video(out, frames(), fps)
