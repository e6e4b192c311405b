"""Per-frame labels from intervals."""
import numpy as np

from mespot_jax.config import vocab

TYPES = vocab.TYPES


def frame_labels(num_frames: int, intervals) -> np.ndarray:
  """Multi-label presence of each expression type per frame.

  Args:
    num_frames: frames in the video.
    intervals: objects with `type` ("micro"/"macro"), `onset`, `offset`
      (1-based inclusive frame numbers).

  Returns:
    labels_T2: uint8, column 0 micro, column 1 macro.
  """
  labels_T2 = np.zeros((num_frames, 2), np.uint8)
  for iv in intervals:
    col = TYPES.index(iv.type)
    lo = max(int(iv.onset), 1) - 1
    hi = min(int(iv.offset), num_frames)
    labels_T2[lo:hi, col] = 1
  return labels_T2
