"""Column expressions: ``col``, ``lit``, the ``functions`` module (``F``) and windows."""

from moltres.expressions.column import Column, col, lit
from moltres.expressions.window import Window, WindowSpec

__all__ = ["Column", "Window", "WindowSpec", "col", "lit"]
