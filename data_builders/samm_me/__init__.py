"""SAMM (short clips) recognition dataset builder (`samm_me`)."""
from mespot_jax.builders.samm_me.samm_me_dataset_builder import Builder
