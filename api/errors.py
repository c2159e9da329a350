"""Every error becomes RFC 9457 problem+json with a stable `code`. The DomainError table
below is the only place that knows which HTTP status each domain failure means."""

from __future__ import annotations

import email.message
import re
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.routes import allowed_methods
from api.schemas.billing import LateFeeProblem
from api.spa import is_api_path
from domain.billing.errors import (
    InvalidWebhook,
    PaymentActionRequired,
    PaymentDeclined,
    PaymentProviderUnavailable,
    PaymentRejected,
)
from domain.media.relay import RelayUnavailable
from domain.scheduling.policy import LateFeeNotAccepted
from domain.shared.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidState,
    NotFound,
    RateLimited,
    StaleVersion,
    ValidationFailed,
)
from domain.shared.notify import EmailUnavailable
from domain.telephony.errors import TelephonyUnavailable

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://hearth.dev/problems/"
UNAVAILABLE_RETRY_AFTER_SECONDS = 30

_STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    # Before AuthenticationFailed: a bad webhook is a bad request, not a user to log in.
    (InvalidWebhook, 400),
    (PaymentDeclined, 402),
    (PaymentActionRequired, 402),
    (PaymentProviderUnavailable, 503),
    (PaymentRejected, 502),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (InvalidState, 409),
    (Gone, 410),
    (ValidationFailed, 422),
    (AuthenticationFailed, 401),
    (RateLimited, 429),
    (StaleVersion, 412),
    (TelephonyUnavailable, 503),
    (RelayUnavailable, 503),
    (EmailUnavailable, 503),
]

_CODE_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    411: "length_required",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}

log = structlog.get_logger("hearth.errors")


class ApiProblem(Exception):
    """An error that only the HTTP layer knows about (headers, content negotiation...)."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def problem(
    request: Request,
    status: int,
    code: str,
    detail: str | None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": PROBLEM_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": request_id_of(request),
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extensions or {})
    headers = dict(headers or {})
    if body["request_id"]:
        headers["X-Request-ID"] = body["request_id"]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_problem(request: Request, exc: DomainError) -> JSONResponse:
    """The problem+json answer to a domain failure (what an `Idempotency-Key` replays of it, too)."""
    status = status_for(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else {}
    if status == 503:
        # A provider (telephony, payments, media relay, email) is down: worth a retry, not at once.
        headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    errors = None
    if isinstance(exc, ValidationFailed) and exc.field:
        errors = [{"loc": ["body", *field_loc(exc.field)], "msg": exc.detail, "type": exc.code}]
    extensions = LateFeeProblem.extensions(exc) if isinstance(exc, LateFeeNotAccepted) else exc.extensions
    return problem(request, status, exc.code, exc.detail or None, errors=errors, headers=headers, extensions=extensions)


def status_for(error: DomainError) -> int:
    for kind, status in _STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 400


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        # Never echo the rejected input back: it may be a password or clinical text.
        out.append(
            {
                "loc": [str(p) if not isinstance(p, int) else p for p in err.get("loc", ())],
                "msg": str(err.get("msg", "invalid")),
                "type": str(err.get("type", "invalid")),
            }
        )
    return out


_FIELD_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def field_loc(field: str) -> list[str | int]:
    """A domain error's field path as pydantic's `loc` parts: "goals[0].objectives[1].text" is
    ["goals", 0, "objectives", 1, "text"]."""
    return [int(index) if index else name for index, name in _FIELD_PART.findall(field)]


def is_json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def _json_body_of_another_type(request: Request) -> bool:
    """A JSON operation was sent a body under another (or no) Content-Type: FastAPI then validates the raw bytes,
    which can only fail. That is a 415, not the caller's fields being wrong."""
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    if body_field is None or isinstance(body_field.field_info, params.Form):
        return False
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    return has_body and not is_json_media_type(request.headers.get("content-type"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(request, exc)

    @app.exception_handler(ApiProblem)
    async def _api(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem(request, exc.status, exc.code, exc.detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _json_body_of_another_type(request):
            return problem(
                request, 415, "unsupported_media_type", "Send the body as JSON, with Content-Type: application/json."
            )
        return problem(
            request, 422, "validation_failed", "The request is not valid; see `errors`.", errors=_field_errors(exc)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's answer to a body that is not even text; malformed JSON is already a 422.
            return problem(request, 422, "validation_failed", "The request body could not be parsed as JSON.")
        code = _CODE_BY_STATUS.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 404:
            detail = "Not found."
        if exc.status_code == 405 and is_api_path(request.url.path):
            # Starlette names the methods of the first route whose path matched; GET and PUT of one path are two
            # routes, so `Allow` would leave one out.
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
            detail = f"{request.method} is not allowed here; see Allow."
        return problem(request, exc.status_code, code, detail, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__, exc_info=exc)
        return problem(
            request, 500, "internal_error", "Something went wrong on our side; quote the request id if you report it."
        )
