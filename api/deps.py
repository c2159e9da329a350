"""Annotated dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.bootstrap import Container
from api.security import authorize
from domain.identity.service import IdentityService
from domain.scheduling.service import SchedulingService
from domain.shared.errors import AuthenticationFailed
from domain.shared.principal import Principal


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def identity_service(request: Request) -> IdentityService:
    return container(request).identity


def scheduling_service(request: Request) -> SchedulingService:
    return container(request).scheduling


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def require_principal(principal: Annotated[Principal | None, Depends(authorize)]) -> Principal:
    if principal is None:
        raise AuthenticationFailed("Authentication is required.", code="not_authenticated")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(authorize)]
Identity = Annotated[IdentityService, Depends(identity_service)]
Scheduling = Annotated[SchedulingService, Depends(scheduling_service)]
Container_ = Annotated[Container, Depends(container)]
RequestId = Annotated[str | None, Depends(request_id)]
ClientAddress = Annotated[str, Depends(client_address)]
