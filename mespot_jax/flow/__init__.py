"""Dense optical flow for micro-expression work.

* `tvl1` / `tvl1_batch`: TV-L1 in JAX (jitted, vmapped over frame pairs),
  the convention and defaults of `skimage.registration.optical_flow_tvl1`.
* `farneback` / `farneback_batch`: OpenCV's Farneback, same convention.
* `optical_strain`: the strain magnitude of a flow field.

Every flow is (H, W, 2) float32 in pixels: channel 0 is u (x, right),
channel 1 is v (y, down), with `frame1(y + v, x + u) ~= frame0(y, x)`.
See docs/FLOW.md.
"""
from mespot_jax.flow.farneback import farneback
from mespot_jax.flow.farneback import farneback_batch
from mespot_jax.flow.strain import optical_strain
from mespot_jax.flow.tvl1 import tvl1
from mespot_jax.flow.tvl1 import tvl1_batch

__all__ = ["farneback", "farneback_batch", "optical_strain", "tvl1",
           "tvl1_batch"]
