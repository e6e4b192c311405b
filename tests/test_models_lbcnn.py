"""The LBCNN model: bilinear pooling, ROI crops, branches and weight sharing.

Bilinear pooling is checked against a 2-location, 2-channel feature map
worked by hand and by a numerical gradient check (float64); the ROI crop
against plain slicing (scale 1) and a constant image (any scale); the
model's output shape, that the global and local branches both reach the
logits, and the parameter count of shared against per-ROI weights.
"""
import jax
from jax import test_util as jtu
import jax.numpy as jnp
import numpy as np
import pytest

from mespot_jax import models
from mespot_jax.models import lbcnn


def test_bilinear_pool_known_answer():
  # Locations f1 = (1, 2), f2 = (3, 0): G = (f1 f1^T + f2 f2^T) / 2
  # = [[5, 1], [1, 2]]; sqrt -> [sqrt5, 1, 1, sqrt2]; its norm is 3.
  x = jnp.array([[[[1.0, 2.0], [3.0, 0.0]]]])  # (1, 1, 2, 2)
  got = np.asarray(lbcnn.bilinear_pool(x, eps=0.0))
  want = np.array([[np.sqrt(5), 1, 1, np.sqrt(2)]]) / 3
  np.testing.assert_allclose(got, want, rtol=1e-6)
  # Signed square root of a negative cross term: f1 = (1, -2), f2 = (1, 2)
  # gives G = [[1, 0], [0, 4]]; f1 = (2, -1) alone gives [[4, -2], [-2, 1]].
  neg = np.asarray(lbcnn.bilinear_pool(jnp.array([[[[2.0, -1.0]]]]), 0.0))
  np.testing.assert_allclose(
      neg, [[2, -np.sqrt(2), -np.sqrt(2), 1] / np.sqrt(4 + 2 + 2 + 1)],
      rtol=1e-6)


def test_bilinear_pool_is_unit_norm_and_location_order_free():
  x = jax.random.uniform(jax.random.key(0), (3, 4, 5, 6))
  y = lbcnn.bilinear_pool(x)
  np.testing.assert_allclose(np.linalg.norm(np.asarray(y), axis=1), 1.0,
                             rtol=1e-5)
  perm = x.reshape(3, 20, 6)[:, ::-1].reshape(3, 5, 4, 6)  # other layout
  np.testing.assert_allclose(np.asarray(lbcnn.bilinear_pool(perm)),
                             np.asarray(y), rtol=1e-5, atol=1e-7)


def test_bilinear_pool_gradient_check():
  with jax.enable_x64(True):
    x = jax.random.uniform(jax.random.key(1), (2, 3, 3, 4),
                           jnp.float64) + 0.1
    w = jax.random.normal(jax.random.key(2), (16,), jnp.float64)

    def f(x):  # bilinear_pool computes in float32: redo it in float64
      b, h, ww, c = x.shape
      flat = x.reshape(b, h * ww, c)
      g = jnp.einsum("bnc,bnd->bcd", flat, flat).reshape(b, -1) / (h * ww)
      g = jnp.sign(g) * jnp.sqrt(jnp.abs(g) + 1e-12)
      return (g / jnp.linalg.norm(g, axis=1, keepdims=True)) @ w

    jtu.check_grads(f, (x,), order=1, modes=("rev",), atol=1e-6, rtol=1e-6)
    # The float32 function's gradient agrees with the float64 reference.
    ref = jax.grad(lambda x: f(x).sum())(x)
  got = jax.grad(lambda x: (lbcnn.bilinear_pool(x) @ w.astype(jnp.float32)
                            ).sum())(x.astype(jnp.float32))
  np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-3,
                             atol=1e-5)


def test_crop_rois_matches_slicing_and_keeps_constants():
  img = jnp.arange(2 * 10 * 12 * 1, dtype=jnp.float32).reshape(2, 10, 12, 1)
  boxes = jnp.array([[[0, 0, 4, 4], [3, 2, 7, 6], [8, 6, 12, 10],
                      [5, 5, 9, 9]]] * 2, jnp.float32)
  got = np.asarray(lbcnn.crop_rois(img, boxes, 4))
  assert got.shape == (2, 4, 4, 4, 1)
  for b in range(2):
    for r, (x0, y0, x1, y1) in enumerate(np.asarray(boxes[b], int)):
      np.testing.assert_allclose(got[b, r], np.asarray(img[b, y0:y1, x0:x1]),
                                 atol=1e-4)
  flat = jnp.full((1, 10, 12, 1), 0.3)
  boxes = jnp.array([[[0, 0, 12, 10], [2, 3, 5, 5], [1, 1, 9, 3],
                      [4, 0, 6, 10]]], jnp.float32)
  np.testing.assert_allclose(np.asarray(lbcnn.crop_rois(flat, boxes, 6)),
                             0.3, atol=1e-5)


def _input(b=2, face=24, roi=12, c=1, seed=0):
  k1, k2 = jax.random.split(jax.random.key(seed))
  return {"face": jax.random.uniform(k1, (b, face, face, c)),
          "rois": jax.random.uniform(k2, (b, 4, roi, roi, c))}


SMALL = dict(name="lbcnn", features=(4, 6, 5), kernels=(3, 3, 3), hidden=8)


@pytest.fixture(scope="module")
def shared():
  model = models.get_model(SMALL)
  x = _input()
  return model, x, model.init(jax.random.key(0), x, train=False)


def test_logits_shape_and_training_mode(shared):
  model, x, variables = shared
  logits = model.apply(variables, x, train=False)
  assert logits.shape == (2, 3) and logits.dtype == jnp.float32
  out, upd = model.apply(variables, x, train=True, mutable=["batch_stats"],
                         rngs={"dropout": jax.random.key(1)})
  assert out.shape == (2, 3) and np.isfinite(np.asarray(out)).all()
  assert set(upd["batch_stats"]) == {"global", "local"}


def test_both_branches_reach_the_logits(shared):
  model, x, variables = shared
  g = jax.grad(lambda x: model.apply(variables, x, train=False).sum())(x)
  assert np.abs(np.asarray(g["face"])).sum() > 0
  for r in range(4):  # every ROI, not only the first
    assert np.abs(np.asarray(g["rois"][:, r])).sum() > 0


def test_roi_weights_shared_or_not():
  x = _input()
  count = lambda v: sum(a.size for a in jax.tree.leaves(v["params"]))
  # Shapes are all this checks: abstract initialisation, nothing compiled.
  one = jax.eval_shape(lambda: models.get_model(SMALL).init(
      jax.random.key(0), x, train=False))
  four = jax.eval_shape(lambda: models.get_model(
      dict(SMALL, share_roi_weights=False)).init(
          jax.random.key(0), x, train=False))
  conv = lambda p: sum(a.size for a in jax.tree.leaves(p))
  per_backbone = conv(one["params"]["global"])
  # Same fusion layer (5 pooled features of 5 x 5 each), 3 more backbones.
  assert count(four) - count(one) == 3 * per_backbone
  assert set(four["params"]) == {"global", "local0", "local1", "local2",
                                 "local3", "fc1", "fc2"}
  assert one["params"]["fc1"]["kernel"].shape == (5 * 25, 8)
