"""ETag / If-Match for versioned resources: the ETag is the version, `"v<n>"`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from api.errors import ApiProblem
from api.schemas.types import MAX_INT

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def sets_etag(endpoint: Endpoint) -> Endpoint:
    """Marks an operation whose success answer carries an `ETag` header, so that the published contract
    declares it (api/openapi.py). Put it under the route decorator."""
    setattr(endpoint, "sets_etag", True)  # noqa: B010  (a function has no such attribute to type)
    return endpoint


def declares_etag(endpoint: Callable[..., Any]) -> bool:
    return getattr(endpoint, "sets_etag", False) is True


def etag(version: int) -> str:
    return f'"v{version}"'


def parse_if_match(value: str | None) -> int:
    """The version the caller read. `"v0"` means "I expect nothing there yet" (create)."""
    if value is None:
        raise ApiProblem(428, "precondition_required", "Send If-Match with the ETag you read.")
    tag = value.strip().removeprefix("W/")
    digits = tag[2:-1]
    # isascii: isdigit alone takes "²" (a header's Latin-1), which int() refuses. Past MAX_INT no version exists.
    if not (tag.startswith('"v') and tag.endswith('"') and digits.isascii() and digits.isdigit() and len(digits) < 11):
        raise ApiProblem(412, "precondition_failed", "If-Match does not match the current version.")
    version = int(digits)
    if version > MAX_INT:
        raise ApiProblem(412, "precondition_failed", "If-Match does not match the current version.")
    return version
