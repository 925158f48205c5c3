"""The Django application config for moltres."""

from __future__ import annotations

from django.apps import AppConfig


class MoltresConfig(AppConfig):  # type: ignore[misc,unused-ignore]  # Any when django has no stubs
    """Registers the ``moltres_query`` command and the ``moltres_tags`` template library."""

    name = "moltres.integrations.django"
    label = "moltres"
    verbose_name = "moltres"
    default = True
