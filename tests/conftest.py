"""Test set-up: four host devices, so the fold-axis sharding runs on CPU.

XLA reads the flag when JAX initialises its backend, so it is set before
any test imports jax.
"""
import os

_FLAG = "--xla_force_host_platform_device_count=4"
if _FLAG not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " +
                             _FLAG).strip()
