"""The real datasets' label statistics, and the same statistics of any
spotting dataset, side by side.

`REAL` holds the statistics of the real datasets (listed with their
sources in `data_builders/synthetic_lv/README.md`), computed from the
ground truth that public MEGC evaluation code ships. `label_statistics` computes them for a list of
videos (a synthetic rendering's plans, or a built dataset's labels) and
`compare` / `format_comparison` put the two side by side; recipe 2 of
`synthetic_lv` is calibrated on these figures and nothing else.
"""
import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class RealStats:
  """Published label statistics of one real long-video dataset."""
  name: str
  fps: float
  events_per_min: float
  micro_share: float
  coverage: float  # share of frames inside an interval
  per_video: tuple[float, float, float]  # intervals per video: mean, median, max
  video_s: float  # mean video length, seconds
  macro_frames: tuple[int, int, int, int, int]  # min, p10, median, p90, max
  micro_frames: tuple[int, int, int, int, int]


REAL = {
    "casme2": RealStats(
        name="CAS(ME)^2", fps=30.0, events_per_min=2.6,
        micro_share=57 / 357, coverage=0.051, per_video=(3.8, 2, 15),
        video_s=87.0, macro_frames=(17, 20, 35, 63, 118),
        micro_frames=(9, 11, 14, 16, 17)),
    "samm": RealStats(
        name="SAMM-LV", fps=200.0, events_per_min=5.8,
        micro_share=159 / 502, coverage=0.15, per_video=(3.4, 3, 14),
        video_s=35.5, macro_frames=(102, 121, 223, 689, 5176),
        micro_frames=(30, 45, 78, 97, 101)),
}
# The figures `compare` checks (relative difference), and how each is named.
CHECKED = ("events_per_min", "micro_share", "coverage", "macro_p10",
           "macro_median", "macro_p90", "micro_p10", "micro_median",
           "micro_p90")


def real_for(dataset: str, config: str | None, fps: float) -> RealStats:
  """The real figures a dataset should be compared with.

  Args:
    dataset: builder name (`cas_me2`, `samm_lv`, `synthetic_lv`, ...).
    config: builder config name, if any.
    fps: the dataset's frame rate (decides for other names).

  Returns:
    `REAL["samm"]` for SAMM-LV and SAMM-like renderings, else
    `REAL["casme2"]`.
  """
  if dataset == "samm_lv" or (config or "").startswith("samm"):
    return REAL["samm"]
  if dataset == "cas_me2" or (config or "").startswith(("casme2", "clean")):
    return REAL["casme2"]
  return REAL["samm"] if fps >= 100 else REAL["casme2"]


def _quantiles(x: list[int]) -> dict:
  if not x:
    return dict(min=None, p10=None, median=None, p90=None, max=None)
  q = np.quantile(np.asarray(x, float), [0.1, 0.5, 0.9])
  return dict(min=int(min(x)), p10=float(q[0]), median=float(q[1]),
              p90=float(q[2]), max=int(max(x)))


def label_statistics(videos: list[dict]) -> dict:
  """Label statistics of a set of long videos.

  Args:
    videos: `{"fps", "num_frames", "intervals": [{"type", "onset",
      "offset"}]}` per video (1-based inclusive frames), as
      `inspect_dataset.summarize` writes them.

  Returns:
    `videos, empty_videos, minutes, intervals, micro, macro,
    events_per_min, micro_share, coverage, per_video_mean,
    per_video_median, per_video_max, video_s`, and the duration quantiles
    in frames `macro_{min,p10,median,p90,max}`, `micro_...`.
  """
  minutes = sum(v["num_frames"] / v["fps"] for v in videos) / 60.0
  frames = sum(v["num_frames"] for v in videos)
  counts = [len(v["intervals"]) for v in videos]
  inside = 0
  durations = {"micro": [], "macro": []}
  for v in videos:
    mask = np.zeros(v["num_frames"] + 1, bool)
    for i in v["intervals"]:
      mask[i["onset"]:i["offset"] + 1] = True
      durations[i["type"]].append(i["offset"] - i["onset"] + 1)
    inside += int(mask[1:].sum())
  n = sum(counts)
  out = dict(
      videos=len(videos), empty_videos=sum(c == 0 for c in counts),
      minutes=minutes, intervals=n, micro=len(durations["micro"]),
      macro=len(durations["macro"]),
      events_per_min=n / minutes if minutes else 0.0,
      micro_share=len(durations["micro"]) / n if n else 0.0,
      coverage=inside / frames if frames else 0.0,
      per_video_mean=float(np.mean(counts)) if counts else 0.0,
      per_video_median=float(np.median(counts)) if counts else 0.0,
      per_video_max=max(counts, default=0),
      video_s=60.0 * minutes / len(videos) if videos else 0.0)
  for kind in ("macro", "micro"):
    for k, val in _quantiles(durations[kind]).items():
      out[f"{kind}_{k}"] = val
  return out


def real_figures(real: RealStats) -> dict:
  """`REAL` entry in the keys of `label_statistics`."""
  out = dict(events_per_min=real.events_per_min, micro_share=real.micro_share,
             coverage=real.coverage, per_video_mean=real.per_video[0],
             per_video_median=real.per_video[1],
             per_video_max=real.per_video[2], video_s=real.video_s)
  for kind, spec in (("macro", real.macro_frames),
                     ("micro", real.micro_frames)):
    for k, val in zip(("min", "p10", "median", "p90", "max"), spec):
      out[f"{kind}_{k}"] = val
  return out


def compare(stats: dict, real: RealStats) -> list[dict]:
  """Rows `{figure, dataset, real, rel_diff, checked}`, one per figure.

  `rel_diff` is (dataset - real) / real; `checked` marks the figures the
  synthetic recipe is calibrated to (`CHECKED`, within about 20%).
  """
  ref = real_figures(real)
  rows = []
  for key, want in ref.items():
    got = stats.get(key)
    rel = None if got is None or not want else (got - want) / want
    rows.append(dict(figure=key, dataset=got, real=want, rel_diff=rel,
                     checked=key in CHECKED))
  return rows


def format_comparison(rows: list[dict], real_name: str) -> str:
  """A text table of `compare`'s rows beside the dataset `real_name`."""
  fmt = lambda x: "-" if x is None else (f"{x:.3f}" if isinstance(x, float)
                                         else str(x))
  lines = [f"{'figure':<18} {'this dataset':>12} {real_name:>12} "
           f"{'difference':>10}"]
  for r in rows:
    diff = "-" if r["rel_diff"] is None else f"{100 * r['rel_diff']:+.0f}%"
    mark = " *" if r["checked"] else ""
    lines.append(f"{r['figure']:<18} {fmt(r['dataset']):>12} "
                 f"{fmt(r['real']):>12} {diff:>10}{mark}")
  lines.append("* calibrated figure (synthetic recipe 2 aims within 20%); "
               "durations in frames")
  return "\n".join(lines)
