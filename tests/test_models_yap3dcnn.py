"""Tests for the Yap et al. two-stream 3D-CNN and its depthwise conv layer."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from mespot_jax.errors import InputError
from mespot_jax.models import get_model
from mespot_jax.models import layers
from mespot_jax.models import yap3dcnn
from mespot_jax.models.yap3dcnn import Yap3DCNN

X_SHAPE = (2, 2, 2, 16, 16, 1)   # batch, streams, frames, H, W, C


def _x(seed=0):
  return jax.random.uniform(jax.random.key(seed), X_SHAPE)


# --- depthwise formulations ------------------------------------------------

@pytest.mark.parametrize("cin,features", [(4, 8), (1, 8), (8, 8)])
def test_depthwise_formulations_agree(cin, features):
  x = jax.random.normal(jax.random.key(1), (2, 3, 6, 5, cin))
  mods = {i: layers.DepthwiseConv3D(features, impl=i)
          for i in layers.DEPTHWISE_IMPLS}
  params = mods["grouped"].init(jax.random.key(2), x)["params"]
  params = {"kernel": params["kernel"], "bias": params["bias"] + 0.1}

  def run(impl, p, xx):
    def loss(p, xx):
      y = mods[impl].apply({"params": p}, xx)
      return (jnp.sum(jnp.sin(y) * jnp.arange(y.size).reshape(y.shape)
                      / y.size), y)
    (l, y), g = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(p, xx)
    return l, g, y

  # Both formulations in one compiled program.
  both = jax.jit(lambda p, xx: (run("grouped", p, xx), run("shifted", p, xx)))
  (lg, (gpg, gxg), yg), (ls, (gps, gxs), ys) = both(params, x)
  np.testing.assert_allclose(ys, yg, atol=1e-5)
  np.testing.assert_allclose(ls, lg, rtol=1e-5)
  np.testing.assert_allclose(gxs, gxg, atol=1e-5)
  np.testing.assert_allclose(gps["kernel"], gpg["kernel"], atol=1e-4)
  np.testing.assert_allclose(gps["bias"], gpg["bias"], atol=1e-4)


def test_depthwise_layout_is_flax_grouped_conv():
  x = jax.random.normal(jax.random.key(3), (2, 2, 5, 5, 4))
  conv = nn.Conv(8, (3, 3, 3), feature_group_count=4)
  params = conv.init(jax.random.key(4), x)["params"]
  params = {"kernel": params["kernel"], "bias": params["bias"] + 0.3}
  want = conv.apply({"params": params}, x)
  ours = layers.DepthwiseConv3D(8, impl="shifted")
  shapes = jax.tree.map(jnp.shape, jax.eval_shape(
      lambda: ours.init(jax.random.key(0), x))["params"])
  assert shapes == jax.tree.map(jnp.shape, params)
  np.testing.assert_allclose(ours.apply({"params": params}, x), want,
                             atol=1e-5)


def test_resolve_depthwise_impl():
  assert layers.resolve_depthwise_impl("auto", "cpu") == "shifted"
  assert layers.resolve_depthwise_impl("auto", "gpu") == "grouped"
  assert layers.resolve_depthwise_impl("auto", "tpu") == "grouped"
  assert layers.resolve_depthwise_impl("grouped", "cpu") == "grouped"
  with pytest.raises(ValueError, match="depthwise_impl"):
    layers.resolve_depthwise_impl("fft")


@pytest.mark.parametrize("cin,mult,feats,t", [(1, 4, 3, 2), (3, 1, 5, 2),
                                               (2, 2, 3, 3), (2, 1, 4, 1)])
def test_fused_conv_equals_depthwise_then_pointwise(cin, mult, feats, t):
  ks = jax.random.split(jax.random.key(11), 5)
  x = jax.random.normal(ks[0], (2, t, 5, 4, cin))
  dw_k = jax.random.normal(ks[1], (3, 3, 3, 1, cin * mult))
  dw_b = jax.random.normal(ks[2], (cin * mult,))
  pw_k = jax.random.normal(ks[3], (cin * mult, feats))
  pw_b = jax.random.normal(ks[4], (feats,))

  def separable(x, dw_k, pw_k):
    return (layers.depthwise_grouped(x, dw_k) + dw_b) @ pw_k + pw_b

  def fused(x, dw_k, pw_k):
    k, b = layers.separable_to_full_kernel(dw_k, dw_b, pw_k, pw_b, cin)
    return layers.full_conv_frames(x, k) + b

  w = jax.random.normal(jax.random.key(12), (2, t, 5, 4, feats))
  grad = lambda f: jax.grad(lambda *a: jnp.sum(jnp.sin(f(*a)) * w),
                            argnums=(0, 1, 2))(x, dw_k, pw_k)

  @jax.jit
  def everything():  # one compiled program for all the checks below
    k, _ = layers.separable_to_full_kernel(dw_k, dw_b, pw_k, pw_b, cin)
    conv3d = jax.lax.conv_general_dilated(
        x, k, (1, 1, 1), "SAME",
        dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))
    return (separable(x, dw_k, pw_k), fused(x, dw_k, pw_k),
            layers.full_conv_frames(x, k), conv3d, grad(fused),
            grad(separable))

  want, got, full, conv3d, g_fused, g_sep = everything()
  assert got.shape == (2, t, 5, 4, feats)
  np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-5)
  # The fused kernel is a plain full 3-D conv kernel (SAME padding).
  np.testing.assert_allclose(full, conv3d, atol=1e-4, rtol=1e-5)
  # Gradients with respect to input and both stored kernels agree.
  for a, b in zip(g_fused, g_sep):
    np.testing.assert_allclose(a, b, atol=2e-4, rtol=1e-4)


def test_resolve_block_impl():
  assert yap3dcnn.resolve_block_impl("auto", 1, "cpu") == "fused"
  assert yap3dcnn.resolve_block_impl("auto", 16, "cpu") == "shifted"
  assert yap3dcnn.resolve_block_impl("auto", 16, "gpu") == "grouped"
  assert yap3dcnn.resolve_block_impl("shifted", 1, "cpu") == "shifted"
  with pytest.raises(ValueError, match="depthwise_impl"):
    yap3dcnn.resolve_block_impl("fft", 1)


class _ReferenceBlock(nn.Module):
  """The block as first written: DepthwiseConv3D + nn.Dense + BatchNorm."""
  features: int
  depth_multiplier: int = 1

  @nn.compact
  def __call__(self, x, train):
    cin = x.shape[-1]
    x = layers.DepthwiseConv3D(cin * self.depth_multiplier, impl="grouped",
                               name="depthwise")(x)
    x = nn.Dense(self.features, name="pointwise")(x)
    x = nn.BatchNorm(use_running_average=not train, momentum=0.99,
                     epsilon=1e-3, name="bn")(x)
    x = nn.Dropout(0.2, deterministic=not train)(nn.relu(x))
    return yap3dcnn.max_pool_hw(x)


@pytest.mark.parametrize("impl", yap3dcnn.BLOCK_IMPLS)
def test_block_matches_reference_params_outputs_and_dropout(impl):
  # Checkpoints stay loadable: same tree, same initial values; the same
  # function, including which units a given dropout key drops.
  x = jax.random.normal(jax.random.key(13), (2, 2, 6, 6, 1))
  ref = _ReferenceBlock(4, depth_multiplier=4)
  ours = yap3dcnn.SeparableBlock(4, depth_multiplier=4, depthwise_impl=impl)
  v_ref = ref.init(jax.random.key(14), x, train=False)
  v_ours = ours.init(jax.random.key(14), x, train=False)
  assert jax.tree.structure(v_ours) == jax.tree.structure(v_ref)
  for a, b in zip(jax.tree.leaves(v_ours), jax.tree.leaves(v_ref)):
    np.testing.assert_array_equal(a, b)
  rngs = {"dropout": jax.random.key(15, impl="rbg")}

  def loss(mod, params):
    y, upd = mod.apply({**v_ref, "params": params}, x, train=True, rngs=rngs,
                       mutable=["batch_stats"])
    return jnp.sum(jnp.sin(y)), (y, upd)

  (_, (y_ref, u_ref)), g_ref = jax.value_and_grad(
      lambda p: loss(ref, p), has_aux=True)(v_ref["params"])
  (_, (y_ours, u_ours)), g_ours = jax.value_and_grad(
      lambda p: loss(ours, p), has_aux=True)(v_ref["params"])
  np.testing.assert_allclose(y_ours, y_ref, atol=1e-5)
  assert np.array_equal(y_ours == 0, y_ref == 0)   # same dropout mask
  for a, b in zip(jax.tree.leaves((g_ours, u_ours)),
                  jax.tree.leaves((g_ref, u_ref))):
    np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)
  np.testing.assert_allclose(ours.apply(v_ref, x, train=False),
                             ref.apply(v_ref, x, train=False), atol=1e-5)


# --- the model -------------------------------------------------------------

@pytest.fixture(scope="module")
def model_fns():
  """Jitted init/apply shared by the model tests, keyed by variant."""
  cache = {}

  def get(**kw):
    key = tuple(sorted(kw.items()))
    if key not in cache:
      model = Yap3DCNN(**kw)
      init = jax.jit(lambda r: model.init(r, jnp.zeros(X_SHAPE), train=False))
      train = jax.jit(lambda v, x, r: model.apply(
          v, x, train=True, rngs={"dropout": r}, mutable=["batch_stats"]))
      infer = jax.jit(lambda v, x: model.apply(v, x, train=False))
      cache[key] = (init, train, infer)
    return cache[key]
  return get


def test_param_count_matches_reading():
  model = Yap3DCNN()
  shapes = jax.eval_shape(
      lambda: model.init(jax.random.key(0), jnp.zeros((1, 2, 2, 112, 112, 1)),
                         train=False))
  assert sum(a.size for a in jax.tree.leaves(shapes["params"])) == 38226
  shapes = jax.eval_shape(
      lambda: Yap3DCNN(expand_first=False).init(
          jax.random.key(0), jnp.zeros((1, 2, 2, 112, 112, 1)), train=False))
  assert sum(a.size for a in jax.tree.leaves(shapes["params"])) == 37566


def test_train_and_eval_shapes_with_rbg_dropout_key(model_fns):
  init, train, infer = model_fns()
  variables = init(jax.random.key(0))
  rng = jax.random.key(7, impl="rbg")
  logits, updates = train(variables, _x(), rng)
  assert logits.shape == (2, 2) and logits.dtype == jnp.float32
  assert np.isfinite(logits).all()
  # Batch statistics moved; eval is deterministic and uses them.
  old = jax.tree.leaves(variables["batch_stats"])
  new = jax.tree.leaves(updates["batch_stats"])
  assert any(not np.allclose(a, b) for a, b in zip(old, new))
  v2 = {**variables, **updates}
  np.testing.assert_array_equal(infer(v2, _x()), infer(v2, _x()))
  # Different dropout keys give different training outputs.
  other, _ = train(variables, _x(), jax.random.key(8, impl="rbg"))
  assert not np.allclose(logits, other)


def test_streams_share_weights_and_order(model_fns):
  init, _, infer = model_fns(use_lcn=False)
  variables = init(jax.random.key(1))
  x = _x(2)
  swapped = x[:, ::-1]
  # The same encoder sees both streams: swapping them permutes the halves
  # of the concatenated feature, so dense_0's input halves swap too.
  params = variables["params"]
  k = params["dense_0"]["kernel"]
  half = k.shape[0] // 2
  params_sw = {**params, "dense_0": {
      **params["dense_0"], "kernel": jnp.concatenate([k[half:], k[:half]])}}
  v_sw = {**variables, "params": params_sw}
  np.testing.assert_allclose(infer(v_sw, swapped), infer(variables, x),
                             atol=1e-5)
  assert not np.allclose(infer(variables, swapped), infer(variables, x))


def test_lcn_makes_model_brightness_invariant(model_fns):
  init, _, infer = model_fns()
  variables = init(jax.random.key(3))
  x = _x(4) * 0.5 + 0.25
  np.testing.assert_allclose(infer(variables, 0.6 * x + 0.2),
                             infer(variables, x), atol=1e-3)
  init_n, _, infer_n = model_fns(use_lcn=False)
  v_n = init_n(jax.random.key(3))
  assert not np.allclose(infer_n(v_n, 0.6 * x + 0.2), infer_n(v_n, x),
                         atol=1e-3)


def test_ablations_no_batchnorm_no_dropout(model_fns):
  init, train, infer = model_fns(use_batchnorm=False, dropout_rate=0.0)
  variables = init(jax.random.key(0))
  assert "batch_stats" not in variables
  logits, _ = train(variables, _x(), jax.random.key(1, impl="rbg"))
  assert logits.shape == (2, 2) and np.isfinite(logits).all()
  # Without dropout and batch statistics, training mode is deterministic
  # and equals inference.
  again, _ = train(variables, _x(), jax.random.key(2, impl="rbg"))
  np.testing.assert_allclose(logits, again, atol=1e-6)
  np.testing.assert_allclose(logits, infer(variables, _x()), atol=1e-5)


def test_model_formulations_agree_forward_and_gradients():
  # Every impl computes the same model: inference logits, and training
  # logits and parameter gradients under one dropout key.
  x = _x(6)
  variables = Yap3DCNN(channels=(4, 8, 8)).init(jax.random.key(5), x,
                                                train=False)
  rngs = {"dropout": jax.random.key(9, impl="rbg")}
  results = {}
  for impl in yap3dcnn.BLOCK_IMPLS:
    model = Yap3DCNN(channels=(4, 8, 8), depthwise_impl=impl)

    def loss(p, model=model):
      y, _ = model.apply({**variables, "params": p}, x, train=True,
                         rngs=rngs, mutable=["batch_stats"])
      return jnp.sum(jax.nn.sigmoid(y) * jnp.array([1.0, 2.0])), y

    (_, y_train), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(
        variables["params"])
    results[impl] = (model.apply(variables, x, train=False), y_train, grads)
  want = results["shifted"]
  for impl in ("grouped", "fused"):
    for a, b in zip(jax.tree.leaves(results[impl]), jax.tree.leaves(want)):
      np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4)


def test_get_model_registry():
  cfg = ml_collections.ConfigDict(
      {"name": "yap3dcnn", "channels": [4, 8, 8], "dropout_rate": 0.0,
       "dtype": "float32"})
  model = get_model(cfg)
  assert isinstance(model, Yap3DCNN)
  assert model.channels == (4, 8, 8) and model.dropout_rate == 0.0
  assert get_model(ml_collections.ConfigDict({"model": cfg})).channels == (4, 8, 8)
  with pytest.raises(InputError, match="model.bogus"):
    get_model(ml_collections.ConfigDict({"name": "yap3dcnn", "bogus": 1}))
  with pytest.raises(InputError, match="nope"):
    get_model(ml_collections.ConfigDict({"name": "nope"}))


def test_bfloat16_compute_is_close_to_float32_with_float32_params():
  # model.dtype: the convolutions and matmuls in bf16, parameters, batch
  # statistics and logits in f32; the scores of the tiny model stay within
  # a few hundredths of the f32 ones (bf16 keeps 8 mantissa bits).
  x = _x(7)
  f32 = Yap3DCNN(channels=(4, 8, 8))
  variables = f32.init(jax.random.key(3), x, train=False)
  bf16 = Yap3DCNN(channels=(4, 8, 8), dtype=jnp.bfloat16)
  shapes = jax.eval_shape(lambda: bf16.init(jax.random.key(3), x,
                                            train=False))
  assert jax.tree.structure(shapes) == jax.tree.structure(variables)
  assert all(a.dtype == jnp.float32 for a in jax.tree.leaves(shapes))
  y32 = jax.nn.sigmoid(f32.apply(variables, x, train=False))
  y16 = bf16.apply(variables, x, train=False)
  assert y16.dtype == jnp.float32
  np.testing.assert_allclose(jax.nn.sigmoid(y16), y32, atol=0.03)
  assert float(jnp.abs(jax.nn.sigmoid(y16) - y32).max()) > 0  # really bf16
