r"""TV-L1 optical flow in JAX: jitted, batched over frame pairs.

The duality-based scheme of Zach, Pock and Bischof (DAGM 2007) as Sanchez
Perez, Meinhardt-Llopis and Facciolo describe it ("TV-L1 Optical Flow
Estimation", IPOL 2013, doi:10.5201/ipol.2013.26), with the structure and
defaults of `skimage.registration.optical_flow_tvl1`:

  min_u  sum |grad u_x| + |grad u_y| + lambda |I1(x + u) - I0(x)|

solved coarse to fine. At each pyramid level (coarsest first, starting
from the coarser level's flow, upsampled and rescaled):
  for each of `num_warp` warps:
    I1w = I1(x + u0) (bilinear, edge-clamped); g = grad I1w (central diff.)
    rho(u) = I1w - I0 + g . (u - u0)          (linearised residual)
    for each of `num_iter` iterations:
      thresholding step (the L1 data term's proximal map, IPOL eq. 6-7):
        v = u - rho g / |g|^2        if |rho| <= lambda theta |g|^2
        v = u - lambda theta sign(rho) g   otherwise
      two steps of Chambolle's dual projection per flow component (TV term):
        p <- (p + tau/theta grad u) / (1 + tau/theta |grad u|)
        u  = v + theta div p
The dual fields p start at zero on each level and persist across its
warps; tau = 1/4 (the stable time step in 2-D).

Conventions: frames (H, W), intensities in [0, 1] (integer frames are
divided by their dtype's maximum, as `skimage` does; `attachment` is tied
to that scale). The output is (H, W, 2) float32 in pixels: channel 0 is u
(along x, to the right), channel 1 is v (along y, down), such that
`frame1(y + v, x + u) ~= frame0(y, x)`; `skimage`'s output is (v, u).

`tvl1` is one jitted pair (it can itself be `jax.vmap`ped); `tvl1_batch`
runs N pairs in one compiled call, `vmap`ped in lock-step (the default) or
looped with `lax.map` (less memory).

Differences from `skimage` (documented in docs/FLOW.md): no early stop on
`tol` (fixed iteration counts, so the function jits and batches), and the
flow is upsampled between levels bilinearly instead of by nearest neighbour.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from mespot_jax.errors import InputError
from mespot_jax.flow import ops

DEFAULTS = dict(attachment=15.0, tightness=0.3, num_warp=5, num_iter=10,
                downscale=2.0, max_levels=10, min_size=16)
_TAU = 0.25          # time step of the dual projection (0.5 / ndim)
_DUAL_STEPS = 2      # projection steps per thresholding step, as skimage
_PARAM_NAMES = tuple(DEFAULTS)


def _solve_level(i0_HW, i1_HW, flow_2HW, *, attachment, tightness, num_warp,
                 num_iter):
  """Refines the flow at one pyramid level.

  Both flow components are stacked on a leading axis so that each step is
  one set of fused element-wise loops instead of two.

  Args:
    i0_HW: reference frame at this level.
    i1_HW: moving frame at this level.
    flow_2HW: initial flow, (u, v) in pixels of this level.
    attachment: lambda.
    tightness: theta.
    num_warp: warps (re-linearisations) at this level.
    num_iter: thresholding + projection iterations per warp.

  Returns:
    The refined (2, H, W) flow.
  """
  h, w = i0_HW.shape
  ys = jnp.arange(h, dtype=jnp.float32)[:, None]
  xs = jnp.arange(w, dtype=jnp.float32)[None, :]
  thresh = attachment * tightness
  step = _TAU / tightness

  def dual_step(f, aux, py, px):
    """One projection step for both components (IPOL eq. 10)."""
    gy, gx = ops.forward_diff(f)
    inv_norm = 1.0 / (1.0 + step * jnp.sqrt(gy * gy + gx * gx))
    py = (py + step * gy) * inv_norm
    px = (px + step * gx) * inv_norm
    return aux + tightness * ops.backward_div(py, px), py, px

  def warp_body(_, carry):
    flow, duals = carry
    i1w = ops.bilinear_sample(i1_HW, ys + flow[1], xs + flow[0])
    gy, gx = ops.central_gradient(i1w)
    grad = jnp.stack([gx, gy])
    grad_sq = gx * gx + gy * gy
    grad_sq = jnp.where(grad_sq == 0, 1.0, grad_sq)
    rho0 = i1w - i0_HW - (grad * flow).sum(0)

    def iter_body(_, carry):
      flow, (py, px) = carry
      rho = rho0 + (grad * flow).sum(0)
      inside = jnp.abs(rho) <= thresh * grad_sq
      scale = jnp.where(inside, rho / grad_sq, thresh * jnp.sign(rho))
      aux = flow - scale * grad
      flow = aux
      for _ in range(_DUAL_STEPS):
        flow, py, px = dual_step(flow, aux, py, px)
      return flow, (py, px)

    return jax.lax.fori_loop(0, num_iter, iter_body, (flow, duals))

  duals = (jnp.zeros_like(flow_2HW), jnp.zeros_like(flow_2HW))
  flow, _ = jax.lax.fori_loop(0, num_warp, warp_body, (flow_2HW, duals))
  return flow


def _tvl1_single(frame0_HW, frame1_HW, *, attachment, tightness, num_warp,
                 num_iter, downscale, max_levels, min_size):
  """TV-L1 flow of one pair of float32 frames; see the module docstring."""
  shapes = ops.pyramid_shapes(frame0_HW.shape, downscale, max_levels,
                              min_size)
  sigma = 2.0 * downscale / 6.0   # skimage's pyramid_reduce smoothing
  pyr0, pyr1 = [frame0_HW], [frame1_HW]
  for (h_in, w_in), (h, w) in zip(shapes[:-1], shapes[1:]):
    ry = ops.resize_matrix(h_in, h, sigma)
    rx = ops.resize_matrix(w_in, w, sigma)
    pyr0.append(ops.apply_resize(pyr0[-1], ry, rx))
    pyr1.append(ops.apply_resize(pyr1[-1], ry, rx))

  solve = functools.partial(_solve_level, attachment=attachment,
                            tightness=tightness, num_warp=num_warp,
                            num_iter=num_iter)
  flow = jnp.zeros((2,) + shapes[-1], jnp.float32)
  for level in range(len(shapes) - 1, -1, -1):
    if level < len(shapes) - 1:
      (hc, wc), (h, w) = shapes[level + 1], shapes[level]
      ry, rx = ops.resize_matrix(hc, h), ops.resize_matrix(wc, w)
      gain = jnp.array([w / wc, h / hc], jnp.float32)[:, None, None]
      flow = ops.apply_resize(flow, ry, rx) * gain
    flow = solve(pyr0[level], pyr1[level], flow)
  return jnp.moveaxis(flow, 0, -1)


@functools.partial(jax.jit, static_argnames=_PARAM_NAMES)
def _tvl1_jit(frame0_HW, frame1_HW, **params):
  return _tvl1_single(frame0_HW, frame1_HW, **params)


@functools.partial(jax.jit, static_argnames=_PARAM_NAMES + ("vectorize",))
def _tvl1_batch_jit(frames0_NHW, frames1_NHW, *, vectorize, **params):
  single = functools.partial(_tvl1_single, **params)
  if vectorize == "vmap":
    return jax.vmap(single)(frames0_NHW, frames1_NHW)
  return jax.lax.map(lambda pair: single(*pair), (frames0_NHW, frames1_NHW))


def _as_float(frames) -> jnp.ndarray:
  """float32 frames; integer frames scaled by their dtype's maximum."""
  frames = jnp.asarray(frames)
  dtype = frames.dtype
  if jnp.issubdtype(dtype, jnp.integer) or dtype == jnp.bool_:
    scale = 1.0 if dtype == jnp.bool_ else float(jnp.iinfo(dtype).max)
    return jnp.asarray(frames, jnp.float32) / scale
  return jnp.asarray(frames, jnp.float32)


def _params(overrides: dict) -> dict:
  unknown = sorted(set(overrides) - set(DEFAULTS))
  if unknown:
    raise InputError(f"tvl1: unknown parameter(s) {unknown}; expected some "
                     f"of {sorted(DEFAULTS)}")
  params = {**DEFAULTS, **overrides}
  for name in ("num_warp", "num_iter", "max_levels", "min_size"):
    if int(params[name]) != params[name] or params[name] < 1:
      raise InputError(f"tvl1: {name} must be a positive integer, got "
                       f"{params[name]!r}")
    params[name] = int(params[name])
  for name in ("attachment", "tightness"):
    if not params[name] > 0:
      raise InputError(f"tvl1: {name} must be > 0, got {params[name]!r}")
    params[name] = float(params[name])
  if not params["downscale"] > 1:
    raise InputError(f"tvl1: downscale must be > 1, got "
                     f"{params['downscale']!r}")
  params["downscale"] = float(params["downscale"])
  return params


def _check_pair(frame0, frame1, ndim: int, what: str):
  shape0, shape1 = np.shape(frame0), np.shape(frame1)
  if len(shape0) != ndim or shape0 != shape1:
    raise InputError(f"tvl1: {what} must be two arrays of one shape with "
                     f"{ndim} axes, got {shape0} and {shape1}")
  if min(shape0[-2:]) < 2:
    raise InputError(f"tvl1: frames must be at least 2x2 pixels, got "
                     f"{shape0[-2:]}")


def tvl1(frame0, frame1, **params) -> jnp.ndarray:
  """TV-L1 optical flow from `frame0` to `frame1` (jitted; vmappable).

  Args:
    frame0: (H, W) reference frame, greyscale, float in [0, 1] or integer.
    frame1: (H, W) moving frame.
    **params: any of `DEFAULTS`: `attachment` (lambda; smaller is smoother),
      `tightness` (theta), `num_warp`, `num_iter`, and the pyramid's
      `downscale`, `max_levels`, `min_size`.

  Returns:
    (H, W, 2) float32 flow in pixels, (u, v) = (x, y) components with
    `frame1(y + v, x + u) ~= frame0(y, x)`.
  """
  _check_pair(frame0, frame1, 2, "frame0 and frame1")
  return _tvl1_jit(_as_float(frame0), _as_float(frame1), **_params(params))


def tvl1_batch(frames0_NHW, frames1_NHW, *, vectorize: str = "vmap",
               **params) -> jnp.ndarray:
  """`tvl1` over N frame pairs in one jitted call.

  Args:
    frames0_NHW: (N, H, W) reference frames.
    frames1_NHW: (N, H, W) moving frames.
    vectorize: 'vmap' (all pairs in lock-step: the way to fill an
      accelerator) or 'map' (`lax.map`, one pair after the other inside the
      compiled call: the memory of one pair only). On the shared 2-core CPU
      'vmap' measured 0.4x-1.3x the speed of 'map' depending on the load
      (docs/FLOW.md): pass 'map' on a busy CPU. Both give the same flows.
    **params: as `tvl1`.

  Returns:
    (N, H, W, 2) float32 flows; `[n]` equals `tvl1(frames0[n], frames1[n])`.
  """
  _check_pair(frames0_NHW, frames1_NHW, 3, "frames0 and frames1")
  if vectorize not in ("vmap", "map"):
    raise InputError(f"tvl1_batch: vectorize must be 'vmap' or 'map', got "
                     f"{vectorize!r}")
  return _tvl1_batch_jit(_as_float(frames0_NHW), _as_float(frames1_NHW),
                         vectorize=vectorize, **_params(params))
