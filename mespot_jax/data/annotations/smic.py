"""SMIC-E (HS, VIS, NIR): the annotation workbooks and the clip folders.

Each modality has its workbook `SMIC-{HS,VIS,NIR}-E_annotation.xlsx` with
columns `Subject, Filename, OnsetF, OffsetF, Emotion, FirstF`. The layout
of the frame folders is not verified, so a clip's folder is found by its
`Filename` anywhere under `manual_dir` (preferring a path that names the
modality), and its frames are sorted numerically. SMIC has no apex: the
middle frame is used (counted).
"""
import collections
import os
import re

from mespot_jax.data.annotations import clip_common
from mespot_jax.data.annotations.common import _find_file, _text_cell
from mespot_jax.errors import InputError

MODALITIES = ("hs", "vis", "nir")
FPS = {"hs": 100.0, "vis": 25.0, "nir": 25.0}
COLUMNS = {
    "subject": ("Subject",),
    "clip": ("Filename", "File name"),
    "onset": ("OnsetF", "Onset Frame", "OnsetFrame", "Onset"),
    "offset": ("OffsetF", "Offset Frame", "OffsetFrame", "Offset"),
    "emotion": ("Emotion", "Estimated Emotion"),
    "first": ("FirstF", "First Frame", "FirstFrame"),
}
POLICIES = ("apex_not_released_used_middle", "emotion_from_filename",
            "emotion_differs_from_filename", "frames_renumbered_used_firstf")
# Emotion codes in SMIC clip names (`s1_ne_01`).
_NAME_CODES = {"ne": "negative", "po": "positive", "sur": "surprise",
               "su": "surprise"}


def workbook_patterns(modality: str) -> tuple[str, ...]:
  m = modality.upper()
  return (f"SMIC-{m}-E_annotation.xlsx", f"*SMIC*{m}*annotation*.xlsx",
          f"*{m}*E*annotation*.xlsx")


def find_smic_workbook(manual_dir: str, modality: str) -> str:
  """Finds `SMIC-<M>-E_annotation.xlsx` of one modality in `manual_dir`.

  Args:
    manual_dir: the release folder (or the folder above it).
    modality: `hs`, `vis` or `nir`.

  Returns:
    The workbook path.
  """
  hits = _find_file(manual_dir, workbook_patterns(modality),
                    f"SMIC-{modality.upper()}-E workbook")
  if not hits:
    raise InputError(f"{manual_dir}: no SMIC-{modality.upper()}-E workbook; "
                     f"expected {' or '.join(workbook_patterns(modality))}")
  return hits[0]


def _emotion(cell, name: str, where: str,
             policies: collections.Counter) -> str:
  """The Emotion cell, or the code in the clip name where it is empty."""
  parts = name.lower().split("_")
  coded = next((_NAME_CODES[p] for p in parts[1:] if p in _NAME_CODES), "")
  text = _text_cell(cell)
  if not text:
    if not coded:
      raise InputError(f"{where}: no emotion (empty cell and no ne/po/sur "
                       f"code in {name!r}); expected one of them")
    policies["emotion_from_filename"] += 1
    return coded
  if coded and text.lower() != coded:
    policies["emotion_differs_from_filename"] += 1
  return text


def _pick_folder(candidates: list[str], modality: str, name: str,
                 manual_dir: str) -> str | None:
  if len(candidates) <= 1:
    return candidates[0] if candidates else None
  token = re.compile(rf"(^|[^a-z]){modality}([^a-z]|$)")
  named = [p for p in candidates
           if token.search(os.path.relpath(p, manual_dir).lower())]
  if len(named) == 1:
    return named[0]
  raise InputError(f"{manual_dir}: clip {name!r} has {len(candidates)} "
                   f"frame folders ({', '.join(candidates)}); expected one, "
                   f"or one whose path names the modality {modality!r}")


def parse_smic(manual_dir: str, modality: str) -> clip_common.ClipRelease:
  """Parses one modality of a SMIC-E release.

  Frame numbers are those of the file names. Where a clip's folder is
  numbered from its first frame (1, 2, ...) rather than absolutely, the
  labels are moved by `FirstF` (counted `frames_renumbered_used_firstf`).

  Args:
    manual_dir: folder holding the workbook(s) and the frame folders.
    modality: `hs`, `vis` or `nir`.

  Returns:
    The release; `source` is `smic_<modality>`.
  """
  if modality not in MODALITIES:
    raise ValueError(f"modality {modality!r}; expected one of {MODALITIES}")
  policies = clip_common.new_policies(POLICIES)
  workbook = find_smic_workbook(manual_dir, modality)
  rows = clip_common.read_table(workbook, COLUMNS,
                                optional=("emotion", "first"),
                                policies=policies)
  folders = clip_common.image_folders(manual_dir)
  used, clips = set(), []
  for where, r in rows:
    number = clip_common.subject_number(r["subject"], "Subject", where)
    name = _text_cell(r["clip"])
    folder = _pick_folder(folders.get(name.lower(), []), modality, name,
                          manual_dir)
    if folder is None:
      policies["clip_folder_missing_dropped"] += 1
      continue
    used.add(folder)
    frame = lambda k, col: clip_common.frame_or_none(r[k], col, where,
                                                     policies)
    onset, offset = frame("onset", "OnsetF"), frame("offset", "OffsetF")
    first_f = frame("first", "FirstF") if r["first"] is not None else None
    first, count = clip_common.list_clip_frames(folder,
                                                collections.Counter())
    if (first_f is not None and onset is not None and first != first_f
        and not first <= onset <= first + count - 1
        and first <= onset - first_f + first <= first + count - 1):
      policies["frames_renumbered_used_firstf"] += 1
      onset = onset - first_f + first
      offset = None if offset is None else offset - first_f + first
    clips.append(clip_common.finish_clip(
        f"smic_{modality}", f"s{number}", name, folder, FPS[modality],
        onset, None, offset, _emotion(r["emotion"], name, where, policies),
        "", where, policies, apex_policy="apex_not_released_used_middle"))
  unused = {p for ps in folders.values() for p in ps} - used
  token = re.compile(rf"(^|[^a-z]){modality}([^a-z]|$)")
  policies["clip_folder_unlabelled_ignored"] += sum(
      bool(token.search(os.path.relpath(p, manual_dir).lower()))
      for p in unused)
  return clip_common.ClipRelease(
      workbook, clip_common.dedupe_and_sort(clips, policies), policies)
