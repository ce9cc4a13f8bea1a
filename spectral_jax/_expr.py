r"""Safe arithmetic expressions (targets $f(x)$, penalties $\rho(k)$): parsed once, checked
against an allow-list, evaluated by a small interpreter (no ``eval``).

An expression is text such as ``"sin(3*pi*x) + 0.1*x**2"``. It may use numbers, the
variables and constants its caller names, the allowed functions (called with their number
of arguments), ``+ - * / **`` (``%`` and single comparisons where the caller allows
them) and parentheses. Everything else is refused with a one-line ``ValueError`` before
anything is evaluated, and nothing an expression can say takes unbounded time or memory:

- at most `MAX_LENGTH` characters and `MAX_DEPTH` levels of nesting (checked on the text
  before the parser runs, and on the tree after; a long chain ``a + b + c + ...`` counts
  as one level, so sums of many terms are fine);
- only real numbers as constants (no strings, bytes, complex numbers or booleans);
- constant sub-expressions are folded once in floating point, so ``9**9**9`` (a huge
  integer power in Python) is refused as an overflow instead of running for hours, and a
  division by zero or a non-finite constant is refused up front;
- only names of the allow-lists; a function must be called, and only a function can be.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Expression", "ExpressionError", "parse_expression", "MAX_LENGTH", "MAX_DEPTH"]

#: longest expression accepted (characters)
MAX_LENGTH = 1000
#: deepest nesting accepted (brackets, calls, powers, unary signs; a chain of + - or * /
#: is one level)
MAX_DEPTH = 50

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.Mod: "%"}
# left-associative chains evaluated in a loop (one nesting level however long)
_GROUP = {ast.Add: 0, ast.Sub: 0, ast.Mult: 1, ast.Div: 1, ast.Mod: 1}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE = {ast.Lt: operator.lt, ast.Gt: operator.gt, ast.LtE: operator.le, ast.GtE: operator.ge}


class ExpressionError(ValueError):
    """An expression that is refused. A ``ValueError`` subclass."""


class Expression:
    """A checked expression: call it with the variables, ``expr(x=..., k=...)``.

    Evaluation walks the checked tree (its depth is at most `MAX_DEPTH`); constants were
    folded at parse time, so every remaining operation involves a variable or a function
    value (arrays), never Python integers."""

    def __init__(self, text: str, root: tuple, variables: frozenset[str]):
        self.text = text
        self._root = root
        #: the variable names the expression uses
        self.variables = variables

    def __call__(self, **env: Any) -> Any:
        return _evaluate(self._root, env)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def _evaluate(node: tuple, env: Mapping[str, Any]) -> Any:
    kind = node[0]
    if kind == "const":
        return node[1]
    if kind == "var":
        return env[node[1]]
    if kind == "unary":
        return node[1](_evaluate(node[2], env))
    if kind == "chain":
        value = _evaluate(node[1], env)
        for fn, operand in node[2]:
            value = fn(value, _evaluate(operand, env))
        return value
    if kind == "call":
        return node[1](*(_evaluate(a, env) for a in node[2]))
    raise AssertionError(kind)  # pragma: no cover


def _shown(text: str, limit: int = 80) -> str:
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 20]!r}... ({len(text)} characters)"


def _text_depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth = max(depth - 1, 0)
    return deepest


def _tree_depth(tree: ast.AST) -> int:
    # iterative, so a deep tree cannot exhaust the Python stack; the left operand of a
    # + - or * / chain stays on the same level
    deepest = 0
    stack = [(tree, 0)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > MAX_DEPTH:
            return deepest
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.expr):
                continue
            same = (
                isinstance(node, ast.BinOp)
                and child is node.left
                and isinstance(child, ast.BinOp)
                and _GROUP.get(type(child.op)) is not None
                and _GROUP.get(type(child.op)) == _GROUP.get(type(node.op))
            )
            stack.append((child, d if same else d + 1))
    return deepest


class _Checker:
    def __init__(self, text, where, functions, variables, constants, compare, mod):
        self.text = text
        self.where = where
        self.functions = functions
        self.variables = variables
        self.constants = constants
        self.compare = compare
        self.binary = {op: fn for op, fn in _BINARY.items() if mod or op is not ast.Mod}
        self.used: set[str] = set()

    def fail(self, problem: str, hint: str = "") -> ExpressionError:
        return ExpressionError(
            f"{self.where}: {problem} in {_shown(self.text)}" + (f"; {hint}" if hint else "")
        )

    def segment(self, node: ast.AST) -> str:
        seg = ast.get_source_segment(self.text, node) or "a constant"
        return seg if len(seg) <= 40 else seg[:37] + "..."

    def allowed_names(self) -> str:
        names = ", ".join(self.variables.describe())
        consts = ", ".join(sorted(self.constants))
        funcs = ", ".join(sorted(self.functions))
        return f"variables {names}; constants {consts}; functions {funcs}"

    # each visit returns (node of the evaluation tree, folded constant or None)
    def visit(self, node: ast.AST) -> tuple[tuple, float | None]:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            fn = _UNARY.get(type(node.op))
            if fn is None:
                raise self.fail(f"the operator {type(node.op).__name__} is not allowed")
            inner, c = self.visit(node.operand)
            if c is not None:
                return self.const(fn(c), node)
            return ("unary", fn, inner), None
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Compare) and self.compare:
            if len(node.ops) != 1:
                raise self.fail("chained comparisons (a < b < c) are not allowed")
            fn = _COMPARE.get(type(node.ops[0]))
            if fn is None:
                raise self.fail(f"the comparison {type(node.ops[0]).__name__} is not allowed")
            left, _ = self.visit(node.left)
            right, _ = self.visit(node.comparators[0])
            return ("chain", left, [(fn, right)]), None
        raise self.fail(f"{type(node).__name__} is not allowed (only arithmetic and calls)")

    def constant(self, node: ast.Constant) -> tuple[tuple, float | None]:
        v = node.value
        if isinstance(v, str):
            raise self.fail("string constants are not allowed")
        if isinstance(v, bytes):
            raise self.fail("bytes constants are not allowed")
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise self.fail(f"the constant {v!r} is not allowed (only real numbers)")
        if isinstance(v, complex):
            raise self.fail(f"complex numbers ({self.segment(node)}) are not allowed")
        try:
            f = float(v)
        except OverflowError:
            raise self.fail(
                f"the number {self.segment(node)} is too large (overflows a float)"
            ) from None
        return self.const(f, node)

    def const(self, value: float, node: ast.AST) -> tuple[tuple, float]:
        if isinstance(value, complex):
            raise self.fail(f"the constant {self.segment(node)} is not a real number")
        if not math.isfinite(value):
            raise self.fail(f"the constant {self.segment(node)} is not finite (overflow)")
        # an integer value stays an int (x**2 is an exact integer power), a small one only
        out = int(value) if value.is_integer() and abs(value) <= 2**31 else value
        return ("const", out), value

    def name(self, node: ast.Name) -> tuple[tuple, float | None]:
        n = node.id
        if n in self.constants:
            return ("const", self.constants[n]), self.constants[n]
        if self.variables(n):
            self.used.add(n)
            return ("var", n), None
        if n in self.functions:
            raise self.fail(f"{n!r} is a function, not a value", f"call it as {n}(...)")
        raise self.fail(f"unknown name {n!r}", f"allowed: {self.allowed_names()}")

    def fold(self, op: type, a: float, b: float, node: ast.AST) -> tuple[tuple, float]:
        try:
            if op is ast.Pow:
                value = math.pow(a, b)
            else:
                value = self.binary[op](a, b)
        except ZeroDivisionError:
            raise self.fail(f"the constant {self.segment(node)} divides by zero") from None
        except OverflowError:
            raise self.fail(
                f"the constant {self.segment(node)} is too large (overflows a float)"
            ) from None
        except ValueError:  # math.pow: negative base to a fractional power, 0 ** -1
            raise self.fail(f"the constant {self.segment(node)} is not a real number") from None
        return self.const(value, node)

    def operator(self, node: ast.BinOp) -> Callable:
        fn = self.binary.get(type(node.op))
        if fn is None:
            sym = _SYMBOL.get(type(node.op))
            what = f"the operator {sym}" if sym else f"the operator {type(node.op).__name__}"
            raise self.fail(f"{what} is not allowed")
        return fn

    def binop(self, node: ast.BinOp) -> tuple[tuple, float | None]:
        # a left-associative chain a + b - c ... is walked in a loop, not recursively
        spine = []
        n: ast.AST = node
        group = _GROUP.get(type(node.op))
        while isinstance(n, ast.BinOp) and group is not None and _GROUP.get(type(n.op)) == group:
            spine.append(n)
            n = n.left
        if not spine:  # a power: right-associative, one level each
            spine, n = [node], node.left
        first, value = self.visit(n)
        rest: list[tuple[Callable, tuple]] = []
        for b in reversed(spine):
            fn = self.operator(b)
            right, c = self.visit(b.right)
            if value is not None and c is not None and not rest:
                first, value = self.fold(type(b.op), value, c, b)
                continue
            rest.append((fn, right))
            value = None
        return (("chain", first, rest) if rest else first), value

    def call(self, node: ast.Call) -> tuple[tuple, float | None]:
        if not isinstance(node.func, ast.Name):
            self.visit(node.func)  # names what is not allowed (a lambda, an attribute...)
            raise self.fail(
                f"{self.segment(node.func)} is not a function; only "
                f"{', '.join(sorted(self.functions))} can be called"
            )
        n = node.func.id
        if n not in self.functions:
            if self.variables(n) or n in self.constants:
                raise self.fail(f"{n!r} is not a function")
            raise self.fail(
                f"unknown function {n!r}", f"allowed: {', '.join(sorted(self.functions))}"
            )
        fn, arity = self.functions[n]
        if node.keywords:
            raise self.fail(f"{n}() takes no keyword arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(f"{n}() takes no *arguments")
        if len(node.args) != arity:
            s = "" if arity == 1 else "s"
            raise self.fail(f"{n}() takes {arity} argument{s}, got {len(node.args)}")
        args = [self.visit(a)[0] for a in node.args]
        return ("call", fn, args), None


class _Variables:
    """Predicate for the variable names, with a short description for messages."""

    def __init__(self, names, indexed: tuple[str, int] | None = None):
        self.names = frozenset(names)
        self.indexed = indexed

    def __call__(self, name: str) -> bool:
        if name in self.names:
            return True
        if self.indexed is not None:
            prefix, count = self.indexed
            tail = name[len(prefix) :]
            if name.startswith(prefix) and tail.isdigit() and tail.isascii():
                return (tail == "0" or not tail.startswith("0")) and int(tail) < count
        return False

    def describe(self) -> list[str]:
        out = sorted(self.names)
        if self.indexed is not None:
            prefix, count = self.indexed
            out.append(f"{prefix}0" if count == 1 else f"{prefix}0..{prefix}{count - 1}")
        return out


def parse_expression(
    text: Any,
    *,
    where: str,
    functions: Mapping[str, tuple[Callable, int]],
    variables: tuple[str, ...] = (),
    indexed: tuple[str, int] | None = None,
    constants: Mapping[str, float] | None = None,
    compare: bool = False,
    mod: bool = False,
) -> Expression:
    """Check ``text`` and return an `Expression`.

    **Arguments:**

    - `text`: the expression.
    - `where`: prefix of error messages (the function or option, e.g. ``"design --rho"``).
    - `functions`: ``{name: (callable, number of arguments)}``.
    - `variables`: the variable names; `indexed` ``(prefix, n)`` adds ``prefix0`` ...
      ``prefix{n-1}``.
    - `constants`: named constants (``pi``, ``e``), folded at parse time.
    - `compare`: allow one comparison ``< > <= >=`` (for ``where(x > 0, ...)``).
    - `mod`: allow ``%``.

    **Raises:** ``TypeError`` for a non-string; `ExpressionError` (a ``ValueError``) for
    anything refused, naming `where`, the expression and the problem.
    """
    if not isinstance(text, str):
        raise TypeError(f"{where}: an expression must be a string; got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError(f"{where}: the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"{where}: the expression is too long ({len(text)} characters; at most "
            f"{MAX_LENGTH}): {_shown(text)}"
        )
    if "\x00" in text:
        raise ExpressionError(f"{where}: the expression contains a NUL character")
    if _text_depth(text) > MAX_DEPTH:
        raise ExpressionError(
            f"{where}: brackets nest too deeply (more than {MAX_DEPTH} levels) in {_shown(text)}"
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"{where}: cannot parse {_shown(text)}: {err.msg}") from None
    except (ValueError, RecursionError, MemoryError) as err:  # parser limits
        raise ExpressionError(f"{where}: cannot parse {_shown(text)}: {err}") from None
    if _tree_depth(tree.body) > MAX_DEPTH:
        raise ExpressionError(
            f"{where}: the expression nests too deeply (more than {MAX_DEPTH} levels) in "
            f"{_shown(text)}"
        )
    checker = _Checker(
        text.strip(),
        where,
        dict(functions),
        _Variables(variables, indexed),
        dict(constants or {}),
        compare,
        mod,
    )
    root, _ = checker.visit(tree.body)
    return Expression(text.strip(), root, frozenset(checker.used))


# Transitional (added by the lead to unblock imports while design/_rho.py and
# targets/_functions.py move to parse_expression): the old allow-list tuple.
ARITHMETIC_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
)
