"""``@task.moltres``: a TaskFlow decorator whose function receives a moltres ``Database``.

Registered with Airflow through the ``apache_airflow_provider`` entry point (see
:mod:`moltres.integrations.airflow.provider`), so after ``pip install "moltres[airflow]"``::

    from airflow.sdk import task

    @task.moltres(conn_id="warehouse")
    def active_users(db, min_age: int):
        return db.table("users").select().where(col("age") >= min_age)

    active_users(18)

The function takes a parameter named ``db`` (filled in at run time, not passed by the
caller) and any others, which are passed as usual and may be ``XComArg``s. A returned
DataFrame is handled as by :class:`~moltres.integrations.airflow.MoltresQueryOperator`
(JSON-safe rows with caps, or ``output="table"`` for a staging table); any other return
value is pushed as it is. The decorator takes every argument of the operator except
``query``: ``conn_id``/``dsn``/``session``, ``output``, ``stage_table``, ``xcom_max_rows``...
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from moltres.utils.exceptions import ValidationError
from moltres.utils.optional import require

require("airflow.sdk", "airflow")

from airflow.sdk.bases.decorator import (  # noqa: E402
    DecoratedOperator,
    KeywordParameters,
    task_decorator_factory,
)

from moltres.integrations.airflow.operators import MoltresQueryOperator, _airflow_failures  # noqa: E402

__all__ = ["moltres_task"]

_FUNCTION = "__moltres_function__"


def _without_db(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap `function` so Airflow sees its signature without the ``db`` parameter."""
    signature = inspect.signature(function)
    if "db" not in signature.parameters:
        raise ValidationError(
            f"@task.moltres function {function.__name__}() has no 'db' parameter",
            suggestion=f"declare it: def {function.__name__}(db, ...): return db.table(...).select()",
        )

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("a @task.moltres function runs inside its task, which passes db")

    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for name, p in signature.parameters.items() if name != "db"]
    )
    setattr(call, _FUNCTION, function)
    return call


class _MoltresDecoratedOperator(DecoratedOperator, MoltresQueryOperator):  # type: ignore[misc, unused-ignore]
    """Runs a ``@task.moltres`` function with a Database and publishes what it returns."""

    template_fields: Sequence[str] = (
        *DecoratedOperator.template_fields,
        *MoltresQueryOperator.template_fields,
    )
    custom_operator_name: str = "@task.moltres"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Collection[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            python_callable=python_callable,
            op_args=op_args,
            op_kwargs=op_kwargs,
            query=getattr(python_callable, _FUNCTION, python_callable),
            **kwargs,
        )

    @property
    def result_key(self) -> str:
        """TaskFlow reads a task's result from ``return_value``."""
        return "return_value"

    @property
    def output(self) -> Any:
        """The result as an ``XComArg`` (``return_value``), as for any TaskFlow task."""
        return DecoratedOperator.output.fget(self)  # type: ignore[attr-defined, unused-ignore]

    def execute(self, context: Any) -> Any:
        """Call the function with ``db`` and its arguments; publish its result."""
        function = getattr(self.python_callable, _FUNCTION)
        merged = {**context, **self.op_kwargs}
        keywords = KeywordParameters.determine(self.python_callable, self.op_args, merged).unpacking()
        arguments = inspect.signature(self.python_callable).bind_partial(*self.op_args, **keywords).arguments
        with _airflow_failures(), self._database(self.query_timeout) as db:
            result = function(db=db, **arguments)
            if hasattr(result, "collect") and hasattr(result, "write"):
                return self._deliver(result, db, context)
        return result


def moltres_task(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Turn a function of ``db`` into an Airflow task; registered as ``@task.moltres``.

    Args:
        python_callable: The function, when used as ``@task.moltres`` without arguments.
        **kwargs: Arguments of :class:`~moltres.integrations.airflow.MoltresQueryOperator`
            (except ``query``) and of ``BaseOperator``.

    Returns:
        A TaskFlow decorator.

    Example:
        >>> @task.moltres(conn_id="warehouse")
        ... def adults(db):
        ...     return db.table("users").select().where(col("age") >= 18)
    """

    def decorate(function: Callable[..., Any]) -> Any:
        return task_decorator_factory(
            python_callable=_without_db(function),
            decorated_operator_class=_MoltresDecoratedOperator,
            **kwargs,
        )

    if python_callable is not None:
        return decorate(python_callable)
    return decorate
