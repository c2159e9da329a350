"""Connected minutes per modality, from the session's timeline.

A video or audio minute counts while both participants are connected; a phone minute while the bridged call is
in progress; a chat minute from the switch to chat until the end (the conversation is the room).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from domain.scheduling.model import Modality
from domain.sessions.model import EventKind, SessionEvent

_PHONE_LIVE = "in_progress"
_PHONE_OVER = frozenset({"completed", "busy", "no_answer", "failed", "canceled"})


def connected_seconds(
    events: Iterable[SessionEvent],
    *,
    start_modality: Modality,
    participants: frozenset[uuid.UUID],
    until: datetime,
) -> dict[Modality, float]:
    totals: dict[Modality, float] = {}
    connected: set[uuid.UUID] = set()
    modality = start_modality
    phone_live = False
    mark: datetime | None = None

    def counting() -> bool:
        if modality in (Modality.VIDEO, Modality.AUDIO):
            return participants <= connected
        if modality is Modality.PHONE:
            return phone_live
        return True

    def close(at: datetime) -> None:
        nonlocal mark
        if mark is not None:
            totals[modality] = totals.get(modality, 0.0) + max(0.0, (min(at, until) - mark).total_seconds())
        mark = None

    for event in sorted(events, key=lambda e: e.at):
        if event.at > until:
            break
        was = counting()
        if was:
            close(event.at)
        if event.kind is EventKind.JOINED and event.actor_id is not None:
            connected.add(event.actor_id)
        elif event.kind is EventKind.LEFT and event.actor_id is not None:
            connected.discard(event.actor_id)
        elif event.kind is EventKind.MODALITY_CHANGED and event.modality is not None:
            modality = event.modality
        elif event.kind is EventKind.PHONE_STATUS:
            if event.detail == _PHONE_LIVE:
                phone_live = True
            elif event.detail in _PHONE_OVER:
                phone_live = False
        elif event.kind is EventKind.ENDED:
            break
        if counting():
            mark = event.at
    if counting() and mark is not None:
        close(until)
    return totals


def connected_minutes(
    events: Iterable[SessionEvent],
    *,
    start_modality: Modality,
    participants: frozenset[uuid.UUID],
    until: datetime,
) -> dict[Modality, int]:
    """Whole minutes (rounded half up) per modality; modalities with no time are left out."""
    seconds = connected_seconds(events, start_modality=start_modality, participants=participants, until=until)
    minutes = {m: int((s + 30) // 60) for m, s in seconds.items()}
    return {m: n for m, n in minutes.items() if n > 0}


def ever_joined(events: Iterable[SessionEvent], user_id: uuid.UUID) -> bool:
    return any(e.kind is EventKind.JOINED and e.actor_id == user_id for e in events)


def phone_connected(events: Iterable[SessionEvent]) -> bool:
    return any(e.kind is EventKind.PHONE_STATUS and e.detail == _PHONE_LIVE for e in events)


def came_to_chat(events: Iterable[SessionEvent], *, start_modality: Modality, client_id: uuid.UUID) -> bool:
    """A chat session's room is the conversation, which nobody joins as they join a call: the client who checked
    in to a session that is (or became, "not alone today") chat came to it. Without this, such a client was
    marked a no-show a quarter of an hour after the start, while writing to their therapist."""
    seen = list(events)
    chat = start_modality is Modality.CHAT or any(
        e.kind is EventKind.MODALITY_CHANGED and e.modality is Modality.CHAT for e in seen
    )
    return chat and any(e.kind is EventKind.CHECKED_IN and e.actor_id == client_id for e in seen)


def client_came(events: Iterable[SessionEvent], *, start_modality: Modality, client_id: uuid.UUID) -> bool:
    """Whether the client attended at all: joined the call, answered the bridged phone call, or came to chat."""
    seen = list(events)
    return (
        ever_joined(seen, client_id)
        or phone_connected(seen)
        or came_to_chat(seen, start_modality=start_modality, client_id=client_id)
    )


def took_place(
    events: Iterable[SessionEvent], *, therapist_id: uuid.UUID, client_id: uuid.UUID, start_modality: Modality
) -> bool:
    """Whether the session really happened: both joined the call, the phone bridge connected (it reports
    `in_progress` only once the client has answered the therapist's call), or the client came to a chat session
    (the therapist, who ends or starts it, is there by doing so). Not how long they overlapped: that is the
    connected minutes' business, and billing charges nothing for none."""
    seen = list(events)
    return (
        phone_connected(seen)
        or (ever_joined(seen, therapist_id) and ever_joined(seen, client_id))
        or came_to_chat(seen, start_modality=start_modality, client_id=client_id)
    )


def present(events: Iterable[SessionEvent]) -> set[uuid.UUID]:
    """Who is connected now, by the last join/leave of each participant."""
    who: set[uuid.UUID] = set()
    for event in sorted(events, key=lambda e: e.at):
        if event.actor_id is None:
            continue
        if event.kind is EventKind.JOINED:
            who.add(event.actor_id)
        elif event.kind is EventKind.LEFT:
            who.discard(event.actor_id)
    return who


def latest_join(events: Iterable[SessionEvent], user_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the user's last JOINED event (events in the order they happened)."""
    found = None
    for event in events:
        if event.kind is EventKind.JOINED and event.actor_id == user_id:
            found = event.id
    return found


def as_timedelta(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)
