"""Tran et al.'s dense-prediction scorer: one LSTM layer and a dense layer.

The input is a window of M consecutive feature positions, each the
descriptor (LBP-TOP, HOG-TOP or HIGO-TOP) of L frames; the output is one
score per position and type (the paper: 20 LSTM units, "Dense layer (20
input units computing one output)", Figure 3). The LSTM is `nn.RNN` over
an `nn.OptimizedLSTMCell` (weights shared over time). We give the dense
layer two outputs, [micro, macro]; the paper spots micro-expressions only
and the method trains the types its config names.

The descriptors are histograms that each sum to 1 (values near 1/bins);
`input_scale` multiplies them so that a uniform histogram reads as ones.
"""
import flax.linen as nn
import jax.numpy as jnp


class TranLSTM(nn.Module):
  """LSTM(units) over the window, Dense(outputs) at every position.

  Attributes:
    units: LSTM units (K = 20 in the paper).
    outputs: scores per position (2: micro, macro).
    input_scale: factor applied to the input features.
    dtype: compute dtype.
  """
  units: int = 20
  outputs: int = 2
  input_scale: float = 1.0
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x_BMD, train: bool = False):
    """Logits (B, M, outputs) of windows `x_BMD` (B, M, D)."""
    del train  # no dropout or batch norm
    x = x_BMD.astype(self.dtype) * self.input_scale
    h = nn.RNN(nn.OptimizedLSTMCell(self.units, dtype=self.dtype),
               name="lstm")(x)
    return nn.Dense(self.outputs, dtype=self.dtype, name="dense")(h)
