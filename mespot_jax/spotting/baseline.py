"""Parameter-free baseline spotter: frame-difference magnitude.

No learning: the score of reference frame t for stream k is the mean absolute
pixel difference between frame t and its partner frame t + s_k,

    score[t, k] = mean_pixels |frame[min(t + s_k, T - 1)] - frame[t]|,

the same pairing as the two-stream model (reference frame t, partner s frames
later; skips from `skips.kth_frame_skips`). Partners past the end are clamped
to the last frame, so the last frames compare with it (and the very last one
with itself, scoring 0). A facial movement of duration about 2 s_k produces a
bump; the scores then go through the same post-processing as the model's
(`postprocess.scores_to_intervals`).

Memory: both functions accept uint8 frames and work in float32 on a bounded
number of frames at a time: `frame_difference_scores` on chunks of reference
frames (the input array may be a memory map), `iter_frame_difference_scores`
on a stream, holding the last max(skips) + 1 frames.
"""
import collections
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from mespot_jax.errors import InputError
from mespot_jax.spotting import postprocess


def _check_skips(skips: Sequence[int]) -> tuple[int, ...]:
  skips = tuple(int(s) for s in skips)
  if not skips or min(skips) < 1:
    raise InputError(f"frame skips {skips}; expected positive integers")
  return skips


def _mean_abs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Mean |a - b| over all but the first axis, in float32."""
  d = np.abs(a.astype(np.float32) - b.astype(np.float32))
  return d.reshape(d.shape[0], -1).mean(axis=1, dtype=np.float32)


def frame_difference_scores(frames_THW: np.ndarray,
                            skips: Sequence[int] = (6, 19),
                            chunk: int = 256) -> np.ndarray:
  """Frame-difference scores of a whole video.

  Args:
    frames_THW: (T, H, W) or (T, H, W, C) frames, any numeric dtype (uint8).
    skips: (skip_micro, skip_macro) in frames; any number of streams works.
    chunk: reference frames processed at once (bounds the float32 working
      memory to about 2 x chunk frames).

  Returns:
    (T, len(skips)) float32 scores in the input's pixel units.
  """
  skips = _check_skips(skips)
  if frames_THW.ndim not in (3, 4):
    raise InputError(f"frames of shape {frames_THW.shape}; expected (T, H, W)"
                     " or (T, H, W, C)")
  num = frames_THW.shape[0]
  out = np.zeros((num, len(skips)), np.float32)
  for start in range(0, num, chunk):
    t = np.arange(start, min(start + chunk, num))
    ref = frames_THW[start:t[-1] + 1]
    for k, s in enumerate(skips):
      partner = np.minimum(t + s, num - 1)
      out[t, k] = _mean_abs(frames_THW[partner], ref)
  return out


def iter_frame_difference_scores(
    frames: Iterable[np.ndarray],
    skips: Sequence[int] = (6, 19)) -> Iterator[np.ndarray]:
  """Streaming frame-difference scores, one row per input frame, in order.

  Row t is yielded as soon as frame t + max(skips) has arrived (the rest at
  the end of the stream), so the memory held is max(skips) + 1 frames.

  Args:
    frames: iterable of (H, W) or (H, W, C) frames (e.g. aligned crops).
    skips: (skip_micro, skip_macro) in frames.

  Yields:
    (len(skips),) float32 rows equal to `frame_difference_scores` rows.
  """
  skips = _check_skips(skips)
  s_max = max(skips)
  buf = collections.deque(maxlen=s_max + 1)  # buf[0] is the oldest frame

  def row(partner_of):
    ref = buf[0][None]
    return np.array([_mean_abs(buf[partner_of(s)][None], ref)[0]
                     for s in skips], np.float32)

  for frame in frames:
    buf.append(np.asarray(frame))
    if len(buf) == s_max + 1:
      yield row(lambda s: s)
      buf.popleft()
  # End of stream: partners past the last frame clamp to it.
  while buf:
    yield row(lambda s: min(s, len(buf) - 1))
    buf.popleft()


def spot(frames_THW: np.ndarray, fps: float, skips: Sequence[int],
         thresholds: Sequence[float] = (0.5, 0.5), method: str = "automated",
         params_by_type: Any = None) -> list[tuple[str, int, int, float]]:
  """Baseline intervals of one video: scores, then the model's post-processing.

  Args:
    frames_THW: (T, H, W[, C]) frames of one video.
    fps: its frame rate.
    skips: (skip_micro, skip_macro) in frames.
    thresholds: (micro, macro) thresholds on the smoothed, normalised signal.
    method: post-processor name.
    params_by_type: post-processing parameters (see `postprocess`).

  Returns:
    [(type, onset, offset, score)] as `postprocess.scores_to_intervals`.
  """
  scores_T2 = frame_difference_scores(frames_THW, skips[:2])
  return postprocess.scores_to_intervals(scores_T2, fps, thresholds, method,
                                         params_by_type)
