"""Summarises a built dataset: videos or clips, labels, quirk counts.

  python -m mespot_jax.inspect_dataset --dataset=synthetic_lv \
      --data_dir=~/tensorflow_datasets [--config=casme2] [--out=summary.json]

A spotting dataset: one row per subject (videos, frames, micro and macro
intervals), the totals, how often each quirk policy was applied while
building, and its label statistics (intervals per minute, micro share,
duration quantiles in frames, share of frames inside an interval) beside
the real dataset's published figures (`synthetic.stats.REAL`: CAS(ME)^2,
or SAMM-LV for `samm_lv` and SAMM-like renderings); `--out` also writes
the per-video labels, the statistics and the comparison as JSON (1-based
frames); `--max_rel_diff=0.2` makes it a check (exit status 3 when a
calibrated figure is further off). A synthetic dataset (`synthetic_lv`,
`synthetic_me`) is built on first use (`--seed=N` renders another seed). A recognition dataset (`casme_ii`, `samm_me`, `smic_e/hs`,
`ck_plus`, `megc2019_composite`): one row per subject (clips, frames, clips
per class), the totals, the quirk counts and the composite's published
counts check; `--out` writes every clip (subject, clip, source dataset,
onset, apex, offset, emotion as released, mapped label) and the counts.
"""
import collections
import importlib
import json
import os
import sys

from absl import app
from absl import flags

from mespot_jax import errors
from mespot_jax import io_utils
from mespot_jax.config import vocab
from mespot_jax.data import clips
from mespot_jax.data import source
from mespot_jax.data.annotations.common import natural_key
from mespot_jax.synthetic import stats

_DATASET = flags.DEFINE_string("dataset", None, "Builder name, e.g. "
                               "synthetic_lv, samm_lv, cas_me2, cas_me3, "
                               "casme_ii, samm_me, megc2019_composite.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data folder.")
_CONFIG = flags.DEFINE_string("config", None, "Builder config (default: the "
                              "builder's default).")
_OUT = flags.DEFINE_string("out", None, "Write the summary JSON here.")
_SEED = flags.DEFINE_integer("seed", None, "A synthetic dataset rendered "
                             "at this seed (`<config>_seed<N>`).")
_MAX_REL_DIFF = flags.DEFINE_float(
    "max_rel_diff", None, "Spotting datasets: exit with status 3 when a "
    "calibrated label statistic (marked *) differs from the real dataset's "
    "by more than this fraction (e.g. 0.2).")


def summarize(src: source.SpottingSource) -> dict:
  """The JSON summary of a dataset.

  Args:
    src: an open spotting source.

  Returns:
    `{"videos": [{video, subject, fps, num_frames, intervals: [{type, onset,
    apex, offset}]}], "policies": {...}}`.
  """
  videos = [dict(video=v.video, subject=v.subject, fps=v.fps,
                 num_frames=v.num_frames,
                 intervals=[dict(type=i.type, onset=i.onset, apex=i.apex,
                                 offset=i.offset) for i in v.intervals])
            for v in src.videos]
  return dict(videos=videos, policies=dict(src.policies))


def add_statistics(summary: dict, dataset: str, config: str | None) -> dict:
  """Adds `statistics` (`stats.label_statistics`), the `real` dataset's
  name and the `comparison` rows (`stats.compare`) to a spotting summary.
  """
  st = stats.label_statistics(summary["videos"])
  fps = summary["videos"][0]["fps"] if summary["videos"] else 30.0
  real = stats.real_for(dataset, config, fps)
  return dict(summary, statistics=st, real=real.name,
              comparison=stats.compare(st, real))


def format_table(summary: dict) -> str:
  """A plain-text table of a summary: one row per subject, then totals.

  Args:
    summary: the output of `summarize`.

  Returns:
    The table and the policy counts, as text.
  """
  rows = collections.defaultdict(collections.Counter)
  for v in summary["videos"]:
    r = rows[v["subject"]]
    r["videos"] += 1
    r["frames"] += v["num_frames"]
    for i in v["intervals"]:
      r[i["type"]] += 1
  cols = ("videos", "frames", "micro", "macro")
  total = sum(rows.values(), collections.Counter())
  width = max([len("subject"), len("total")] + [len(s) for s in rows])
  lines = [f"{'subject':<{width}} " + " ".join(f"{c:>8}" for c in cols)]
  for name in sorted(rows) + ["total"]:
    r = total if name == "total" else rows[name]
    lines.append(f"{name:<{width}} " + " ".join(f"{r[c]:>8}" for c in cols))
  lines.append("policies applied:")
  if not summary["policies"]:
    lines.append("  (none)")
  for k, n in sorted(summary["policies"].items()):
    lines.append(f"  {k}: {n}")
  return "\n".join(lines)


def summarize_clips(src: clips.ClipSource) -> dict:
  """The JSON summary of a recognition dataset.

  Args:
    src: an open clip source.

  Returns:
    `{"clips": [{subject, clip, source, source_subject, fps, first_frame,
    num_frames, onset, apex, offset, apex_annotated, emotion, label,
    label_name}], "label_set", "classes", "policies", "class_counts",
    "subject_counts"}` and `count_check` where the builder made one.
  """
  keys = ("subject", "clip", "source", "source_subject", "fps", "first_frame",
          "num_frames", "onset", "apex", "offset", "apex_annotated",
          "emotion", "label", "label_name")
  out = dict(clips=[{k: getattr(c, k) for k in keys} for c in src.clips],
             label_set=src.label_set, classes=list(src.classes),
             policies=dict(src.policies))
  for k in ("class_counts", "subject_counts", "count_check"):
    if k in src.metadata:
      out[k] = src.metadata[k]
  return out


def format_clip_table(summary: dict) -> str:
  """A plain-text table of a recognition summary: one row per subject
  (clips, frames, clips per class), the totals, policies, counts check."""
  cols = ["clips", "frames"] + summary["classes"] + ["unmapped"]
  rows = collections.defaultdict(collections.Counter)
  for c in summary["clips"]:
    r = rows[c["subject"]]
    r["clips"] += 1
    r["frames"] += c["num_frames"]
    r[c["label_name"] or "unmapped"] += 1
  total = sum(rows.values(), collections.Counter())
  width = max([len("subject")] + [len(s) for s in rows])
  wide = [max(8, len(c)) for c in cols]
  line = lambda name, vals: f"{name:<{width}} " + " ".join(
      f"{v:>{w}}" for v, w in zip(vals, wide))
  lines = [line("subject", cols)]
  for name in sorted(rows, key=natural_key):
    lines.append(line(name, [rows[name][c] for c in cols]))
  lines.append(line("total", [total[c] for c in cols]))
  lines.append("policies applied:")
  applied = {k: n for k, n in sorted(summary["policies"].items()) if n}
  lines += [f"  {k}: {n}" for k, n in applied.items()] or ["  (none)"]
  check = summary.get("count_check")
  if check is not None:
    lines.append("published counts: " + (
        "match" if check["matches_published"] else "differ: " + "; ".join(
            f"{s} {k} {v['built']} (published {v['published']})"
            for s, d in check["differences"].items() for k, v in d.items())))
  return "\n".join(lines)


def _synthetic_config(name: str, config: str | None, seed: int | None):
  """The builder config (a name, or a seeded one) of a synthetic dataset."""
  if seed is None:
    return config
  if name not in vocab.SYNTHETIC_DATASETS:
    raise errors.InputError(f"--seed={seed} renders a synthetic dataset; "
                            f"{name} is a recorded release")
  module = importlib.import_module(
      f"mespot_jax.builders.{name}.{name}_dataset_builder")
  base = config or module.Builder.DEFAULT_CONFIG_NAME
  try:
    return module.seeded_config(base, seed)
  except ValueError as e:
    raise errors.InputError(f"--config={base} --seed={seed}: {e}") from None


def _open(name: str, data_dir: str, config, seed: int | None = None):
  """A `ClipSource` for a recognition dataset, else a `SpottingSource`;
  a synthetic dataset is built first when it is not built yet."""
  config = _synthetic_config(name, config, seed)
  try:
    builder = clips.make_builder(name, data_dir, config)
  except errors.InputError:
    builder = None  # SpottingSource.open says what is wrong
  recognition = builder is not None and clips.is_recognition(builder)
  cls = clips.ClipSource if recognition else source.SpottingSource
  if name in vocab.SYNTHETIC_DATASETS:
    return cls.prepare(name, data_dir, config)
  return cls.open(name, data_dir, config)


def main(argv):
  del argv
  if not _DATASET.value or not _DATA_DIR.value:
    raise app.UsageError("--dataset and --data_dir are required")
  try:
    src = _open(_DATASET.value, os.path.expanduser(_DATA_DIR.value),
                _CONFIG.value, _SEED.value)
  except errors.InputError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  if isinstance(src, clips.ClipSource):
    summary = summarize_clips(src)
    print(format_clip_table(summary))
  else:
    config = src.builder.builder_config
    summary = add_statistics(summarize(src), _DATASET.value,
                             config.name if config else None)
    print(format_table(summary))
    print(f"label statistics beside {summary['real']}:")
    print(stats.format_comparison(summary["comparison"], summary["real"]))
  if _OUT.value:
    with io_utils.atomic_write(_OUT.value) as f:
      json.dump(summary, f, indent=1)
    print(f"wrote {_OUT.value}")
  if _MAX_REL_DIFF.value is not None and "comparison" in summary:
    off = [r["figure"] + (" (none)" if r["rel_diff"] is None
                          else f" {100 * r['rel_diff']:+.0f}%")
           for r in summary["comparison"] if r["checked"]
           and (r["rel_diff"] is None
                or abs(r["rel_diff"]) > _MAX_REL_DIFF.value)]
    if off:
      print(f"error: differs from {summary['real']} by more than "
            f"{100 * _MAX_REL_DIFF.value:g}%: {', '.join(off)}",
            file=sys.stderr)
      sys.exit(3)


if __name__ == "__main__":
  app.run(main)
