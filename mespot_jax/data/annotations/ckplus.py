"""CK+: `cohn-kanade-images/S005/001/` sequences and their Emotion files.

Each sequence runs from a neutral onset to the peak (its last frame); a
sequence is labelled when `Emotion/S005/001/S005_001_<peak>_emotion.txt`
exists, holding one float code (`3.0000000e+00`).
"""
import glob
import math
import os
import re

from mespot_jax.data.annotations import clip_common
from mespot_jax.errors import InputError

SOURCE = "ck_plus"
FPS = 30.0  # unverified: CK+ does not state it per sequence
CODES = {0: "neutral", 1: "anger", 2: "contempt", 3: "disgust", 4: "fear",
         5: "happy", 6: "sadness", 7: "surprise"}
POLICIES = ("sequence_unlabelled", "emotion_frame_not_last")
IMAGE_DIRS = ("cohn-kanade-images", "cohn-kanade", "ck+", "images")
LABEL_DIRS = ("Emotion", "Emotion_labels", "emotion")
_SUBJECT_DIR = re.compile(r"^S(\d+)$", re.IGNORECASE)


def _find_dir(manual_dir: str, names: tuple[str, ...], what: str) -> str:
  for top in (manual_dir, *sorted(
      os.path.join(manual_dir, d) for d in os.listdir(manual_dir))):
    for name in names:
      for d in sorted(os.listdir(top)) if os.path.isdir(top) else []:
        path = os.path.join(top, d)
        if d.lower() == name.lower() and os.path.isdir(path):
          return path
  raise InputError(f"{manual_dir}: no folder {' or '.join(names)} for the "
                   f"CK+ {what}; see the builder's README for the layout")


def read_emotion_file(path: str) -> tuple[str, int]:
  """(emotion name, peak frame number) of one `*_emotion.txt` file."""
  with open(path) as f:
    text = f.read().strip()
  try:
    value = float(text)
  except ValueError:
    value = math.nan
  if not math.isfinite(value) or value != int(value) or int(value) not in CODES:
    raise InputError(f"{path}: holds {text!r}, expected one emotion code "
                     "0..7 such as 3.0000000e+00")
  m = re.search(r"_(\d+)_emotion$", os.path.splitext(
      os.path.basename(path))[0])
  if not m:
    raise InputError(f"{path}: the name has no frame number; expected "
                     "S005_001_00000011_emotion.txt")
  return CODES[int(value)], int(m.group(1))


def parse_ckplus(manual_dir: str) -> clip_common.ClipRelease:
  """Parses a CK+ release: sequences, labels and policies.

  Onset is the first frame, apex and offset the peak (the last frame; an
  emotion file naming another frame is counted and its frame kept as the
  apex). A sequence without an emotion file has emotion "" (unlabelled).

  Args:
    manual_dir: folder holding `cohn-kanade-images/` and `Emotion/`.

  Returns:
    The release, one clip per sequence; clip names are `S005_001`.
  """
  policies = clip_common.new_policies(POLICIES)
  images = _find_dir(manual_dir, IMAGE_DIRS, "images")
  try:
    labels = _find_dir(manual_dir, LABEL_DIRS, "emotion labels")
  except InputError:
    labels = None  # Every sequence unlabelled (counted).
  clips = []
  for folder in clip_common.clip_folders(images, _SUBJECT_DIR).values():
    subject = os.path.basename(os.path.dirname(folder))
    seq = os.path.basename(folder)
    hits = (sorted(glob.glob(os.path.join(labels, subject, seq,
                                          "*_emotion.txt")))
            if labels else [])
    first, count = clip_common.list_clip_frames(folder, policies)
    last = first + count - 1
    emotion, apex = "", last
    if hits:
      emotion, peak = read_emotion_file(hits[0])
      if peak != last:
        policies["emotion_frame_not_last"] += 1
        apex = peak if first <= peak <= last else last
    else:
      policies["sequence_unlabelled"] += 1
    clips.append(clip_common.ClipAnnotation(
        source=SOURCE, subject=subject, clip=f"{subject}_{seq}",
        frames_dir=folder, fps=FPS, first_frame=first, num_frames=count,
        onset=first, apex=apex, offset=last, apex_annotated=True,
        emotion=emotion))
  if not clips:
    raise InputError(f"{images}: no sequence folder such as S005/001/; "
                     "see the builder's README for the layout")
  return clip_common.ClipRelease(
      images, clip_common.dedupe_and_sort(clips, policies), policies)
