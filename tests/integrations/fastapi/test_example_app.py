"""examples/fastapi_app.py behaves as its docstrings say."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi.testclient import TestClient

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "fastapi_app.py"


def load_example():
    spec = importlib.util.spec_from_file_location("fastapi_example_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_app(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLTRES_DSN", f"sqlite:///{tmp_path / 'shop.db'}")
    example = load_example()
    with TestClient(example.app) as client:
        people = [{"id": 1, "name": "Ada", "age": 36}, {"id": 2, "name": "Linus", "age": 21}]
        assert client.post("/users", json=people).json() == {"inserted": 2}
        # All or nothing: the second user repeats an id, so neither is stored.
        clash = client.post("/users", json=[{"id": 3, "name": "Grace"}, {"id": 1, "name": "Dup"}])
        assert clash.status_code == 409
        assert [u["name"] for u in client.get("/users").json()] == ["Linus", "Ada"]
        assert client.get("/users", params={"min_age": 30}).json() == [{"id": 1, "name": "Ada", "age": 36}]
        assert client.get("/users/stats").json() == {"users": 2, "average_age": 28.5}
        assert client.get("/users/3").status_code == 404
        assert client.delete("/users/2").json() == {"deleted": 1}
        assert client.get("/users", params={"limit": "x"}).status_code == 422
