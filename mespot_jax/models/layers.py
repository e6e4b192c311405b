"""Shared layers: a depthwise 3x3x3 convolution with two exact formulations.

XLA lowers grouped (depthwise) convolutions poorly on CPU: the plain
`feature_group_count` form is several times slower than the same arithmetic
written as 27 shifted multiply-adds over a padded input (see
docs/PERFORMANCE.md). On GPU/TPU the grouped form is the natural,
fast one. `DepthwiseConv3D` keeps both behind one switch and one parameter
layout, so a checkpoint trained with one formulation loads into the other:

  params['kernel']: (3, 3, 3, 1, features)  -- exactly what
      `nn.Conv(features, (3, 3, 3), feature_group_count=in_channels)` stores
  params['bias']:   (features,)

With a single input channel (the first block on grey frames) the 'shifted'
formulation becomes im2col + one matmul, whose gradient is a dot product
instead of 27 reductions (12x faster backward on CPU at 112x112).

`features` may be a multiple `m` of the input channels (a depth multiplier,
as in Keras' `DepthwiseConv`): output channel `j` then filters input channel
`j // m`, the grouping order of `feature_group_count`.

A depthwise conv followed by a 1x1x1 (pointwise) conv is exactly one full
conv whose kernel is their product (`separable_to_full_kernel`).
`full_conv_frames` runs such a conv on short clips as 2-D convs with the
frames stacked on the channel axis: with T=2 and SAME padding along T, a
third of a 3-D conv's taps would multiply padding, and XLA:CPU's 2-D conv
is much faster than its 3-D one (first block at 112x112, forward: 2-D
~20x faster than the 3-D conv, ~6-9x faster than im2col + matmul).
"""
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

DEPTHWISE_IMPLS = ("grouped", "shifted")


def resolve_depthwise_impl(impl: str = "auto", backend: str | None = None) -> str:
  """Picks the depthwise formulation; 'auto' chooses by backend.

  Args:
    impl: 'auto', 'grouped' or 'shifted'.
    backend: platform name ('cpu', 'gpu', 'tpu'); default the JAX default
      backend.

  Returns:
    'shifted' on CPU, 'grouped' elsewhere, or `impl` when it is explicit.
  """
  if impl == "auto":
    backend = backend or jax.default_backend()
    return "shifted" if backend == "cpu" else "grouped"
  if impl not in DEPTHWISE_IMPLS:
    raise ValueError(
        f"depthwise_impl must be 'auto', 'grouped' or 'shifted', got {impl!r}")
  return impl


def depthwise_shifted(x_NTHWC: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
  """Depthwise SAME 3-D correlation as a sum of shifted, scaled copies.

  Args:
    x_NTHWC: (..., T, H, W, C) input.
    kernel: (kt, kh, kw, 1, F) with odd kernel sizes and F a multiple of C.

  Returns:
    (..., T, H, W, F), equal to the grouped convolution with SAME padding.
  """
  kt, kh, kw, _, features = kernel.shape
  cin = x_NTHWC.shape[-1]
  if features % cin:
    raise ValueError(f"features {features} is not a multiple of channels {cin}")
  mult = features // cin
  if cin == 1:
    return _single_channel_im2col(x_NTHWC, kernel)
  if mult > 1:
    x_NTHWC = jnp.repeat(x_NTHWC, mult, axis=-1)
  *lead, t, h, w, _ = x_NTHWC.shape
  rt, rh, rw = kt // 2, kh // 2, kw // 2
  # Pad H and W once; along T only taps that land inside the clip are
  # summed (with T=2 a third of the padded taps would multiply zeros), and
  # each partial sum is zero-padded back to length T. XLA fuses the pads,
  # slices and adds into one elementwise loop.
  xp = jnp.pad(x_NTHWC,
               [(0, 0)] * len(lead) + [(0, 0), (rh, rh), (rw, rw), (0, 0)])
  out = None
  for it in range(kt):
    shift = it - rt                 # output t reads input t + shift
    lo, hi = max(0, -shift), min(t, t - shift)   # valid output t range
    if hi <= lo:
      continue
    src = xp[..., lo + shift:hi + shift, :, :, :]
    part = None
    for ih in range(kh):
      for iw in range(kw):
        term = src[..., ih:ih + h, iw:iw + w, :] * kernel[it, ih, iw, 0]
        part = term if part is None else part + term
    if (lo, hi) != (0, t):
      part = jnp.pad(part, [(0, 0)] * len(lead) + [(lo, t - hi)] + [(0, 0)] * 3)
    out = part if out is None else out + part
  return out


def _single_channel_im2col(x_NTHWC: jnp.ndarray,
                           kernel: jnp.ndarray) -> jnp.ndarray:
  """One input channel, F filters: patches @ kernel (a dense matmul).

  On a grey input the "depthwise" conv is a full conv with K = kt*kh*kw
  inputs per output. As broadcast multiply-adds its kernel gradient is K
  separate reductions over the largest activation of the network (measured
  15x slower than the forward pass on CPU); as a matmul both directions are
  single, fast dot products.
  """
  kt, kh, kw, _, features = kernel.shape
  *lead, t, h, w, _ = x_NTHWC.shape
  pad = [(0, 0)] * len(lead) + [(kt // 2,) * 2, (kh // 2,) * 2, (kw // 2,) * 2,
                                (0, 0)]
  xp = jnp.pad(x_NTHWC[..., 0:1], pad)[..., 0]
  patches = jnp.stack(
      [xp[..., it:it + t, ih:ih + h, iw:iw + w]
       for it in range(kt) for ih in range(kh) for iw in range(kw)], axis=-1)
  return patches @ kernel.reshape(kt * kh * kw, features)


def separable_to_full_kernel(dw_kernel: jnp.ndarray, dw_bias: jnp.ndarray,
                             pw_kernel: jnp.ndarray, pw_bias: jnp.ndarray,
                             in_channels: int):
  """The full conv equal to depthwise conv + bias, then pointwise + bias.

  Args:
    dw_kernel: (kt, kh, kw, 1, C*m) depthwise kernel (`DepthwiseConv3D`).
    dw_bias: (C*m,) depthwise bias.
    pw_kernel: (C*m, F) pointwise kernel (an `nn.Dense` kernel).
    pw_bias: (F,) pointwise bias.
    in_channels: C, the depthwise conv's input channels.

  Returns:
    (kernel (kt, kh, kw, C, F), bias (F,)).
  """
  kt, kh, kw, _, cm = dw_kernel.shape
  feats = pw_kernel.shape[-1]
  mult = cm // in_channels
  # Expanded channel j = c * mult + k filters input channel c.
  kernel = (dw_kernel[..., 0, :, None] * pw_kernel).reshape(
      kt, kh, kw, in_channels, mult, feats).sum(axis=4)
  return kernel, dw_bias @ pw_kernel + pw_bias


def full_conv_frames(x_NTHWC: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
  """Full SAME 3-D correlation as one 2-D conv per output frame.

  Output frame t is a 2-D conv of the input frames its temporal taps reach,
  stacked on the channel axis (frames whose taps fall in the padding are
  left out, not multiplied by zeros).

  Args:
    x_NTHWC: (N, T, H, W, C) input.
    kernel: (kt, kh, kw, C, F), odd kernel sizes.

  Returns:
    (N, T, H, W, F), equal to `lax.conv_general_dilated` with SAME padding.
  """
  kt, kh, kw, cin, feats = kernel.shape
  n, t, h, w, c = x_NTHWC.shape
  if c != cin:
    raise ValueError(f"kernel expects {cin} channels, input has {c}")
  rt = kt // 2
  x_NHWTC = jnp.moveaxis(x_NTHWC, 1, 3).reshape(n, h, w, t * c)
  outs = []
  for to in range(t):
    lo, hi = max(0, to - rt), min(t, to + rt + 1)   # input frames reached
    k = kernel[lo - to + rt:hi - to + rt]           # (hi-lo, kh, kw, C, F)
    k = jnp.moveaxis(k, 0, 2).reshape(kh, kw, (hi - lo) * c, feats)
    outs.append(jax.lax.conv_general_dilated(
        x_NHWTC[..., lo * c:hi * c], k, window_strides=(1, 1),
        padding="SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))
  return jnp.stack(outs, axis=1)


def depthwise_grouped(x_NTHWC: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
  """Depthwise SAME 3-D correlation via `feature_group_count` (nn.Conv's op).

  Args:
    x_NTHWC: (N, T, H, W, C) input.
    kernel: (kt, kh, kw, 1, F), F a multiple of C.

  Returns:
    (N, T, H, W, F).
  """
  return jax.lax.conv_general_dilated(
      x_NTHWC, kernel, window_strides=(1, 1, 1), padding="SAME",
      dimension_numbers=("NDHWC", "DHWIO", "NDHWC"),
      feature_group_count=x_NTHWC.shape[-1])


class DepthwiseConv3D(nn.Module):
  """Depthwise 3-D convolution, SAME padding, one kernel per channel.

  Attributes:
    features: output channels (a multiple of the input channels).
    kernel_size: (kt, kh, kw), odd sizes.
    impl: 'auto' | 'grouped' | 'shifted' (see `resolve_depthwise_impl`).
    use_bias: add a per-channel bias.
    dtype: compute dtype (parameters stay float32).
  """
  features: int
  kernel_size: tuple[int, int, int] = (3, 3, 3)
  impl: str = "auto"
  use_bias: bool = True
  dtype: Any = jnp.float32
  kernel_init: Any = nn.initializers.lecun_normal()

  @nn.compact
  def __call__(self, x_NTHWC: jnp.ndarray) -> jnp.ndarray:
    """Applies the convolution to (N, T, H, W, C) input."""
    # Same init as nn.Conv: fan-in = kernel volume (one input per group).
    kernel = self.param("kernel", self.kernel_init,
                        (*self.kernel_size, 1, self.features), jnp.float32)
    x_NTHWC = x_NTHWC.astype(self.dtype)
    kernel = kernel.astype(self.dtype)
    if resolve_depthwise_impl(self.impl) == "shifted":
      y = depthwise_shifted(x_NTHWC, kernel)
    else:
      if x_NTHWC.ndim != 5:
        raise ValueError(f"expected (N, T, H, W, C), got {x_NTHWC.shape}")
      y = depthwise_grouped(x_NTHWC, kernel)
    if self.use_bias:
      bias = self.param("bias", nn.initializers.zeros, (self.features,),
                        jnp.float32)
      y = y + bias.astype(self.dtype)
    return y
