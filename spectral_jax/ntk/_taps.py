r"""The `eqx.nn.Linear` leaves of any Equinox model, tapped for the layered NTK.

A dense layer $y = W h + b$ called **once** per input contributes
$\partial f_o/\partial W = \delta^{o} h^\top$ and $\partial f_o/\partial b = \delta^{o}$ to
the Jacobian, with $h$ its input and $\delta^{o} = \partial f_o/\partial y$ the cotangent at
its output, whatever the rest of the model does (residual connections, several branches,
any elementwise or non-elementwise code between the layers). So its NTK term is
$([W]\,H H^\top + [b]) \odot \Delta\Delta^\top$ without a Jacobian: `layered_ntk` needs,
per tapped layer, the inputs $H$ (recorded during the forward pass) and the cotangents
$\Delta$ (the reverse-mode derivative of the outputs with respect to a zero probe
$\varepsilon$ added to the layer's output, $y = W h + b + \varepsilon$).

Which leaves are tapped: each `eqx.nn.Linear` of the model is traced once
(`jax.make_jaxpr` on one input) with its call wrapped in a named `jax.jit`; a leaf is
covered when it is called exactly once, at the top level of the model's computation, on an
input of shape ``(in_features,)`` (``()`` for ``"scalar"``). A layer applied several times
(weight sharing, inside `jax.vmap`, `jax.lax.scan`, a loop or a branch) is not covered: its
leaves go to the generic Jacobian path, as do all other trainable leaves (convolutions,
embeddings, normalisation scales, learnt activations).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu

__all__ = ["is_linear", "count_linears", "covered_linears", "tap_flags", "tap_features"]

_TAP_NAME = "_spectral_jax_tap_"
_CALL_PRIMITIVES = ("jit", "pjit")
_RECORDERS: list[_Recorder] = []


def is_linear(node: Any) -> bool:
    return isinstance(node, eqx.nn.Linear)


def count_linears(model: Any) -> int:
    return sum(1 for leaf in jtu.tree_leaves(model, is_leaf=is_linear) if is_linear(leaf))


def _io_shape(size: Any) -> tuple[int, ...]:
    return () if size == "scalar" else (int(size),)


class _Recorder:
    """Per trace: the probes to add (by tap index) and the inputs seen."""

    def __init__(self, probes: dict[int, Any] | None, named: bool):
        self.probes = probes
        self.named = named
        self.inputs: dict[int, Any] = {}

    def __enter__(self) -> _Recorder:
        _RECORDERS.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _RECORDERS.remove(self)


def _named_call(index: int):
    def call(lin, x):
        return lin(x)

    call.__name__ = f"{_TAP_NAME}{index}"
    return jax.jit(call)


class _Tap(eqx.Module):
    """An `eqx.nn.Linear` whose call is observed by the active recorder."""

    linear: eqx.nn.Linear
    index: int = eqx.field(static=True)

    def __call__(self, x: Any, *, key: Any = None) -> Any:
        rec = _RECORDERS[-1] if _RECORDERS else None
        if rec is None:
            return self.linear(x)
        if rec.named:
            return _named_call(self.index)(self.linear, x)
        rec.inputs[self.index] = x
        y = self.linear(x)
        return y + rec.probes[self.index] if self.index in rec.probes else y


def _install(model: Any, indices: frozenset[int] | None) -> Any:
    """``model`` with the Linear leaves in ``indices`` (all if None) wrapped in `_Tap`."""
    counter = iter(range(1 << 30))

    def wrap(node):
        if not is_linear(node):
            return node
        i = next(counter)
        return _Tap(node, i) if indices is None or i in indices else node

    return jtu.tree_map(wrap, model, is_leaf=is_linear)


def _sub_jaxprs(params: dict) -> list[Any]:
    out = []
    for val in params.values():
        for v in val if isinstance(val, (tuple, list)) else (val,):
            if hasattr(v, "eqns"):
                out.append(v)
            elif hasattr(v, "jaxpr") and hasattr(v.jaxpr, "eqns"):
                out.append(v.jaxpr)
    return out


def _walk(jaxpr: Any, top: bool, seen: dict[int, list[tuple[bool, Any]]]) -> None:
    for eqn in jaxpr.eqns:
        name = str(eqn.params.get("name", ""))
        if eqn.primitive.name in _CALL_PRIMITIVES and name.startswith(_TAP_NAME):
            seen.setdefault(int(name[len(_TAP_NAME) :]), []).append((top, eqn))
            continue
        for sub in _sub_jaxprs(eqn.params):
            _walk(sub, False, seen)


def covered_linears(model: Any, x0: Any) -> tuple[bool, ...]:
    """Per `eqx.nn.Linear` leaf (flattening order): whether it is called exactly once, at
    the top level, on one unbatched input (see the module docstring)."""
    n = count_linears(model)
    if n == 0:
        return ()
    tapped = _install(model, None)
    lins = [leaf for leaf in jtu.tree_leaves(model, is_leaf=is_linear) if is_linear(leaf)]

    def run(xi):
        with _Recorder(None, named=True):
            return tapped(xi)

    try:
        closed = jax.make_jaxpr(run)(x0)
    except Exception:  # noqa: BLE001 - the model is checked (and errors reported) elsewhere
        return (False,) * n
    seen: dict[int, list[tuple[bool, Any]]] = {}
    _walk(closed.jaxpr, True, seen)
    out = []
    for i, lin in enumerate(lins):
        calls = seen.get(i, [])
        ok = len(calls) == 1 and calls[0][0]
        if ok:
            eqn = calls[0][1]
            ok = tuple(eqn.invars[-1].aval.shape) == _io_shape(lin.in_features) and tuple(
                eqn.outvars[0].aval.shape
            ) == _io_shape(lin.out_features)
        out.append(bool(ok))
    return tuple(out)


def tap_flags(model: Any, spec: Any, covered: tuple[bool, ...]) -> tuple[Any, Any]:
    """``(flags, rest)``: per Linear leaf ``(weight trainable, bias trainable)`` (both False
    where not covered) and ``spec`` with the covered leaves' weight and bias switched off."""
    nodes = [s for s in jtu.tree_leaves(spec, is_leaf=is_linear) if is_linear(s)]
    flags = []
    for s, cov in zip(nodes, covered, strict=True):
        fw = bool(s.weight) and cov
        fb = cov and s.bias is not None and bool(s.bias)
        flags.append((fw, fb))
    counter = iter(range(1 << 30))

    def off(node):
        if not is_linear(node):
            return node
        i = next(counter)
        return jtu.tree_map(lambda _: False, node) if covered[i] else node

    return tuple(flags), jtu.tree_map(off, spec, is_leaf=is_linear)


def tap_features(model: Any, flags: tuple[tuple[bool, bool], ...], x: Any):
    r"""``(hs, ds)`` as `layered_ntk`'s chain features: per Linear leaf its inputs $H$
    ``(N, n_in)`` (None unless its weight is trainable) and the cotangents $\Delta$
    ``(N, O, n_out)`` (None unless trainable), $O$ the flattened output size."""
    active = [i for i, (fw, fb) in enumerate(flags) if fw or fb]
    tapped = _install(model, frozenset(active))
    lins = [leaf for leaf in jtu.tree_leaves(model, is_leaf=is_linear) if is_linear(leaf)]
    dtype = x.dtype
    probes0 = {i: jnp.zeros(_io_shape(lins[i].out_features), dtype) for i in active}

    def one(xi):
        def f(probes):
            with _Recorder(probes, named=False) as rec:
                y = tapped(xi)
            return jnp.reshape(y, (-1,)), {i: rec.inputs[i] for i in active}

        jac, ins = jax.jacrev(f, has_aux=True)(probes0)
        return ins, jac

    ins, jac = jax.vmap(one)(x)
    n = x.shape[0]
    hs: list[Any] = [None] * len(flags)
    ds: list[Any] = [None] * len(flags)
    for i in active:
        if flags[i][0]:
            hs[i] = ins[i].reshape(n, -1)
        d = jac[i]
        ds[i] = d.reshape(n, d.shape[1], -1)
    return hs, ds
