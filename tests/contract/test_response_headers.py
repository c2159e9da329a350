"""openapi.json declares the response headers Hearth sends and the statuses its operations answer."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from api.bootstrap import load_settings
from api.main import create_app
from api.routes import iter_routes


@pytest.fixture(scope="module")
def app_and_spec() -> tuple[Any, dict[str, Any]]:
    app = create_app(load_settings(spa_dir="/nonexistent"))
    return app, app.openapi()


def _operations(app: Any, spec: dict[str, Any]):
    for entry in iter_routes(app):
        if entry.is_api and entry.route.include_in_schema:
            yield entry, spec["paths"][entry.route.path_format][entry.method.lower()]


def _success_headers(op: dict[str, Any]) -> list[set[str]]:
    return [set(r.get("headers", {})) for status, r in op["responses"].items() if status.startswith("2")]


def test_operations_that_set_an_etag_declare_it_and_no_others(app_and_spec):
    app, spec = app_and_spec
    setting = set()
    for entry, op in _operations(app, spec):
        sets = 'headers["ETag"]' in inspect.getsource(entry.route.endpoint)
        declared = [("ETag" in headers) for headers in _success_headers(op)]
        assert declared and all(d == sets for d in declared), f"{entry.method} {entry.path}: ETag sent={sets}"
        if sets:
            setting.add(f"{entry.method} {entry.path}")
    # The review's list: profile, plan, note, psychotherapy note, billing record and settings.
    for expected in (
        "GET /api/v1/therapists/me/profile",
        "PUT /api/v1/clients/{client_id}/plan",
        "GET /api/v1/appointments/{appointment_id}/note",
        "GET /api/v1/psychotherapy-notes/{note_id}",
        "GET /api/v1/therapists/me/billing-settings",
    ):
        assert expected in setting, expected
    assert spec["components"]["headers"]["ETag"]["schema"] == {"type": "string"}


def test_request_id_retry_after_and_replays_are_declared(app_and_spec):
    app, spec = app_and_spec
    for entry, op in _operations(app, spec):
        where = f"{entry.method} {entry.path}"
        for status, response in op["responses"].items():
            assert "X-Request-ID" in response.get("headers", {}), (where, status)
        assert "Retry-After" in op["responses"]["429"]["headers"], where
        problem_503 = op["responses"].get("503", {}).get("content", {}).get("application/problem+json")
        if problem_503:
            assert "Retry-After" in op["responses"]["503"]["headers"], where
        takes_key = any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
        assert all(("Idempotent-Replayed" in h) == takes_key for h in _success_headers(op)), where


def test_statuses_the_review_found_undocumented(app_and_spec):
    _, spec = app_and_spec
    submit = spec["paths"]["/api/v1/measure-assignments/{assignment_id}/responses"]["post"]["responses"]
    assert "already_completed" in submit["409"]["description"]
    match = spec["paths"]["/api/v1/matches"]["post"]["responses"]
    assert "404" in match
    register = spec["paths"]["/api/v1/auth/register"]["post"]["responses"]
    assert "415" in register
    token = spec["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "415" not in token, "a form operation takes no JSON"
