"""python manage.py moltres_query: restricted evaluation, formats, databases, the REPL."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.integrations.django.testapp.models import Person

pytestmark = pytest.mark.django_db(databases=["default", "pg"])

SEED = "db.table('people').select().where(col('age') > 25)"


def run(*args: str, stdin: str | None = None, **options: object) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command("moltres_query", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_seed_command_prints_a_table(people_default):
    out, _ = run(SEED + ".select('name', 'age').order_by('name')")
    assert out.splitlines() == ["name  | age", "------+----", "Ada   | 36", "Grace | 45", "(2 rows)"]


def test_json_and_csv(alias, people):
    out, _ = run("db.table('people').select('name').order_by('name')", format="json", database=alias)
    assert json.loads(out) == [{"name": "Ada"}, {"name": "Grace"}, {"name": "Linus"}]
    out, _ = run(SEED + ".select('name', 'age').order_by(col('age').desc())", format="csv", database=alias)
    assert list(csv.reader(io.StringIO(out))) == [["name", "age"], ["Grace", "45"], ["Ada", "36"]]


def test_functions_limit_and_scalars(people_default):
    out, _ = run("db.table('people').select(F.upper(col('name')).alias('n')).order_by('n')", limit=1, format="json")
    assert json.loads(out) == [{"n": "ADA"}]
    out, _ = run("db.table('people').count()")
    assert out == "3\n"
    out, _ = run("db.table('people').where(col('name') == lit('Ada')).first()", format="json")
    assert json.loads(out)[0]["age"] == 36
    out, _ = run("db.table('people').columns", format="json")
    assert json.loads(out) == ["id", "name", "age"]


def test_empty_result_and_nulls():
    out, _ = run("db.sql('SELECT NULL AS x')")
    assert out.splitlines() == ["x", "----", "NULL", "(1 row)"]


@pytest.mark.parametrize(
    "attack",
    [
        "__import__('os').system('echo pwned')",
        "__builtins__",
        "open('/etc/passwd').read()",
        "().__class__.__base__.__subclasses__()",
        "col.__globals__['os']",
        "db._executor",
        "db.engine.raw_connection()",
        "F.require('os', 'x')",
        "db.table('people').collect().__class__",
        "[x for x in db.tables()]",
        "(lambda: 1)()",
        "getattr(db, 'engine')",
        "'a' * 10 ** 10",
        "'a' * 100000000",
        "f'{db}'",
        "db.tables().pop()",
        "db.table(*['people'])",
        "import os",
        "db.execute('DROP TABLE people')",
        "db.insert('people', [{'name': 'x', 'age': 1}])",
        "db.table('people').write.save_as_table('copy')",
        "col('age') > 1 and col('age') < 5",
        "1 < col('age') < 5",
        "x := 1",
    ],
)
def test_python_is_refused(people_default, attack):
    with pytest.raises(CommandError) as info:
        run(attack)
    assert "not allowed" in str(info.value) or "not a valid expression" in str(info.value)
    assert Person.objects.count() == 3


def test_writes_need_allow_writes(people_default):
    out, _ = run("db.insert('people', [{'name': 'Edsger', 'age': 72}])", allow_writes=True)
    assert out == "1\n"
    assert Person.objects.filter(name="Edsger").exists()


def test_moltres_errors_become_command_errors(people_default):
    with pytest.raises(CommandError, match="table 'peple' does not exist"):
        run("db.table('peple').collect()")
    with pytest.raises(CommandError, match="give an expression"):
        run()


def test_interactive_repl(people_default):
    script = "\n".join(
        [
            "people = db.table('people')",
            "people.where(col('age') > 40).select('name')",
            "__import__('os')",
            "",
            "people.count()",
            "exit",
            "people.count()",
        ]
    )
    out, err = run(interactive=True, stdin=script + "\n", format="json")
    assert "people = DataFrame" in out
    assert '"name": "Grace"' in out
    assert out.count("moltres> ") == 6
    assert "3\n" in out
    assert "'__import__' is not allowed" in err


def test_interactive_ends_at_end_of_input(people_default):
    out, err = run(interactive=True, stdin="db.table('nope').collect()\n")
    assert "does not exist" in err
    assert out.rstrip().endswith("moltres>")
