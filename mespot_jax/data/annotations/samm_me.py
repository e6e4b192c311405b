"""SAMM (short clips): the Micro FACS Codes workbook and `SAMM/006/<clip>/`."""
import re

from mespot_jax.data.annotations import clip_common
from mespot_jax.data.annotations.common import _find_file
from mespot_jax.errors import InputError

SOURCE = "samm"
FPS = 200.0
WORKBOOK_PATTERNS = ("SAMM_Micro_FACS_Codes_v*.xlsx",
                     "SAMM_*_Micro_FACS_Codes_v*.xlsx",
                     "*SAMM*Micro*FACS*.xlsx",
                     "*SAMM*FACS*Codes*.xlsx")
COLUMNS = {
    "subject": ("Subject",),
    "clip": ("Filename", "File name"),
    "onset": ("Onset Frame", "OnsetFrame", "Onset"),
    "apex": ("Apex Frame", "ApexFrame", "Apex"),
    "offset": ("Offset Frame", "OffsetFrame", "Offset"),
    "au": ("Action Units", "AUs"),
    "emotion": ("Estimated Emotion", "Emotion"),
}
_SUBJECT_DIR = re.compile(r"^(\d{3})$")


def find_samm_me_workbook(manual_dir: str) -> str:
  """Finds `SAMM_Micro_FACS_Codes_v2.xlsx` (or a dated copy) in manual_dir.

  Args:
    manual_dir: the release folder (or the folder above it).

  Returns:
    The workbook path.
  """
  hits = _find_file(manual_dir, WORKBOOK_PATTERNS, "SAMM workbook")
  if not hits:
    raise InputError(f"{manual_dir}: no SAMM workbook; expected "
                     f"{' or '.join(WORKBOOK_PATTERNS)}")
  return hits[-1]  # Sorted names: the latest version wins.


def parse_samm_me(manual_dir: str) -> clip_common.ClipRelease:
  """Parses a SAMM (short clip) release: workbook, folders and policies.

  The header row (row 14 in v2) is found by its cells. Frame files are
  named `<subject>_<absolute frame>.jpg` and start at the clip's onset:
  their numbers are read, not assumed.

  Args:
    manual_dir: folder holding the workbook and `SAMM/006/006_1_2/...`.

  Returns:
    The release: one clip per workbook row whose frames are on disk.
  """
  policies = clip_common.new_policies()
  workbook = find_samm_me_workbook(manual_dir)
  rows = clip_common.read_table(workbook, COLUMNS, optional=("au",),
                                policies=policies)
  root = clip_common.find_frames_root(manual_dir, _SUBJECT_DIR, ("samm",),
                          "SAMM (SAMM/006/006_1_2/...)")
  on_disk = clip_common.clip_folders(root, _SUBJECT_DIR)

  def check_name(name, where):
    if not re.fullmatch(r"\d+_\d+_\d+", name):
      raise InputError(f"{where}: column 'Filename' is {name!r}, expected "
                       "subject_video_clip such as '006_1_2'")

  return clip_common.release_from_rows(
      workbook, rows, on_disk, source=SOURCE, fps=FPS,
      subject_id=lambda n: f"{n:03d}", check_name=check_name,
      frame_columns=("Onset Frame", "Apex Frame", "Offset Frame"),
      policies=policies)
