"""The 3D-CNN's frames-next-to-channels layout (NHWTC) and per-block choice.

Each new piece is checked against an independent reference (XLA's 3-D
convolution, the grouped conv) and the whole model in its CPU default
against the formulation it replaced ('fused' in NTHWC): same parameter
tree, same outputs, same dropout masks, gradients and batch statistics.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mespot_jax.models import layers
from mespot_jax.models import yap3dcnn
from mespot_jax.models.yap3dcnn import Yap3DCNN

_T = (0, 2, 3, 1, 4)    # NTHWC -> NHWTC
_BACK = (0, 3, 1, 2, 4)  # NHWTC -> NTHWC


@pytest.mark.parametrize("t,cin,feats", [(2, 1, 6), (2, 3, 5), (3, 2, 4)])
def test_full_conv_nhwtc_is_the_3d_conv(t, cin, feats):
  x = jax.random.normal(jax.random.key(0), (2, t, 7, 6, cin))
  k = jax.random.normal(jax.random.key(1), (3, 3, 3, cin, feats))
  want = jax.lax.conv_general_dilated(
      x, k, (1, 1, 1), "SAME", dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))
  got = yap3dcnn.full_conv_nhwtc(jnp.transpose(x, _T), k)
  np.testing.assert_allclose(jnp.transpose(got, _BACK), want, atol=1e-5)


@pytest.mark.parametrize("cin,mult,t", [(4, 1, 2), (2, 3, 2), (3, 1, 3)])
def test_depthwise_shifted_nhwtc_is_the_grouped_conv(cin, mult, t):
  x = jax.random.normal(jax.random.key(2), (2, t, 5, 6, cin))
  k = jax.random.normal(jax.random.key(3), (3, 3, 3, 1, cin * mult))
  want = layers.depthwise_grouped(x, k)
  got = yap3dcnn.depthwise_shifted_nhwtc(jnp.transpose(x, _T), k)
  np.testing.assert_allclose(jnp.transpose(got, _BACK), want, atol=1e-5)


def test_resolve_layout_and_per_block_choice():
  assert yap3dcnn.resolve_layout("auto", "cpu") == "NHWTC"
  assert yap3dcnn.resolve_layout("auto", "gpu") == "NTHWC"
  assert yap3dcnn.resolve_layout("NTHWC", "cpu") == "NTHWC"
  with pytest.raises(ValueError, match="layout"):
    yap3dcnn.resolve_layout("NCHW")
  assert yap3dcnn.resolve_block_impl("auto", 1, "cpu") == "fused"
  assert yap3dcnn.resolve_block_impl("auto", 16, "cpu") == "shifted"
  assert yap3dcnn.resolve_block_impl("auto", 16, "tpu") == "grouped"


@pytest.mark.parametrize("impl", yap3dcnn.BLOCK_IMPLS)
def test_block_layouts_agree_with_the_same_dropout_mask(impl):
  x = jax.random.normal(jax.random.key(4), (2, 2, 6, 8, 3))
  mk = lambda layout: yap3dcnn.SeparableBlock(5, depthwise_impl=impl,
                                              layout=layout)
  v = mk("NTHWC").init(jax.random.key(5), x, train=False)
  assert jax.tree.structure(mk("NHWTC").init(
      jax.random.key(5), jnp.transpose(x, _T), train=False)) == \
      jax.tree.structure(v)
  rngs = {"dropout": jax.random.key(6, impl="rbg")}
  want, _ = mk("NTHWC").apply(v, x, train=True, rngs=rngs,
                              mutable=["batch_stats"])
  got, _ = mk("NHWTC").apply(v, jnp.transpose(x, _T), train=True, rngs=rngs,
                             mutable=["batch_stats"])
  got = jnp.transpose(got, _BACK)
  assert float(jnp.mean(want == 0)) > 0.05     # dropout did drop units
  np.testing.assert_array_equal(got == 0, want == 0)
  np.testing.assert_allclose(got, want, atol=1e-5)


def _random_variables(model, x):
  """Random parameters and non-trivial batch statistics, drawn in numpy
  for the model's variable tree (its shapes from `jax.eval_shape`)."""
  shapes = jax.eval_shape(lambda: model.init(jax.random.key(8), x,
                                             train=False))
  rng = np.random.default_rng(9)

  def draw(path, s):
    name = jax.tree_util.keystr(path)
    z = rng.standard_normal(s.shape)
    if "kernel" in name:    # lecun-normal scale, as at init
      z = z / np.sqrt(np.prod(s.shape[:-1]))
    elif "scale" in name or "var" in name:
      z = 1.0 + 0.1 * z
    else:
      z = 0.1 * z
    if "batch_stats" in name:
      z = np.abs(z)
    return jnp.asarray(z, s.dtype)
  v = jax.tree_util.tree_map_with_path(draw, shapes)
  return {"params": v["params"], "batch_stats": v["batch_stats"]}


def _train_and_eval(model, v, x):
  """Eval logits; training logits, new batch stats and gradients."""
  rngs = {"dropout": jax.random.key(10, impl="rbg")}

  def loss(p):
    y, upd = model.apply({**v, "params": p}, x, train=True, rngs=rngs,
                         mutable=["batch_stats"])
    return jnp.sum(jax.nn.sigmoid(y) * jnp.array([1.0, 2.0])), (y, upd)
  (_, aux), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(
      v["params"])
  return jax.jit(lambda: model.apply(v, x, train=False))(), aux, grads


BEFORE = dict(depthwise_impl="fused", layout="NTHWC", fold_bn_eval=False,
              dropout_bits="bernoulli")


@pytest.mark.parametrize("bits", ["bernoulli", "threefry"])
def test_cpu_default_equals_the_formulation_it_replaced(bits):
  # Random weights, non-trivial batch statistics. The CPU default (per-block
  # choice, NHWTC, batch norm folded at inference) against the model before
  # (all 'fused', NTHWC, nn.BatchNorm at inference), under either way of
  # drawing dropout masks: eval logits, training logits under one dropout
  # key, new batch statistics and parameter gradients agree.
  x = jax.random.uniform(jax.random.key(7), (3, 2, 2, 16, 12, 1))
  old = Yap3DCNN(channels=(4, 8, 8), **{**BEFORE, "dropout_bits": bits})
  new = Yap3DCNN(channels=(4, 8, 8), dropout_bits=bits)
  v = _random_variables(old, x)
  assert jax.tree.structure(jax.eval_shape(lambda: new.init(
      jax.random.key(8), x, train=False))) == jax.tree.structure(v)
  want, got = _train_and_eval(old, v, x), _train_and_eval(new, v, x)
  assert float(jnp.abs(want[0]).max()) > 0.1
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
    np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4)


def test_folded_inference_equals_batch_norm_inference():
  x = jax.random.uniform(jax.random.key(11), (3, 2, 2, 16, 12, 1))
  # Every impl and layout shares one variable tree: one draw serves all.
  v = _random_variables(Yap3DCNN(channels=(4, 8, 8)), x)
  for impl in yap3dcnn.BLOCK_IMPLS:
    for layout in yap3dcnn.LAYOUTS:
      kw = dict(channels=(4, 8, 8), depthwise_impl=impl, layout=layout)
      np.testing.assert_allclose(
          Yap3DCNN(**kw).apply(v, x, train=False),
          Yap3DCNN(fold_bn_eval=False, **kw).apply(v, x, train=False),
          atol=1e-5, rtol=1e-5)
  # Without batch norm the fold is the plain bias.
  kw = dict(channels=(4, 8, 8), use_batchnorm=False)
  v = Yap3DCNN(**kw).init(jax.random.key(12), x, train=False)
  np.testing.assert_allclose(
      Yap3DCNN(**kw).apply(v, x, train=False),
      Yap3DCNN(fold_bn_eval=False, **kw).apply(v, x, train=False), atol=1e-5)


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_threefry_dropout_drops_at_the_rate(rate):
  drop = yap3dcnn._Dropout(rate, bits="threefry")
  x = jnp.ones((8, 2, 40, 40, 16))           # 409,600 units
  key = jax.random.key(13, impl="rbg")
  y = drop.apply({}, x, deterministic=False, rngs={"dropout": key})
  kept = np.asarray(y != 0)
  n = kept.size
  # Within 5 standard deviations of the binomial keep rate.
  assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / n)
  np.testing.assert_allclose(np.asarray(y)[kept], 1 / (1 - rate), rtol=1e-6)
  # Units are independent of their neighbours (no repeated pattern).
  flat = kept.reshape(-1).astype(np.float64)
  corr = np.corrcoef(flat[:-1], flat[1:])[0, 1]
  assert abs(corr) < 0.02
  other = drop.apply({}, x, deterministic=False,
                     rngs={"dropout": jax.random.key(14, impl="rbg")})
  # Another key: an independent mask (agreement p^2 + (1-p)^2).
  agree = float(jnp.mean((other != 0) == kept))
  assert abs(agree - (rate ** 2 + (1 - rate) ** 2)) < 0.01
  assert yap3dcnn.resolve_dropout_bits("auto", (4,), "cpu") == "threefry"
  assert yap3dcnn.resolve_dropout_bits("auto", (2,), "cpu") == "bernoulli"
  assert yap3dcnn.resolve_dropout_bits("auto", (4,), "gpu") == "bernoulli"
