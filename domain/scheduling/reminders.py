"""When to remind each party of a session, and what the reminder says.

Due times are computed per recipient, in the recipient's zone: the whole days of an offset are stepped back on
the wall clock, the rest in real time. So the default "24 h" reminder of a 9:00 session is sent at 9:00 local
the day before even when a DST change falls between them (23 or 25 real hours), and "1 h" is one real hour.

A reminder carries no clinical content and no surname: only the other party's first name, the session's local
time in the recipient's zone with the zone's abbreviation, its length and modality, and a link to the app.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.scheduling.localtime import ensure_utc, load_zone, local_to_utc
from domain.scheduling.model import Modality
from domain.shared.errors import ValidationFailed

DEFAULT_REMINDER_OFFSETS: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
MAX_REMINDER_OFFSETS = 5
MAX_REMINDER_OFFSET = timedelta(days=30)

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MODALITY_PHRASE = {
    Modality.VIDEO: "video session",
    Modality.AUDIO: "audio session in the app",
    Modality.PHONE: "phone session (we will call you)",
    Modality.CHAT: "live chat session",
}
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "sir", "dame", "rev"})
_BASE_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


def validate_offsets(offsets: Sequence[timedelta]) -> None:
    if len(offsets) > MAX_REMINDER_OFFSETS or any(not timedelta(0) < o <= MAX_REMINDER_OFFSET for o in offsets):
        raise ValidationFailed(
            f"Up to {MAX_REMINDER_OFFSETS} reminders, each between 0 and 30 days before the session.",
            code="invalid_reminder_offsets",
            field="offsets",
        )


def reminder_due_times(
    start: datetime,
    *,
    booked_at: datetime,
    timezone: str,
    offsets: Sequence[timedelta] = DEFAULT_REMINDER_OFFSETS,
) -> list[datetime]:
    """UTC due times of the reminders of a session starting at `start`, for a recipient in `timezone`, sorted
    and without duplicates. A due time at or before `booked_at` is skipped (the session was booked too late)."""
    validate_offsets(offsets)
    start = ensure_utc(start, field="start")
    booked_at = ensure_utc(booked_at, field="booked_at")
    zone = load_zone(timezone)
    local = start.astimezone(zone)
    due: set[datetime] = set()
    for offset in offsets:
        days = offset.days
        rest = offset - timedelta(days=days)
        wall_back = local_to_utc(local.date() - timedelta(days=days), local.time().replace(fold=0), zone)
        at = (wall_back if days else start) - rest
        if at > booked_at:
            due.add(at)
    return sorted(due)


def first_name(display_name: str) -> str:
    """The given name in a display name: 'Dr. Jane Smith' -> 'Jane', 'Smith, Jane' -> 'Jane', 'Anna' -> 'Anna'.
    Empty when nothing usable is left."""
    name = display_name.split(",", 1)[1] if "," in display_name else display_name
    for token in name.split():
        word = token.strip(".")
        if word and word.lower() not in _TITLES:
            return word[:40]
    return ""


@dataclass(frozen=True, slots=True)
class ReminderMessage:
    subject: str
    body: str  # plain-text email body
    sms: str


def format_local(moment: datetime, timezone: str) -> str:
    """'Monday 9 March 2026 at 09:00 EDT' in `timezone` (English names, independent of the process locale)."""
    local = ensure_utc(moment, field="start").astimezone(load_zone(timezone))
    return (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year} "
        f"at {local:%H:%M} {local.tzname()}"
    )


def reminder_message(
    *,
    appointment_id: uuid.UUID,
    start: datetime,
    duration_minutes: int,
    modality: Modality,
    recipient_timezone: str,
    other_party_name: str,
    base_url: str,
) -> ReminderMessage:
    """The reminder for one recipient. `other_party_name` is the other side's display name; only its first name
    is used. The link is `<base_url>/appointments/<id>`."""
    if not _BASE_URL.match(base_url):
        raise ValidationFailed("base_url is an http(s) URL.", code="invalid_base_url", field="base_url")
    when = format_local(start, recipient_timezone)
    name = first_name(other_party_name)
    with_whom = f" with {name}" if name else ""
    link = f"{base_url.rstrip('/')}/appointments/{appointment_id}"
    what = f"{duration_minutes}-minute {_MODALITY_PHRASE[modality]}"
    body = (
        f"This is a reminder of your {what}{with_whom} on {when}.\n\n"
        f"Open Hearth to join or manage it: {link}\n\n"
        "If you need to cancel or reschedule, please do it in the app."
    )
    sms = f"Hearth reminder: {what}{with_whom}, {when}. {link}"
    return ReminderMessage(subject="Reminder: your upcoming session", body=body, sms=sms)
