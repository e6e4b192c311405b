"""CASME II recognition dataset builder (`casme_ii`)."""
from mespot_jax.builders.casme_ii.casme_ii_dataset_builder import Builder
