"""Tests for the shallow ConvLSTM of Shukla et al. and its ConvLSTM cell."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from mespot_jax.models import get_model
from mespot_jax.models import convlstm
from mespot_jax.models.convlstm import ConvLSTM
from mespot_jax.models.convlstm import ConvLSTMCell
from mespot_jax.models.convlstm import ShallowConvLSTM


def _random_params(module, x, seed=7, scale=0.5):
  """Every leaf random (zero biases and peepholes would hide bugs), drawn in
  numpy for the module's parameter tree (shapes from `jax.eval_shape`)."""
  shapes = jax.eval_shape(lambda: module.init(jax.random.key(1), x))["params"]
  rng = np.random.default_rng(seed)
  return jax.tree.map(
      lambda s: jnp.asarray(scale * rng.standard_normal(s.shape), s.dtype),
      shapes)


def _np_conv(x_bhwc, kernel, pad):
  """Cross-correlation written out tap by tap (what lax.conv computes)."""
  kh, kw = kernel.shape[:2]
  if pad == "SAME":
    x_bhwc = np.pad(x_bhwc, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2),
                             (0, 0)))
  b, h, w, _ = x_bhwc.shape
  out = np.zeros((b, h - kh + 1, w - kw + 1, kernel.shape[-1]))
  for dy in range(kh):
    for dx in range(kw):
      out += x_bhwc[:, dy:dy + h - kh + 1, dx:dx + w - kw + 1] @ kernel[dy, dx]
  return out


def _np_convlstm(p, x_bthwc, f, pad, peephole, gate):
  """Shi et al.'s equations (3), one gate at a time, plain numpy."""
  sig = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)),
         "hard_sigmoid": lambda z: np.clip(0.2 * z + 0.5, 0, 1)}[gate]
  p = jax.tree.map(np.asarray, p)
  wx, bx = p["input_conv"]["kernel"], p["input_conv"]["bias"]
  wh = p["recurrent_conv"]["kernel"]
  gate_of = lambda a, g: a[..., "ifco".index(g) * f:("ifco".index(g) + 1) * f]
  x = np.asarray(x_bthwc, np.float64)
  b, t = x.shape[:2]
  hs, ws = convlstm.state_hw(x.shape[2], x.shape[3], wx.shape[0], pad)
  c = np.zeros((b, hs, ws, f))
  h = np.zeros((b, hs, ws, f))
  hs_t = []
  for step in range(t):
    pre = {g: _np_conv(x[:, step], gate_of(wx, g), pad)
              + _np_conv(h, gate_of(wh, g), "SAME") + gate_of(bx, g)
           for g in "ifco"}
    if peephole:
      pre["i"] = pre["i"] + p["peephole_i"] * c
      pre["f"] = pre["f"] + p["peephole_f"] * c
    c = sig(pre["f"]) * c + sig(pre["i"]) * np.tanh(pre["c"])
    if peephole:
      pre["o"] = pre["o"] + p["peephole_o"] * c  # Shi et al.: C_t here.
    h = sig(pre["o"]) * np.tanh(c)
    hs_t.append(h)
  return c, h, np.stack(hs_t, axis=1)


@pytest.mark.parametrize("pad,peephole,gate", [
    ("VALID", False, "sigmoid"), ("VALID", True, "sigmoid"),
    ("SAME", False, "sigmoid"), ("VALID", False, "hard_sigmoid")])
def test_scanned_layer_matches_numpy_equations(pad, peephole, gate):
  f = 3
  x = jax.random.uniform(jax.random.key(0), (2, 4, 6, 5, 2))
  layer = ConvLSTM(f, padding=pad, peephole=peephole, gate_activation=gate)
  params = _random_params(layer, x)
  (c, h), h_seq = jax.jit(lambda p: layer.apply({"params": p}, x))(params)
  want_c, want_h, want_seq = _np_convlstm(params["cell"], x, f, pad,
                                          peephole, gate)
  assert h_seq.shape == want_seq.shape
  np.testing.assert_allclose(h_seq, want_seq, atol=2e-5)
  np.testing.assert_allclose(c, want_c, atol=2e-5)
  np.testing.assert_allclose(h, want_h, atol=2e-5)
  np.testing.assert_array_equal(h_seq[:, -1], h)


class _LoopConvLSTM(nn.Module):
  """The same cell called frame by frame in Python: shares one param tree."""
  features: int
  peephole: bool = False

  @nn.compact
  def __call__(self, x_BTHWC):
    b, t, hh, ww, _ = x_BTHWC.shape
    hs, ws = convlstm.state_hw(hh, ww, 3, "VALID")
    carry = (jnp.zeros((b, hs, ws, self.features)),) * 2
    cell = ConvLSTMCell(self.features, peephole=self.peephole, name="cell")
    outs = []
    for step in range(t):
      carry, h = cell(carry, x_BTHWC[:, step])
      outs.append(h)
    return carry, jnp.stack(outs, axis=1)


@pytest.mark.parametrize("peephole", [False, True])
def test_scan_and_python_loop_agree_forward_and_gradient(peephole):
  x = jax.random.uniform(jax.random.key(2), (2, 3, 7, 6, 1))
  scanned = ConvLSTM(2, peephole=peephole)
  looped = _LoopConvLSTM(2, peephole=peephole)
  params = _random_params(scanned, x)
  loop_shapes = jax.tree.map(jnp.shape, jax.eval_shape(
      lambda: looped.init(jax.random.key(3), x))["params"])
  assert jax.tree.map(jnp.shape, params) == loop_shapes

  weights = jnp.linspace(-1.0, 1.0, 3 * 5 * 4 * 2).reshape(1, 3, 5, 4, 2)

  def scalar(module, p):
    (c, _), h_seq = module.apply({"params": p}, x)
    return jnp.sum(weights * h_seq) + jnp.sum(jnp.sin(c))

  # Both in one compiled program.
  (ys, gs), (yl, gl) = jax.jit(lambda p: (
      jax.value_and_grad(lambda p: scalar(scanned, p))(p),
      jax.value_and_grad(lambda p: scalar(looped, p))(p)))(params)
  np.testing.assert_allclose(ys, yl, rtol=1e-5)
  flat_s = jax.tree_util.tree_flatten_with_path(gs)[0]
  flat_l = dict(jax.tree_util.tree_flatten_with_path(gl)[0])
  assert len(flat_s) == len(flat_l) == (6 if peephole else 3)
  for path, g in flat_s:
    assert float(jnp.abs(g).max()) > 0, path  # every weight is reached
    np.testing.assert_allclose(g, flat_l[path], rtol=1e-4, atol=1e-6,
                               err_msg=jax.tree_util.keystr(path))


def _count(module, x_shape, **kw):
  variables = jax.eval_shape(
      lambda: module.init(jax.random.key(0), jnp.zeros(x_shape), **kw))
  return sum(l.size for l in jax.tree.leaves(variables))


def test_parameter_count_tiny_by_hand():
  # 4 gates x (input kernel 3*3*1*2 + recurrent kernel 3*3*2*2 + bias 2).
  assert 4 * (3 * 3 * (1 + 2) * 2 + 2) == 224
  assert _count(ConvLSTM(2), (1, 3, 6, 6, 1)) == 224
  # Peepholes: three (H', W', F) = (4, 4, 2) Hadamard tensors.
  assert _count(ConvLSTM(2, peephole=True), (1, 3, 6, 6, 1)) == 224 + 3 * 32
  # Whole model: state 4x4x2, pool 3x3x2 = 18, Dense 18*4+4, logits 4*3+3.
  model = ShallowConvLSTM(3, filters=2, dense_features=4)
  assert _count(model, (1, 3, 6, 6, 1), train=False) == 224 + 76 + 15


@pytest.mark.parametrize("classes,padding,want", [
    (5, "VALID", 11_664_421), (3, "VALID", 11_664_323),
    (5, "SAME", 12_205_093)])
def test_parameter_count_paper_config(classes, padding, want):
  # 9x90x90x1 input; VALID: state 88x88x32, pooled 87x87x32 (SAME: 89x89).
  cell = 4 * (3 * 3 * (1 + 32) * 32 + 32)
  side = 87 if padding == "VALID" else 89
  assert cell == 38_144
  assert cell + (side * side * 32 * 48 + 48) + (48 * classes + classes) == want
  model = ShallowConvLSTM(classes, padding=padding)
  assert _count(model, (1, 9, 90, 90, 1), train=False) == want


def test_forget_bias_starts_at_one_and_layout_is_keras():
  params = ConvLSTM(4).init(jax.random.key(0),
                            jnp.zeros((1, 2, 5, 5, 3)))["params"]["cell"]
  assert params["input_conv"]["kernel"].shape == (3, 3, 3, 16)
  assert params["recurrent_conv"]["kernel"].shape == (3, 3, 4, 16)
  assert "bias" not in params["recurrent_conv"]
  np.testing.assert_array_equal(params["input_conv"]["bias"],
                                [0] * 4 + [1] * 4 + [0] * 8)


def test_max_pool_matches_flax_reduce_window():
  x = jax.random.normal(jax.random.key(4), (2, 5, 4, 3))
  want = nn.max_pool(x, (2, 2), strides=(1, 1), padding="VALID")
  np.testing.assert_array_equal(convlstm.max_pool_2x2_stride1(x), want)


X_SHAPE = (3, 4, 10, 9, 1)


_PARAMS = []


def _model_and_params(**kw):
  # The parameters do not depend on the dropout rate: initialised once.
  model = ShallowConvLSTM(5, filters=4, dense_features=6, **kw)
  x = jax.random.uniform(jax.random.key(5), X_SHAPE)
  if not _PARAMS:
    _PARAMS.append(model.init(jax.random.key(6), x, train=False)["params"])
  return model, _PARAMS[0], x


def test_output_shape_and_dtype():
  model, params, x = _model_and_params()
  logits = model.apply({"params": params}, x, train=False)
  assert logits.shape == (3, 5) and logits.dtype == jnp.float32
  assert np.all(np.isfinite(logits))
  half = ShallowConvLSTM(5, filters=4, dense_features=6, dtype=jnp.bfloat16)
  low = half.apply({"params": params}, x, train=False)
  assert low.dtype == jnp.float32
  np.testing.assert_allclose(low, logits, atol=0.05)


def test_dropout_only_in_train_mode():
  model, params, x = _model_and_params(dropout_rate=0.5)
  apply = jax.jit(lambda rng, train: model.apply(
      {"params": params}, x, train=train, rngs={"dropout": rng}),
                  static_argnums=1)
  eval_a = apply(jax.random.key(1), False)
  eval_b = apply(jax.random.key(2), False)
  np.testing.assert_array_equal(eval_a, eval_b)
  # No rng needed either; jitted and eager agree to float rounding.
  np.testing.assert_allclose(
      eval_a, model.apply({"params": params}, x, train=False), rtol=1e-5,
      atol=1e-6)
  train_a = apply(jax.random.key(1), True)
  train_b = apply(jax.random.key(2), True)
  assert not np.allclose(train_a, train_b)
  assert not np.allclose(train_a, eval_a)
  no_drop, _, _ = _model_and_params(dropout_rate=0.0)
  np.testing.assert_allclose(
      no_drop.apply({"params": params}, x, train=True), eval_a, rtol=1e-5,
      atol=1e-6)


def test_frames_order_matters():
  model, params, x = _model_and_params()
  fwd = model.apply({"params": params}, x, train=False)
  rev = model.apply({"params": params}, x[:, ::-1], train=False)
  assert not np.allclose(fwd, rev, atol=1e-4)


def test_registry_builds_the_model():
  cfg = ml_collections.ConfigDict({"name": "shallow_convlstm",
                                   "num_classes": 3, "filters": 4,
                                   "dense_features": 6, "dtype": "bfloat16"})
  model = get_model(cfg)
  assert isinstance(model, ShallowConvLSTM)
  assert model.num_classes == 3 and model.dtype == jnp.bfloat16


def test_bad_inputs_are_named():
  model = ShallowConvLSTM(3, filters=2)
  with pytest.raises(ValueError, match="batch, frames, H, W, C"):
    model.init(jax.random.key(0), jnp.zeros((2, 9, 9, 1)), train=False)
  with pytest.raises(ValueError, match="gate_activation"):
    ConvLSTM(2, gate_activation="relu").init(
        jax.random.key(0), jnp.zeros((1, 2, 5, 5, 1)))
  with pytest.raises(ValueError, match="padding"):
    ConvLSTM(2, padding="full").init(jax.random.key(0),
                                     jnp.zeros((1, 2, 5, 5, 1)))


def test_method_builds_its_model_in_the_configured_dtype():
  from mespot_jax.config import load_module as load_config
  synthetic_convlstm = load_config("synthetic_convlstm")
  from mespot_jax import methods  # pylint: disable=g-import-not-at-top
  config = synthetic_convlstm.get_config("smoke")
  assert methods.get(config).step_fns.model.dtype == jnp.float32
  config.convlstm.model.dtype = "bfloat16"
  assert methods.get(config).step_fns.model.dtype == jnp.bfloat16
