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

  def run(impl):
    def loss(p, xx):
      y = mods[impl].apply({"params": p}, xx)
      return jnp.sum(jnp.sin(y) * jnp.arange(y.size).reshape(y.shape) / y.size)
    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(params, x), \
        mods[impl].apply({"params": params}, x)

  (lg, (gpg, gxg)), yg = run("grouped")
  (ls, (gps, gxs)), ys = run("shifted")
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
  shapes = jax.tree.map(jnp.shape, ours.init(jax.random.key(0), x)["params"])
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


def test_grouped_and_shifted_models_agree(model_fns):
  # 'auto' is one of the two; compare it (compiled already) to the other.
  other = {"shifted": "grouped", "grouped": "shifted"}[
      layers.resolve_depthwise_impl("auto")]
  init, _, infer_s = model_fns()
  _, _, infer_g = model_fns(depthwise_impl=other)
  variables = init(jax.random.key(5))
  np.testing.assert_allclose(infer_s(variables, _x()), infer_g(variables, _x()),
                             atol=1e-5)


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
