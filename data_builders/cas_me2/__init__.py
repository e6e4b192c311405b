"""CAS(ME)^2 spotting dataset builder (`cas_me2`)."""
from mespot_jax.builders.cas_me2.cas_me2_dataset_builder import Builder
