"""Views that mix the ORM and moltres on one connection and one transaction."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from moltres import col
from moltres.expressions import functions as F
from moltres.integrations.django import get_moltres_db

from .models import Person


def people(request: HttpRequest) -> JsonResponse:
    """List people older than ``?min_age=`` with the average age, computed in the database."""
    db = get_moltres_db(model=Person)
    df = db.table("people").select("id", "name", "age").order_by("name")
    if "min_age" in request.GET:
        df = df.where(col("age") > int(request.GET["min_age"]))
    stats = db.table("people").agg(F.avg(col("age")).alias("average_age")).first() or {}
    return JsonResponse({"people": df.collect(), "average_age": stats.get("average_age")})


@require_POST
@transaction.atomic
def birthday(request: HttpRequest, person_id: int) -> JsonResponse:
    """Add a year with moltres and read it back with the ORM, in one transaction."""
    db = get_moltres_db(model=Person, write=True)
    if db.update("people", where=col("id") == person_id, set={"age": col("age") + 1}) == 0:
        raise Http404(f"no person {person_id}")
    person = Person.objects.get(pk=person_id)  # the ORM sees the uncommitted moltres update
    return JsonResponse({"name": person.name, "age": person.age})


def index(request: HttpRequest) -> HttpResponse:
    """A page whose rows come from the {% moltres_query %} template tag."""
    return render(request, "people/index.html", {"where": request.GET.get("where", "")})
