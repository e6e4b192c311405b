"""The PyTorch peer of benchmarks/model_throughput.py computes our 3D-CNN.

An independent transcription (PyTorch's grouped Conv3d, BatchNorm3d,
MaxPool3d) given our Flax weights must give our outputs, losses and
gradients; skipped where torch (the optional `bench` extra) is absent.
"""
import importlib.util
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mespot_jax.models.yap3dcnn import Yap3DCNN
from mespot_jax.train.losses import yap_weighted_bce

torch = pytest.importorskip("torch")

_PATH = os.path.join(os.path.dirname(__file__), "..", "benchmarks",
                     "torch_peer.py")
_spec = importlib.util.spec_from_file_location("torch_peer", _PATH)
torch_peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(torch_peer)

KW = dict(channels=(4, 8, 8), dense_features=16)


def _setup(dropout_rate=0.2):
  x = np.asarray(jax.random.uniform(jax.random.key(0), (3, 2, 2, 16, 12, 1)))
  model = Yap3DCNN(dropout_rate=dropout_rate, **KW)
  v = model.init(jax.random.key(1), x, train=False)
  # Non-trivial biases, scales and running statistics.
  keys = iter(jax.random.split(jax.random.key(2), 64))
  v = jax.tree.map(lambda a: a + 0.1 * jax.random.normal(next(keys), a.shape),
                   v)
  v = {"params": v["params"],
       "batch_stats": jax.tree.map(jnp.abs, v["batch_stats"])}
  peer = torch_peer.Peer(dropout_rate=dropout_rate, **KW)
  return x, model, v, torch_peer.load_flax_variables(peer, v)


def test_peer_inference_equals_ours_on_shared_weights():
  x, model, v, peer = _setup()
  with torch.no_grad():
    want = peer.eval()(torch.from_numpy(x.copy())).numpy()
  got = np.asarray(model.apply(v, x, train=False))
  assert np.abs(got).max() > 0.1       # not a vanishing output
  np.testing.assert_allclose(got, want, atol=1e-5)


def test_peer_training_forward_loss_and_grads_equal_ours():
  # Dropout masks come from different generators: compare without dropout
  # (batch statistics of the batch, both streams pooled, as ours).
  x, model, v, peer = _setup(dropout_rate=0.0)
  y = np.array([[1, 0], [0, 1], [0, 0]], np.float32)

  def loss(p):
    logits, _ = model.apply({"params": p, "batch_stats": v["batch_stats"]},
                            x, train=True, mutable=["batch_stats"])
    return yap_weighted_bce(logits, y)

  ours, grads = jax.value_and_grad(loss)(v["params"])
  peer.train()
  theirs = torch_peer.weighted_bce(peer(torch.from_numpy(x.copy())),
                                   torch.from_numpy(y))
  theirs.backward()
  np.testing.assert_allclose(float(ours), theirs.item(), rtol=1e-5)
  g_pw = grads["stream"]["block_1"]["pointwise"]["kernel"]      # (Cm, F)
  np.testing.assert_allclose(
      g_pw, peer.blocks[1].pw.weight.grad.numpy()[:, :, 0, 0, 0].T,
      atol=1e-5, rtol=1e-4)
  g_dw = grads["stream"]["block_0"]["depthwise"]["kernel"]  # (3,3,3,1,Cm)
  np.testing.assert_allclose(
      np.transpose(g_dw, (4, 3, 0, 1, 2)), peer.blocks[0].dw.weight.grad,
      atol=1e-5, rtol=1e-4)
  np.testing.assert_allclose(grads["dense_0"]["kernel"],
                             peer.dense_0.weight.grad.numpy().T,
                             atol=1e-5, rtol=1e-4)
