"""Two-stream 3D-CNN of Yap et al. (2021) for micro/macro-expression spotting.

Reading of the paper (Figure 1, section 2.2) and of the common PyTorch
reading in shared/PERFORMANCE_NOTES.md:

* Input `x_BSTHWC` = (batch, 2 streams, 2 frames, H, W, 1), raw pixels in
  [0, 1]. Stream 0 pairs the frame with a short-skip reference (micro),
  stream 1 with a long-skip one (macro). LCN (equation 1) is applied to every
  frame inside the model (`use_lcn`), so augmentation upstream works on raw
  pixels.
* The streams are "structurally identical networks with shared weights":
  one `StreamEncoder` is applied once to a batch with the stream axis folded
  into the batch axis, which also runs both streams in a single conv call.
  Batch norm therefore pools its training statistics over both streams (a
  Keras model calling a shared layer twice would normalise each stream with
  its own batch statistics); the running averages see the same data.
* Each stream: 3 blocks of [depthwise 3x3x3 conv + pointwise 1x1x1 conv +
  batch norm + ReLU + dropout + 2x2 spatial max-pool], channels 16/32/64,
  then a global average pool over (T, H, W).
  The first block's depthwise conv sees a single grey channel; with a depth
  multiplier of 1 it would learn just one 3x3x3 filter, so (as Keras'
  `depth_multiplier`) it expands to `channels[0]` maps before its pointwise
  conv (`expand_first=True`). This is the reading that gives the 38,226
  parameters quoted for 112x112 input (with `expand_first=False`: 37,566).
* Head: the two 64-d stream vectors are concatenated (stream 0 first) to
  128-d; the "residual dense layer" is two dense layers with an identity
  skip, `h = relu(dense_0(x)); h = h + relu(dense_res(h))`; then a dense
  layer to 2 logits [micro, macro] (sigmoid is applied by the loss/scorer).
* BatchNorm uses running averages when `train=False`; momentum 0.99 and
  epsilon 1e-3 are Keras' defaults (the authors' framework).
* Dropout draws from the 'dropout' rng the caller supplies. On CPU the
  trainer should make it with a cheap generator,
  `jax.random.key(seed, impl='rbg')`: dropout's random bits are a large
  share of a CPU step (PERFORMANCE_NOTES).
* Max-pooling floors odd sizes (VALID, as Keras/PyTorch) and is written as a
  reshape + max, which XLA:CPU runs (and differentiates) faster than
  `reduce_window`; with exact ties the gradient is shared among the tied
  inputs rather than given to one.
* Formulations (`depthwise_impl`, chosen per backend by 'auto'): on CPU
  each block's depthwise and pointwise convs run as one exact full conv
  ('fused': kernel = depthwise x pointwise, computed from the stored
  parameters at call time), as 2-D convs with the 2 frames on the channel
  axis; 'shifted' (shifted multiply-adds + matmul) and 'grouped'
  (`feature_group_count`) are the separable forms. All share one parameter
  tree and agree to float rounding, dropout masks included (tests).
  Measured in one benchmark run at 112x112 on the 2-core CPU: 'fused' is
  1.4x (dropout 0.2) / 2.1x (no dropout) faster to train and 2.3x faster
  at inference than 'shifted', the previous CPU choice
  (benchmarks/model_throughput.py).
"""
import functools
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from mespot_jax.models.layers import depthwise_grouped
from mespot_jax.models.layers import depthwise_shifted
from mespot_jax.models.layers import full_conv_frames
from mespot_jax.models.layers import separable_to_full_kernel
from mespot_jax.preprocess import lcn as lcn_lib


def max_pool_hw(x_NTHWC: jnp.ndarray) -> jnp.ndarray:
  """2x2 spatial max-pool, stride 2, VALID (odd sizes are floored)."""
  n, t, h, w, c = x_NTHWC.shape
  x_NTHWC = x_NTHWC[:, :, :h - h % 2, :w - w % 2]
  return x_NTHWC.reshape(n, t, h // 2, 2, w // 2, 2, c).max(axis=(3, 5))


BLOCK_IMPLS = ("grouped", "shifted", "fused")


def resolve_block_impl(impl: str, in_channels: int,
                       backend: str | None = None) -> str:
  """Picks a separable block's formulation; 'auto' chooses per backend/block.

  Args:
    impl: 'auto', 'grouped', 'shifted' or 'fused'.
    in_channels: the block's input channels.
    backend: platform name; default the JAX default backend.

  Returns:
    'fused' on CPU for 'auto' (one dense 2-D conv per output frame: on the
    whole model 2.3x faster training and 2.7x faster inference than
    'shifted' at 64x64, although later blocks do ~10x the flops of the
    separable form), 'grouped' elsewhere, or `impl` when it is explicit.
    `in_channels` is kept so a per-block choice can be made again if a
    backend needs one.
  """
  del in_channels  # One choice fits every block on CPU (measured).
  if impl == "auto":
    backend = backend or jax.default_backend()
    return "fused" if backend == "cpu" else "grouped"
  if impl not in BLOCK_IMPLS:
    raise ValueError(f"depthwise_impl must be 'auto' or one of {BLOCK_IMPLS}, "
                     f"got {impl!r}")
  return impl


class _Weights(nn.Module):
  """Creates named parameters and returns them (no computation).

  Lets a block combine the parameters of its depthwise and pointwise convs
  (fused formulation) while keeping exactly the tree (names, shapes,
  creation order, hence initial values) of `DepthwiseConv3D` + `nn.Dense`.
  """
  specs: tuple  # ((name, shape, init), ...) in creation order

  @nn.compact
  def __call__(self) -> list:
    return [self.param(name, init, shape, jnp.float32)
            for name, shape, init in self.specs]


class SeparableBlock(nn.Module):
  """Depthwise + pointwise conv, batch norm, ReLU, dropout, 2x2 max-pool.

  Parameters: depthwise/{kernel (3,3,3,1,C*m), bias}, pointwise/{kernel
  (C*m, F), bias}, bn/{scale, bias} -- the same tree for every `impl`.
  """
  features: int
  depth_multiplier: int = 1
  dropout_rate: float = 0.2
  use_batchnorm: bool = True
  bn_momentum: float = 0.99
  depthwise_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x_NTHWC: jnp.ndarray, train: bool) -> jnp.ndarray:
    cin = x_NTHWC.shape[-1]
    cm = cin * self.depth_multiplier
    lecun, zeros = nn.initializers.lecun_normal(), nn.initializers.zeros
    dw_k, dw_b = _Weights(
        (("kernel", (3, 3, 3, 1, cm), lecun), ("bias", (cm,), zeros)),
        name="depthwise")()
    pw_k, pw_b = _Weights(
        (("kernel", (cm, self.features), lecun),
         ("bias", (self.features,), zeros)), name="pointwise")()
    x = x_NTHWC.astype(self.dtype)
    impl = resolve_block_impl(self.depthwise_impl, cin)
    if impl == "fused":
      kernel, bias = separable_to_full_kernel(dw_k, dw_b, pw_k, pw_b, cin)
      x = full_conv_frames(x, kernel.astype(self.dtype))
      x = x + bias.astype(self.dtype)
    else:
      dw = depthwise_shifted if impl == "shifted" else depthwise_grouped
      x = dw(x, dw_k.astype(self.dtype)) + dw_b.astype(self.dtype)
      # A 1x1x1 conv is a dense layer on the channel axis (a plain matmul).
      x = x @ pw_k.astype(self.dtype) + pw_b.astype(self.dtype)
    if self.use_batchnorm:
      x = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                       epsilon=1e-3, dtype=self.dtype, name="bn")(x)
    x = nn.relu(x)
    if self.dropout_rate > 0:
      x = nn.Dropout(self.dropout_rate, deterministic=not train)(x)
    return max_pool_hw(x)


class StreamEncoder(nn.Module):
  """One stream: three separable blocks and a global average pool."""
  channels: Sequence[int] = (16, 32, 64)
  expand_first: bool = True
  dropout_rate: float = 0.2
  use_batchnorm: bool = True
  bn_momentum: float = 0.99
  depthwise_impl: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x_NTHWC: jnp.ndarray, train: bool) -> jnp.ndarray:
    block = functools.partial(
        SeparableBlock, dropout_rate=self.dropout_rate,
        use_batchnorm=self.use_batchnorm, bn_momentum=self.bn_momentum,
        depthwise_impl=self.depthwise_impl, dtype=self.dtype)
    x = x_NTHWC
    for i, features in enumerate(self.channels):
      cin = x.shape[-1]
      mult = features // cin if (i == 0 and self.expand_first and
                                 features % cin == 0) else 1
      x = block(features, depth_multiplier=mult, name=f"block_{i}")(x, train)
    return jnp.mean(x, axis=(1, 2, 3))


class Yap3DCNN(nn.Module):
  """Two-stream 3D-CNN with shared weights and 2 sigmoid outputs.

  Attributes:
    channels: output channels of the three separable blocks.
    dense_features: width of the residual dense layer.
    dropout_rate: dropout after each conv block (0 disables: ablation).
    use_batchnorm: batch norm in each block (False: ablation).
    use_lcn: LCN on every input frame (False: ablation).
    lcn_sigma: LCN Gaussian standard deviation (pixels).
    lcn_kernel_size: LCN Gaussian taps per axis (odd).
    depthwise_impl: 'auto' | 'grouped' | 'shifted' | 'fused', see
      `resolve_block_impl`; every choice computes the same function with
      the same parameter tree.
    expand_first: first depthwise conv expands the grey channel to
      channels[0] maps (the reading with 38,226 parameters).
    bn_momentum: running-average momentum (Keras default 0.99).
    dtype: compute dtype; parameters, batch statistics and logits stay
      float32.
    num_outputs: logits per example ([micro, macro]).
  """
  channels: Sequence[int] = (16, 32, 64)
  dense_features: int = 128
  dropout_rate: float = 0.2
  use_batchnorm: bool = True
  use_lcn: bool = True
  lcn_sigma: float = lcn_lib.DEFAULT_SIGMA
  lcn_kernel_size: int = lcn_lib.DEFAULT_KERNEL_SIZE
  depthwise_impl: str = "auto"
  expand_first: bool = True
  bn_momentum: float = 0.99
  dtype: Any = jnp.float32
  num_outputs: int = 2

  @nn.compact
  def __call__(self, x_BSTHWC: jnp.ndarray, train: bool) -> jnp.ndarray:
    """Scores a batch of two-stream samples.

    Args:
      x_BSTHWC: (B, S, T, H, W, 1) float pixels in [0, 1] (S = 2 streams,
        T = 2 frames).
      train: batch statistics and dropout on (needs a 'dropout' rng when
        dropout_rate > 0).

    Returns:
      (B, num_outputs) float32 logits.
    """
    if x_BSTHWC.ndim != 6 or x_BSTHWC.shape[-1] != 1:
      raise ValueError("Yap3DCNN expects (batch, streams, frames, H, W, 1), "
                       f"got {x_BSTHWC.shape}")
    b, s, t, h, w, c = x_BSTHWC.shape
    x = x_BSTHWC.astype(jnp.float32)
    if self.use_lcn:
      x = lcn_lib.lcn(x[..., 0], sigma=self.lcn_sigma,
                      kernel_size=self.lcn_kernel_size)[..., None]
    # Shared weights: fold streams into the batch, one encoder call.
    feats = StreamEncoder(
        channels=tuple(self.channels), expand_first=self.expand_first,
        dropout_rate=self.dropout_rate, use_batchnorm=self.use_batchnorm,
        bn_momentum=self.bn_momentum, depthwise_impl=self.depthwise_impl,
        dtype=self.dtype, name="stream")(x.reshape(b * s, t, h, w, c), train)
    feats = feats.reshape(b, s * feats.shape[-1])
    dense = functools.partial(nn.Dense, dtype=self.dtype)
    hidden = nn.relu(dense(self.dense_features, name="dense_0")(feats))
    hidden = hidden + nn.relu(dense(self.dense_features, name="dense_res")(hidden))
    logits = dense(self.num_outputs, name="logits")(hidden)
    return logits.astype(jnp.float32)
