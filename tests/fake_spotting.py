"""Small in-memory spotting videos with known truth, for harness tests.

Each subject has a random texture; an expression brightens and shifts a
patch (macro: long and strong, micro: short and weaker). No face pipeline:
these test the training and evaluation machinery, not the data builders.
`faceless={video index: (first, last)}` flags those frames (1-based,
inclusive) as a builder does when it finds no face, and blanks them (all
zero pixels, so a sample or a score that used one would show).
"""
import numpy as np

from mespot_jax.data.frames import FrameStore
from mespot_jax.data.schema import Interval
from mespot_jax.data.source import VideoMeta


def make_store(num_subjects=4, videos_per_subject=1, num_frames=90, size=16,
               fps=30.0, seed=0, faceless=None) -> FrameStore:
  rng = np.random.default_rng(seed)
  metas, arrays, faces, offset = [], [], [], 0
  for s in range(num_subjects):
    texture = rng.uniform(60, 180, (size, size)).astype(np.float32)
    for v in range(videos_per_subject):
      frames = np.repeat(texture[None], num_frames, 0)
      frames += rng.normal(0, 2, frames.shape)
      intervals = []
      for typ, start, length, amp in (("macro", 15, 24, 60.0),
                                      ("micro", 55, 6, 30.0)):
        start += int(rng.integers(0, 8))
        env = np.sin(np.linspace(0, np.pi, length)) * amp
        frames[start:start + length, 4:10, 4:12] += env[:, None, None]
        intervals.append(Interval(typ, start + 1, start + length,
                                  apex=start + length // 2))
      arr = np.clip(frames, 0, 255).astype(np.uint8)[..., None]
      face = np.ones(num_frames, bool)
      if faceless and len(metas) in faceless:
        first, last = faceless[len(metas)]
        face[first - 1:last] = False
        arr[first - 1:last] = 0
      faces.append(face)
      name = f"s{s:02d}_{v}"
      metas.append(VideoMeta(len(metas), name, f"s{s:02d}", fps, num_frames,
                             offset, tuple(intervals)))
      arrays.append(arr)
      offset += num_frames
  return FrameStore.from_arrays(metas, arrays, face_found=faces)
