"""Bearer tokens -> Principal, and the route policy gate."""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRoute

from api.errors import ApiProblem
from api.policy import access_for
from domain.shared.errors import AuthenticationFailed
from domain.shared.principal import Principal


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationFailed("Use `Authorization: Bearer <access token>`.", code="invalid_token")
    return value.strip()


def optional_principal(request: Request) -> Principal | None:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = bearer_token(request)
    if token is None:
        return None
    container = request.app.state.container
    principal: Principal = container.tokens.verify(token)
    container.revoked_sessions.check(principal)  # signed out or removed: refused before the token expires
    principal = Principal(
        user_id=principal.user_id,
        role=principal.role,
        practice_id=principal.practice_id,
        session_id=principal.session_id,
        request_id=getattr(request.state, "request_id", None),
    )
    request.state.principal = principal
    return principal


async def authorize(request: Request) -> Principal | None:
    """Router-level dependency: applies the policy table to the matched route."""
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    access = access_for(request.method, path)
    if access is None:
        # Unreachable in a started app (startup checks coverage); fail closed anyway.
        raise ApiProblem(403, "forbidden", "This operation is not available.")
    if access.public:
        # A public route works without a token; a stale one must not lock anybody out of it.
        try:
            return optional_principal(request)
        except AuthenticationFailed:
            return None
    principal = optional_principal(request)
    if principal is None:
        raise AuthenticationFailed("Authentication is required.", code="not_authenticated")
    if not access.allows(principal.role):
        raise ApiProblem(403, "forbidden", "Your role may not use this operation.")
    return principal
