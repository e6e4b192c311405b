"""The part-based recogniser's model with known answers: the gradient
reversal, lambda's schedule, the halves' pooling, the heads of each
ablation, the reversed adversarial gradient, and torchvision weights."""
import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mespot_jax.errors import InputError
from mespot_jax.methods import partnet as method_lib
from mespot_jax.models import partnet as P


def test_grad_reverse_identity_forward_minus_lambda_backward():
  x = jnp.array([1.0, 2.0, 3.0])
  c = jnp.array([1.0, -2.0, 0.5])
  np.testing.assert_array_equal(P.grad_reverse(x, 0.3), x)
  g = jax.grad(lambda x: jnp.sum(c * P.grad_reverse(x, 0.3)))(x)
  # d/dx sum(c x) = c, reversed and scaled: -0.3 c.
  np.testing.assert_allclose(g, [-0.3, 0.6, -0.15], rtol=1e-6)
  # No gradient flows into lambda.
  gl = jax.grad(lambda l: jnp.sum(c * P.grad_reverse(x, l)))(0.3)
  assert float(gl) == 0.0


def test_grl_lambda_schedule():
  assert float(P.grl_lambda(0.0)) == 0.0
  # 2 / (1 + e^-5) - 1 = 2 / 1.0067379 - 1
  assert float(P.grl_lambda(0.5)) == pytest.approx(0.9866143, abs=1e-6)
  assert float(P.grl_lambda(1.0, 2.0)) == pytest.approx(
      2 * (2 / (1 + np.exp(-10)) - 1), rel=1e-6)
  assert float(P.grl_lambda(0.1)) == pytest.approx(2 / (1 + np.exp(-1)) - 1,
                                                   rel=1e-6)


def test_split_halves_hand_worked():
  even = jnp.array([[1.0, 3.0], [5.0, 7.0]]).reshape(1, 2, 2, 1)
  top, bottom = P.split_halves(even)
  assert float(top[0, 0]) == 2.0 and float(bottom[0, 0]) == 6.0
  # Odd height: the middle row is in both halves.
  odd = jnp.array([[1.0, 3.0], [5.0, 7.0], [9.0, 11.0]]).reshape(1, 3, 2, 1)
  top, bottom = P.split_halves(odd)
  assert float(top[0, 0]) == 4.0 and float(bottom[0, 0]) == 8.0
  # Two channels pool independently.
  two = jnp.concatenate([even, 10 * even], -1)
  top, _ = P.split_halves(two)
  np.testing.assert_array_equal(top[0], [2.0, 20.0])


def _init(model, size=40, c=2):
  # Jitted: one compilation of the whole init, not op by op.
  x = {"x": jnp.zeros((2, size, size, c)), "lam": jnp.zeros(())}
  return jax.jit(model.init, static_argnames="train")(
      jax.random.key(0), x, train=False)


def _shapes(model, size=40, c=2):
  """The variables' shapes only (traced, nothing compiled or run)."""
  x = {"x": jnp.zeros((2, size, size, c)), "lam": jnp.zeros(())}
  return jax.eval_shape(lambda x: model.init(jax.random.key(0), x,
                                             train=False), x)


@pytest.mark.parametrize("parts,adversarial", [(True, True), (True, False),
                                               (False, True), (False, False)])
def test_heads_of_each_ablation(parts, adversarial):
  model = P.PartNet(3, width=4, parts=parts, adversarial=adversarial,
                    reduce_features=8, disc_features=6)
  v = _shapes(model)  # names and shapes only
  names = set(v["params"])
  assert ({"reduce_top", "reduce_bottom", "cls_top", "cls_bottom"} <= names) \
      == parts
  assert ("reduce" in names) == (not parts)
  assert ({"disc_hidden", "disc_out"} <= names) == adversarial
  out = jax.eval_shape(lambda v, x: model.apply(v, x, train=False), v,
                       {"x": jnp.ones((2, 40, 40, 2))})
  want = {"concat"} | ({"top", "bottom"} if parts else set()) | (
      {"domain"} if adversarial else set())
  assert set(out) == want
  for k in out:
    assert out[k].shape == ((2,) if k == "domain" else (2, 3))
  # The concatenated classifier sees both halves' reductions: 16 inputs.
  assert v["params"]["cls_concat"]["kernel"].shape == (16 if parts else 8, 3)


def test_too_small_a_flow_for_the_halves():
  with pytest.raises(ValueError, match="part heads need"):
    _shapes(P.PartNet(3, width=4), size=32)


def test_loss_gradients_finite_and_adversary_reversed():
  model = P.PartNet(3, width=4, reduce_features=8, disc_features=6)
  v = _init(model)
  rng = np.random.default_rng(0)
  batch = {"x": jnp.asarray(rng.normal(size=(4, 40, 40, 2)), jnp.float32),
           "y": jnp.array([0, 1, 2, 0]), "w": jnp.ones(4),
           "d": jnp.array([0.0, 0.0, 1.0, 1.0])}

  def total(params, lam):
    out, _ = model.apply({"params": params,
                          "batch_stats": v["batch_stats"]},
                         {"x": batch["x"], "lam": lam}, train=True,
                         mutable=["batch_stats"])
    return method_lib.part_loss(out, batch)

  # Gradients at lambda = 1, 0.5, -1: one compiled gradient, run thrice.
  grad = jax.jit(jax.grad(total))
  g1, g05, gm = (grad(v["params"], jnp.float32(lam))
                 for lam in (1.0, 0.5, -1.0))
  assert all(np.isfinite(np.asarray(a)).all() for a in jax.tree.leaves(g1))
  assert float(jnp.abs(g1["backbone"]["conv1"]["kernel"]).sum()) > 0
  # The discriminator descends its loss whatever lambda is ...
  for name in ("disc_out", "disc_hidden", "cls_top"):
    np.testing.assert_allclose(g05[name]["kernel"], g1[name]["kernel"],
                               rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(gm[name]["kernel"], g1[name]["kernel"],
                               rtol=1e-5, atol=1e-8)
  # ... the encoder's gradient is a + lambda b, b the reversed adversarial
  # gradient: g(-1) - g(1) = -2 b = -4 (g(1) - g(0.5)), and b is not 0.
  k = lambda g: np.asarray(g["reduce_top"]["kernel"], np.float64)
  b = 2 * (k(g1) - k(g05))
  assert np.abs(b).max() > 1e-6
  np.testing.assert_allclose(k(gm) - k(g1), -2 * b, rtol=1e-3, atol=1e-7)


# ---------------------------------------------------------- torchvision npz
def torchvision_resnet18_shapes(width=64, classes=1000) -> dict:
  """torchvision resnet18's state-dict keys and shapes, written out from
  its architecture (torchvision.models.resnet.BasicBlock, expansion 1)."""
  out = {}

  def bn(prefix, c):
    for leaf in ("weight", "bias", "running_mean", "running_var"):
      out[f"{prefix}.{leaf}"] = (c,)
    out[f"{prefix}.num_batches_tracked"] = ()

  out["conv1.weight"] = (width, 3, 7, 7)
  bn("bn1", width)
  c_in = width
  for s in range(4):
    c = width * 2 ** s
    for b in range(2):
      p = f"layer{s + 1}.{b}"
      out[f"{p}.conv1.weight"] = (c, c_in if b == 0 else c, 3, 3)
      bn(f"{p}.bn1", c)
      out[f"{p}.conv2.weight"] = (c, c, 3, 3)
      bn(f"{p}.bn2", c)
      if s > 0 and b == 0:
        out[f"{p}.downsample.0.weight"] = (c, c_in, 1, 1)
        bn(f"{p}.downsample.1", c)
    c_in = c
  out["fc.weight"] = (classes, 8 * width)
  out["fc.bias"] = (classes,)
  return out


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory):
  rng = np.random.default_rng(0)
  arrays = {k: rng.normal(size=s).astype(np.float32)
            for k, s in torchvision_resnet18_shapes(width=4).items()}
  arrays = {k: (np.asarray(7, np.int64) if k.endswith("tracked") else v)
            for k, v in arrays.items()}
  path = str(tmp_path_factory.mktemp("w") / "r18.npz")
  np.savez(path, **arrays)
  return path, arrays


def test_torch_key_names():
  assert P.torch_key(("layer2_0", "downsample_conv", "kernel")) == \
      "layer2.0.downsample.0.weight"
  assert P.torch_key(("layer4_1", "bn2", "var")) == "layer4.1.bn2.running_var"
  assert P.torch_key(("bn1", "mean")) == "bn1.running_mean"
  assert P.torch_key(("conv1", "kernel")) == "conv1.weight"


def test_load_torchvision_npz(small_npz):
  path, t = small_npz
  model = P.PartNet(3, width=4, reduce_features=8, disc_features=6)
  v = _init(model)
  new = P.load_torchvision_npz(v, path)
  bb = new["params"]["backbone"]
  # OIHW -> HWIO, element by element.
  k = np.asarray(bb["layer3_1"]["conv2"]["kernel"])
  w = t["layer3.1.conv2.weight"]
  assert k[2, 0, 5, 1] == w[1, 5, 2, 0] and k[1, 2, 0, 3] == w[3, 0, 1, 2]
  d = np.asarray(bb["layer2_0"]["downsample_conv"]["kernel"])
  assert d.shape == (1, 1, 4, 8) and d[0, 0, 3, 6] == t[
      "layer2.0.downsample.0.weight"][6, 3, 0, 0]
  # The stem: RGB averaged, copied to u and v.
  stem = np.asarray(bb["conv1"]["kernel"])
  assert stem.shape == (7, 7, 2, 4)
  mean = t["conv1.weight"][2, :, 4, 1].mean()
  assert stem[4, 1, 0, 2] == pytest.approx(mean, rel=1e-6)
  assert stem[4, 1, 1, 2] == pytest.approx(mean, rel=1e-6)
  # Batch norm: scale, bias, running statistics.
  np.testing.assert_array_equal(bb["layer1_0"]["bn1"]["scale"],
                                t["layer1.0.bn1.weight"])
  np.testing.assert_array_equal(
      new["batch_stats"]["backbone"]["layer4_1"]["bn2"]["var"],
      t["layer4.1.bn2.running_var"])
  # Heads untouched.
  np.testing.assert_array_equal(new["params"]["cls_top"]["kernel"],
                                v["params"]["cls_top"]["kernel"])
  # Every backbone array came from the file.
  n = len(flax.traverse_util.flatten_dict(v["params"]["backbone"])) + len(
      flax.traverse_util.flatten_dict(v["batch_stats"]["backbone"]))
  assert n == len(t) - 2 - sum(k.endswith("tracked") for k in t)
  # The model's `pretrained` attribute initialises the same way.
  pre = _init(P.PartNet(3, width=4, reduce_features=8, disc_features=6,
                        pretrained=path))
  np.testing.assert_array_equal(pre["params"]["backbone"]["layer3_1"][
      "conv2"]["kernel"], k)


def test_load_errors(small_npz, tmp_path):
  path, t = small_npz
  # Only the variables' shapes are read before each error.
  wide = _shapes(P.PartNet(3, width=8, reduce_features=8, disc_features=6))
  with pytest.raises(InputError, match="width=64"):
    P.load_torchvision_npz(wide, path)
  partial = str(tmp_path / "p.npz")
  np.savez(partial, **{k: v for k, v in t.items() if "layer4" not in k})
  v = _shapes(P.PartNet(3, width=4, reduce_features=8, disc_features=6))
  with pytest.raises(InputError, match="layer4"):
    P.load_torchvision_npz(v, partial)
  with pytest.raises(InputError, match="cannot read"):
    P.load_torchvision_npz(v, str(tmp_path / "missing.npz"))
