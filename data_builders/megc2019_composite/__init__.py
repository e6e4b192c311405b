"""MEGC2019 composite recognition dataset builder (`megc2019_composite`)."""
from data_builders.megc2019_composite.megc2019_composite_dataset_builder import (
    Builder)
