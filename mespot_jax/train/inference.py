"""Inference helpers shared by the methods' scorers."""
import jax


def resolve_batch_size(batch_size: int) -> int:
  """Scoring batch: `batch_size`, or per backend when 0.

  On CPU small batches keep the activations in cache (32 frames: 117
  frames/s at 112x112 against 86 at 128, benchmarks/score_throughput.py);
  accelerators want large batches.
  """
  if batch_size:
    return int(batch_size)
  return 32 if jax.default_backend() == "cpu" else 256
