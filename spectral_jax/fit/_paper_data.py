r"""Published numbers that the examples and the report compare against.

**References:** S. Zhang, H. Zhao, Y. Zhong, H. Zhou, arXiv:2306.17301, and the talk
slides' Table 1.
"""

from __future__ import annotations

__all__ = ["SLIDES_TABLE1"]

SLIDES_TABLE1: dict[tuple[str, str, str, int], tuple[float, float]] = {
    ("NN", "uniform", "float32", 100): (6.09e-2, 9.58e-5),
    ("NN", "uniform", "float32", 1000): (7.19e-2, 1.43e-4),
    ("NN", "uniform", "float64", 100): (1.37e-2, 1.70e-6),
    ("NN", "uniform", "float64", 1000): (1.05e-4, 1.33e-10),
    ("FEM", "uniform", "float32", 100): (1.37e-2, 1.70e-6),
    ("FEM", "uniform", "float32", 1000): (1.05e-4, 1.33e-10),
    ("FEM", "uniform", "float64", 100): (1.37e-2, 1.70e-6),
    ("FEM", "uniform", "float64", 1000): (1.05e-4, 1.33e-10),
    ("NN", "adaptive", "float32", 100): (6.83e-2, 7.54e-5),
    ("NN", "adaptive", "float32", 1000): (1.89e-2, 1.06e-5),
    ("NN", "adaptive", "float64", 100): (3.93e-3, 1.42e-6),
    ("NN", "adaptive", "float64", 1000): (4.74e-5, 1.17e-10),
    ("FEM", "adaptive", "float32", 100): (2.92e-3, 9.95e-7),
    ("FEM", "adaptive", "float32", 1000): (3.79e-5, 1.02e-10),
    ("FEM", "adaptive", "float64", 100): (2.92e-3, 9.95e-7),
    ("FEM", "adaptive", "float64", 1000): (3.77e-5, 1.02e-10),
}
"""The slides' Table 1 for $f(x) = \arctan(25x)$ on $(-1, 1)$ (paper values, copied as
published): ``(method, bias rule, dtype, n) -> (MAX error, MSE)`` with method ``"NN"``
(ReLU network features + constant) or ``"FEM"`` (P1 hat functions), bias rule
``"uniform"`` or ``"adaptive"``, dtype ``"float32"`` or ``"float64"``, n = 100 or 1000.
Our reproduction (`examples/table1_arctan.py`, the report) and where it differs are in
the approximation guide."""
