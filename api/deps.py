"""Annotated dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.bootstrap import Container
from api.security import authorize
from domain.billing.service import BillingService
from domain.identity.invitations import InvitationService
from domain.identity.service import IdentityService
from domain.identity.staff import StaffService
from domain.matching.service import MatchingService
from domain.measures.service import MeasuresService
from domain.messaging.service import MessagingService
from domain.notes.service import NotesService
from domain.plans.service import PlansService
from domain.scheduling.calendar_service import CalendarService
from domain.scheduling.series_service import SeriesService
from domain.scheduling.service import SchedulingService
from domain.scheduling.waitlist_service import WaitlistService
from domain.sessions.service import SessionService
from domain.shared.errors import AuthenticationFailed
from domain.shared.principal import Principal


# Dependencies are `async def` on purpose: FastAPI runs plain `def` ones in a thread pool, a hop per call.
def _container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


async def container(request: Request) -> Container:
    return _container(request)


async def identity_service(request: Request) -> IdentityService:
    return _container(request).identity


async def invitation_service(request: Request) -> InvitationService:
    return _container(request).invitations


async def scheduling_service(request: Request) -> SchedulingService:
    return _container(request).scheduling


async def series_service(request: Request) -> SeriesService:
    return _container(request).series


async def waitlist_service(request: Request) -> WaitlistService:
    return _container(request).waitlist


async def calendar_service(request: Request) -> CalendarService:
    return _container(request).calendar


async def measures_service(request: Request) -> MeasuresService:
    return _container(request).measures


async def plans_service(request: Request) -> PlansService:
    return _container(request).plans


async def notes_service(request: Request) -> NotesService:
    return _container(request).notes


async def messaging_service(request: Request) -> MessagingService:
    return _container(request).messaging


async def matching_service(request: Request) -> MatchingService:
    return _container(request).matching


async def staff_service(request: Request) -> StaffService:
    return _container(request).staff


async def billing_service(request: Request) -> BillingService:
    return _container(request).billing


async def session_service(request: Request) -> SessionService:
    return _container(request).sessions


async def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def require_principal(principal: Annotated[Principal | None, Depends(authorize)]) -> Principal:
    if principal is None:
        raise AuthenticationFailed("Authentication is required.", code="not_authenticated")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(authorize)]
Identity = Annotated[IdentityService, Depends(identity_service)]
Invitations = Annotated[InvitationService, Depends(invitation_service)]
Scheduling = Annotated[SchedulingService, Depends(scheduling_service)]
Series_ = Annotated[SeriesService, Depends(series_service)]
Waitlist = Annotated[WaitlistService, Depends(waitlist_service)]
Calendar = Annotated[CalendarService, Depends(calendar_service)]
Measures = Annotated[MeasuresService, Depends(measures_service)]
Plans = Annotated[PlansService, Depends(plans_service)]
Notes = Annotated[NotesService, Depends(notes_service)]
Messaging = Annotated[MessagingService, Depends(messaging_service)]
Matching = Annotated[MatchingService, Depends(matching_service)]
Staff = Annotated[StaffService, Depends(staff_service)]
Billing = Annotated[BillingService, Depends(billing_service)]
Sessions = Annotated[SessionService, Depends(session_service)]
Container_ = Annotated[Container, Depends(container)]
RequestId = Annotated[str | None, Depends(request_id)]
ClientAddress = Annotated[str, Depends(client_address)]
