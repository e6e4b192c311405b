#!/usr/bin/env bash
# The accelerator suite in one command, on a machine with a GPU (or TPU):
#
#   bash benchmarks/accelerator_suite.sh
#
# Every registered method that trains, all 30 LOSO folds of SAMM-LV's size
# in one vmapped program against folds looped, bfloat16 against float32:
# samples/s and the fraction of the chip's roofline (XLA cost analysis).
# Writes benchmarks/results/accelerator_suite_<device>.json and .md.
# Needs the project installed with an accelerator build of jax (e.g.
# `pip install -e ".[cuda]"` or `pip install -U "jax[cuda12]"`); nothing is
# downloaded at run time (the tiny synthetic dataset is built locally).
# Extra arguments go to benchmarks/accelerator_suite.py, e.g. --reduced
# (2 folds, smoke sizes: what the tests run on CPU) or --methods=yap3dcnn.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .venv/bin/activate ]; then . .venv/bin/activate; fi
DEVICE=$(python -c "import jax; print(jax.devices()[0].device_kind.replace(' ', '_').replace('/', '_'))")
echo "accelerator suite on ${DEVICE} ($(python -c 'import jax; print(jax.default_backend())'))"
# The whole suite: about 5 methods x 2 dtypes x 2 modes, each compiled once.
exec timeout "${SUITE_TIMEOUT_S:-3000}" python benchmarks/accelerator_suite.py \
  --folds=30 --steps=10 \
  --out="benchmarks/results/accelerator_suite_${DEVICE}.json" "$@"
