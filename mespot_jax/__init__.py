"""mespot-jax: spot facial micro- and macro-expressions in long videos with JAX/Flax."""

__version__ = "0.1.0"
