"""MEGC2019 composite: CASME II + SAMM + SMIC-HS in 3 classes (recognition).

Built from the three licensed releases side by side in `--manual_dir`
(each found by its workbook), with the composite label file
(`dataset, subject, filename, label`, no header; 0 negative, 1 positive,
2 surprise) when present, else each emotion mapped as the README beside it
lists. Subjects are prefixed by their source (`casme_ii/sub01`, `samm/006`,
`smic_hs/s1`) so leave-one-subject-out folds never mix two people. At the
end of listing, the per-dataset class and subject counts are checked
against the published ones (442 clips, 68 subjects); a release that gives
other counts still builds, and the log and `info.metadata["count_check"]`
say which classes differ.
"""
import collections
import csv
import os
import re

from absl import logging

from mespot_jax.data import recognition_builder
from mespot_jax.data import labels as labels_lib
from mespot_jax.data.annotations import casme2, clip_common, samm_me, smic
from mespot_jax.errors import InputError

# Per source: class counts and subjects of the published composite.
PUBLISHED = {
    "casme_ii": ({"negative": 88, "positive": 32, "surprise": 25}, 24),
    "samm": ({"negative": 92, "positive": 26, "surprise": 15}, 28),
    "smic_hs": ({"negative": 70, "positive": 51, "surprise": 43}, 16),
}
# Dataset names of the label file (compared by `clip_common.norm`).
_DATASETS = {"casme2": "casme_ii", "casmeii": "casme_ii", "samm": "samm",
             "smic": "smic_hs", "smichs": "smic_hs", "smice": "smic_hs",
             "smichse": "smic_hs"}
POLICIES = ("label_file_header_skipped", "label_file_row_without_clip",
            "clip_not_in_label_file_dropped", "label_file_differs_from_emotion",
            "labels_from_label_file", "labels_from_emotion")


def read_label_file(path: str, policies: collections.Counter
                    ) -> dict[tuple[str, int, str], int]:
  """Reads the composite label file.

  Args:
    path: a `.csv`/`.txt` of rows `dataset, subject, filename, label`
      (comma, semicolon, tab or space separated; a header row is skipped
      and counted).
    policies: counter updated with `label_file_header_skipped`.

  Returns:
    `(source, subject number, lower-cased filename) -> label`.
  """
  out = {}
  with open(path, newline="") as f:
    lines = [l for l in f.read().splitlines() if l.strip()]
  for i, line in enumerate(lines, start=1):
    delimiter = next((d for d in ",;\t" if d in line), None)
    cells = [c.strip() for c in (next(csv.reader([line], delimiter=delimiter))
                                 if delimiter else line.split())]
    where = f"{path}: line {i}"
    if len(cells) != 4:
      raise InputError(f"{where}: {len(cells)} fields, expected 4 "
                       "(dataset, subject, filename, label)")
    if not re.fullmatch(r"\d+(\.0+)?", cells[3]):
      if i == 1:
        policies["label_file_header_skipped"] += 1
        continue
      raise InputError(f"{where}: label {cells[3]!r}, expected 0, 1 or 2")
    label = int(float(cells[3]))
    source = _DATASETS.get(clip_common.norm(cells[0]))
    if source is None or label not in (0, 1, 2):
      raise InputError(f"{where}: dataset {cells[0]!r} label {cells[3]!r}; "
                       "expected casme2/samm/smic and 0, 1 or 2")
    number = clip_common.subject_number(cells[1], "subject", where)
    out[(source, number, cells[2].lower())] = label
  return out


def find_label_file(manual_dir: str) -> str | None:
  """The one `.csv`/`.txt` directly in `manual_dir` that reads as a label
  file, or None."""
  hits = []
  for name in sorted(os.listdir(manual_dir)):
    path = os.path.join(manual_dir, name)
    if not (os.path.isfile(path) and name.lower().endswith((".csv", ".txt"))):
      continue
    try:
      if read_label_file(path, collections.Counter()):
        hits.append(path)
    except (InputError, UnicodeDecodeError, csv.Error):
      continue
  if len(hits) > 1:
    raise InputError(f"{manual_dir}: {len(hits)} files read as composite "
                     f"label files ({', '.join(hits)}); expected one")
  return hits[0] if hits else None


def _release_dir(find, manual_dir: str) -> str:
  return os.path.dirname(find(manual_dir))


class Builder(recognition_builder.RecognitionBuilder):
  """The MEGC2019 composite: 442 clips of 68 subjects, 3 classes."""

  VERSION = "2.0.0"
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "2.0.0": recognition_builder.ONE_SCHEMA_NOTE}
  HOMEPAGE = "https://facial-micro-expressiongc.github.io/MEGC2019/"
  PREFIX_SUBJECTS = True
  _labels = None  # (source, subject, clip) -> label, from the label file
  BUILDER_CONFIGS = recognition_builder.sized_configs(label_set="3class",
                                                      keep_unmapped=False)
  DEFAULT_CONFIG_NAME = "112_grey"
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  The composite is built from three licensed releases (see the READMEs of
  casme_ii, samm_me and smic_e for how to obtain them). Pass
  `--manual_dir=DIR` where DIR holds one folder per release, each laid out
  as that builder's manual_dir (found by its workbook):
    DIR/CASME2/  CASME2-coding-20140508.xlsx, CASME2_RAW_selected/...
    DIR/SAMM/    SAMM_Micro_FACS_Codes_v2.xlsx, SAMM/006/...
    DIR/SMIC/    SMIC-HS-E_annotation.xlsx and the HS clip folders
  and, optionally, the composite label file (no header: dataset, subject,
  filename, label with 0 negative, 1 positive, 2 surprise) as a .csv or
  .txt directly in DIR; without it each emotion is mapped to the 3 classes.
  """

  def _list_clips(self, dl_manager):
    manual_dir = os.fspath(dl_manager.manual_dir)
    policies = collections.Counter({n: 0 for n in POLICIES})
    releases = [
        casme2.parse_casme2(_release_dir(casme2.find_casme2_workbook,
                                          manual_dir)),
        samm_me.parse_samm_me(_release_dir(samm_me.find_samm_me_workbook,
                                           manual_dir)),
        smic.parse_smic(_release_dir(
            lambda d: smic.find_smic_workbook(d, "hs"), manual_dir), "hs")]
    clips = []
    for release in releases:
      policies.update(release.policies)
      clips += release.clips
    path = find_label_file(manual_dir)
    self._labels = None
    if path is not None:
      logging.info("%s: labels from %s", self.name, path)
      self._labels = read_label_file(path, policies)
      key = lambda c: (c.source, clip_common.subject_number(
          c.subject, "subject", c.frames_dir), c.clip.lower())
      found = {key(c) for c in clips}
      policies["label_file_row_without_clip"] += len(set(self._labels) -
                                                     found)
      kept = [c for c in clips if key(c) in self._labels]
      policies["clip_not_in_label_file_dropped"] += len(clips) - len(kept)
      self._labels = {(c.source, c.subject, c.clip): self._labels[key(c)]
                      for c in kept}
      clips = kept
    for name, n in policies.items():
      self.count_policy(name, n)
    self.info.metadata["label_file"] = os.path.basename(path) if path else ""
    return clips

  def label_of(self, clip):
    by_emotion = super().label_of(clip)
    if self._labels is None:
      self.count_policy("labels_from_emotion")
      return by_emotion
    self.count_policy("labels_from_label_file")
    label = self._labels[(clip.source, clip.subject, clip.clip)]
    if label != by_emotion:
      self.count_policy("label_file_differs_from_emotion")
    return label

  def _check_counts(self, kept):
    """Compares the per-source class and subject counts with PUBLISHED."""
    classes = labels_lib.classes("3class")
    counts = collections.defaultdict(collections.Counter)
    subjects = collections.defaultdict(set)
    for clip, label in kept:
      counts[clip.source][classes[label]] += 1
      subjects[clip.source].add(clip.subject)
    differences = {}
    for source, (published, n_subjects) in PUBLISHED.items():
      diff = {name: dict(built=counts[source][name], published=n)
              for name, n in published.items() if counts[source][name] != n}
      if len(subjects[source]) != n_subjects:
        diff["subjects"] = dict(built=len(subjects[source]),
                                published=n_subjects)
      if diff:
        differences[source] = diff
    self.info.metadata["count_check"] = dict(
        matches_published=not differences, differences=differences)
    if differences:
      logging.warning(
          "%s: counts differ from the published composite (442 clips, 68 "
          "subjects): %s. The dataset is built as found; a different "
          "release, a missing label file or missing clips explain this.",
          self.name, "; ".join(
              f"{s} {k} {v['built']} (published {v['published']})"
              for s, d in differences.items() for k, v in d.items()))
    else:
      logging.info("%s: counts match the published composite", self.name)
