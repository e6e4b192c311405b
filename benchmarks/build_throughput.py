"""Build throughput: frames/s and resident memory of aligning + caching.

  python benchmarks/build_throughput.py [--seconds=2] [--memory_lengths=...]
      [--out=build.json]

Speed: for a synthetic video at SAMM-LV (2040x1088 grey, 200 fps) and
CAS(ME)^2 (640x480 RGB, 30 fps) resolution it times three passes over the
same frames: rendering only; the builder's stage 1 (`align_to_cache`:
render, track and align the face, stream crops to the cache file); and the
aligner with the detector forced on every frame (`redetect_every=1`). The
speed-up is the alignment time with detection on every frame over the
alignment time with tracking (rendering time subtracted from both).

Memory: for each resolution and each video length of `--memory_lengths`
(seconds), a fresh process runs stage 1 alone and reports its peak
resident set size (VmHWM of /proc/self/status: everything the process
held, dlib's and OpenCV's native buffers included, not only Python's).
Flat peaks across lengths mean memory does not grow with the video.
Writes JSON and prints tables.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
# pylint: disable=g-import-not-at-top,wrong-import-position
from mespot_jax import io_utils
from mespot_jax.data import spotting_builder
from mespot_jax.face import track
from mespot_jax.synthetic import render

_SECONDS = flags.DEFINE_float("seconds", 2.0, "Video length in seconds.")
_SIZE = flags.DEFINE_integer("size", 112, "Aligned crop side.")
_OUT = flags.DEFINE_string("out", None, "Write the results JSON here.")
_ONLY = flags.DEFINE_list("only", ["samm", "casme2"], "Resolutions to run.")
_LENGTHS = flags.DEFINE_string(
    "memory_lengths", "samm:0.5,1,2;casme2:5,10,20",
    "Video lengths (s) per resolution for the resident-memory runs, as "
    "resolution:s1,s2,...;resolution:...; empty: no memory runs.")
_CHILD = flags.DEFINE_string("child", None, "Internal: run one memory "
                             "measurement, resolution:seconds.")

RESOLUTIONS = {
    "samm": dict(fps=200.0, frame_hw=(1088, 2040), face_size=420, grey=True),
    "casme2": dict(fps=30.0, frame_hw=(480, 640), face_size=190, grey=False),
}


def _timed(fn):
  tracemalloc.reset_peak()
  t = time.perf_counter()
  out = fn()
  return out, time.perf_counter() - t, tracemalloc.get_traced_memory()[1]


def bench(name: str, seconds: float, size: int) -> dict:
  """Times one resolution.

  Args:
    name: a key of RESOLUTIONS.
    seconds: video length.
    size: crop side.

  Returns:
    A dict of frames, seconds and peak memory per pass.
  """
  r = RESOLUTIONS[name]
  p = render.VideoParams(seed=0, subject=0, video=0, fps=r["fps"],
                         num_frames=max(2, int(round(seconds * r["fps"]))),
                         frame_hw=r["frame_hw"], face_size=r["face_size"],
                         grey=r["grey"])
  n = p.num_frames
  render.Renderer(p).frame(1)  # warm the per-process caches
  _, t_render, m_render = _timed(
      lambda: sum(1 for _ in render.iter_video_frames(p)))
  with tempfile.TemporaryDirectory() as tmp:
    spotting_builder.align_to_cache(  # loads the face models once
        lambda: render.iter_video_frames(render.VideoParams(
            **{**p.__dict__, "num_frames": 2})),
        os.path.join(tmp, "warm.npz"), "warm", size, True, 5)
    out, t_build, m_build = _timed(lambda: spotting_builder.align_to_cache(
        lambda: render.iter_video_frames(p), os.path.join(tmp, "v.npz"),
        "v", size, True, 5))
    cache_mb = os.path.getsize(os.path.join(tmp, "v.npz")) / 2**20
  # pylint: disable-next=protected-access
  detector, predictor = spotting_builder._shared_face_models()
  aligner = track.VideoAligner(size=size, grey=True, redetect_every=1,
                               detector=detector, predictor=predictor)
  _, t_detect, m_detect = _timed(lambda: sum(
      1 for _ in aligner.align_stream(render.iter_video_frames(p))))
  align_track = max(t_build - t_render, 1e-9)
  align_detect = max(t_detect - t_render, 1e-9)
  return dict(
      resolution=name, width=r["frame_hw"][1], height=r["frame_hw"][0],
      frames=n, render_fps=n / t_render, build_fps=n / t_build,
      detect_every_frame_fps=n / t_detect,
      align_fps_tracking=n / align_track,
      align_fps_detect_every_frame=n / align_detect,
      tracker_speedup=align_detect / align_track,
      peak_mb_render=m_render / 2**20, peak_mb_build=m_build / 2**20,
      peak_mb_detect=m_detect / 2**20, cache_mb=cache_mb,
      aligner_stats=out["stats"])


def _peak_rss_mb() -> float:
  """Peak resident set size of this process (VmHWM), in MiB."""
  with open("/proc/self/status", encoding="ascii") as f:
    for line in f:
      if line.startswith("VmHWM:"):
        return int(line.split()[1]) / 1024
  raise RuntimeError("no VmHWM in /proc/self/status")


def _child(spec: str, size: int) -> dict:
  """Stage 1 of one video in this (fresh) process; peak RSS at the end."""
  name, seconds = spec.split(":")
  r = RESOLUTIONS[name]
  p = render.VideoParams(seed=0, subject=0, video=0, fps=r["fps"],
                         num_frames=max(2, int(round(float(seconds) *
                                                     r["fps"]))),
                         frame_hw=r["frame_hw"], face_size=r["face_size"],
                         grey=r["grey"])
  with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    spotting_builder.align_to_cache(
        lambda: render.iter_video_frames(p), os.path.join(tmp, "v.npz"), "v",
        size, True, 5)
    sec = time.perf_counter() - t
  return dict(resolution=name, seconds=float(seconds), frames=p.num_frames,
              build_fps=p.num_frames / sec, peak_rss_mb=_peak_rss_mb())


def memory_runs(lengths, size: int) -> list[dict]:
  """One fresh process per (resolution, length): its peak resident set."""
  rows = []
  for item in lengths:
    name, secs = item.split(":")
    for s in secs.split(","):
      out = subprocess.run(
          [sys.executable, os.path.abspath(__file__), f"--child={name}:{s}",
           f"--size={size}"], capture_output=True, text=True, check=True)
      rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
  return rows


def main(argv):
  del argv
  if _CHILD.value:
    print(json.dumps(_child(_CHILD.value, _SIZE.value)))
    return
  tracemalloc.start()
  results = [bench(name, _SECONDS.value, _SIZE.value) for name in _ONLY.value]
  memory = memory_runs([x for x in _LENGTHS.value.split(";") if x],
                       _SIZE.value)
  report = dict(seconds=_SECONDS.value, crop=_SIZE.value, results=results,
                memory=memory)
  cols = ("resolution", "frames", "render_fps", "build_fps",
          "detect_every_frame_fps", "tracker_speedup")
  print(" | ".join(cols))
  for r in results:
    print(" | ".join(f"{r[c]:.1f}" if isinstance(r[c], float) else str(r[c])
                     for c in cols))
  print("\nresolution | seconds | frames | build fps | peak resident MB")
  for r in memory:
    print(f"{r['resolution']} | {r['seconds']:g} | {r['frames']} | "
          f"{r['build_fps']:.1f} | {r['peak_rss_mb']:.0f}")
  if _OUT.value:
    with io_utils.atomic_write(_OUT.value) as f:
      json.dump(report, f, indent=1)


if __name__ == "__main__":
  app.run(main)
