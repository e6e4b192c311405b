"""SAMM (short clips): micro-expression clips for recognition, 200 fps, grey.

The release is licensed: the user downloads it and points `--manual_dir` at
the folder holding `SAMM_Micro_FACS_Codes_v2.xlsx` and `SAMM/`. The
workbook is parsed and its quirks repaired by
`mespot_jax.data.annotations.samm_me` (each policy is listed in README.md
and counted in `info.metadata["policies"]`); faces are aligned and stored
by the shared `RecognitionBuilder` in the recognition schema.

Configs `5class` and `3class` are the two subsets of the ConvLSTM paper
(Shukla et al.), called `samm_5class` and `samm_3class` in the docs.
"""
from mespot_jax.data import recognition_builder
from mespot_jax.data.annotations import samm_me


class Builder(recognition_builder.RecognitionBuilder):
  """SAMM clips with onset, apex, offset, emotion and mapped labels."""

  VERSION = "2.0.0"
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "2.0.0": recognition_builder.ONE_SCHEMA_NOTE}
  HOMEPAGE = "http://www2.docm.mmu.ac.uk/STAFF/m.yap/dataset.php"
  BUILDER_CONFIGS = recognition_builder.sized_configs(
      sizes=((112, True), (224, True)), label_set="3class",
      keep_unmapped=True) + [
          recognition_builder.RecognitionBuilderConfig(
              name="5class", description=(
                  "samm_5class: happiness, other, anger, contempt, surprise "
                  "(136 clips); 112x112 grey."), label_set="samm_5class",
              keep_unmapped=False),
          recognition_builder.RecognitionBuilderConfig(
              name="3class", description=(
                  "samm_3class: negative (anger, contempt, disgust, fear, "
                  "sadness), positive (happiness), surprise (133 clips); "
                  "112x112 grey."), label_set="3class", keep_unmapped=False),
      ]
  DEFAULT_CONFIG_NAME = "112_grey"
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  SAMM is licensed: request it from the SAMM team (see HOMEPAGE), unpack
  it, and pass `--manual_dir=DIR` where DIR directly contains BOTH
    - the workbook `SAMM_Micro_FACS_Codes_v2.xlsx` (also seen as
      `SAMM_20181215_Micro_FACS_Codes_v2.xlsx`; any
      `*SAMM*Micro*FACS*.xlsx` is accepted), and
    - the folder `SAMM/` holding one folder per subject and one frame
      folder per clip (`SAMM/006/006_1_2/006_05562.jpg`, ...).
  """

  def _list_clips(self, dl_manager):
    release = samm_me.parse_samm_me(str(dl_manager.manual_dir))
    for name, n in release.policies.items():
      self.count_policy(name, n)
    return release.clips
