"""Spatio-temporal descriptors on three orthogonal planes, in JAX.

    from mespot_jax import features
    f = features.lbp_top(volume_THW, grid=(4, 4))
    f = features.hog_top(volume_THW, grid=(4, 4), bins=8)
    f = features.higo_top(volume_THW, grid=(4, 4), bins=8)

Each maps one position's volume (T, H, W) of grey frames (or a batch
(N, T, H, W), vmapped and jitted) to the concatenation, block by block in
row-major order, of the block's XY, XT and YT histograms, each summing to
1 (`common`). `video.video_features` computes one per position of a whole
video and `video.FeatureCache` keeps them on disk.
"""
from mespot_jax.features.gradients import higo_top, hog_top  # noqa: F401
from mespot_jax.features.lbp import lbp_top  # noqa: F401
from mespot_jax.features.video import (FeatureCache, KINDS,  # noqa: F401
                                       feature_size, video_features)
