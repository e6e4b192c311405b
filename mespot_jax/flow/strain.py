r"""Optical strain: the magnitude of the infinitesimal strain tensor of a flow.

For a flow (u, v) the strain tensor is the symmetric part of its Jacobian,

  eps = 1/2 (grad(u, v) + grad(u, v)^T),
  e_xx = du/dx,  e_yy = dv/dy,  e_xy = e_yx = 1/2 (du/dy + dv/dx),

and the optical strain magnitude used in micro-expression work is its
Frobenius norm

  |eps| = sqrt(e_xx^2 + e_yy^2 + e_xy^2 + e_yx^2)
        = sqrt(e_xx^2 + e_yy^2 + 2 e_xy^2)
        = sqrt(e_xx^2 + e_yy^2 + 1/2 (du/dy + dv/dx)^2).

This is the definition of Shreve et al. ("Macro- and micro-expression
spotting in long videos using spatio-temporal strain", FG 2011) and of Liong
et al. ("Optical strain based recognition of subtle emotions", ISPACS 2014;
"Less is more: micro-expression recognition from video using apex frame",
Signal Processing: Image Communication 2018, the Bi-WOOF weighting that the
paper of Liu et al., "A Neural Micro-Expression Recognizer", cites as
[6]). Rigid motion (a translation or a small rotation) has zero strain; only
deformation counts.

The derivatives are central differences (one-sided on the border), the
`numpy.gradient` rule; they are exact for an affine flow, everywhere.
"""
import jax.numpy as jnp

from mespot_jax.errors import InputError
from mespot_jax.flow import ops


def optical_strain(flow_HW2) -> jnp.ndarray:
  """Optical strain magnitude of a flow field.

  Args:
    flow_HW2: (..., H, W, 2) flow in pixels, channel 0 = u (x), 1 = v (y);
      H, W >= 2. Leading axes are batch axes.

  Returns:
    (..., H, W) float32 strain magnitude (dimensionless).
  """
  flow = jnp.asarray(flow_HW2, jnp.float32)
  if flow.ndim < 3 or flow.shape[-1] != 2 or min(flow.shape[-3:-1]) < 2:
    raise InputError(f"optical_strain: expected a (..., H, W, 2) flow with "
                     f"H, W >= 2, got shape {flow.shape}")
  u_dy, u_dx = ops.central_gradient(flow[..., 0])
  v_dy, v_dx = ops.central_gradient(flow[..., 1])
  e_xy = 0.5 * (u_dy + v_dx)
  return jnp.sqrt(u_dx * u_dx + v_dy * v_dy + 2.0 * e_xy * e_xy)
