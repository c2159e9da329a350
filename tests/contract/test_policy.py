"""Every route has an access policy, and the policy is what the server enforces."""

from __future__ import annotations

import pytest

from api import main
from api.bootstrap import load_settings
from api.policy import POLICY, PUBLIC, access_for
from api.routes import iter_routes


def _app():
    return main.create_app(load_settings(spa_dir="/nonexistent"))


def test_every_route_has_a_policy_entry():
    entries = list(iter_routes(_app()))
    assert {"/api/v1/me", "/api/v1/auth/token", "/docs"} <= {e.path for e in entries}
    missing = [f"{e.method} {e.path}" for e in entries if access_for(e.method, e.path) is None]
    assert missing == []


def test_no_stale_policy_entries():
    routes = {(e.method, e.path) for e in iter_routes(_app())}
    assert set(POLICY) - routes == set()


def test_an_unlisted_route_stops_the_app(monkeypatch):
    monkeypatch.delitem(POLICY, ("GET", "/api/v1/me"))
    with pytest.raises(RuntimeError, match="GET /api/v1/me"):
        _app()


def test_private_routes_declare_bearer_security_in_the_contract():
    spec = _app().openapi()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            public = access_for(method, path) == PUBLIC
            assert ("security" in op) != public, (method, path)


async def test_a_role_outside_the_policy_gets_403(api, monkeypatch):
    from api.policy import THERAPISTS
    from tests.support.users import signed_up

    client = await signed_up(api, "client")
    monkeypatch.setitem(POLICY, ("GET", "/api/v1/me"), THERAPISTS)
    response = await api.get("/api/v1/me", headers=client.headers)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
