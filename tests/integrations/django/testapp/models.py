"""The model the Django tests write through the ORM and read back with moltres."""

from __future__ import annotations

from django.db import models


class Person(models.Model):
    """A person with a name and an age."""

    name = models.CharField(max_length=100)
    age = models.IntegerField()

    class Meta:
        app_label = "testapp"
        db_table = "people"
