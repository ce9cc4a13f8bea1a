#!/usr/bin/env bash
# Separate environment for the PyTorch torch.func NTK reference (optional extra; the
# library never imports torch). Used by benchmarks/bench_ntk.py through
# benchmarks/_torch_runner.py; skipped with a note when the environment is missing.
#   bash benchmarks/torch_reference_env.sh [/work/torch-venv]
# On a GPU machine install the matching CUDA wheel instead of the +cpu one.
set -euo pipefail
VENV="${1:-/work/torch-venv}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --no-cache-dir "torch==2.13.0+cpu" numpy
"$VENV/bin/python" -c "import torch; print('torch', torch.__version__)"
