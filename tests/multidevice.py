"""Run a snippet in a subprocess with 4 simulated CPU devices.

``XLA_FLAGS=--xla_force_host_platform_device_count=4`` must be set before JAX starts,
so sharding tests run their code in a fresh interpreter and compare with single-device
results computed there too."""

import os
import subprocess
import sys
import textwrap


def run_with_devices(code: str, n: int = 4, timeout: int = 300) -> str:
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={n}"
    env["JAX_PLATFORMS"] = "cpu"
    prog = "import jax\njax.config.update('jax_enable_x64', True)\n" + textwrap.dedent(code)
    out = subprocess.run(
        [sys.executable, "-c", prog], env=env, capture_output=True, text=True, timeout=timeout
    )
    if out.returncode != 0:
        raise AssertionError(f"multi-device snippet failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout
