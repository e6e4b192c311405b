"""Synthetic long face videos with known micro- and macro-expressions.

`render` draws the frames (identity, pose, nuisance) and `expressions` the
planted deformations and their truth; `data_builders/synthetic_lv` turns
them into a spotting dataset through the same face alignment as real data.
"""
