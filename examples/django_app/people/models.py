"""The ORM model; moltres reads and writes the same table."""

from __future__ import annotations

from django.db import models


class Person(models.Model):
    """Someone with a name and an age."""

    name = models.CharField(max_length=100)
    age = models.IntegerField()

    class Meta:
        db_table = "people"

    def __str__(self) -> str:
        return self.name
