"""Template tags that read rows with moltres: ``{% load moltres_tags %}``.

Example:
    .. code-block:: django

        {% load moltres_tags %}
        {% moltres_query "users" where="age > 25" order_by="-age" limit=10 cache_timeout=60 as users %}
        {% for user in users %}{{ user.name }}{% endfor %}

``where`` is parsed by moltres's expression parser into column expressions whose literals
are bound parameters: it is never pasted into SQL, and a string that is not an expression
is an error. Output is autoescaped like any other template variable.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django import template
from django.conf import settings
from django.core.cache import caches

from moltres import col
from moltres.integrations.django.database import get_moltres_db
from moltres.utils.exceptions import ValidationError

register = template.Library()

DEFAULT_MAX_ROWS = 1000
"""Rows read when no ``limit`` is given (``settings.MOLTRES_TEMPLATE_MAX_ROWS``)."""


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value]


def _cache_key(**query: Any) -> str:
    digest = hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()
    return f"moltres:query:{digest}"


@register.simple_tag
def moltres_query(
    table: str,
    *,
    where: str | None = None,
    columns: str | list[str] | None = None,
    order_by: str | list[str] | None = None,
    limit: int | str | None = None,
    using: str | None = None,
    cache_timeout: int | str | None = None,
) -> list[dict[str, Any]]:
    """Read rows of a table for a template.

    Args:
        table: The table name.
        where: A filter expression such as ``"age > 25 AND name LIKE 'A%'"``; literals are
            bound as parameters.
        columns: Column names, as a list or a comma-separated string; all by default.
        order_by: Column names to sort by; a leading ``-`` sorts descending.
        limit: The most rows to read; ``settings.MOLTRES_TEMPLATE_MAX_ROWS`` (1000) by default.
        using: The Django database alias; ``"default"`` by default.
        cache_timeout: Cache the rows in Django's cache (``settings.MOLTRES_CACHE_ALIAS``,
            ``"default"``) for this many seconds; ``settings.MOLTRES_TEMPLATE_CACHE_TIMEOUT``
            by default, and 0 (no caching) when that is not set.

    Returns:
        The rows as dicts.

    Raises:
        ValidationError: `limit` or `cache_timeout` is not a non-negative integer, or
            `where` is not a valid expression.

    Example:
        .. code-block:: django

            {% moltres_query "users" where="age > 25" limit=10 as users %}
    """
    row_limit = _non_negative(
        "limit", limit if limit not in (None, "") else getattr(settings, "MOLTRES_TEMPLATE_MAX_ROWS", DEFAULT_MAX_ROWS)
    )
    timeout = _non_negative(
        "cache_timeout",
        cache_timeout if cache_timeout not in (None, "") else getattr(settings, "MOLTRES_TEMPLATE_CACHE_TIMEOUT", 0),
    )
    column_list, sort_list = _as_list(columns), _as_list(order_by)
    alias = using or "default"
    cache = caches[getattr(settings, "MOLTRES_CACHE_ALIAS", "default")] if timeout else None
    key = _cache_key(table=table, where=where, columns=column_list, order_by=sort_list, limit=row_limit, using=alias)
    if cache is not None:
        cached = cache.get(key)
        if cached is not None:
            return list(cached)
    df = get_moltres_db(using=alias).table(table)
    if where:
        df = df.where(str(where))
    if column_list:
        df = df.select(*column_list)
    if sort_list:
        df = df.order_by(*(col(name[1:]).desc() if name.startswith("-") else col(name) for name in sort_list))
    rows = df.limit(row_limit).collect()
    if cache is not None:
        cache.set(key, rows, timeout)
    return rows


def _non_negative(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise ValidationError(f"{name} must be a non-negative integer, got {value!r}")
    return number
