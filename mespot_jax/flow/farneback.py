"""OpenCV's Farneback dense flow, in the convention of `mespot_jax.flow`.

`cv2.calcOpticalFlowFarneback(prev, next)` returns (H, W, 2) float32 with
channel 0 the x and channel 1 the y displacement such that
`prev(y, x) ~= next(y + flow[..., 1], x + flow[..., 0])` (OpenCV's
documentation): the same convention as `mespot_jax.flow.tvl1`
(`frame1(y + v, x + u) ~= frame0(y, x)`), so the result is returned as is;
`tests/test_flow.py` checks the sign on a known translation.

Frames are passed to OpenCV as float32 on a 0-255 scale (float input in
[0, 1] is multiplied by 255, integer input by 255 / its dtype's maximum), so
sub-grey-level detail is not rounded away as a uint8 conversion would.
Farneback runs on the CPU, one pair at a time.
"""
import cv2
import numpy as np

from mespot_jax.errors import InputError

# OpenCV's documented example values (a 3-level pyramid copes with a few
# pixels of motion).
DEFAULTS = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5,
                poly_sigma=1.2, flags=0)
# The values of Liu et al.'s released code (MEGC2019, Prepare.py: onset-apex
# flow of 320x320 dlib face chips).
LIU_ET_AL = dict(pyr_scale=0.5, levels=1, winsize=15, iterations=2, poly_n=5,
                 poly_sigma=1.1, flags=0)


def _to_cv(frame: np.ndarray) -> np.ndarray:
  frame = np.asarray(frame)
  if np.issubdtype(frame.dtype, np.integer):
    scale = 255.0 / np.iinfo(frame.dtype).max
  else:
    scale = 255.0
  return np.ascontiguousarray(frame, np.float32) * np.float32(scale)


def farneback(frame0, frame1, **params) -> np.ndarray:
  """Farneback flow from `frame0` to `frame1` (OpenCV, CPU).

  Args:
    frame0: (H, W) reference frame, greyscale, float in [0, 1] or integer.
    frame1: (H, W) moving frame.
    **params: any of `DEFAULTS` (the arguments of
      `cv2.calcOpticalFlowFarneback`), e.g. `**LIU_ET_AL`.

  Returns:
    (H, W, 2) float32 flow in pixels, (u, v) with
    `frame1(y + v, x + u) ~= frame0(y, x)`.
  """
  unknown = sorted(set(params) - set(DEFAULTS))
  if unknown:
    raise InputError(f"farneback: unknown parameter(s) {unknown}; expected "
                     f"some of {sorted(DEFAULTS)}")
  shape0, shape1 = np.shape(frame0), np.shape(frame1)
  if len(shape0) != 2 or shape0 != shape1:
    raise InputError(f"farneback: frame0 and frame1 must be two (H, W) "
                     f"arrays of one shape, got {shape0} and {shape1}")
  p = {**DEFAULTS, **params}
  flow = cv2.calcOpticalFlowFarneback(
      _to_cv(frame0), _to_cv(frame1), None, float(p["pyr_scale"]),
      int(p["levels"]), int(p["winsize"]), int(p["iterations"]),
      int(p["poly_n"]), float(p["poly_sigma"]), int(p["flags"]))
  return flow.astype(np.float32)


def farneback_batch(frames0_NHW, frames1_NHW, **params) -> np.ndarray:
  """`farneback` over N pairs (a loop: OpenCV has no batched form).

  Args:
    frames0_NHW: (N, H, W) reference frames.
    frames1_NHW: (N, H, W) moving frames.
    **params: as `farneback`.

  Returns:
    (N, H, W, 2) float32 flows.
  """
  if np.shape(frames0_NHW) != np.shape(frames1_NHW) or np.ndim(
      frames0_NHW) != 3:
    raise InputError(f"farneback_batch: expected two (N, H, W) arrays of one "
                     f"shape, got {np.shape(frames0_NHW)} and "
                     f"{np.shape(frames1_NHW)}")
  return np.stack([farneback(a, b, **params)
                   for a, b in zip(frames0_NHW, frames1_NHW)])
