"""Two-stream 3D-CNN of Yap et al. (2021) for micro/macro-expression spotting.

Reading of the paper (Figure 1, section 2.2) and of the common PyTorch
reading (benchmarks/torch_peer.py transcribes it):

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
  share of a CPU step (docs/PERFORMANCE.md).
* Max-pooling floors odd sizes (VALID, as Keras/PyTorch) and is written as a
  reshape + max, which XLA:CPU runs (and differentiates) faster than
  `reduce_window`; with exact ties the gradient is shared among the tied
  inputs rather than given to one.
* Formulations (`depthwise_impl`, chosen per backend and block by 'auto'):
  'fused' runs a block's depthwise and pointwise convs as one exact full
  conv (kernel = depthwise x pointwise, computed from the stored
  parameters at call time); 'shifted' (shifted multiply-adds + matmul) and
  'grouped' (`feature_group_count`) are the separable forms. On CPU 'auto'
  is 'fused' for the first block (one grey input channel: fewer flops
  than the separable pair) and 'shifted' for the others (the fused kernel
  would do 11-14x their flops). `layout` 'NHWTC' (the CPU default) keeps
  the frames next to the channels inside the encoder (models/nhwtc.py).
  At inference batch norm is folded into the kernels and the bias and
  ReLU run after the max-pool (`fold_bn_eval`). Dropout masks are drawn
  with XLA's ThreeFry generator on CPU (`dropout_bits`; Philox, the
  default for 'rbg' keys, is 3.6x slower here). All share one parameter
  tree and agree to float rounding, dropout masks included for a given
  `dropout_bits` (tests/test_yap3dcnn_layouts.py). Measured against the
  PyTorch peer in benchmarks/model_throughput.py; docs/PERFORMANCE.md.
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
from mespot_jax.models.nhwtc import depthwise_shifted_nhwtc
from mespot_jax.models.nhwtc import full_conv_nhwtc
from mespot_jax.models.nhwtc import max_pool_hw_nhwtc
from mespot_jax.preprocess import lcn as lcn_lib


def max_pool_hw(x_NTHWC: jnp.ndarray) -> jnp.ndarray:
  """2x2 spatial max-pool, stride 2, VALID (odd sizes are floored)."""
  n, t, h, w, c = x_NTHWC.shape
  x_NTHWC = x_NTHWC[:, :, :h - h % 2, :w - w % 2]
  return x_NTHWC.reshape(n, t, h // 2, 2, w // 2, 2, c).max(axis=(3, 5))


BLOCK_IMPLS = ("grouped", "shifted", "fused")
LAYOUTS = ("NTHWC", "NHWTC")


def resolve_block_impl(impl: str, in_channels: int,
                       backend: str | None = None) -> str:
  """Picks a separable block's formulation; 'auto' chooses per backend/block.

  Args:
    impl: 'auto', 'grouped', 'shifted' or 'fused'.
    in_channels: the block's input channels.
    backend: platform name; default the JAX default backend.

  Returns:
    For 'auto' on CPU: 'fused' for a block on one input channel (the first
    block on grey frames: its full conv does fewer flops than the separable
    pair, 288 against 544 multiply-adds per output pixel) and 'shifted' for
    the others (the fused kernel would do 11-14x the separable flops, and
    'shifted' measured several times faster on those blocks: the profile
    in docs/PERFORMANCE.md); 'grouped' on other backends; `impl` when
    explicit.
  """
  if impl == "auto":
    backend = backend or jax.default_backend()
    if backend != "cpu":
      return "grouped"
    return "fused" if in_channels == 1 else "shifted"
  if impl not in BLOCK_IMPLS:
    raise ValueError(f"depthwise_impl must be 'auto' or one of {BLOCK_IMPLS}, "
                     f"got {impl!r}")
  return impl


def resolve_layout(layout: str, backend: str | None = None) -> str:
  """'auto' -> 'NHWTC' on CPU (frames next to channels), else 'NTHWC'."""
  if layout == "auto":
    backend = backend or jax.default_backend()
    return "NHWTC" if backend == "cpu" else "NTHWC"
  if layout not in LAYOUTS:
    raise ValueError(f"layout must be 'auto' or one of {LAYOUTS}, "
                     f"got {layout!r}")
  return layout


DROPOUT_BITS = ("bernoulli", "threefry")


def resolve_dropout_bits(bits: str, key_data_shape: tuple,
                         backend: str | None = None) -> str:
  """'auto' -> 'threefry' on CPU for 'rbg'-style keys, else 'bernoulli'.

  'bernoulli' draws exactly `nn.Dropout`'s mask (`jax.random.bernoulli`;
  with an 'rbg' key XLA's default generator, Philox on CPU); 'threefry'
  draws the mask's bits with XLA's ThreeFry generator from the same key
  data, 3.6x faster than Philox on this CPU (docs/PERFORMANCE.md). Both are
  dropout at the configured rate (the threshold is exact to 2**-32), with
  different units dropped for a given key.
  """
  if bits == "auto":
    backend = backend or jax.default_backend()
    return ("threefry" if backend == "cpu" and tuple(key_data_shape) == (4,)
            else "bernoulli")
  if bits not in DROPOUT_BITS:
    raise ValueError(f"dropout_bits must be 'auto' or one of {DROPOUT_BITS}, "
                     f"got {bits!r}")
  return bits


class _Dropout(nn.Module):
  """Dropout in either layout; the mask is drawn for the units in
  (N, T, H, W, C) order whatever the layout (and named like `nn.Dropout`,
  so its rng is the same), so both layouts drop the same units under one
  key, and 'bernoulli' drops exactly the units `nn.Dropout` drops."""
  rate: float
  layout: str = "NTHWC"
  bits: str = "auto"

  @nn.compact
  def __call__(self, x: jnp.ndarray, deterministic: bool):
    if deterministic or self.rate == 0.0:
      return x
    keep = 1.0 - self.rate
    cl = self.layout == "NHWTC"
    shape = (x.shape[0], x.shape[3], x.shape[1], x.shape[2], x.shape[4]) \
        if cl else x.shape
    rng = self.make_rng("dropout")
    data = jax.random.key_data(rng) if jax.dtypes.issubdtype(
        rng.dtype, jax.dtypes.prng_key) else rng
    if resolve_dropout_bits(self.bits, data.shape) == "threefry":
      _, bits = jax.lax.rng_bit_generator(
          data.astype(jnp.uint32), shape, dtype=jnp.uint32,
          algorithm=jax.lax.RandomAlgorithm.RNG_THREE_FRY)
      mask = bits < jnp.uint32(min(round(keep * 2.0**32), 2**32 - 1))
    else:
      mask = jax.random.bernoulli(rng, p=keep, shape=shape)
    if cl:
      mask = jnp.transpose(mask, (0, 2, 3, 1, 4))
    return jax.lax.select(mask, x / keep, jnp.zeros_like(x))


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


class _BatchNormVars(nn.Module):
  """The variables of `nn.BatchNorm` (same names, shapes, initial values),
  returned as (scale, bias, mean, var) for folding at inference."""
  features: int

  @nn.compact
  def __call__(self):
    shape = (self.features,)
    mean = self.variable("batch_stats", "mean", jnp.zeros, shape, jnp.float32)
    var = self.variable("batch_stats", "var", jnp.ones, shape, jnp.float32)
    scale = self.param("scale", nn.initializers.ones, shape, jnp.float32)
    bias = self.param("bias", nn.initializers.zeros, shape, jnp.float32)
    return scale, bias, mean.value, var.value


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
  layout: str = "NTHWC"
  fold_bn_eval: bool = True
  dropout_bits: str = "bernoulli"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x_NTHWC: jnp.ndarray, train: bool) -> jnp.ndarray:
    """Applies the block to (N, T, H, W, C), or (N, H, W, T, C) when
    `layout` is 'NHWTC' (the output has the input's layout)."""
    cin = x_NTHWC.shape[-1]
    cl = resolve_layout(self.layout) == "NHWTC"
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
    pool = max_pool_hw_nhwtc if cl else max_pool_hw
    fold = (not train) and self.fold_bn_eval
    if fold:
      # Inference: batch norm is an affine map per feature, folded into the
      # pointwise (or fused) kernel and bias; the bias and ReLU commute
      # with the max-pool (max(z + b) = max(z) + b, relu(max) = max(relu)),
      # so they run on a quarter of the units.
      scale, shift = jnp.ones_like(pw_b), jnp.zeros_like(pw_b)
      if self.use_batchnorm:
        g, beta, mean, var = _BatchNormVars(self.features, name="bn")()
        scale = g * jax.lax.rsqrt(var + 1e-3)
        shift = beta - mean * scale
      pw_k = pw_k * scale
      pw_b = pw_b * scale + shift
    if impl == "fused":
      kernel, bias = separable_to_full_kernel(dw_k, dw_b, pw_k, pw_b, cin)
      conv = full_conv_nhwtc if cl else full_conv_frames
      x = conv(x, kernel.astype(self.dtype))
    else:
      if impl == "shifted":
        dw = depthwise_shifted_nhwtc if cl else depthwise_shifted
      elif cl:  # grouped: the 3-D conv wants (N, T, H, W, C)
        dw = lambda v, k: jnp.transpose(depthwise_grouped(
            jnp.transpose(v, (0, 3, 1, 2, 4)), k), (0, 2, 3, 1, 4))
      else:
        dw = depthwise_grouped
      # A 1x1x1 conv is a dense layer on the channel axis (a plain matmul);
      # the depthwise bias passes through it.
      x = dw(x, dw_k.astype(self.dtype)) @ pw_k.astype(self.dtype)
      bias = dw_b @ pw_k + pw_b
    if fold:
      return nn.relu(pool(x) + bias.astype(self.dtype))
    x = x + bias.astype(self.dtype)
    if self.use_batchnorm:
      x = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                       epsilon=1e-3, dtype=self.dtype, name="bn")(x)
    x = nn.relu(x)
    if self.dropout_rate > 0:
      x = _Dropout(self.dropout_rate, "NHWTC" if cl else "NTHWC",
                   self.dropout_bits, name="Dropout_0")(
                       x, deterministic=not train)
    return pool(x)


class StreamEncoder(nn.Module):
  """One stream: three separable blocks and a global average pool."""
  channels: Sequence[int] = (16, 32, 64)
  expand_first: bool = True
  dropout_rate: float = 0.2
  use_batchnorm: bool = True
  bn_momentum: float = 0.99
  depthwise_impl: str = "auto"
  layout: str = "auto"
  fold_bn_eval: bool = True
  dropout_bits: str = "auto"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x_NTHWC: jnp.ndarray, train: bool) -> jnp.ndarray:
    layout = resolve_layout(self.layout)
    block = functools.partial(
        SeparableBlock, dropout_rate=self.dropout_rate,
        use_batchnorm=self.use_batchnorm, bn_momentum=self.bn_momentum,
        depthwise_impl=self.depthwise_impl, layout=layout,
        fold_bn_eval=self.fold_bn_eval, dropout_bits=self.dropout_bits,
        dtype=self.dtype)
    # One transpose of the (one-channel) input; the blocks keep the layout.
    x = jnp.transpose(x_NTHWC, (0, 2, 3, 1, 4)) if layout == "NHWTC" \
        else x_NTHWC
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
    layout: 'auto' | 'NTHWC' | 'NHWTC', the activations' layout inside the
      encoder ('auto': 'NHWTC' on CPU, see `resolve_layout`); every choice
      computes the same function (dropout masks included).
    fold_bn_eval: at inference, fold batch norm into the conv kernels and
      run bias + ReLU after the max-pool (the same function, a quarter of
      the elementwise work); False runs `nn.BatchNorm` as in training.
    dropout_bits: 'auto' | 'bernoulli' | 'threefry', how dropout masks are
      drawn (`resolve_dropout_bits`; 'auto': 'threefry' on CPU with the
      trainer's 'rbg' keys, else `nn.Dropout`'s draw).
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
  layout: str = "auto"
  fold_bn_eval: bool = True
  dropout_bits: str = "auto"
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
        layout=self.layout, fold_bn_eval=self.fold_bn_eval,
        dropout_bits=self.dropout_bits, dtype=self.dtype, name="stream")(x.reshape(b * s, t, h, w, c), train)
    feats = feats.reshape(b, s * feats.shape[-1])
    dense = functools.partial(nn.Dense, dtype=self.dtype)
    hidden = nn.relu(dense(self.dense_features, name="dense_0")(feats))
    hidden = hidden + nn.relu(dense(self.dense_features, name="dense_res")(hidden))
    logits = dense(self.num_outputs, name="logits")(hidden)
    return logits.astype(jnp.float32)
