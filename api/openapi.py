"""The published contract: operation ids `<tag>-<name>`, bearer security from the policy
table, and problem+json error responses on every operation."""

from __future__ import annotations

from typing import Any, get_args

from fastapi import FastAPI, params
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from api.errors import PROBLEM_JSON
from api.etags import declares_etag
from api.policy import access_for
from api.routes import iter_routes
from api.schemas.messaging import ClientFrame, ServerFrame
from api.schemas.problem import Problem
from domain.shared.iso import billable_currencies


def operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name.replace('_', '-')}"


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}}


# Response headers, declared once (components) and referenced where they are sent.
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (yours when you sent a valid one, else made up); quote it when reporting",
        "schema": {"type": "string", "maxLength": 64},
    },
    "ETag": {
        "description": 'The version read or written, such as `"v3"`: send it back as If-Match to update',
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    },
}


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _declare_headers(op: dict[str, Any], *, etag: bool) -> None:
    """Every response names the headers it carries: X-Request-ID always; Retry-After on 429 and on a problem 503;
    on success,
    ETag where the operation sets one and Idempotent-Replayed where it takes an Idempotency-Key."""
    idempotent = any(p.get("in") == "header" and p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
    for status, response in op["responses"].items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = _header("X-Request-ID")
        if status == "429" or (status == "503" and PROBLEM_JSON in response.get("content", {})):
            headers["Retry-After"] = _header("Retry-After")
        if status == "409" and idempotent:  # `idempotency_in_progress`: the first request is still running
            headers["Retry-After"] = _header("Retry-After")
        if status.startswith("2"):
            if etag:
                headers["ETag"] = _header("ETag")
            if idempotent:
                headers["Idempotent-Replayed"] = _header("Idempotent-Replayed")


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(Problem.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"])
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem_schema.pop("$defs", None)
    schemas["Problem"] = problem_schema
    frames = TypeAdapter(ClientFrame | ServerFrame).json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(frames.get("$defs", {}))
    for frame in get_args(ServerFrame):
        # Sent whole (model_dump_json): every field is in every frame, a default `type` or a null included. Said
        # so, generated clients get a required `type` to tell frames apart by.
        sent = schemas[frame.__name__]
        sent["required"] = list(sent["properties"])
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    # The currencies the server bills in and the ISO 4217 exponent of each: amounts are minor units in it.
    spec["x-currency-minor-units"] = billable_currencies()
    components["headers"] = HEADERS

    for entry in iter_routes(app):
        route = entry.route
        if not entry.is_api or not route.include_in_schema:
            continue
        op = spec["paths"][route.path_format][entry.method.lower()]
        access = access_for(entry.method, entry.path)
        responses = op.setdefault("responses", {})
        # Route-declared error responses carry a description; give them the problem body.
        for status, resp in list(responses.items()):
            if status.isdigit() and int(status) >= 400 and status != "503":
                responses[status] = _problem(resp.get("description", "Error"))
        if access is not None and not access.public:
            op["security"] = [{"bearerAuth": []}]
            responses.setdefault("401", _problem("Missing, invalid or expired access token, or its session ended"))
            responses.setdefault("403", _problem("The caller's role may not use this operation"))
        if route.body_field is not None or route.dependant.query_params or route.dependant.path_params:
            responses["422"] = _problem("The request is not valid (`validation_failed`)")
        if route.body_field is not None:
            responses.setdefault("413", _problem("The body is too large (`payload_too_large`)"))
            if not isinstance(route.body_field.field_info, params.Form):
                responses.setdefault("415", _problem("The body is not JSON (`unsupported_media_type`)"))
        responses.setdefault("429", _problem("Too many requests; see Retry-After"))
        responses.setdefault("500", _problem("Unexpected error; only a request id is given"))
        _declare_headers(op, etag=declares_etag(route.endpoint))
    app.openapi_schema = spec
    return spec
