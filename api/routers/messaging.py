"""Conversations and messages over REST (the WebSocket carries the same operations live)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from api.deps import Container_, CurrentPrincipal, Messaging
from api.errors import ApiProblem
from api.idempotency import IdempotencyKey, run_idempotent
from api.pagination import Cursor, Limit, parse_seq_cursor, parse_time_id_cursor, time_id_cursor
from api.schemas.messaging import (
    WS_MAX_FRAME_BYTES,
    Away,
    ConversationOut,
    Conversations,
    MarkRead,
    MessageOut,
    MessagePage,
    ReadCursor,
    SendMessage,
    StartConversation,
    WelcomeTemplate,
    WsTicket,
)
from api.schemas.types import MAX_BIGINT

router = APIRouter(prefix="/api/v1", tags=["conversations"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such conversation (or not yours)"}}


@router.get(
    "/conversations",
    summary="My conversations, with unread counts",
    description="Newest conversation first, an order new messages do not change (sort by `last_message_at` "
    "yourself for an inbox).",
)
async def list_conversations(
    principal: CurrentPrincipal, messaging: Messaging, limit: Limit = 50, cursor: Cursor = None
) -> Conversations:
    found = await messaging.conversations(principal, after=parse_time_id_cursor(cursor), limit=limit + 1)
    items = found[:limit]
    last = items[-1].conversation if items else None
    return Conversations(
        items=[ConversationOut.of(s) for s in items],
        next_cursor=time_id_cursor(last.created_at, last.id) if last and len(found) > limit else None,
    )


@router.post(
    "/conversations",
    status_code=status.HTTP_201_CREATED,
    summary="Open a conversation with one of my clients (therapists)",
    description="`201` with the conversation when this call opened it, or `200` with the conversation already "
    "open with this client (nothing was created). Conversations also open by themselves when care starts (a first "
    "booking or a match).",
    responses={
        200: {"model": ConversationOut, "description": "Already open: nothing was created"},
        404: {"description": "No such client of yours"},
        409: {"description": "`idempotency_in_progress`"},
        422: {"description": "`idempotency_key_reused`"},
    },
    response_model=ConversationOut,
)
async def start_conversation(
    body: StartConversation,
    principal: CurrentPrincipal,
    messaging: Messaging,
    container: Container_,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def start() -> tuple[ConversationOut, int]:
        started = await messaging.start(principal, body.client_id)
        return ConversationOut.of(started.summary), status.HTTP_201_CREATED if started.created else status.HTTP_200_OK

    return await run_idempotent(
        request,
        container.idempotency,
        container.clock.now(),
        principal,
        idempotency_key,
        "conversations-start-conversation",
        body,
        status.HTTP_201_CREATED,
        start,
    )


@router.get(
    "/conversations/{conversation_id}/messages",
    summary="Messages after a sequence number, in order",
    description="`after_seq` is a gap-free cursor: pass the last seq you have to get exactly what you missed. "
    "`cursor` takes the `next_cursor` of the previous page (the same position); give one or the other.",
    responses=_NOT_FOUND,
)
async def list_messages(
    conversation_id: uuid.UUID,
    principal: CurrentPrincipal,
    messaging: Messaging,
    after_seq: Annotated[int | None, Query(ge=0, le=MAX_BIGINT, description="The last seq you have; 0 for all")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=20, description="The `next_cursor` of the previous page")] = None,
) -> MessagePage:
    if cursor is not None and after_seq is not None:
        raise ApiProblem(422, "invalid_cursor", "Give cursor or after_seq, not both.")
    start = parse_seq_cursor(cursor) if cursor is not None else after_seq or 0
    found = await messaging.messages(principal, conversation_id, start, limit + 1)
    items = found[:limit]
    more = len(found) > limit
    return MessagePage(items=[MessageOut.of(m) for m in items], next_cursor=str(items[-1].seq) if more else None)


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    summary="Send a message",
    description="`201` with the stored message, or `200` with the same message when this `client_message_id` "
    "was already stored (a retry). The same id with another body is `422 client_message_id_reused`. A conversation "
    "whose care ended is read-only: `409 conversation_closed`. The `client_message_id` is the retry key; an "
    "`Idempotency-Key` is honoured beside it like on every creating POST (the same key and body replays the first "
    "answer, the same key with another body is `422 idempotency_key_reused`).",
    responses={
        **_NOT_FOUND,
        200: {"model": MessageOut, "description": "Already stored (an idempotent retry)"},
        409: {
            "description": "`conversation_closed`: care ended; the conversation stays readable. "
            "`idempotency_in_progress`"
        },
        422: {"description": "`client_message_id_reused`, `invalid_message`, `idempotency_key_reused`"},
    },
    response_model=MessageOut,
)
async def send_message(
    conversation_id: uuid.UUID,
    body: SendMessage,
    principal: CurrentPrincipal,
    messaging: Messaging,
    container: Container_,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def send() -> tuple[MessageOut, int]:
        sent = await messaging.send(principal, conversation_id, body.client_message_id, body.body)
        return MessageOut.of(sent.message), status.HTTP_201_CREATED if sent.created else status.HTTP_200_OK

    return await run_idempotent(
        request,
        container.idempotency,
        container.clock.now(),
        principal,
        idempotency_key,
        f"conversations-send-message:{conversation_id}",
        body,
        status.HTTP_201_CREATED,
        send,
    )


@router.post("/conversations/{conversation_id}/read", summary="Mark messages read up to seq", responses=_NOT_FOUND)
async def mark_read(
    conversation_id: uuid.UUID, body: MarkRead, principal: CurrentPrincipal, messaging: Messaging
) -> ReadCursor:
    cursor = await messaging.mark_read(principal, conversation_id, body.seq)
    return ReadCursor(conversation_id=conversation_id, last_read_seq=cursor)


@router.get("/therapists/me/away", summary="Whether I am away from messaging")
async def get_away(principal: CurrentPrincipal, messaging: Messaging) -> Away:
    return Away(away=await messaging.is_away(principal))


@router.put("/therapists/me/away", summary="Set or clear my away status")
async def put_away(body: Away, principal: CurrentPrincipal, messaging: Messaging) -> Away:
    return Away(away=await messaging.set_away(principal, body.away))


@router.get("/therapists/me/welcome-message", summary="My welcome message template")
async def get_welcome(principal: CurrentPrincipal, messaging: Messaging) -> WelcomeTemplate:
    return WelcomeTemplate(template=await messaging.welcome_template(principal))


@router.put("/therapists/me/welcome-message", summary="Replace my welcome message template")
async def put_welcome(body: WelcomeTemplate, principal: CurrentPrincipal, messaging: Messaging) -> WelcomeTemplate:
    return WelcomeTemplate(template=await messaging.set_welcome_template(principal, body.template))


@router.post(
    "/ws-tickets",
    status_code=status.HTTP_201_CREATED,
    summary="A single-use ticket for the WebSocket",
    description="Valid 30 seconds, once: connect to `/api/v1/ws?ticket=…`. Frames are JSON objects with a "
    "`type`: `send`, `resume`, `typing`, `read`, `ping` from the client; `ack`, `message`, `resumed`, `typing`, "
    "`read`, `error`, `pong` from the server (schemas: components `SendFrame`, `AckFrame`, ...). A frame is at most "
    f"{WS_MAX_FRAME_BYTES // 1024} KiB of UTF-8 (a larger one closes the socket with 1009), room for the longest "
    "`send` however its JSON is escaped.\n\n"
    "An `error` frame names the frame it refuses (`frame_type`, and `ref`: a send's `client_message_id`, else the "
    "conversation or appointment id). Permanent refusals, which the same frame sent again can only meet again "
    "(show the message as not sent; do not retry it): `invalid_frame` (not a frame this API accepts, e.g. a `send` "
    "with an empty body or a body over 10,000 characters), `invalid_message` (a body of whitespace only), "
    "`validation_failed`, `client_message_id_reused`, `conversation_closed`, `not_found`, `forbidden`. Transient: "
    "`rate_limited` (send it again after `retry_after` seconds) and a lost connection (send it again with the same "
    "`client_message_id` once reconnected: a stored message is acknowledged, not stored twice). The same mistakes "
    "over REST: an empty or too long body is `422 validation_failed`, a blank one `422 invalid_message`.",
)
async def create_ws_ticket(principal: CurrentPrincipal, request: Request) -> WsTicket:
    ticket, expires_in = await request.app.state.container.tickets.issue(principal)
    return WsTicket(ticket=ticket, expires_in=expires_in)
