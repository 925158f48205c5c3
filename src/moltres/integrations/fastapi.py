"""FastAPI glue: moltres errors as JSON responses, and a per-request Database dependency.

Example:
    .. code-block:: python

        from typing import Annotated
        from fastapi import Depends, FastAPI
        from moltres import Database, connect
        from moltres.integrations.fastapi import get_db, register_exception_handlers

        app = FastAPI()
        app.state.moltres_db = connect("sqlite:///example.db")
        register_exception_handlers(app)

        @app.post("/users")
        def add_user(user: dict, db: Annotated[Database, Depends(get_db)]) -> dict:
            db.insert("users", [user])          # committed before the response is sent
            return user
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast, overload

from moltres.utils.optional import require

require("fastapi", "fastapi")

import sqlalchemy as sa  # noqa: E402
from fastapi import Depends, FastAPI, HTTPException, Request  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

from moltres import Database  # noqa: E402
from moltres.engine.executor import Executor  # noqa: E402
from moltres.integrations._http_errors import error_headers, error_payload  # noqa: E402
from moltres.utils.exceptions import MoltresError, ValidationError  # noqa: E402

if TYPE_CHECKING:
    from moltres import AsyncDatabase

__all__ = [
    "STATE_ATTRIBUTE",
    "get_async_db",
    "get_db",
    "handle_moltres_errors",
    "moltres_error_response",
    "register_exception_handlers",
]

F = TypeVar("F", bound=Callable[..., Any])

STATE_ATTRIBUTE = "moltres_db"
"""Where :func:`get_db` and :func:`get_async_db` find the app's Database: ``app.state.moltres_db``."""

logger = logging.getLogger("moltres.integrations.fastapi")


def _log(exc: MoltresError, status: int, where: str) -> None:
    if status >= 500:
        logger.error("%s failed with %s (%d)", where, type(exc).__name__, status, exc_info=exc)
    else:
        logger.warning("%s failed with %s (%d): %s", where, type(exc).__name__, status, exc.message)


def moltres_error_response(exc: MoltresError, *, debug: bool = False) -> JSONResponse:
    """Build the JSON error response for a moltres error.

    Args:
        exc: The error.
        debug: Include the suggestion, SQL and context (never in production).

    Example:
        >>> from moltres.utils.exceptions import TableNotFoundError
        >>> moltres_error_response(TableNotFoundError("userz", ["users"])).status_code
        404
    """
    payload = error_payload(exc, debug=debug)
    return JSONResponse(payload, status_code=payload["status"], headers=error_headers(exc) or None)


def register_exception_handlers(app: FastAPI, *, debug: bool | None = None) -> None:
    """Answer every moltres error raised in `app` with a JSON body and a fitting status.

    400 for bad input, 404 for an unknown table, 409 for a constraint conflict, 503 when
    the database is unreachable or busy, 504 on a timeout, 500 otherwise. The body is
    ``{"error": code, "status": int, "message": str}``; the suggestion, the SQL (with
    placeholders only) and the context are added when `debug` is on.

    Args:
        app: The application.
        debug: Show the debugging details; defaults to ``app.debug``.

    Example:
        >>> from fastapi import FastAPI
        >>> app = FastAPI()
        >>> register_exception_handlers(app)
        >>> MoltresError in app.exception_handlers
        True
    """

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        error = cast("MoltresError", exc)
        show = app.debug if debug is None else debug
        response = moltres_error_response(error, debug=show)
        _log(error, response.status_code, f"{request.method} {request.url.path}")
        return response

    app.add_exception_handler(MoltresError, handle)


def _http_exception(exc: MoltresError, debug: bool) -> HTTPException:
    payload = error_payload(exc, debug=debug)
    return HTTPException(status_code=payload["status"], detail=payload, headers=error_headers(exc) or None)


@overload
def handle_moltres_errors(func: F, /) -> F: ...
@overload
def handle_moltres_errors(*, debug: bool = False) -> Callable[[F], F]: ...
def handle_moltres_errors(func: F | None = None, /, *, debug: bool = False) -> F | Callable[[F], F]:
    """Turn moltres errors raised by one route into ``HTTPException`` with the fitting status.

    For apps that do not call :func:`register_exception_handlers`. Works on ``def`` and
    ``async def`` routes and keeps their signature, so FastAPI still sees the parameters.
    The exception's ``detail`` is the same JSON body the handlers send.

    Args:
        func: The route, when used as ``@handle_moltres_errors`` without parentheses.
        debug: Include the suggestion, SQL and context.

    Example:
        .. code-block:: python

            @app.get("/users/{user_id}")
            @handle_moltres_errors
            def read_user(user_id: int, db: Annotated[Database, Depends(get_db)]) -> dict:
                return db.table("users").where(col("id") == user_id).collect()[0]
    """

    def decorate(function: F) -> F:
        where = getattr(function, "__qualname__", "route")
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await function(*args, **kwargs)
                except MoltresError as exc:
                    error = _http_exception(exc, debug)
                    _log(exc, error.status_code, where)
                    raise error from exc

            return cast("F", run_async)

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except MoltresError as exc:
                error = _http_exception(exc, debug)
                _log(exc, error.status_code, where)
                raise error from exc

        return cast("F", run)

    if func is not None:
        return decorate(func)
    return decorate


def _app_database(request: Request, kind: type[Any]) -> Any:
    db = getattr(request.app.state, STATE_ATTRIBUTE, None)
    if not isinstance(db, kind):
        found = "nothing" if db is None else f"a {type(db).__name__}"
        opener = "connect" if kind is Database else "async_connect"
        raise ValidationError(
            f"app.state.{STATE_ATTRIBUTE} holds {found}, not a moltres {kind.__name__}",
            suggestion=f"set app.state.{STATE_ATTRIBUTE} = {opener}(url) when the app starts (e.g. in its lifespan)",
        )
    return db


def _unit_of_work(request: Request) -> Iterator[Database]:
    """One connection and one transaction for the request; commit when the route returns."""
    app_db = cast("Database", _app_database(request, Database))
    state = app_db.executor.state
    try:
        connection = app_db.engine.connect()
    except sa.exc.DBAPIError as exc:
        raise state.fail(exc) from None
    with connection:
        # Share the app Database's compiled statements and reflected tables: reflecting again
        # in every request would cost queries and, on SQLite, a read lock taken before each
        # request's first write (two such requests deadlock, and one gets SQLITE_BUSY).
        yield Database(Executor(app_db.engine, connection=connection, owns_engine=False, state=state))
        # Reached only when the route returned: an exception thrown into the generator
        # skips this, and closing the connection rolls the transaction back.
        try:
            connection.commit()
        except sa.exc.DBAPIError as exc:
            # After a failed COMMIT the connection's state is the driver's guess (SQLite even
            # keeps the transaction open): never hand it to another request.
            connection.invalidate()
            raise state.fail(exc) from None


async def _async_unit_of_work(request: Request) -> AsyncIterator[Any]:
    """The async twin of :func:`_unit_of_work`."""
    # The async side needs greenlet and an async driver: load it only for async apps.
    from moltres import AsyncDatabase, async_connect

    app_db = cast("AsyncDatabase", _app_database(request, AsyncDatabase))
    state = app_db.executor.state
    connection = app_db.engine.connect()
    try:
        await connection.start()
    except sa.exc.DBAPIError as exc:
        raise state.fail(exc) from None
    try:
        scoped = await async_connect(engine=connection, query_timeout=state.query_timeout)
        # Share compiled statements and reflected tables, as the sync side does (see there).
        # TODO(#6): pass state= once AsyncExecutor takes it like Executor does.
        scoped.executor.state = state
        yield scoped
        try:
            await connection.commit()
        except sa.exc.DBAPIError as exc:
            await connection.invalidate()
            raise state.fail(exc) from None
    finally:
        await connection.close()


# A plain function depending on a function-scoped yield dependency: users write
# Depends(get_db), and the transaction still ends before the response is sent (a yield
# dependency used directly ends after it, when a failed commit can no longer change the
# status the client already has).
def get_db(db: Annotated[Database, Depends(_unit_of_work, scope="function")]) -> Database:
    """Give a route the app's Database, with the request's work in one transaction.

    Everything the route writes through it commits when the route returns, *before* the
    response is sent, so a client never sees a success for a write that failed to commit;
    if the route raises, it all rolls back. The Database is taken from
    ``app.state.moltres_db``.

    Example:
        .. code-block:: python

            @app.post("/users")
            def add_user(user: dict, db: Annotated[Database, Depends(get_db)]) -> dict:
                db.insert("users", [user])
                return user
    """
    return db


def get_async_db(db: Annotated[Any, Depends(_async_unit_of_work, scope="function")]) -> AsyncDatabase:
    """Like :func:`get_db`, for an :class:`AsyncDatabase` in ``app.state.moltres_db``.

    Example:
        .. code-block:: python

            @app.get("/users")
            async def users(db: Annotated[AsyncDatabase, Depends(get_async_db)]) -> list[dict]:
                return await db.table("users").select().collect()
    """
    return cast("AsyncDatabase", db)
