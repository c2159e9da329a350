"""Domain errors. Each carries a stable machine `code`; only the API layer knows HTTP statuses."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

# How much of a rejected value an error message quotes: a 900,000-character "licence" must not come back whole.
MAX_QUOTED = 40


def quoted(value: object, limit: int = MAX_QUOTED) -> str:
    """`repr(value)` for an error message, cut to about `limit` characters: "'xxxxxxxx…' (900000 characters)"."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[:limit]}…{size}"


class DomainError(Exception):
    code = "domain_error"

    def __init__(
        self, detail: str = "", *, code: str | None = None, extensions: Mapping[str, int | str] | None = None
    ) -> None:
        super().__init__(detail or self.__class__.__name__)
        self.detail = detail
        # Machine-readable facts beside `code` (a count, an id): extension members of the problem body.
        self.extensions = dict(extensions or {})
        if code is not None:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class InvalidState(DomainError):
    code = "invalid_state"


class Gone(DomainError):
    """The object existed but can no longer be used (a spent, expired or withdrawn link)."""

    code = "gone"


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a business rule."""

    code = "validation_failed"

    def __init__(self, detail: str = "", *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.field = field


class AuthenticationFailed(DomainError):
    code = "authentication_failed"


class SessionRevoked(AuthenticationFailed):
    """A whole login session was just revoked (a spent refresh token came back, or a refresh found it past its
    limits): its live sockets must close, and every process must refuse its access tokens."""

    def __init__(self, detail: str, *, code: str, user_id: uuid.UUID) -> None:
        super().__init__(detail, code=code)
        self.user_id = user_id


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, detail: str = "", *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = max(1, retry_after)


class StaleVersion(DomainError):
    """The caller changed a versioned record from an outdated copy."""

    code = "precondition_failed"
