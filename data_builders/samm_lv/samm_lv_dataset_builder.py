"""SAMM Long Videos (SAMM-LV): micro- and macro-expression spotting, 200 fps.

The release is licensed: the user downloads it and points `--manual_dir` at
the folder holding the annotation workbook and `SAMM_longvideos/`. The
workbook is parsed and its quirks repaired by `mespot_jax.data.annotations`
(each policy is listed in README.md and counted in
`info.metadata["policies"]`); faces are aligned and stored by the shared
`SpottingBuilder` in the schema of `synthetic_lv`.
"""
from mespot_jax.data import annotations
from mespot_jax.data import release_builder
from mespot_jax.data import spotting_builder

FPS = 200.0


class Builder(release_builder.ReleaseBuilder):
  """SAMM-LV long videos with their macro and micro intervals."""

  VERSION = "2.0.0"
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "1.1.0": "Faces masked as OpenFace does (config mask_face).",
                   "2.0.0": spotting_builder.ONE_SCHEMA_NOTE}
  HOMEPAGE = "http://www2.docm.mmu.ac.uk/STAFF/m.yap/dataset.php"
  BUILDER_CONFIGS = [
      spotting_builder.SpottingBuilderConfig(
          name="112_grey", description="112x112 grey aligned crops.",
          image_size=112, grey=True),
      spotting_builder.SpottingBuilderConfig(
          name="224_grey", description="224x224 grey aligned crops.",
          image_size=224, grey=True),
  ]
  DEFAULT_CONFIG_NAME = "112_grey"
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  SAMM Long Videos is licensed: request it from the SAMM team (see
  HOMEPAGE), unpack it, and pass `--manual_dir=DIR` where DIR is the folder
  that directly contains BOTH
    - the annotation workbook (`SAMM_LongVideos_V1_Release.xlsx`, `_V2_`,
      `_V3_`, or a renamed copy such as `SAMMLV_gt.xlsx`; any .xlsx with a
      sheet `FACS_Movement_Only` is accepted), and
    - the folder `SAMM_longvideos/` holding one frame folder per video
      (`SAMM_longvideos/006_1/006_1_0001.jpg`, ...) or one video file per
      video (`SAMM_longvideos/006_1.mp4` or `.avi`).
  """

  FPS = FPS

  def parse_release(self, manual_dir: str) -> annotations.Release:
    return annotations.parse_samm_lv(manual_dir)
