"""CAS(ME)^3 Part A dataset builder (`cas_me3`): spotting and clips."""
from mespot_jax.builders.cas_me3.cas_me3_dataset_builder import Builder
