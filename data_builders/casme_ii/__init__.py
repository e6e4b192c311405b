"""CASME II recognition dataset builder (`casme_ii`)."""
from data_builders.casme_ii.casme_ii_dataset_builder import Builder
