"""Safety alerts raised by risk answers, and the crisis resources shown to the client.

A score with an alerting flag (PHQ-9 item 9 above 0: `suicidal_ideation`) creates one alert for the client's
therapist at once; the client is shown crisis resources in the same moment. The alert stays open until the
therapist acknowledges it. Notifications about it say only "a client needs your attention": the alert value
carries ids and flags, never answers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.measures.instruments import RiskFlag
from domain.measures.scoring import Score, ScoredResponse
from domain.scheduling.localtime import ensure_utc
from domain.shared.errors import ValidationFailed

ALERTING_FLAGS: frozenset[RiskFlag] = frozenset({RiskFlag.SUICIDAL_IDEATION})

MAX_RESOURCE_NAME = 120
MAX_RESOURCE_DESCRIPTION = 300
MAX_URL_LENGTH = 300
_PHONE = re.compile(r"^\+?[0-9](?:[0-9 ().-]{0,28}[0-9])?$")
_HTTPS_URL = re.compile(r"^https://[^\s/?#@]+\.[^\s/?#@]+(?:[/?#]\S*)?$")


@dataclass(frozen=True, slots=True)
class SafetyAlert:
    id: uuid.UUID
    practice_id: uuid.UUID
    client_id: uuid.UUID
    therapist_id: uuid.UUID
    instrument_code: str
    instrument_version: int
    response_id: uuid.UUID
    flags: frozenset[RiskFlag]
    created_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: uuid.UUID | None = None

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None

    def acknowledge(self, *, by: uuid.UUID, at: datetime) -> SafetyAlert:
        """The alert acknowledged by `by` at `at`. Acknowledging again keeps the first acknowledgement, so a
        retried request is harmless. Who may acknowledge is the service's decision."""
        if self.acknowledged_at is not None:
            return self
        # A clock a little behind the one that created the alert must not date the acknowledgement before it.
        when = max(ensure_utc(at, field="acknowledged_at"), self.created_at)
        return replace(self, acknowledged_at=when, acknowledged_by=by)


def alerting_flags(score: Score) -> frozenset[RiskFlag]:
    return score.flags & ALERTING_FLAGS


def needs_safety_alert(score: Score) -> bool:
    """True when the score must alert the therapist (and show the client crisis resources)."""
    return bool(alerting_flags(score))


def shows_crisis_resources(score: Score) -> bool:
    return needs_safety_alert(score)


def safety_alert_for(
    response: ScoredResponse,
    *,
    alert_id: uuid.UUID,
    practice_id: uuid.UUID,
    therapist_id: uuid.UUID,
    now: datetime,
) -> SafetyAlert | None:
    """The alert `response` creates for `therapist_id`, or `None` when its score raises no alerting flag."""
    flags = alerting_flags(response.score)
    if not flags:
        return None
    return SafetyAlert(
        id=alert_id,
        practice_id=practice_id,
        client_id=response.client_id,
        therapist_id=therapist_id,
        instrument_code=response.score.instrument_code,
        instrument_version=response.score.instrument_version,
        response_id=response.id,
        flags=flags,
        created_at=ensure_utc(now, field="now"),
    )


# ------------------------------------------------------------------------------------------- crisis resources


def _invalid(detail: str, field: str) -> ValidationFailed:
    return ValidationFailed(detail, code="invalid_crisis_resource", field=field)


@dataclass(frozen=True, slots=True)
class CrisisResource:
    """A service the client can reach at once. `phone` is a number to call, `text` a number to text (SMS);
    at least one of `phone`, `text`, `url` is set. Validated on construction (`invalid_crisis_resource`)."""

    name: str
    phone: str | None = None
    text: str | None = None
    url: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or len(self.name) > MAX_RESOURCE_NAME:
            raise _invalid(f"A crisis resource has a name of 1 to {MAX_RESOURCE_NAME} characters.", "name")
        if self.name != self.name.strip():
            raise _invalid("A crisis resource's name has no leading or trailing spaces.", "name")
        for field, number in (("phone", self.phone), ("text", self.text)):
            if number is not None and (not isinstance(number, str) or not _PHONE.match(number)):
                raise _invalid(f"{field} is a phone number such as 988 or +1 800 273 8255.", field)
        if self.url is not None and (
            not isinstance(self.url, str) or len(self.url) > MAX_URL_LENGTH or not _HTTPS_URL.match(self.url)
        ):
            raise _invalid("url is an https:// address.", "url")
        if self.description is not None and (
            not isinstance(self.description, str) or len(self.description) > MAX_RESOURCE_DESCRIPTION
        ):
            raise _invalid(f"A description is at most {MAX_RESOURCE_DESCRIPTION} characters.", "description")
        if self.phone is None and self.text is None and self.url is None:
            raise _invalid("A crisis resource needs a phone number, a text number or a web address.", "phone")


LIFELINE_988 = CrisisResource(
    name="988 Suicide & Crisis Lifeline",
    phone="988",
    text="988",
    url="https://988lifeline.org",
    description="Call or text 988, 24 hours a day, 7 days a week. If you are in immediate danger, call 911.",
)

DEFAULT_CRISIS_RESOURCES: tuple[CrisisResource, ...] = (LIFELINE_988,)


def crisis_resources(configured: Sequence[CrisisResource] | None = None) -> tuple[CrisisResource, ...]:
    """The resources to show: the practice's own list when it has configured one, else the US default (988)."""
    return tuple(configured) if configured else DEFAULT_CRISIS_RESOURCES
