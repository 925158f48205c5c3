"""Fixtures for the Django tests: the database aliases under test and a few people."""

from __future__ import annotations

import pytest
from django.conf import settings

ALIASES = [
    pytest.param("default", id="sqlite", marks=pytest.mark.sqlite),
    pytest.param("pg", id="postgresql", marks=pytest.mark.postgresql),
]

PEOPLE = [("Ada", 36), ("Grace", 45), ("Linus", 21)]


@pytest.fixture(params=ALIASES)
def alias(request: pytest.FixtureRequest) -> str:
    """A Django database alias: SQLite, then PostgreSQL when its server answers."""
    name: str = request.param
    if name not in settings.DATABASES:
        pytest.skip(settings.PG_UNAVAILABLE or "no PostgreSQL alias configured")
    return name


@pytest.fixture
def people(alias: str) -> list[object]:
    """Three people written through the ORM on `alias`."""
    from tests.integrations.django.testapp.models import Person

    return [Person.objects.using(alias).create(name=name, age=age) for name, age in PEOPLE]


@pytest.fixture
def people_default() -> list[object]:
    """The same three people on the SQLite default database."""
    from tests.integrations.django.testapp.models import Person

    return [Person.objects.create(name=name, age=age) for name, age in PEOPLE]
