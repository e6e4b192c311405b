"""Scoring every frame of a video with a two-stream model, streaming.

Frame t (1-based) is scored on the pairs (t, min(t + s_k, T)) for the two
test-time skips, the same convention as training. Frames arrive from an
iterator (a decoded video, an aligner, an in-memory array) and only a
window of `max(skips) + batch_size` frames is held, so any video length
runs in bounded memory. Batches have a fixed shape (the last one padded),
so the jitted scorer compiles once.
"""
import functools
from typing import Callable, Iterable, Iterator

import jax
import numpy as np

from mespot_jax.train import steps as steps_lib


def resolve_batch_size(batch_size: int) -> int:
  """Scoring batch: `batch_size`, or per backend when 0.

  On CPU small batches keep the activations in cache (32 frames: 117
  frames/s at 112x112 against 86 at 128, benchmarks/score_throughput.py);
  accelerators want large batches.
  """
  if batch_size:
    return int(batch_size)
  return 32 if jax.default_backend() == "cpu" else 256


@functools.lru_cache(maxsize=None)
def make_predict_fn(model) -> Callable:
  """`jit((variables, x_u8) -> sigmoid scores (B, 2))` (cached per model)."""
  return jax.jit(lambda v, x: steps_lib.predict(v, model.apply, x))


def iter_scores(predict_fn: Callable, variables, frames: Iterable[np.ndarray],
                skips, batch_size: int = 0) -> Iterator[np.ndarray]:
  """Yields per-frame scores (n, 2) in frame order, batch by batch.

  Args:
    predict_fn: from `make_predict_fn`.
    variables: the model variables of one fold.
    frames: iterator of (S, S, C) uint8 aligned crops.
    skips: (s_micro, s_macro) test-time skips in frames.
    batch_size: reference frames per jitted call; 0 = per backend.

  Yields:
    float32 arrays (n, 2): [micro, macro] scores of consecutive frames.
  """
  skips = tuple(int(s) for s in skips)
  batch_size = resolve_batch_size(batch_size)
  reach = max(skips)
  buf: list[np.ndarray] = []  # frames start, start+1, ... (0-based)
  start = 0  # 0-based index of buf[0]
  nxt = 0  # next reference frame to score (0-based)
  total = None

  def emit(count):
    refs = np.arange(nxt, nxt + count)
    last = (total - 1) if total is not None else None
    idx = [refs] + [np.minimum(refs + s, last) if last is not None
                    else refs + s for s in skips]
    local = [i - start for i in idx]
    shape = buf[0].shape
    x = np.zeros((batch_size, 2, 2) + shape, np.uint8)
    stack = np.stack(buf)
    for k in range(2):
      x[:count, k, 0] = stack[local[0]]
      x[:count, k, 1] = stack[local[k + 1]]
    out = np.asarray(predict_fn(variables, x))[:count]
    return out.astype(np.float32)

  it = iter(frames)
  while True:
    frame = next(it, None)
    if frame is None:
      break
    buf.append(np.asarray(frame))
    seen = start + len(buf)
    if seen - 1 >= nxt + batch_size - 1 + reach:
      yield emit(batch_size)
      nxt += batch_size
      drop = nxt - start
      del buf[:drop]
      start = nxt
  total = start + len(buf)
  while nxt < total:
    count = min(batch_size, total - nxt)
    yield emit(count)
    nxt += count


def score_video(predict_fn, variables, frames, skips, batch_size=0
                ) -> np.ndarray:
  """Scores of every frame, (T, 2) float32 (see `iter_scores`)."""
  parts = list(iter_scores(predict_fn, variables, frames, skips, batch_size))
  if not parts:
    return np.zeros((0, 2), np.float32)
  return np.concatenate(parts)
