"""The AST node types the safe expression parsers accept (targets, penalties ρ)."""

import ast

# Arithmetic on names, constants and function calls: nothing that can reach attributes,
# subscripts, lambdas or statements.
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
