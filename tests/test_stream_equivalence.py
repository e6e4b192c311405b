"""Streamed scoring of the training-free flow spotters equals whole-video
scoring (`methods.training_free.score_stream`, `chunk_spans`).

Known answer: the chunk spans of a context (history, future, window
period, whole video). Equivalence: for `mdmd`, `flow_roi` (with its
moving average), `rethinking_of` (fixed windows and the sliding
reference, a whole-video scorer) and `yu_of`, a video of moving mouth and
brow patches with wobbling ROI boxes, streamed in chunks of 17 frames
(cuts inside windows of 30 frames starting every 15; a last chunk of one
frame), gives bit-identical
curves and the same decoded intervals as the whole video; with no context
the chunk edges lose their scores (the gap the context closes).
"""
import numpy as np
import pytest

from mespot_jax import methods
from mespot_jax.config import load_module as load_config
from mespot_jax.face import align
from mespot_jax.methods import training_free as ff
from tests.test_mdmd import _texture_video

FPS, T, SIZE, CHUNK = 15.0, 120, 48, 17
# (config, block overrides, decoder values that give intervals here)
CASES = {
    "mdmd": ("synthetic_mdmd", {}, (0.5, 0.5)),
    "flow_roi": ("synthetic_flow_roi", {"smooth_s": 0.4}, (0.5, 0.5)),
    "rethinking_of": ("synthetic_rethinking_of", {}, (0.2, 0.2)),
    "rethinking_of_sliding": ("synthetic_rethinking_of",
                              {"reference": "sliding"}, (0.2, 0.2)),
    "yu_of": ("synthetic_yu_of", {}, (0.2, 0.2)),
}


def test_chunk_spans_known_answers():
  ctx = ff.StreamContext(history=10, future=5)
  assert ff.chunk_spans(100, 30, ctx) == [
      (0, 30, 0, 35), (30, 60, 20, 65), (60, 90, 50, 95),
      (90, 100, 55, 100)]  # the short last chunk reads 45 frames too
  # Windows of 30 every 15: reads start at a window start <= a - 29 (and
  # near the end at or before hi - 89, a full chunk's span).
  ctx = ff.StreamContext(history=29, future=30, period=15)
  assert ff.chunk_spans(200, 30, ctx) == [
      (0, 30, 0, 60), (30, 60, 0, 90), (60, 90, 30, 120), (90, 120, 60, 150),
      (120, 150, 90, 180), (150, 180, 105, 200), (180, 200, 105, 200)]
  assert ff.chunk_spans(100, 30, ff.StreamContext(whole=True)) == [
      (0, 100, 0, 100)]
  assert ff.chunk_spans(20, 30, ctx) == [(0, 20, 0, 20)]  # one chunk


@pytest.fixture(scope="module")
def video():
  """Crops (T, S, S, 1) with a mouth patch and a brow patch moving out and
  back (some across chunk edges), and per-frame ROI boxes that wobble (so
  the video's median box is not any one frame's)."""
  frames = _texture_video(T, np.zeros(T))
  still = frames[0, ..., 0].astype(np.float32)
  lmk = align.template_68(SIZE)
  boxes = align.roi_boxes(lmk, SIZE)
  import cv2  # pylint: disable=g-import-not-at-top
  for first, length, roi in ((18, 10, 3), (45, 8, 0), (70, 12, 3),
                             (96, 9, 1)):
    x0, y0, x1, y1 = np.round(boxes[roi]).astype(int)
    for j, d in enumerate(np.sin(np.linspace(0, np.pi, length)) * 2.0):
      m = np.float32([[1, 0, 0], [0, 1, d]])
      w = cv2.warpAffine(still, m, (SIZE, SIZE),
                         borderMode=cv2.BORDER_REFLECT)
      frames[first + j, y0:y1, x0:x1, 0] = np.clip(w[y0:y1, x0:x1], 0, 255)
  rng = np.random.default_rng(1)
  rois = (boxes[None] + rng.normal(0, 0.3, (T,) + boxes.shape)).astype(
      np.float32)
  return frames, rois


@pytest.mark.parametrize("case", sorted(CASES))
def test_streamed_equals_whole(video, case):
  config_name, block, values = CASES[case]
  config = load_config(config_name).get_config("smoke")
  name = config.method
  config[name].cache_dir = "none"
  config[name].flow_size = 0
  for k, v in block.items():
    config[name][k] = v
  m = methods.get(config)
  m.stream_chunk = CHUNK
  frames, rois = video
  whole = m.curves_of_frames(frames, rois, FPS).astype(np.float32)
  items = zip(frames, rois) if m.stream_rois else iter(frames)
  streamed = m.score_stream({}, items, FPS, {})
  spans = ff.chunk_spans(T, CHUNK, m.stream_context(FPS))
  assert len(spans) == (1 if case.endswith("sliding") else 8)
  assert np.isfinite(whole).sum() > T  # both columns mostly scored
  np.testing.assert_array_equal(streamed, whole)  # NaN where it is NaN
  dec = m.decoder
  record = dec.record_with(list(values))
  rows = dec.decode(whole, FPS, record, "v")
  assert rows  # the intervals compared are not none
  assert dec.decode(streamed, FPS, record, "v") == rows


def test_no_context_leaves_a_gap_at_chunk_edges(video):
  """What the context is for: MDMD's chunks scored alone lose the k
  frames at each side of every cut."""
  config = load_config("synthetic_mdmd").get_config("smoke")
  config.mdmd.cache_dir, config.mdmd.flow_size = "none", 0
  m = methods.get(config)
  frames, _ = video
  grey = ff.grey_frames(frames)
  score = lambda lo, hi: m.curves_of_grey(grey[lo:hi], None, FPS)
  alone = ff.stream_curves(score, T, CHUNK, ff.StreamContext())
  whole = ff.stream_curves(score, T, T, ff.StreamContext())
  k = m.k("macro", FPS)
  assert np.isnan(alone[CHUNK:CHUNK + k, 1]).all()
  assert np.isfinite(whole[CHUNK:CHUNK + k, 1]).all()
