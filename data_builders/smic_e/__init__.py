"""SMIC-E recognition and spotting dataset builder (`smic_e`)."""
from data_builders.smic_e.smic_e_dataset_builder import Builder
