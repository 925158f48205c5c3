"""Evaluate a DataFrame expression typed on the command line, and nothing else.

``python manage.py moltres_query "db.table('users').where(col('age') > 25)"`` must not be a
way to run Python. The text is parsed with :mod:`ast` and walked by a small interpreter that
knows a handful of node types (names, constants, calls, attribute access, subscripts,
comparisons, arithmetic, literals). Nothing is handed to ``eval``:

- no builtins, no imports, no lambdas, comprehensions, f-strings, ``**`` or walrus;
- names resolve only in the given namespace (``db``, ``col``, ``lit``, ``F`` ...);
- attributes are looked up only on moltres objects, never with a leading underscore, so
  ``().__class__.__base__`` and friends are refused before anything runs;
- calls go only to functions defined by moltres and to methods of moltres objects;
- methods that change data or touch files are refused unless writes are allowed.
"""

from __future__ import annotations

import ast
import inspect
import operator
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from moltres.utils.exceptions import ValidationError

__all__ = ["ExpressionRefused", "RestrictedEvaluator", "function_namespace"]

# Methods that change the database or the file system.
WRITE_METHODS = frozenset(
    {
        "insert",
        "update",
        "delete",
        "merge",
        "execute",
        "create_table",
        "drop_table",
        "create_dataframe",
        "write",
        "save_as_table",
        "insert_into",
        "read",
        "transaction",
        "close",
    }
)
# Attributes that lead out of moltres into the machinery underneath.
HIDDEN_ATTRIBUTES = frozenset({"engine", "executor", "session", "connection", "dialect", "pool"})

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
    ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_CONSTANTS = (str, int, float, bool, type(None))
_MAX_NUMBER = 2**63


class ExpressionRefused(ValidationError):
    """The expression uses something the restricted evaluator does not allow."""


def _is_moltres(value: object) -> bool:
    module = type(value).__module__ or ""
    return module == "moltres" or module.startswith("moltres.")


def _moltres_callable(value: object) -> bool:
    if inspect.ismethod(value):
        return _is_moltres(value.__self__)
    if inspect.isfunction(value):
        module = value.__module__ or ""
        return module.startswith("moltres.")
    return _is_moltres(value) and callable(value)


class _Namespace:
    """A read-only bag of functions, standing in for a module (``F``)."""

    def __init__(self, name: str, members: Mapping[str, Callable[..., Any]]) -> None:
        self._name = name
        self._members = dict(members)

    def member(self, name: str) -> Callable[..., Any]:
        try:
            return self._members[name]
        except KeyError:
            raise ExpressionRefused(
                f"{self._name}.{name} is not allowed: {self._name} has no such function",
                suggestion=f"available: {', '.join(sorted(self._members))}",
            ) from None


def function_namespace(module: ModuleType, name: str) -> _Namespace:
    """Expose the public functions of `module` (those in ``__all__``, or all defined there).

    Example:
        >>> import moltres.utils.exceptions as errors
        >>> ns = function_namespace(errors, "E")
        >>> ns.member("closest_match")("emial", ["email"])
        'email'
    """
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    members = {
        n: getattr(module, n)
        for n in names
        if inspect.isfunction(getattr(module, n, None)) and getattr(module, n).__module__ == module.__name__
    }
    return _Namespace(name, members)


class RestrictedEvaluator:
    """Evaluate one expression (or, with `assignments`, ``name = expression``) safely.

    Args:
        names: What the expression may refer to, such as ``{"db": db, "col": col}``.
        allow_writes: Allow the methods that change data or files (``insert``, ``write`` ...).

    Example:
        >>> from moltres.utils.exceptions import closest_match
        >>> RestrictedEvaluator({"match": closest_match}).evaluate("match('emial', ['email'])")
        'email'
        >>> RestrictedEvaluator({}).evaluate("__import__('os')")
        Traceback (most recent call last):
        ...
        moltres.integrations.django._restricted.ExpressionRefused: '__import__' is not allowed: ...
    """

    def __init__(self, names: Mapping[str, object], *, allow_writes: bool = False) -> None:
        self.names: dict[str, object] = dict(names)
        self.allow_writes = allow_writes

    def evaluate(self, source: str) -> Any:
        """Evaluate `source` as one expression and return its value.

        Raises:
            ExpressionRefused: The expression uses something that is not allowed.
        """
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionRefused(
                f"not a valid expression: {exc.msg}",
                suggestion="write one DataFrame expression, e.g. db.table('users').select()",
            ) from None
        return self._eval(tree.body)

    def run(self, source: str) -> tuple[str | None, Any]:
        """Run ``name = expression`` (storing the value) or a bare expression.

        Returns:
            The assigned name (or None) and the value.
        """
        try:
            tree = ast.parse(source.strip(), mode="exec")
        except SyntaxError as exc:
            raise ExpressionRefused(f"not a valid expression: {exc.msg}") from None
        if len(tree.body) != 1:
            raise ExpressionRefused("write one expression or one assignment per line")
        statement = tree.body[0]
        if isinstance(statement, ast.Expr):
            return None, self._eval(statement.value)
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            name = statement.targets[0].id
            self._check_name(name)
            value = self._eval(statement.value)
            self.names[name] = value
            return name, value
        raise ExpressionRefused(
            f"{type(statement).__name__} statements are not allowed",
            suggestion="use an expression, or name = expression",
        )

    # The interpreter -------------------------------------------------------------------

    def _refuse(self, what: str, why: str) -> ExpressionRefused:
        return ExpressionRefused(
            f"{what} is not allowed: {why}",
            suggestion="use db, col, lit and F with DataFrame methods such as select, where, limit",
        )

    def _check_name(self, name: str) -> None:
        if name.startswith("_"):
            raise self._refuse(repr(name), "names starting with '_' are private")

    def _eval(self, node: ast.AST) -> Any:
        method = getattr(self, f"_eval_{type(node).__name__}", None)
        if method is None:
            raise self._refuse(f"{type(node).__name__} syntax", "only calls, names and literals are understood")
        return method(node)

    def _eval_Constant(self, node: ast.Constant) -> Any:
        if not isinstance(node.value, _CONSTANTS):
            raise self._refuse(f"the constant {node.value!r}", "only str, int, float, bool and None")
        return node.value

    def _eval_Name(self, node: ast.Name) -> Any:
        self._check_name(node.id)
        if node.id not in self.names:
            raise self._refuse(repr(node.id), f"unknown name; known names are {', '.join(sorted(self.names))}")
        return self.names[node.id]

    def _eval_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_"):
            raise self._refuse(f"the attribute {node.attr!r}", "private and special attributes are hidden")
        owner = self._eval(node.value)
        if isinstance(owner, _Namespace):
            return owner.member(node.attr)
        if not _is_moltres(owner):
            raise self._refuse(
                f"the attribute {node.attr!r} of a {type(owner).__name__}",
                "attributes are looked up on moltres objects only",
            )
        if node.attr in HIDDEN_ATTRIBUTES:
            raise self._refuse(f"the attribute {node.attr!r}", "it leads out of moltres")
        if node.attr in WRITE_METHODS and not self.allow_writes:
            raise self._refuse(f"{node.attr!r}", "it changes data or files; pass --allow-writes")
        return getattr(owner, node.attr)

    def _eval_Call(self, node: ast.Call) -> Any:
        function = self._eval(node.func)
        if not _moltres_callable(function):
            raise self._refuse(f"calling {ast.unparse(node.func)!r}", "only moltres functions and methods")
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self._refuse("*arguments", "pass arguments one by one")
            args.append(self._eval(arg))
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self._refuse("**arguments", "pass keyword arguments one by one")
            kwargs[keyword.arg] = self._eval(keyword.value)
        return function(*args, **kwargs)

    def _eval_Subscript(self, node: ast.Subscript) -> Any:
        owner = self._eval(node.value)
        key = self._eval(node.slice)
        if not (_is_moltres(owner) or isinstance(owner, (list, tuple, dict))):
            raise self._refuse(f"indexing a {type(owner).__name__}", "index DataFrames, rows and lists")
        if not isinstance(key, (str, int)):
            raise self._refuse(f"the index {key!r}", "use a column name or a position")
        return owner[key]

    def _eval_List(self, node: ast.List) -> list[Any]:
        return [self._eval(element) for element in node.elts]

    def _eval_Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return tuple(self._eval(element) for element in node.elts)

    def _eval_Dict(self, node: ast.Dict) -> dict[Any, Any]:
        if any(key is None for key in node.keys):
            raise self._refuse("**mapping", "write the keys out")
        return {self._eval(key): self._eval(value) for key, value in zip(node.keys, node.values, strict=True) if key}

    def _arithmetic(self, op: ast.AST, *operands: Any) -> None:
        if any(_is_moltres(operand) for operand in operands):
            return
        if all(isinstance(o, (int, float)) and abs(o) < _MAX_NUMBER for o in operands):
            return
        kinds = ", ".join(type(o).__name__ for o in operands)
        raise self._refuse(f"{type(op).__name__} on {kinds}", "operators apply to columns and numbers")

    def _eval_BinOp(self, node: ast.BinOp) -> Any:
        function = _BINARY.get(type(node.op))
        if function is None:
            raise self._refuse(f"the operator {type(node.op).__name__}", "use + - * / % & |")
        left, right = self._eval(node.left), self._eval(node.right)
        self._arithmetic(node.op, left, right)
        return function(left, right)

    def _eval_UnaryOp(self, node: ast.UnaryOp) -> Any:
        operand = self._eval(node.operand)
        self._arithmetic(node.op, operand)
        return _UNARY[type(node.op)](operand)

    def _eval_Compare(self, node: ast.Compare) -> Any:
        if len(node.ops) != 1:
            raise self._refuse("a chained comparison", "compare two things, combine with & and |")
        function = _COMPARE.get(type(node.ops[0]))
        if function is None:
            raise self._refuse(f"the comparison {type(node.ops[0]).__name__}", "use == != < <= > >=")
        left, right = self._eval(node.left), self._eval(node.comparators[0])
        self._arithmetic(node.ops[0], left, right)
        return function(left, right)

    def _eval_BoolOp(self, node: ast.BoolOp) -> Any:
        word = "and" if isinstance(node.op, ast.And) else "or"
        symbol = "&" if word == "and" else "|"
        raise self._refuse(f"'{word}'", f"combine conditions with {symbol} and parentheses")
