"""URLs of the example project."""

from __future__ import annotations

from django.urls import path
from people import views

urlpatterns = [
    path("", views.index),
    path("api/people/", views.people),
    path("api/people/<int:person_id>/birthday/", views.birthday),
]
