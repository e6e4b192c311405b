"""CASME II: micro-expression clips for recognition, 200 fps.

The release is licensed: the user downloads it and points `--manual_dir` at
the folder holding `CASME2-coding-20140508.xlsx` and `CASME2_RAW_selected/`.
The workbook is parsed and its quirks repaired by
`mespot_jax.data.annotations.casme2` (each policy is listed in README.md and
counted in `info.metadata["policies"]`); faces are aligned and stored by
the shared `RecognitionBuilder` in the recognition schema.
"""
from mespot_jax.data import recognition_builder
from mespot_jax.data.annotations import casme2


class Builder(recognition_builder.RecognitionBuilder):
  """CASME II clips with onset, apex, offset, emotion and 3-class labels."""

  VERSION = "2.0.0"
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "2.0.0": recognition_builder.ONE_SCHEMA_NOTE}
  HOMEPAGE = "http://casme.psych.ac.cn/casme/e2"
  # Every clip is kept; `label` is the MEGC2019 3-class label, -1 for the
  # emotions outside it (others, fear, sadness).
  BUILDER_CONFIGS = recognition_builder.sized_configs(label_set="3class",
                                                      keep_unmapped=True)
  DEFAULT_CONFIG_NAME = "112_grey"
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  CASME II is licensed: request it from its authors (see HOMEPAGE), unpack
  it, and pass `--manual_dir=DIR` where DIR directly contains BOTH
    - the coding workbook `CASME2-coding-20140508.xlsx` (or a renamed copy
      matching `*CASME2*coding*.xlsx`), and
    - the folder `CASME2_RAW_selected/` holding one folder per subject and
      one frame folder per clip (`sub01/EP02_01f/img46.jpg`, ...); another
      folder of `subNN` folders (such as `CASME2_RAW/`) is used if absent.
  """

  def _list_clips(self, dl_manager):
    release = casme2.parse_casme2(str(dl_manager.manual_dir))
    for name, n in release.policies.items():
      self.count_policy(name, n)
    return release.clips
