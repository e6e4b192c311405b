"""Shallow ConvLSTM of Shukla, Rai and Verlekar for micro-expression recognition.

Reading of the paper (section 3, papers/004) and of Shi et al. (2015), the
ConvLSTM the paper cites as [24]:

* Input `x_BTHWC` = (batch, t frames, m, n, 1) grey pixels in [0, 1]; for
  SAMM t, m, n = 9, 90, 90 (section 3.1). The model applies no
  normalisation of its own.
* One ConvLSTM layer: 32 filters, 3x3 kernels, stride 1 (section 3.2). The
  cell is scanned over the frames with `nn.scan`, its weights broadcast
  over time; the initial state (C_0, H_0) is zero. Only the last hidden
  state H_t goes on (as Keras' `return_sequences=False`: the paper pools
  "the output from the ConvLSTM" with a 2-D pool and then flattens).
* Gates as Shi et al., equations (3) of their paper, with sigmoid gates and
  tanh for the candidate and the output:
    i = sig(W_xi*X_t + W_hi*H_{t-1} [+ W_ci o C_{t-1}] + b_i)
    f = sig(W_xf*X_t + W_hf*H_{t-1} [+ W_cf o C_{t-1}] + b_f)
    C_t = f o C_{t-1} + i o tanh(W_xc*X_t + W_hc*H_{t-1} + b_c)
    o = sig(W_xo*X_t + W_ho*H_{t-1} [+ W_co o C_t] + b_o)
    H_t = o o tanh(C_t)
  The bracketed peephole (Hadamard) terms are off by default (`peephole`):
  the issue says the authors used Keras' ConvLSTM2D, which has none. When
  on, each W_c is a full (H', W', filters) tensor (a Hadamard product with
  the state, as Shi et al. write it), initialised to zero; the output gate
  looks at C_t as in Shi et al. (the Shukla paper's equation (4) prints
  C_{t-1}, read as a typo since it copies Shi et al. everywhere else).
  Keras 2's ConvLSTM2D gates use `hard_sigmoid` by default (Keras 3:
  sigmoid); `gate_activation='hard_sigmoid'` (Keras 2's clip(0.2x + 0.5))
  is there for that reading, but the paper writes sigma and the default
  is the sigmoid.
* Padding: the paper does not say, and it quotes no parameter count to
  decide by. We use Keras' ConvLSTM2D default, 'VALID' on the input
  convolution; as in Keras the state-to-state convolution is always 'SAME'
  (the state keeps the input conv's output size). At 9x90x90x1 the state
  is 88x88x32; the 2x2 max-pool with stride 1 (VALID) gives 87x87x32 =
  242,208 features. Parameters (worked out in the tests): ConvLSTM
  4 x (3*3*(1+32)*32 + 32) = 38,144; Dense(48) 242,208*48 + 48 =
  11,626,032; Dense(classes) 48*k + k; total 11,664,323 (3 classes) or
  11,664,421 (5 classes). 'SAME' padding would give 89x89x32 after the
  pool and 12,205,093 parameters for 5 classes.
* Head: flatten, Dense(48) + sigmoid, dropout 0.3, Dense(classes) logits;
  the softmax is left to the loss/scorer.
* Parameter layout and initialisers follow Keras, so Keras weights port
  one to one: `input_conv` (kernel (3, 3, C, 4F), bias 4F) and
  `recurrent_conv` (kernel (3, 3, F, 4F), no bias), gates stacked in the
  order i, f, c, o along the last axis; glorot-uniform input and dense
  kernels, orthogonal recurrent kernel, zero biases except the forget
  gate's, which starts at 1 (`unit_forget_bias`).
* `dtype` is the compute dtype of the convolutions and dense layers; the
  gate arithmetic and the state (C, H) stay float32 (the cell state is a
  running sum over frames), as do the parameters and the logits.
"""
import functools
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

GATES = ("i", "f", "c", "o")  # Keras' order along the 4F axis.


def hard_sigmoid_keras2(z: jnp.ndarray) -> jnp.ndarray:
  """Keras 2's `hard_sigmoid`: clip(0.2 z + 0.5, 0, 1)."""
  return jnp.clip(0.2 * z + 0.5, 0.0, 1.0)


GATE_ACTIVATIONS: dict[str, Callable[[jnp.ndarray], jnp.ndarray]] = {
    "sigmoid": jax.nn.sigmoid,
    "hard_sigmoid": hard_sigmoid_keras2,
}


def _gate_activation(name: str) -> Callable[[jnp.ndarray], jnp.ndarray]:
  if name not in GATE_ACTIVATIONS:
    raise ValueError(f"gate_activation must be one of {sorted(GATE_ACTIVATIONS)}"
                     f", got {name!r}")
  return GATE_ACTIVATIONS[name]


def state_hw(h: int, w: int, kernel_size: int, padding: str) -> tuple[int, int]:
  """Spatial size of the ConvLSTM state for an (h, w) input frame."""
  padding = padding.upper()
  if padding == "SAME":
    return h, w
  if padding == "VALID":
    return h - kernel_size + 1, w - kernel_size + 1
  raise ValueError(f"padding must be 'VALID' or 'SAME', got {padding!r}")


def forget_bias_init(features: int) -> Callable:
  """Zero bias of length 4F with the forget gate's F entries at 1 (Keras)."""
  def init(key, shape, dtype=jnp.float32):
    del key
    assert shape == (4 * features,), shape
    return jnp.zeros(shape, dtype).at[features:2 * features].set(1.0)
  return init


def max_pool_2x2_stride1(x_BHWC: jnp.ndarray) -> jnp.ndarray:
  """2x2 max-pool, stride 1, VALID: (B, H, W, C) -> (B, H-1, W-1, C).

  Written as the max of four shifted views (elementwise ops, which XLA:CPU
  runs and differentiates faster than `reduce_window`).
  """
  top = jnp.maximum(x_BHWC[:, :-1, :-1], x_BHWC[:, :-1, 1:])
  bottom = jnp.maximum(x_BHWC[:, 1:, :-1], x_BHWC[:, 1:, 1:])
  return jnp.maximum(top, bottom)


class ConvLSTMCell(nn.Module):
  """One ConvLSTM step (Shi et al.), Keras ConvLSTM2D parameter layout.

  Attributes:
    features: filters F (channels of the state).
    kernel_size: square kernel side of both convolutions.
    padding: 'VALID' or 'SAME' for the input convolution; the recurrent
      convolution is always 'SAME'.
    peephole: add Shi et al.'s Hadamard terms W_ci, W_cf, W_co.
    gate_activation: 'sigmoid' or 'hard_sigmoid' (Keras 2) for i, f, o.
    dtype: compute dtype of the two convolutions.
  """
  features: int
  kernel_size: int = 3
  padding: str = "VALID"
  peephole: bool = False
  gate_activation: str = "sigmoid"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, carry, x_BHWC: jnp.ndarray):
    """Advances the state by one frame.

    Args:
      carry: (c_BHWF, h_BHWF) float32, the state's spatial size given by
        `state_hw`.
      x_BHWC: one frame per example.

    Returns:
      ((c_BHWF, h_BHWF), h_BHWF): the new state and the new hidden state.
    """
    c_prev, h_prev = carry
    f = self.features
    k = (self.kernel_size, self.kernel_size)
    conv = functools.partial(nn.Conv, 4 * f, k, strides=1, dtype=self.dtype)
    z = conv(padding=self.padding.upper(), use_bias=True,
             kernel_init=nn.initializers.glorot_uniform(),
             bias_init=forget_bias_init(f), name="input_conv")(x_BHWC)
    z = z + conv(padding="SAME", use_bias=False,
                 kernel_init=nn.initializers.orthogonal(),
                 name="recurrent_conv")(h_prev)
    if z.shape[1:3] != c_prev.shape[1:3]:
      raise ValueError(f"ConvLSTM state is {c_prev.shape[1:3]} but the input "
                       f"conv gives {z.shape[1:3]}; size the carry with "
                       "state_hw")
    z_i, z_f, z_c, z_o = jnp.split(z.astype(jnp.float32), 4, axis=-1)
    gate = _gate_activation(self.gate_activation)
    if self.peephole:
      hadamard = lambda g: self.param(f"peephole_{g}", nn.initializers.zeros,
                                      c_prev.shape[1:], jnp.float32)
      z_i = z_i + hadamard("i") * c_prev
      z_f = z_f + hadamard("f") * c_prev
    c = gate(z_f) * c_prev + gate(z_i) * jnp.tanh(z_c)
    if self.peephole:
      z_o = z_o + hadamard("o") * c
    h = gate(z_o) * jnp.tanh(c)
    return (c, h), h


class ConvLSTM(nn.Module):
  """A ConvLSTM layer: `ConvLSTMCell` scanned over time, weights shared.

  Attributes: as `ConvLSTMCell`, and `unroll`: time steps per iteration of
  the scan loop (`nn.scan(unroll=...)`; same results). XLA:CPU runs the
  backward pass of a rolled convolutional scan very slowly (86 s per step
  for batch 16 x 9 frames at 32x32 against 1.4 s unrolled, measured once
  on the 2-core CPU), so the default unrolls 9 steps: all of a paper clip.
  """
  features: int
  kernel_size: int = 3
  padding: str = "VALID"
  peephole: bool = False
  gate_activation: str = "sigmoid"
  dtype: Any = jnp.float32
  unroll: int = 9

  @nn.compact
  def __call__(self, x_BTHWC: jnp.ndarray):
    """Runs the layer from a zero state over all frames.

    Args:
      x_BTHWC: (B, T, H, W, C) frames.

    Returns:
      ((c_BHWF, h_BHWF), h_BTHWF): the final state and every hidden state.
    """
    b, _, h, w, _ = x_BTHWC.shape
    hs, ws = state_hw(h, w, self.kernel_size, self.padding)
    zeros = jnp.zeros((b, hs, ws, self.features), jnp.float32)
    scan = nn.scan(ConvLSTMCell, variable_broadcast="params",
                   split_rngs={"params": False}, in_axes=1, out_axes=1,
                   unroll=max(1, min(self.unroll, x_BTHWC.shape[1])))
    cell = scan(features=self.features, kernel_size=self.kernel_size,
                padding=self.padding, peephole=self.peephole,
                gate_activation=self.gate_activation, dtype=self.dtype,
                name="cell")
    return cell((zeros, zeros), x_BTHWC)


class ShallowConvLSTM(nn.Module):
  """ConvLSTM(32, 3x3) -> 2x2/1 max-pool -> Dense(48, sigmoid) -> logits.

  Attributes:
    num_classes: output logits (3 or 5 on SAMM).
    filters: ConvLSTM filters.
    kernel_size: ConvLSTM kernel side.
    dense_features: width of the sigmoid dense layer.
    dropout_rate: dropout between the two dense layers.
    peephole: Shi et al.'s Hadamard terms (Keras ConvLSTM2D: none).
    padding: input convolution padding, 'VALID' (Keras default) or 'SAME'.
    gate_activation: 'sigmoid' (the paper's sigma) or 'hard_sigmoid'.
    dtype: compute dtype; parameters, state and logits stay float32.
  """
  num_classes: int
  filters: int = 32
  kernel_size: int = 3
  dense_features: int = 48
  dropout_rate: float = 0.3
  peephole: bool = False
  padding: str = "VALID"
  gate_activation: str = "sigmoid"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x_BTHWC: jnp.ndarray, train: bool) -> jnp.ndarray:
    """Classifies a batch of clips.

    Args:
      x_BTHWC: (B, T, H, W, C) float pixels in [0, 1] (SAMM: 9x90x90x1).
      train: dropout on (needs a 'dropout' rng when dropout_rate > 0).

    Returns:
      (B, num_classes) float32 logits (softmax not applied).
    """
    if x_BTHWC.ndim != 5:
      raise ValueError("ShallowConvLSTM expects (batch, frames, H, W, C), got "
                       f"{x_BTHWC.shape}")
    (_, h_BHWF), _ = ConvLSTM(
        features=self.filters, kernel_size=self.kernel_size,
        padding=self.padding, peephole=self.peephole,
        gate_activation=self.gate_activation, dtype=self.dtype,
        name="convlstm")(x_BTHWC.astype(jnp.float32))
    feats = max_pool_2x2_stride1(h_BHWF).reshape(h_BHWF.shape[0], -1)
    dense = functools.partial(nn.Dense, dtype=self.dtype,
                              kernel_init=nn.initializers.glorot_uniform())
    hidden = nn.sigmoid(dense(self.dense_features, name="dense_hidden")(feats))
    hidden = nn.Dropout(self.dropout_rate, deterministic=not train,
                        name="dropout")(hidden)
    logits = dense(self.num_classes, name="logits")(hidden)
    return logits.astype(jnp.float32)
