"""CK+ (extended Cohn-Kanade): posed macro-expression sequences.

The macro-expression source domain of the part-based recogniser (Liu et
al.): its adversarial domain adaptation trains on CK+ beside the MEGC2019
composite, in the same 3 classes. The release is licensed: the user points
`--manual_dir` at the folder holding `cohn-kanade-images/` and `Emotion/`.
Each sequence runs from a neutral onset to its peak (the last frame): onset
= first frame, apex = offset = the peak. Parsing and policies:
`mespot_jax.data.annotations.ckplus` (README.md).
"""
from mespot_jax.data import recognition_builder
from mespot_jax.data.annotations import ckplus


class Builder(recognition_builder.RecognitionBuilder):
  """CK+ sequences with their emotion codes mapped to 3 classes."""

  EXPRESSION_TYPE = "macro"  # posed expressions
  VERSION = "2.0.0"
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "2.0.0": recognition_builder.ONE_SCHEMA_NOTE}
  HOMEPAGE = "https://www.jeffcohn.net/resources/"
  # Default: the 327 labelled sequences (all map to the 3 classes);
  # `all_112_grey` keeps the 593 sequences, unlabelled ones with label -1.
  BUILDER_CONFIGS = (
      recognition_builder.sized_configs(label_set="3class",
                                        keep_unmapped=False)
      + recognition_builder.sized_configs(
          sizes=((112, True),), prefix="all_", label_set="3class",
          keep_unmapped=True))
  DEFAULT_CONFIG_NAME = "112_grey"
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  CK+ is licensed: request it from its authors (see HOMEPAGE), unpack it,
  and pass `--manual_dir=DIR` where DIR directly contains (or holds one
  folder that contains) BOTH
    - `cohn-kanade-images/` (`S005/001/S005_001_00000001.png`, ...), and
    - `Emotion/` (`S005/001/S005_001_00000011_emotion.txt`, one float code).
  """

  def _list_clips(self, dl_manager):
    release = ckplus.parse_ckplus(str(dl_manager.manual_dir))
    for name, n in release.policies.items():
      self.count_policy(name, n)
    return release.clips
