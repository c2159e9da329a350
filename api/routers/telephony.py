"""Phone sessions: the user's number, the therapist's "call client", and the provider's webhooks."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from api.deps import Container_, CurrentPrincipal
from api.schemas.telephony import PhoneCallOut, PhoneNumberOut, SetPhoneNumber
from domain.telephony.service import TelephonyService


async def telephony_service(request: Request) -> TelephonyService:
    return request.app.state.container.telephony  # type: ignore[no-any-return]


Telephony_ = Annotated[TelephonyService, Depends(telephony_service)]

me_router = APIRouter(prefix="/api/v1/me", tags=["me"])
calls_router = APIRouter(prefix="/api/v1/appointments", tags=["phone-calls"])
webhooks_router = APIRouter(prefix="/api/v1/telephony", tags=["telephony-webhooks"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such appointment, or not yours (`not_found`)"}}


@me_router.get("/phone", summary="My phone number (for phone sessions and SMS reminders)")
async def get_phone(principal: CurrentPrincipal, telephony: Telephony_) -> PhoneNumberOut:
    return PhoneNumberOut(phone=await telephony.phone_of(principal))


@me_router.put(
    "/phone",
    summary="Set or remove my phone number",
    responses={422: {"description": "Not a phone number in international form (`invalid_phone`)"}},
)
async def put_phone(body: SetPhoneNumber, principal: CurrentPrincipal, telephony: Telephony_) -> PhoneNumberOut:
    return PhoneNumberOut(phone=await telephony.set_phone(principal, body.phone))


@calls_router.post(
    "/{appointment_id}/phone-call",
    status_code=status.HTTP_201_CREATED,
    summary="Call the client (therapist)",
    description="The platform calls the therapist, then the client, and bridges them; both see the practice's "
    "number, neither sees the other's. Progress is in `GET .../phone-call`. When the provider's answer is lost "
    "(a timeout) but it has the call, the call stays `queued` until the provider reports on it; one it never "
    "reports on counts as `failed` a minute later.",
    responses={
        **_NOT_FOUND,
        409: {
            "description": "`call_already_live` (also while the previous call is not yet confirmed by the "
            "provider, for up to a minute), `appointment_not_active` (cancelled, ended...) or "
            "`outside_call_window` (from 15 minutes before the start to 15 minutes after the end)"
        },
        422: {"description": "`therapist_phone_missing` or `client_phone_missing`"},
        503: {"description": "The phone provider refused or is unreachable (`telephony_unavailable`)"},
    },
)
async def place(appointment_id: uuid.UUID, principal: CurrentPrincipal, telephony: Telephony_) -> PhoneCallOut:
    return PhoneCallOut.of(await telephony.start_call(principal, appointment_id))


@calls_router.get(
    "/{appointment_id}/phone-call",
    summary="The session's latest phone call",
    responses={404: {"description": "No such appointment (`not_found`), or no call yet (`no_phone_call`)"}},
)
async def current(appointment_id: uuid.UUID, principal: CurrentPrincipal, telephony: Telephony_) -> PhoneCallOut:
    return PhoneCallOut.of(await telephony.current_call(principal, appointment_id))


@calls_router.post(
    "/{appointment_id}/phone-call/hang-up",
    status_code=status.HTTP_202_ACCEPTED,
    summary="End the session's phone call",
    description="Asks the provider to hang up; the call shows `completed` once the provider confirms. A call "
    "the provider never confirmed within a minute of being placed (its placing was cut off) ends at once as "
    "`failed`.",
    responses={**_NOT_FOUND, 409: {"description": "No call under way (`no_live_call`)"}},
)
async def hang_up(appointment_id: uuid.UUID, principal: CurrentPrincipal, telephony: Telephony_) -> PhoneCallOut:
    return PhoneCallOut.of(await telephony.hang_up(principal, appointment_id))


async def _signed_form(request: Request, container: Any) -> tuple[str, dict[str, str], str | None]:
    """The URL exactly as the provider called it (our public base, not what a proxy passed on) and the form."""
    settings = container.settings
    base = (settings.telephony_webhook_base_url or settings.public_url).rstrip("/")
    url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    form = await request.form()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    return url, params, request.headers.get("x-twilio-signature")


@webhooks_router.post(
    "/twilio/calls/{call_id}/connect",
    summary="Twilio: the therapist answered; TwiML that dials the client",
    description="Called by Twilio only; authenticated by `X-Twilio-Signature` (`403 invalid_signature`).",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, 403: {"description": "`invalid_signature`"}},
)
async def twilio_connect(
    call_id: uuid.UUID, request: Request, container: Container_, telephony: Telephony_
) -> Response:
    url, params, signature = await _signed_form(request, container)
    reply = await telephony.handle_connect_webhook(call_id, url, params, signature)
    return Response(reply.body, media_type=reply.media_type)


@webhooks_router.post(
    "/twilio/calls/{call_id}/status",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Twilio: a call status callback",
    description="Called by Twilio only; authenticated by `X-Twilio-Signature` (`403 invalid_signature`). "
    "Repeated callbacks change nothing.",
    response_class=Response,
    responses={403: {"description": "`invalid_signature`"}},
)
async def twilio_status(call_id: uuid.UUID, request: Request, container: Container_, telephony: Telephony_) -> Response:
    url, params, signature = await _signed_form(request, container)
    await telephony.handle_status_webhook(call_id, url, params, signature)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
