"""ETag / If-Match for versioned resources: the ETag is the version, `"v<n>"`."""

from __future__ import annotations

from api.errors import ApiProblem


def etag(version: int) -> str:
    return f'"v{version}"'


def parse_if_match(value: str | None) -> int:
    """The version the caller read. `"v0"` means "I expect nothing there yet" (create)."""
    if value is None:
        raise ApiProblem(428, "precondition_required", "Send If-Match with the ETag you read.")
    tag = value.strip().removeprefix("W/")
    if not (tag.startswith('"v') and tag.endswith('"') and tag[2:-1].isdigit()):
        raise ApiProblem(412, "precondition_failed", "If-Match does not match the current version.")
    return int(tag[2:-1])
