"""MEGC2019 composite recognition dataset builder (`megc2019_composite`)."""
from mespot_jax.builders.megc2019_composite.megc2019_composite_dataset_builder import (
    Builder)
