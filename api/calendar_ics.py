"""Renders a feed as iCalendar (RFC 5545) with the icalendar package."""

from __future__ import annotations

from icalendar import Calendar, Event

from domain.scheduling.calendar_service import Feed
from domain.scheduling.model import Appointment, AppointmentStatus

_MODALITY = {"video": "video", "audio": "app audio", "phone": "phone", "chat": "chat"}
_CANCELLED = {AppointmentStatus.CANCELLED, AppointmentStatus.LATE_CANCELLED, AppointmentStatus.NO_SHOW}


def _event(a: Appointment) -> Event:
    event = Event()
    event.add("uid", f"{a.id}@hearth")
    event.add("dtstamp", a.cancelled_at or a.created_at)
    event.add("dtstart", a.start)
    event.add("dtend", a.end)
    # Deliberately bland: calendars sync to phones and shared screens.
    event.add("summary", f"Hearth session ({a.duration_minutes} min, {_MODALITY[a.modality.value]})")
    event.add("sequence", a.version - 1)
    event.add("status", "CANCELLED" if a.status in _CANCELLED else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if a.status in _CANCELLED else "OPAQUE")
    return event


def render_feed(feed: Feed) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Hearth//Sessions//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Hearth sessions")
    for appointment in feed.appointments:
        cal.add_component(_event(appointment))
    return bytes(cal.to_ical())
