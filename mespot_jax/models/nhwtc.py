"""Convolutions and pooling on clips stored (N, H, W, T, C): frames by the channels.

With the frames next to the channels, a full 3-D conv over T=2 frames is
one 2-D conv (`full_conv_nhwtc`: input channels (frame, channel), output
channels (frame, feature); with T=2 and 3 temporal taps every block of its
kernel is a real tap) and a depthwise one is a short sum of shifted
multiply-adds over contiguous (T, C) rows (`depthwise_shifted_nhwtc`), with
no transposes between blocks. Each equals its (N, T, H, W, C) counterpart
in `layers` on the transposed input (tests/test_yap3dcnn_layouts.py).
"""
import jax
import jax.numpy as jnp


def full_conv_nhwtc(x_NHWTC: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
  """Full SAME 3-D correlation of frames stored next to the channels.

  One 2-D conv whose input channels are (frame, channel) and whose output
  channels are (frame, feature): block (t_in, t_out) of its kernel is the
  temporal tap t_in - t_out + kt // 2 (zero where that tap is outside the
  kernel; with T=2 and kt=3 every block is a real tap, no zero is
  multiplied). Input and output stay (N, H, W, T, C): no transposes.

  Args:
    x_NHWTC: (N, H, W, T, C) input.
    kernel: (kt, kh, kw, C, F), odd kernel sizes.

  Returns:
    (N, H, W, T, F).
  """
  kt, kh, kw, cin, feats = kernel.shape
  n, h, w, t, c = x_NHWTC.shape
  if c != cin:
    raise ValueError(f"kernel expects {cin} channels, input has {c}")
  rt = kt // 2
  zero = jnp.zeros((kh, kw, cin, feats), kernel.dtype)
  rows = [jnp.concatenate([kernel[ti - to + rt] if abs(ti - to) <= rt
                           else zero for to in range(t)], axis=-1)
          for ti in range(t)]                     # each (kh, kw, C, T*F)
  k = jnp.concatenate(rows, axis=2)               # (kh, kw, T*C, T*F)
  y = jax.lax.conv_general_dilated(
      x_NHWTC.reshape(n, h, w, t * c), k, window_strides=(1, 1),
      padding="SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  return y.reshape(n, h, w, t, feats)


def depthwise_shifted_nhwtc(x_NHWTC: jnp.ndarray,
                            kernel: jnp.ndarray) -> jnp.ndarray:
  """Depthwise SAME 3-D correlation of (N, H, W, T, C) as shifted mul-adds.

  Only the temporal taps that land inside the clip are summed.

  Args:
    x_NHWTC: (N, H, W, T, C) input.
    kernel: (kt, kh, kw, 1, F), F a multiple of C (output channel j filters
      input channel j // (F // C), as `feature_group_count`).

  Returns:
    (N, H, W, T, F).
  """
  kt, kh, kw, _, features = kernel.shape
  n, h, w, t, cin = x_NHWTC.shape
  if features % cin:
    raise ValueError(f"features {features} is not a multiple of channels {cin}")
  if features != cin:
    x_NHWTC = jnp.repeat(x_NHWTC, features // cin, axis=-1)
  rt, rh, rw = kt // 2, kh // 2, kw // 2
  xp = jnp.pad(x_NHWTC, [(0, 0), (rh, rh), (rw, rw), (0, 0), (0, 0)])
  outs = []
  for to in range(t):
    acc = None
    for ti in range(max(0, to - rt), min(t, to + rt + 1)):
      for ih in range(kh):
        for iw in range(kw):
          term = xp[:, ih:ih + h, iw:iw + w, ti] * kernel[ti - to + rt, ih, iw, 0]
          acc = term if acc is None else acc + term
    outs.append(acc)
  return jnp.stack(outs, axis=3)


def max_pool_hw_nhwtc(x_NHWTC: jnp.ndarray) -> jnp.ndarray:
  """`max_pool_hw` for (N, H, W, T, C)."""
  n, h, w, t, c = x_NHWTC.shape
  x_NHWTC = x_NHWTC[:, :h - h % 2, :w - w % 2]
  return x_NHWTC.reshape(n, h // 2, 2, w // 2, 2, t, c).max(axis=(2, 4))

