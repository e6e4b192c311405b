"""CASME II: the coding workbook and `CASME2_RAW_selected/subNN/<clip>/`."""
import re

from mespot_jax.data.annotations import clip_common
from mespot_jax.data.annotations.common import _find_file
from mespot_jax.errors import InputError

SOURCE = "casme_ii"
FPS = 200.0
WORKBOOK_PATTERNS = ("CASME2-coding-*.xlsx", "*CASME2*coding*.xlsx",
                     "*CASME*2*.xlsx", "*CASME*II*.xlsx")
COLUMNS = {
    "subject": ("Subject",),
    "clip": ("Filename", "File name"),
    "onset": ("OnsetFrame", "Onset Frame", "Onset"),
    "apex": ("ApexFrame", "Apex Frame", "Apex"),
    "offset": ("OffsetFrame", "Offset Frame", "Offset"),
    "au": ("Action Units", "AUs", "AU"),
    "emotion": ("Estimated Emotion", "Emotion"),
}
_SUBJECT_DIR = re.compile(r"^sub(\d+)$", re.IGNORECASE)


def find_casme2_workbook(manual_dir: str) -> str:
  """Finds `CASME2-coding-20140508.xlsx` (or a renamed copy) in `manual_dir`.

  Args:
    manual_dir: the release folder (or the folder above it).

  Returns:
    The workbook path.
  """
  hits = _find_file(manual_dir, WORKBOOK_PATTERNS, "CASME II workbook")
  if not hits:
    raise InputError(f"{manual_dir}: no CASME II workbook; expected "
                     f"{' or '.join(WORKBOOK_PATTERNS)}")
  return hits[-1]  # Sorted names: the latest coding date wins.


def parse_casme2(manual_dir: str) -> clip_common.ClipRelease:
  """Parses a CASME II release: workbook, frame folders and quirk policies.

  Args:
    manual_dir: folder holding `CASME2-coding-*.xlsx` and
      `CASME2_RAW_selected/sub01/EP02_01f/img46.jpg ...` (another folder of
      `subNN` folders, such as `CASME2_RAW/`, is used when that is absent).

  Returns:
    The release: one clip per workbook row whose frames are on disk.
  """
  policies = clip_common.new_policies()
  workbook = find_casme2_workbook(manual_dir)
  rows = clip_common.read_table(workbook, COLUMNS, optional=("au",),
                                policies=policies)
  root = clip_common.find_frames_root(manual_dir, _SUBJECT_DIR,
                                      ("selected", "raw"),
                          "CASME II (CASME2_RAW_selected/sub01/...)")
  on_disk = clip_common.clip_folders(root, _SUBJECT_DIR)

  def check_name(name, where):
    if not name:
      raise InputError(f"{where}: column 'Filename' is empty; expected a "
                       "clip name such as EP02_01f")

  return clip_common.release_from_rows(
      workbook, rows, on_disk, source=SOURCE, fps=FPS,
      subject_id=lambda n: f"sub{n:02d}", check_name=check_name,
      frame_columns=("OnsetFrame", "ApexFrame", "OffsetFrame"),
      policies=policies)
