"""Parsers for the SAMM-LV and CAS(ME)^2 annotation workbooks.

Both releases are licensed and come with known quirks (see the READMEs of
`data_builders/samm_lv` and `data_builders/cas_me2`). Each quirk has one
policy here, applied in one place and counted in a `policies` Counter that
the builders store in the dataset metadata, so a user sees what was changed.

Public entry points:
  - `parse_samm_lv(manual_dir) -> Release`
  - `parse_cas_me2(manual_dir) -> Release`
  - `find_samm_workbook`, `find_cas_me2_workbook`, `read_samm_workbook`,
    `read_cas_me2_workbook` for the workbook alone.
Frame numbers are 1-based and inclusive; apex -1 means unknown.
"""
from mespot_jax.data.annotations.cas import (
    find_cas_me2_workbook, parse_cas_me2, read_cas_me2_workbook)
from mespot_jax.data.annotations.common import (
    CAS_WORKBOOK_PATTERNS, POLICIES, SAMM_COLUMNS, SAMM_SHEET,
    SAMM_WORKBOOK_PATTERNS, Release, Row, VideoAnnotation, clamp_to_frames,
    natural_key, new_policies)
from mespot_jax.data.annotations.samm import (
    find_samm_workbook, parse_samm_lv, read_samm_workbook)
