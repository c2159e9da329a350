"""Live sessions over REST: the session state, the client's safety check-in, the waiting room, step-down,
ending, ICE servers and the practice's media setting. The call itself is signaled over /api/v1/ws."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status

from api.deps import CurrentPrincipal, Sessions
from api.schemas.sessions import (
    AutoAdmit,
    CheckInBody,
    IceServerOut,
    IceServers,
    SessionOut,
    SessionSettings,
    StepDown,
)
from domain.scheduling.model import Modality
from domain.sessions.model import CheckIn, EmergencyContact

router = APIRouter(prefix="/api/v1", tags=["sessions"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such appointment, or you are not one of its participants (`not_found`)"}
}
_WINDOW: dict[int | str, dict[str, Any]] = {
    409: {"description": "`session_over` (cancelled, completed, no-show) or another state conflict"},
    422: {"description": "`outside_join_window`: sessions open 10 minutes before the start and close 15 after the end"},
}


@router.get(
    "/appointments/{appointment_id}/session",
    summary="The live session of an appointment",
    description="Join window, check-in, waiting room, who is connected, the current modality and media path, and "
    "the timeline of events. Only the therapist and the client of the appointment see it.",
    response_model=SessionOut,
    responses=_NOT_FOUND,
)
async def get(appointment_id: uuid.UUID, principal: CurrentPrincipal, sessions: Sessions) -> SessionOut:
    return SessionOut.of(await sessions.view(principal, appointment_id))


@router.post(
    "/appointments/{appointment_id}/check-in",
    summary="The client's safety check-in",
    description="Required before joining. Where the client is (country, US state), whether at home, the emergency "
    'contact confirmed or updated, and a private place - or `private: false` ("I am not alone"), which turns this '
    "session into chat. Stored encrypted. The client then waits to be admitted.",
    response_model=SessionOut,
    responses={**_NOT_FOUND, **_WINDOW, 403: {"description": "Only the client checks in (`client_only`)"}},
)
async def check_in(
    appointment_id: uuid.UUID, body: CheckInBody, principal: CurrentPrincipal, sessions: Sessions
) -> SessionOut:
    view = await sessions.check_in(
        principal,
        appointment_id,
        CheckIn(
            country=body.country,
            region=body.region or None,
            at_home=body.at_home,
            emergency_contact=EmergencyContact(body.emergency_contact.name, body.emergency_contact.phone),
            emergency_contact_updated=body.emergency_contact_updated,
            private=body.private,
        ),
    )
    return SessionOut.of(view)


@router.post(
    "/appointments/{appointment_id}/session/admit",
    summary="Admit the waiting client",
    response_model=SessionOut,
    responses={**_NOT_FOUND, **_WINDOW, 403: {"description": "Only the therapist admits (`therapist_only`)"}},
)
async def admit(appointment_id: uuid.UUID, principal: CurrentPrincipal, sessions: Sessions) -> SessionOut:
    return SessionOut.of(await sessions.admit(principal, appointment_id))


@router.put(
    "/appointments/{appointment_id}/session/auto-admit",
    summary="Admit the client automatically from the start time",
    description="An early arrival still waits: auto-admission starts at the scheduled start.",
    response_model=SessionOut,
    responses={**_NOT_FOUND, 403: {"description": "Only the therapist (`therapist_only`)"}},
)
async def auto_admit(
    appointment_id: uuid.UUID, body: AutoAdmit, principal: CurrentPrincipal, sessions: Sessions
) -> SessionOut:
    return SessionOut.of(await sessions.set_auto_admit(principal, appointment_id, body.enabled))


@router.post(
    "/appointments/{appointment_id}/session/modality",
    summary="Step down: video, audio, phone call-back, chat",
    description="Within the same session and timer; each switch is an event. Never back up.",
    response_model=SessionOut,
    responses={**_NOT_FOUND, **_WINDOW},
)
async def step_down(
    appointment_id: uuid.UUID, body: StepDown, principal: CurrentPrincipal, sessions: Sessions
) -> SessionOut:
    return SessionOut.of(await sessions.change_modality(principal, appointment_id, Modality(body.modality)))


@router.post(
    "/appointments/{appointment_id}/session/phone-call",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Call the client (phone sessions)",
    description="The platform calls the therapist, then the client, and bridges them; neither sees the other's number.",
    responses={**_NOT_FOUND, **_WINDOW, 403: {"description": "Only the therapist (`therapist_only`)"}},
)
async def phone_call(appointment_id: uuid.UUID, principal: CurrentPrincipal, sessions: Sessions) -> None:
    await sessions.call_phone(principal, appointment_id)


@router.post(
    "/appointments/{appointment_id}/session/end",
    summary="End the session (therapist)",
    description="The appointment becomes `completed`; connected minutes per modality go to billing (no connected "
    "minute: a charge of zero, no invoice). Only a session that took place can end: both joined the call, or the "
    "phone call connected.",
    response_model=SessionOut,
    responses={
        **_NOT_FOUND,
        403: {"description": "Only the therapist (`therapist_only`)"},
        409: {
            "description": "`session_not_started` (not in progress), `session_not_held` (both never joined and no "
            "phone call connected) or `session_ended`"
        },
    },
)
async def end(appointment_id: uuid.UUID, principal: CurrentPrincipal, sessions: Sessions) -> SessionOut:
    return SessionOut.of(await sessions.end(principal, appointment_id))


@router.get(
    "/appointments/{appointment_id}/ice-servers",
    summary="STUN and TURN servers for this session",
    description="TURN credentials are time-limited, in coturn's REST format: username `<expiry>:<user id>`, "
    "credential base64(HMAC-SHA1(shared secret, username)).",
    response_model=IceServers,
    responses=_NOT_FOUND,
)
async def ice_servers(appointment_id: uuid.UUID, principal: CurrentPrincipal, sessions: Sessions) -> IceServers:
    servers, expires = await sessions.ice_servers(principal, appointment_id)
    return IceServers(ice_servers=[IceServerOut.of(s) for s in servers], expires_at=expires)


@router.get(
    "/practices/me/session-settings", summary="The practice's live-session settings", response_model=SessionSettings
)
async def get_settings(principal: CurrentPrincipal, sessions: Sessions) -> SessionSettings:
    return SessionSettings(require_relayed=await sessions.require_relayed(principal))


@router.put(
    "/practices/me/session-settings", summary="Require relayed media for the practice", response_model=SessionSettings
)
async def put_settings(body: SessionSettings, principal: CurrentPrincipal, sessions: Sessions) -> SessionSettings:
    return SessionSettings(require_relayed=await sessions.set_require_relayed(principal, body.require_relayed))
