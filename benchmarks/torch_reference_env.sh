#!/usr/bin/env bash
# Optional separate environment for the PyTorch torch.func NTK peer (the library never
# imports torch). Used by benchmarks/bench_ntk_layered.py and benchmarks/bench_ntk.py
# through benchmarks/_torch_layered_runner.py (found with --torch-python, $TORCH_PYTHON,
# /work/torch-venv or /tmp/torchenv); both benchmarks skip torch.func with a note when it
# is missing.
#   bash benchmarks/torch_reference_env.sh [/work/torch-venv]
# The plain torch==2.14.1 wheel from the package registry (it bundles CUDA libraries);
# here it runs on the CPU: the benchmarks never move tensors to a GPU, and the worker sets
# torch.set_num_threads to the cores it may use.
set -euo pipefail
VENV="${1:-/work/torch-venv}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --no-cache-dir "torch==2.14.1" numpy
"$VENV/bin/python" -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__, 'threads', torch.get_num_threads())"
