"""Views for the Django tests: each one exercises one piece of the integration."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path

from moltres import col
from moltres.integrations.django import get_moltres_db
from moltres.utils.exceptions import (
    ColumnNotFoundError,
    DatabaseConnectionError,
    ExecutionError,
    QueryTimeoutError,
    ValidationError,
)


def people(request: HttpRequest) -> JsonResponse:
    """The seed's view: rows of a table as JSON, optionally filtered by age."""
    db = get_moltres_db(using=request.GET.get("using", "default"))
    df = db.table("people").select("name", "age").order_by("name")
    if "min_age" in request.GET:
        df = df.where(col("age") > int(request.GET["min_age"]))
    return JsonResponse({"people": df.collect()})


def missing_table(request: HttpRequest) -> JsonResponse:
    """Query a table that does not exist: the database says so, moltres raises."""
    return JsonResponse({"rows": get_moltres_db().table("no_such_table").select().collect()})


def missing_column(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"rows": get_moltres_db().table("people").select("nmae").collect()})


def raise_error(request: HttpRequest, kind: str) -> HttpResponse:
    """Raise one of the moltres errors with a secret-looking SQL and suggestion."""
    sql = "SELECT password_hash FROM accounts WHERE token = :token"
    errors = {
        "validation": ValidationError("bad argument 'limit'", suggestion="pass a positive integer"),
        "column": ColumnNotFoundError("emial", ["id", "email"], table="users"),
        "connection": DatabaseConnectionError("could not connect to server", suggestion="check the DSN"),
        "timeout": QueryTimeoutError("query cancelled", sql=sql, suggestion="add an index"),
        "execution": ExecutionError("the database failed", sql=sql, suggestion="look at the SQL"),
    }
    if kind == "other":
        raise RuntimeError("not a moltres error")
    raise errors[kind]


def people_page(request: HttpRequest) -> HttpResponse:
    return render(request, "people.html", {"where": request.GET.get("where", "")})


urlpatterns = [
    path("people/", people),
    path("api/people/", people),
    path("missing-table/", missing_table),
    path("api/missing-column/", missing_column),
    path("error/<str:kind>/", raise_error),
    path("api/error/<str:kind>/", raise_error),
    path("page/people/", people_page),
]
