"""Helpers shared by the benchmark scripts: timing, XLA's FLOP count and
the 3D-CNN's plain Adam training step.

Nothing here imports a framework at module level, so the PyTorch peer's
process (`torch_peer.py`) can use the timing without loading JAX.
"""
import statistics
import time


def median_seconds(fn, steps: int) -> float:
  """Median seconds per call of `fn()` over `steps` calls (`fn` must block
  until its work is done; warm up before calling this)."""
  times = []
  for _ in range(steps):
    t0 = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t0)
  return statistics.median(times)


def xla_flops(compiled) -> float:
  """FLOPs of a compiled JAX computation from XLA's cost analysis (NaN
  when it has none)."""
  cost = compiled.cost_analysis()
  if isinstance(cost, (list, tuple)):  # older JAX: one dict per device
    cost = cost[0] if cost else {}
  return float((cost or {}).get("flops", float("nan")))


def yap_adam_step(model, tx):
  """`step(state, x, y, rng) -> (state, rng, loss)`: forward, the weighted
  BCE, backward and an optax update of the 3D-CNN, with dropout keys split
  from `rng`; `state` is (params, batch_stats, opt_state)."""
  import jax  # pylint: disable=g-import-not-at-top
  import optax  # pylint: disable=g-import-not-at-top
  from mespot_jax.train.losses import yap_weighted_bce  # pylint: disable=g-import-not-at-top

  def step(state, x, y, rng):
    params, stats, opt = state
    rng, drop = jax.random.split(rng)

    def loss_fn(p):
      logits, upd = model.apply({"params": p, "batch_stats": stats}, x,
                                train=True, rngs={"dropout": drop},
                                mutable=["batch_stats"])
      return yap_weighted_bce(logits, y), upd["batch_stats"]

    (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt = tx.update(grads, opt, params)
    return (optax.apply_updates(params, updates), stats, opt), rng, loss

  return step
