"""SAMM (short clips) recognition dataset builder (`samm_me`)."""
from data_builders.samm_me.samm_me_dataset_builder import Builder
