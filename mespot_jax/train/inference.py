"""Inference helpers shared by the methods' scorers."""
import jax
import numpy as np


def resolve_batch_size(batch_size: int) -> int:
  """Scoring batch: `batch_size`, or per backend when 0.

  On CPU small batches keep the activations in cache (32 frames: 117
  frames/s at 112x112 against 86 at 128, benchmarks/score_throughput.py);
  accelerators want large batches.
  """
  if batch_size:
    return int(batch_size)
  return 32 if jax.default_backend() == "cpu" else 256


def predict_in_batches(predict, variables, x_N, batch_size: int = 0):
  """`predict(variables, {"x": batch})` over the rows of `x_N` in batches
  of one fixed size (the last padded with zeros), so that the jitted
  predictor compiles once: the one padded, batched scoring loop.

  Args:
    predict: jitted `(variables, {"x": (B, ...)}) -> pytree of (B, ...)`.
    variables: the model variables.
    x_N: (N, ...) inputs.
    batch_size: rows per call; 0 = per backend (`resolve_batch_size`).

  Returns:
    The outputs of the N rows (the pytree of `predict`, each leaf (N, ...)
    on the host), or None when N is 0.
  """
  bs = resolve_batch_size(batch_size)
  x_N = np.asarray(x_N)
  outs = []
  for start in range(0, len(x_N), bs):
    chunk = x_N[start:start + bs]
    pad = np.zeros((bs,) + chunk.shape[1:], chunk.dtype)
    pad[:len(chunk)] = chunk
    out = jax.device_get(predict(variables, {"x": pad}))
    outs.append(jax.tree.map(lambda a, n=len(chunk): np.asarray(a)[:n], out))
  if not outs:
    return None
  return jax.tree.map(lambda *a: np.concatenate(a), *outs)
