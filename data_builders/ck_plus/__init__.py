"""CK+ recognition dataset builder (`ck_plus`)."""
from mespot_jax.builders.ck_plus.ck_plus_dataset_builder import Builder
