"""MoltresExceptionMiddleware: JSON for API clients, HTML for browsers, no leaks in production."""

from __future__ import annotations

import json
import logging

import pytest

pytestmark = pytest.mark.django_db(databases=["default"])

SECRET_SQL = "password_hash"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("validation", 400, "validation_error"),
        ("column", 400, "column_not_found"),
        ("connection", 503, "database_unavailable"),
        ("timeout", 504, "query_timeout"),
        ("execution", 500, "database_error"),
    ],
)
def test_api_requests_get_json_with_the_status_from_the_shared_table(client, kind, status, code):
    response = client.get(f"/api/error/{kind}/")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["status"], body["error"]) == (status, code)
    assert "suggestion" not in body
    assert SECRET_SQL not in response.content.decode()


def test_production_hides_server_side_messages_but_keeps_client_ones(client):
    assert client.get("/api/error/execution/").json()["message"] == "The database could not complete the request."
    assert client.get("/api/error/validation/").json()["message"] == "bad argument 'limit'"


def test_debug_adds_suggestion_sql_and_type(client, settings):
    settings.DEBUG = True
    body = client.get("/api/error/timeout/").json()
    assert body["suggestion"] == "add an index"
    assert body["sql"].startswith("SELECT password_hash")
    assert body["type"] == "QueryTimeoutError"


def test_accept_header_chooses_json_on_any_path(client):
    response = client.get("/error/validation/", headers={"Accept": "application/json"})
    assert response["Content-Type"] == "application/json"
    response = client.get("/error/validation/", headers={"X-Requested-With": "XMLHttpRequest"})
    assert response["Content-Type"] == "application/json"
    response = client.post("/error/validation/", data="{}", content_type="application/json")
    assert response["Content-Type"] == "application/json"


def test_browsers_get_an_html_page_from_the_app_template(client):
    response = client.get("/error/timeout/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 504
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<h1>504 · query_timeout</h1>" in html
    assert "The query took too long and was cancelled." in html
    assert SECRET_SQL not in html
    assert "add an index" not in html


def test_debug_html_shows_escaped_details(client, settings):
    settings.DEBUG = True
    html = client.get("/error/column/").content.decode()
    assert "did you mean &#x27;email&#x27;?" in html
    assert "ColumnNotFoundError" in html


def test_without_the_app_template_a_plain_page_is_served(client, settings):
    settings.TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": False}]
    response = client.get("/error/column/")
    assert response.status_code == 400
    assert "<h1>column_not_found</h1>" in response.content.decode()


def test_unavailable_sets_retry_after(client):
    assert client.get("/api/error/connection/")["Retry-After"] == "1"
    assert not client.get("/api/error/validation/").has_header("Retry-After")


def test_other_exceptions_are_left_to_django(client):
    with pytest.raises(RuntimeError, match="not a moltres error"):
        client.get("/error/other/")


def test_errors_are_logged_through_django_request(client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/api/error/validation/")
        client.get("/api/error/execution/")
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.levelname, r.status_code) for r in records] == [("WARNING", 400), ("ERROR", 500)]
    assert all(r.exc_info for r in records)
    assert "ValidationError" in records[0].getMessage()


def test_a_real_missing_table_is_404(client):
    response = client.get("/missing-table/", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert json.loads(response.content)["error"] == "table_not_found"


def test_a_real_missing_column_is_400(client):
    response = client.get("/api/missing-column/")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "column_not_found"
    assert "nmae" in body["message"]


def test_the_seed_view_returns_rows(client, people_default):
    assert client.get("/api/people/?min_age=25").json() == {
        "people": [{"name": "Ada", "age": 36}, {"name": "Grace", "age": 45}]
    }
