"""Django glue: an installable app (label ``moltres``) with error middleware and DB access.

Add ``"moltres.integrations.django"`` to ``INSTALLED_APPS`` for the ``moltres_query``
management command and the ``moltres_tags`` template library, and
``"moltres.integrations.django.MoltresExceptionMiddleware"`` to ``MIDDLEWARE`` to turn
moltres errors into JSON or HTML error responses.

Example:
    >>> from moltres.integrations.django import get_moltres_db  # doctest: +SKIP
    >>> get_moltres_db(using="default").table("auth_user").count()  # doctest: +SKIP
    0
"""

from __future__ import annotations

from moltres.utils.optional import require

require("django", "django")

from moltres.integrations.django.database import get_moltres_db  # noqa: E402
from moltres.integrations.django.middleware import MoltresExceptionMiddleware  # noqa: E402

__all__ = ["MoltresExceptionMiddleware", "get_moltres_db"]
