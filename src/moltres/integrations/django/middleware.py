"""Turn moltres errors raised in views into JSON or HTML error responses.

The status comes from the one table shared with the FastAPI glue
(:mod:`moltres.integrations._http_errors`): 400 for bad input, 404 for an unknown table,
503 when the database is unreachable, 504 on a timeout, 500 otherwise. The suggestion, the
SQL and the context are shown only when ``settings.DEBUG`` is on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.log import log_response

from moltres.integrations._http_errors import error_headers, error_payload
from moltres.utils.exceptions import MoltresError

__all__ = ["MoltresExceptionMiddleware"]

logger = logging.getLogger("django.request")

_DEFAULT_JSON_PREFIXES = ("/api/",)


def wants_json(request: HttpRequest) -> bool:
    """Tell whether `request` comes from an API client rather than a browser.

    JSON is chosen when the client prefers ``application/json`` over ``text/html``, sent a
    JSON body, made an ``XMLHttpRequest``, or called a path under one of
    ``settings.MOLTRES_JSON_PATH_PREFIXES`` (default ``("/api/",)``).

    Example:
        >>> from django.test import RequestFactory  # doctest: +SKIP
        >>> wants_json(RequestFactory().get("/", HTTP_ACCEPT="application/json"))  # doctest: +SKIP
        True
    """
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        return True
    if request.content_type == "application/json":
        return True
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    prefixes = getattr(settings, "MOLTRES_JSON_PATH_PREFIXES", _DEFAULT_JSON_PREFIXES)
    return any(request.path.startswith(prefix) for prefix in prefixes)


def _html_response(request: HttpRequest, payload: dict[str, Any]) -> HttpResponse:
    context = {"error": payload, "debug": "type" in payload}
    try:
        body = render_to_string("moltres/error.html", context, request=request)
    except TemplateDoesNotExist:
        # The middleware works without the app installed; the page is plainer then.
        body = format_html(
            "<!doctype html><title>{} {}</title><h1>{}</h1><p>{}</p>",
            payload["status"],
            payload["error"],
            payload["error"],
            payload["message"],
        )
    return HttpResponse(body, status=payload["status"], content_type="text/html; charset=utf-8")


class MoltresExceptionMiddleware:
    """Answer moltres errors with a JSON body (API requests) or an HTML page (browsers).

    Add it to ``MIDDLEWARE``; other exceptions pass through to Django untouched. Every answer
    is logged on the ``django.request`` logger with the exception attached: 4xx as
    warnings, 5xx as errors.

    Args:
        get_response: The next handler in Django's middleware chain.

    Example:
        >>> MIDDLEWARE = [
        ...     "django.middleware.common.CommonMiddleware",
        ...     "moltres.integrations.django.MoltresExceptionMiddleware",
        ... ]
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Pass the request on; errors come back through :meth:`process_exception`."""
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Build the error response for a moltres error; leave anything else to Django.

        Args:
            request: The request whose view raised.
            exception: What it raised.

        Returns:
            The error response, or None for errors that are not moltres errors.
        """
        if not isinstance(exception, MoltresError):
            return None
        payload = error_payload(exception, debug=bool(settings.DEBUG))
        response: HttpResponse
        if wants_json(request):
            response = JsonResponse(payload, status=payload["status"])
        else:
            response = _html_response(request, payload)
        for name, value in error_headers(exception).items():
            response[name] = value
        log_response(
            "%s: %s (%s)",
            response.reason_phrase,
            request.path,
            type(exception).__name__,
            response=response,
            request=request,
            logger=logger,
            exception=exception,
        )
        return response
