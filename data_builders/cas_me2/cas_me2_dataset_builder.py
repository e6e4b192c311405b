"""CAS(ME)^2 part A: micro- and macro-expression spotting, 30 fps.

The release is licensed: the user downloads it and points `--manual_dir` at
the folder holding the annotation workbook and `rawpic/`. The
workbook is parsed and its quirks repaired by `mespot_jax.data.annotations`
(each policy is listed in README.md and counted in
`info.metadata["policies"]`); faces are aligned and stored by the shared
`SpottingBuilder` in the schema of `synthetic_lv`.
"""
from mespot_jax.data import annotations
from mespot_jax.data import release_builder
from mespot_jax.data import spotting_builder

FPS = 30.0


class Builder(release_builder.ReleaseBuilder):
  """CAS(ME)^2 long videos (part A) with their macro and micro intervals."""

  VERSION = "2.0.0"
  RELEASE_NOTES = {"1.0.0": "First release.",
                   "1.1.0": "Faces masked as OpenFace does (config mask_face).",
                   "2.0.0": spotting_builder.ONE_SCHEMA_NOTE}
  HOMEPAGE = "http://casme.psych.ac.cn/"
  BUILDER_CONFIGS = [
      spotting_builder.SpottingBuilderConfig(
          name="112_grey", description="112x112 grey aligned crops.",
          image_size=112, grey=True),
      spotting_builder.SpottingBuilderConfig(
          name="224_grey", description="224x224 grey aligned crops.",
          image_size=224, grey=True),
      spotting_builder.SpottingBuilderConfig(
          name="112_rgb", description="112x112 colour aligned crops.",
          image_size=112, grey=False),
  ]
  DEFAULT_CONFIG_NAME = "112_grey"
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  CAS(ME)^2 is licensed: request it from its authors (see HOMEPAGE),
  unpack it, and pass `--manual_dir=DIR` where DIR is the folder that
  directly contains BOTH
    - the annotation workbook `CAS(ME)^2code_final.xlsx` (or a renamed copy
      such as `code_final.xlsx`; any `*code_final*.xlsx` is accepted), and
    - the folder `rawpic/` holding one folder per subject and one frame
      folder per video (`rawpic/s15/15_0101disgustingteeth/img1.jpg`, ...).
      Videos instead of frames: `rawpic/s15/15_0101disgustingteeth.avi`
      (or `rawvideo/s15/...avi`, `.mp4`) is used when the folder is absent.
  """

  FPS = FPS

  def parse_release(self, manual_dir: str) -> annotations.Release:
    return annotations.parse_cas_me2(manual_dir)
