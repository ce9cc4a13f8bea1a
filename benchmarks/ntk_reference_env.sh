#!/usr/bin/env bash
# Separate environment for the neural-tangents reference (it needs an older JAX than
# spectral_jax). Used by benchmarks/bench_ntk.py through benchmarks/_nt_runner.py.
#   bash benchmarks/ntk_reference_env.sh [/work/nt-venv]
set -euo pipefail
VENV="${1:-/work/nt-venv}"
python3 -m venv "$VENV"
PIP_CONSTRAINT= "$VENV/bin/pip" install --no-cache-dir \
  "neural-tangents==0.6.5" "jax==0.4.23" "jaxlib==0.4.23" "numpy<2" "scipy<1.13"
"$VENV/bin/python" -c "import jax, neural_tangents as nt; print('jax', jax.__version__, 'neural-tangents', nt.__version__)"
