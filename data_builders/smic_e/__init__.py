"""SMIC-E recognition and spotting dataset builder (`smic_e`)."""
from mespot_jax.builders.smic_e.smic_e_dataset_builder import Builder
