"""Tests for mespot_jax.train.losses (equation 2 of Yap et al.)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mespot_jax.train import losses


def _sig(z):
  return 1.0 / (1.0 + math.exp(-z))


def test_known_answer_one_example():
  logits = jnp.array([[0.3, -1.2]])
  labels = jnp.array([[1.0, 0.0]])
  w, m = 0.75, (0.1, 0.9)
  # Micro is present (positive term), macro absent (negative term).
  want = (m[0] * w * -math.log(_sig(0.3))
          + m[1] * (1 - w) * -math.log(1 - _sig(-1.2)))
  got = losses.LOSSES["yap_weighted_bce"](logits, labels, presence_weight=w,
                                          class_weights=m)
  assert float(got) == pytest.approx(want, rel=1e-6)
  assert float(got) > 0


def test_unweighted_ablation_is_plain_bce():
  logits = jnp.array([[0.3, -1.2], [2.0, 0.5]])
  labels = jnp.array([[1.0, 0.0], [0.0, 1.0]])
  s = np.array([[_sig(v) for v in row] for row in np.asarray(logits)])
  t = np.asarray(labels)
  want = np.mean(-(t * np.log(s) + (1 - t) * np.log(1 - s)))
  for got in (losses.LOSSES["bce"](logits, labels),
              losses.yap_weighted_bce(logits, labels, weighted=False)):
    assert float(got) == pytest.approx(want, rel=1e-6)


def test_half_weights_equal_half_bce_sum():
  logits = jax.random.normal(jax.random.key(0), (5, 2)) * 3
  labels = (jax.random.uniform(jax.random.key(1), (5, 2)) > 0.5) * 1.0
  got = losses.yap_weighted_bce(logits, labels, presence_weight=0.5,
                                class_weights=(1.0, 1.0))
  # 0.5 * (BCE summed over the 2 outputs) == mean BCE over the outputs.
  assert float(got) == pytest.approx(float(losses.bce(logits, labels)),
                                     rel=1e-6)


def test_extreme_logits_are_finite():
  logits = jnp.array([[200.0, -200.0]])
  labels = jnp.array([[0.0, 1.0]])
  got = losses.yap_weighted_bce(logits, labels)
  # -log(1 - s(200)) = 200; -log s(-200) = 200.
  assert float(got) == pytest.approx(0.1 * 0.25 * 200 + 0.9 * 0.75 * 200,
                                     rel=1e-5)
  g = jax.grad(losses.yap_weighted_bce)(logits, labels)
  assert np.isfinite(g).all()


def test_gradient_matches_finite_differences():
  logits = np.array([[0.3, -1.2], [1.5, 0.2], [-0.7, 2.2]], np.float64)
  labels = jnp.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
  mask = jnp.array([1.0, 0.5, 1.0])
  f = lambda z: losses.yap_weighted_bce(z, labels, mask, presence_weight=0.9)
  g = np.asarray(jax.grad(f)(jnp.asarray(logits, jnp.float32)))
  h = 1e-2
  for idx in np.ndindex(logits.shape):
    up, dn = logits.copy(), logits.copy()
    up[idx] += h
    dn[idx] -= h
    fd = (float(f(jnp.asarray(up, jnp.float32)))
          - float(f(jnp.asarray(dn, jnp.float32)))) / (2 * h)
    assert g[idx] == pytest.approx(fd, abs=2e-4)


def test_example_mask_drops_padding_rows():
  logits = jnp.array([[0.3, -1.2], [5.0, 5.0]])
  labels = jnp.array([[1.0, 0.0], [0.0, 0.0]])
  masked = losses.yap_weighted_bce(logits, labels, jnp.array([1.0, 0.0]))
  alone = losses.yap_weighted_bce(logits[:1], labels[:1])
  assert float(masked) == pytest.approx(float(alone), rel=1e-6)
  empty = losses.bce(logits, labels, jnp.zeros(2))
  assert float(empty) == 0.0


def test_class_weights_must_match_outputs():
  with pytest.raises(ValueError, match="class_weights"):
    losses.yap_weighted_bce(jnp.zeros((1, 3)), jnp.zeros((1, 3)))
