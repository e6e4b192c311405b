"""Summarises a built spotting dataset: videos, frames, intervals, quirks.

  python -m mespot_jax.inspect_dataset --dataset=synthetic_lv \
      --data_dir=~/tensorflow_datasets [--config=casme2] [--out=summary.json]

Prints one row per subject (videos, frames, micro and macro intervals), the
totals, and how often each quirk policy was applied while building. With
`--out` it also writes the per-video labels as JSON (1-based frames).
"""
import collections
import json
import os
import sys

from absl import app
from absl import flags

from mespot_jax import errors
from mespot_jax import io_utils
from mespot_jax.data import source

_DATASET = flags.DEFINE_string("dataset", None, "Builder name, e.g. "
                               "synthetic_lv, samm_lv, cas_me2.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data folder.")
_CONFIG = flags.DEFINE_string("config", None, "Builder config (default: the "
                              "builder's default).")
_OUT = flags.DEFINE_string("out", None, "Write the summary JSON here.")


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


def main(argv):
  del argv
  if not _DATASET.value or not _DATA_DIR.value:
    raise app.UsageError("--dataset and --data_dir are required")
  try:
    src = source.SpottingSource.open(
        _DATASET.value, os.path.expanduser(_DATA_DIR.value), _CONFIG.value)
  except errors.InputError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  summary = summarize(src)
  print(format_table(summary))
  if _OUT.value:
    with io_utils.atomic_write(_OUT.value) as f:
      json.dump(summary, f, indent=1)
    print(f"wrote {_OUT.value}")


if __name__ == "__main__":
  app.run(main)
