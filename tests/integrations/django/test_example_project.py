"""examples/django_app works as documented: migrate, the command, the views, the template tag."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[3] / "examples" / "django_app"

CLIENT_SCRIPT = """
import json
from django.test import Client
client = Client()
out = {
    "api": client.get("/api/people/?min_age=30").json(),
    "birthday": client.post("/api/people/1/birthday/").json(),
    "page": client.get("/?where=age > 40").content.decode(),
    "missing": client.post("/api/people/999/birthday/").status_code,
    "get": client.get("/api/people/1/birthday/").status_code,
}
print(json.dumps(out))
"""


def manage(*args: str, db: Path) -> str:
    env = {**os.environ, "MOLTRES_EXAMPLE_DB": str(db), "DJANGO_DEBUG": "0"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        check=False,
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("example") / "db.sqlite3"
    manage("migrate", "--verbosity", "0", db=db)
    rows = "[{'name': 'Ada', 'age': 36}, {'name': 'Grace', 'age': 45}, {'name': 'Linus', 'age': 21}]"
    assert manage("moltres_query", "--allow-writes", f"db.insert('people', {rows})", db=db) == "3\n"
    return db


def test_command_reads_what_it_wrote(example_db):
    out = manage(
        "moltres_query", "db.table('people').where(col('age') > 25).select('name')", "--format", "json", db=example_db
    )
    assert sorted(r["name"] for r in json.loads(out)) == ["Ada", "Grace"]


def test_views_and_template_tag(example_db):
    out = json.loads(manage("shell", "-c", CLIENT_SCRIPT, db=example_db).strip().splitlines()[-1])
    assert [p["name"] for p in out["api"]["people"]] == ["Ada", "Grace"]
    assert out["api"]["average_age"] == pytest.approx(34.0)
    assert out["birthday"] == {"name": "Ada", "age": 37}
    assert "<td>Grace</td><td>45</td>" in out["page"]
    assert "Linus" not in out["page"]
    assert (out["missing"], out["get"]) == (404, 405)
