"""{% moltres_query %}: filters parsed into bound parameters, limits, Django's cache, escaping."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.template import Context, Template

from moltres.integrations.django import get_moltres_db
from moltres.utils.exceptions import ValidationError
from tests.integrations.django.testapp.models import Person

pytestmark = pytest.mark.django_db(databases=["default", "pg"])

LIST = (
    '{% load moltres_tags %}{% moltres_query "people" where=where order_by=order limit=limit '
    "using=using cache_timeout=timeout as rows %}{% for r in rows %}{{ r.name }};{% endfor %}"
)


def render(source: str = LIST, **context: object) -> str:
    defaults: dict[str, object] = {"where": "", "order": "name", "limit": None, "using": None, "timeout": None}
    return str(Template(source).render(Context({**defaults, **context})))


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_seed_syntax(people_default):
    assert render('{% load moltres_tags %}{% moltres_query "people" as users %}') == ""  # rows go to the variable
    page = Template(
        '{% load moltres_tags %}{% moltres_query "people" as users %}'
        "{% for user in users %}{{ user.name }} {% endfor %}"
    ).render(Context())
    assert sorted(page.split()) == ["Ada", "Grace", "Linus"]


def test_where_limit_order_and_alias(alias, people):
    assert render(where="age > 25", using=alias) == "Ada;Grace;"
    assert render(where="age > 25 AND name LIKE 'G%'", using=alias) == "Grace;"
    assert render(order="-age", limit=2, using=alias) == "Grace;Ada;"
    assert render(where="name IN ('Linus', 'Ada')", using=alias) == "Ada;Linus;"


def test_columns_argument(people_default):
    source = (
        '{% load moltres_tags %}{% moltres_query "people" columns="name" order_by="name" limit=1 as rows %}{{ rows }}'
    )
    assert Template(source).render(Context()) == "[{&#x27;name&#x27;: &#x27;Ada&#x27;}]"


def test_output_is_autoescaped(people_default):
    Person.objects.create(name="<script>alert(1)</script>", age=99)
    html = render(where="age = 99")
    assert "<script>" not in html
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt;;"


def test_where_is_never_raw_sql(alias, people):
    db = get_moltres_db(using=alias)
    with pytest.raises(ValidationError):
        render(where="1=1; DROP TABLE people", using=alias)
    with pytest.raises(ValidationError):
        render(where="age > 25 UNION SELECT password FROM auth_user", using=alias)
    with pytest.raises(ValidationError):
        render(where="age > 25 --", using=alias)
    # A quote inside a literal stays inside the literal: it is a bound parameter.
    assert render(where="name = 'x'' OR ''1''=''1'", using=alias) == ""
    assert db.table("people").count() == 3


def test_unknown_column_in_where_is_an_error(people_default):
    with pytest.raises(ValidationError, match="nmae"):
        render(where="nmae = 'Ada'")


def test_results_are_cached_in_djangos_cache(people_default, django_assert_num_queries):
    assert render(where="age > 25", timeout=60) == "Ada;Grace;"
    Person.objects.create(name="Barbara", age=50)
    with django_assert_num_queries(0):
        assert render(where="age > 25", timeout=60) == "Ada;Grace;"
    # Another query is another cache entry; no timeout means no caching at all.
    assert render(where="age > 30", timeout=60) == "Ada;Barbara;Grace;"
    assert render(where="age > 25") == "Ada;Barbara;Grace;"


def test_default_timeout_and_row_cap_come_from_settings(people_default, settings):
    settings.MOLTRES_TEMPLATE_MAX_ROWS = 1
    settings.MOLTRES_TEMPLATE_CACHE_TIMEOUT = 30
    assert render() == "Ada;"
    Person.objects.create(name="Aaron", age=5)
    assert render() == "Ada;"  # served from the cache


@pytest.mark.parametrize("bad", [{"limit": "many"}, {"limit": -1}, {"timeout": "soon"}])
def test_bad_numbers_are_explained(people_default, bad):
    with pytest.raises(ValidationError, match="non-negative integer"):
        render(**bad)


def test_page_view_through_the_middleware(client, people_default):
    assert "<li>Ada (36)</li>" in client.get("/page/people/?where=age > 25").content.decode()
    response = client.get("/page/people/?where=1=1; DROP TABLE people")
    assert response.status_code == 400
    assert Person.objects.count() == 3
