"""SAMM-LV spotting dataset builder (`samm_lv`)."""
from mespot_jax.builders.samm_lv.samm_lv_dataset_builder import Builder
