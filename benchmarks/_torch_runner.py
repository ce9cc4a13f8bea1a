"""Time PyTorch's ``torch.func`` empirical-NTK recipe (vmap over jacrev, then a per-leaf
Jacobian contraction) on one MLP workload, in float64.

Run with the separate environment made by ``benchmarks/torch_reference_env.sh`` (torch is
an optional benchmark extra, never imported by the library):

    /work/torch-venv/bin/python benchmarks/_torch_runner.py \\
        '{"d": 2, "widths": [128, 128, 128], "n": 500}'

Prints one line ``RESULT {json}``: versions, median/min time, the first call, and the
kernel's dtype and shape (the kernel is the trace over outputs, ``(N, N)``).
"""

import json
import resource
import sys
import time

cfg = json.loads(sys.argv[1])
limit_gb = cfg.get("mem_limit_gb", 16)
resource.setrlimit(resource.RLIMIT_AS, (int(limit_gb * 2**30), int(limit_gb * 2**30)))

import torch  # noqa: E402
from torch.func import functional_call, jacrev, vmap  # noqa: E402

torch.set_default_dtype(torch.float64)
if cfg.get("threads"):
    torch.set_num_threads(int(cfg["threads"]))
torch.manual_seed(0)

d, widths, n = cfg["d"], cfg["widths"], cfg["n"]
mods, fan_in = [], d
for w in widths:
    mods += [torch.nn.Linear(fan_in, w), torch.nn.ReLU()]
    fan_in = w
mods.append(torch.nn.Linear(fan_in, 1))
net = torch.nn.Sequential(*mods)
params = {k: v.detach() for k, v in net.named_parameters()}
x = torch.rand(n, d) * 2 - 1


def one(p, xi):
    """The network on one input (shape (d,)) -> outputs (O,)."""
    return functional_call(net, p, (xi[None],))[0]


def ntk(x1, x2):
    j1 = vmap(jacrev(one), (None, 0))(params, x1)
    j2 = vmap(jacrev(one), (None, 0))(params, x2)
    k = 0.0
    for name in j1:
        a = j1[name].flatten(2)  # (N1, O, p)
        b = j2[name].flatten(2)
        k = k + torch.einsum("iop,jop->ij", a, b)
    return k


repeats = cfg.get("repeats", 5)
res = {"torch": torch.__version__, "threads": torch.get_num_threads(), "cfg": cfg}
try:
    with torch.no_grad():
        t0 = time.perf_counter()
        k = ntk(x, x)
        res["first_call_s"] = time.perf_counter() - t0
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            ntk(x, x)
            ts.append(time.perf_counter() - t0)
    ts.sort()
    res.update(median_s=ts[len(ts) // 2], min_s=ts[0], dtype=str(k.dtype), shape=list(k.shape))
except Exception as err:  # noqa: BLE001 - record the failure (e.g. out of memory)
    res["error"] = f"{type(err).__name__}: {str(err)[:300]}"
res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps(res))
