"""Every list the API answers is cursor-paginated (API.md: `?limit=&cursor=` → `{items, next_cursor}`), so no
list grows without bound in one response."""

from __future__ import annotations

from typing import Any

from api.bootstrap import load_settings
from api.main import create_app

# Lists that are one document rather than a collection that grows.
WHOLE_DOCUMENTS = {
    "/api/v1/instruments": "the fixed catalogue of questionnaires Hearth ships",
    "/api/v1/practices/me/crisis-resources": "a setting replaced whole by PUT (bounded by its schema)",
    "/api/v1/clients/names": "at most one item per id asked for (100, bounded by its schema)",
}


def _list_shaped(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    schemas = spec["components"]["schemas"]
    out = {}
    for path, ops in spec["paths"].items():
        get = ops.get("get")
        if get is None:
            continue
        body = get["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        schema = schemas.get(body.get("$ref", "").rsplit("/", 1)[-1], body)
        items = schema.get("properties", {}).get("items", {})
        if items.get("type") == "array" or body.get("type") == "array":
            out[path] = {"op": get, "schema": schema}
    return out


def test_every_list_takes_limit_and_cursor_and_answers_next_cursor():
    spec = create_app(load_settings(spa_dir="/nonexistent")).openapi()
    lists = _list_shaped(spec)
    assert "/api/v1/conversations" in lists and "/api/v1/waitlist" in lists  # the walk finds lists at all
    for path, found in sorted(lists.items()):
        if path in WHOLE_DOCUMENTS:
            continue
        query = {p["name"]: p for p in found["op"].get("parameters", []) if p["in"] == "query"}
        assert "limit" in query and "cursor" in query, f"GET {path} is a list without ?limit= and ?cursor="
        limit = next(s for s in query["limit"]["schema"].get("anyOf", [query["limit"]["schema"]]) if "maximum" in s)
        assert limit["maximum"] <= 200, f"GET {path}: limit is unbounded"
        assert "next_cursor" in found["schema"].get("required", []), f"GET {path} answers no next_cursor"
    assert not set(WHOLE_DOCUMENTS) - set(lists), "an exemption names a list that is gone"
