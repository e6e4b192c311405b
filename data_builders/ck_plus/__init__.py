"""CK+ recognition dataset builder (`ck_plus`)."""
from data_builders.ck_plus.ck_plus_dataset_builder import Builder
