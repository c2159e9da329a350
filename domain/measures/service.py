"""Measurement-based care: assign questionnaires, take answers, score them, raise safety alerts at once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.audit.events import AuditEvent, event_by
from domain.measures.alerts import (
    CrisisResource,
    SafetyAlert,
    crisis_resources,
    safety_alert_for,
    shows_crisis_resources,
)
from domain.measures.instruments import RiskFlag, Severity, get_instrument
from domain.measures.ports import MeasuresUnitOfWork
from domain.measures.schedule import Assignment, DueMeasure, Frequency, end_assignment, new_assignment, next_due
from domain.measures.scoring import Score, ScoredResponse, complete_response
from domain.measures.trend import Trend, trend
from domain.plans.service import PlansService
from domain.scheduling.model import Appointment, AppointmentStatus
from domain.scheduling.ports import AppointmentQuery
from domain.shared.cipher import AadContext, PayloadCipher, WrappedDataKey
from domain.shared.errors import Conflict, NotFound
from domain.shared.notify import EmailMessage, EmailSender
from domain.shared.paging import After, Page
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role
from domain.shared.records import record_key

# The therapist's email about a safety alert. Queued in the transaction that stores the alert, so it exists exactly
# when the alert does and a refused email is retried by the queue instead of failing the client's answer.
ALERT_EMAIL_JOB = "measures.alert_email"


@dataclass(frozen=True, slots=True)
class AssignRequest:
    client_id: uuid.UUID
    instrument_code: str
    frequency: str
    starts_at: datetime | None = None
    interval_days: int | None = None
    lead_hours: int | None = None


@dataclass(frozen=True, slots=True)
class Submitted:
    response: ScoredResponse
    alert: SafetyAlert | None
    crisis_resources: tuple[CrisisResource, ...]


def _aad(response_id: uuid.UUID, client_id: uuid.UUID) -> AadContext:
    return AadContext.of("measure_responses", response_id, "body", client=client_id)


def _score_doc(score: Score) -> bytes:
    return json.dumps(
        {
            "v": 1,
            "answers": dict(score.answers),
            "difficulty": score.difficulty,
            "total": score.total,
            "band": score.band.value,
            "flags": sorted(f.value for f in score.flags),
        },
        sort_keys=True,
    ).encode()


def _score_from(doc: bytes, instrument_code: str, version: int) -> Score:
    data = json.loads(doc)
    instrument = get_instrument(instrument_code, version)
    return Score(
        instrument_code=instrument_code,
        instrument_version=version,
        total=int(data["total"]),
        max_total=instrument.max_total,
        band=Severity(data["band"]),
        flags=frozenset(RiskFlag(f) for f in data["flags"]),
        answers=tuple((k, int(v)) for k, v in data["answers"].items()),
        difficulty=data["difficulty"],
    )


class MeasuresService:
    def __init__(
        self,
        uow: Callable[[], MeasuresUnitOfWork],
        cipher: PayloadCipher,
        clock: Clock,
        ids: IdGenerator,
        email: EmailSender,
        base_url: str,
        plans: PlansService,
        on_alert: Callable[[SafetyAlert], object] | None = None,
    ) -> None:
        self._plans = plans
        self._uow = uow
        self._cipher = cipher
        self._clock = clock
        self._ids = ids
        self._email = email
        self._base_url = base_url.rstrip("/")
        self._on_alert = on_alert

    async def assign(self, principal: Principal, request: AssignRequest) -> tuple[Assignment, DueMeasure | None]:
        """The new assignment, with what is pending for it as `assignments` shows it."""
        if principal.role is not Role.THERAPIST or principal.practice_id is None:
            raise NotFound("No such client.")
        instrument = get_instrument(request.instrument_code)
        now = self._clock.now()
        async with self._uow() as uow:
            if not await uow.care.is_active(request.client_id, principal.user_id):
                raise NotFound("No such client.")
            assignment = new_assignment(
                id=self._ids.new(),
                practice_id=principal.practice_id,
                client_id=request.client_id,
                therapist_id=principal.user_id,
                instrument=instrument,
                frequency=request.frequency,
                created_at=now,
                starts_at=request.starts_at,
                interval_days=request.interval_days,
                lead_hours=request.lead_hours,
            )
            await uow.measures.add_assignment(assignment)
            await uow.audit.append(self._event(principal, "measure.assign", "measure_assignment", assignment.id))
            due = await self._due(uow, assignment, await self._sessions(uow, request.client_id, now), now)
            await uow.commit()
        return assignment, due

    async def end(self, principal: Principal, assignment_id: uuid.UUID) -> Assignment:
        async with self._uow() as uow:
            assignment = await uow.measures.assignment(assignment_id)
            if assignment is None or assignment.therapist_id != principal.user_id:
                raise NotFound("No such assignment.")
            ended = end_assignment(assignment, at=self._clock.now())
            await uow.measures.save_assignment(ended)
            await uow.commit()
        return ended

    async def assignments(
        self, principal: Principal, client_id: uuid.UUID, *, after: After = None, limit: int = 50
    ) -> Page[tuple[Assignment, DueMeasure | None]]:
        """A client's assignments with what is pending for each (clients: their own; therapists: their clients'),
        oldest first by (created_at, id), after `after`. What is due is worked out for the page only."""
        now = self._clock.now()
        async with self._uow() as uow:
            await self._check_reader(uow, principal, client_id)
            rows = await uow.measures.assignments_for_client(
                client_id,
                therapist_id=None if principal.role is Role.CLIENT else principal.user_id,
                after=after,
                limit=limit + 1,
            )
            found = Page.of(rows, limit)
            sessions = await self._sessions(uow, client_id, now)
            caring = {t for t in {a.therapist_id for a in found.items} if await uow.care.is_active(client_id, t)}
            result: list[tuple[Assignment, DueMeasure | None]] = []
            for assignment in found.items:
                if assignment.therapist_id not in caring:
                    result.append((assignment, None))  # care ended: nothing is due (see submit)
                    continue
                result.append((assignment, await self._due(uow, assignment, sessions, now)))
        return Page(result, found.more)

    @staticmethod
    async def _sessions(uow: MeasuresUnitOfWork, client_id: uuid.UUID, now: datetime) -> list[Appointment]:
        """The client's sessions around now, which the before-every-session assignments are due ahead of."""
        return await uow.appointments.find(
            AppointmentQuery(
                client_id=client_id, start=now - timedelta(days=30), end=now + timedelta(days=60), limit=500
            )
        )

    @staticmethod
    async def _due(
        uow: MeasuresUnitOfWork, assignment: Assignment, sessions: list[Appointment], now: datetime
    ) -> DueMeasure | None:
        """What is pending for an assignment whose care goes on."""
        starts = [
            s.start
            for s in sessions
            if s.therapist_id == assignment.therapist_id
            and s.status is not AppointmentStatus.CANCELLED
            and s.status is not AppointmentStatus.LATE_CANCELLED
        ]
        last = await uow.measures.last_completed(assignment.id)
        return next_due(assignment, now=now, last_completed_at=last, session_starts=starts)

    async def submit(
        self,
        principal: Principal,
        assignment_id: uuid.UUID,
        answers: Mapping[str, object],
        difficulty: object = None,
    ) -> Submitted:
        now = self._clock.now()
        async with self._uow() as uow:
            assignment = await uow.measures.assignment(assignment_id)
            if assignment is None or assignment.client_id != principal.user_id:
                raise NotFound("No such questionnaire.")
            if (assignment.ended_at is not None and assignment.ended_at <= now) or not await uow.care.is_active(
                assignment.client_id, assignment.therapist_id
            ):
                # Care with its therapist ended (a switch): a risk answer would alert someone no longer there.
                raise Conflict("This questionnaire is no longer being sent.", code="assignment_ended")
            if assignment.frequency is Frequency.ONCE and await uow.measures.last_completed(assignment.id):
                raise Conflict("This questionnaire was already answered.", code="already_completed")
            instrument = get_instrument(assignment.instrument_code)
            response = complete_response(
                instrument,
                answers,
                id=self._ids.new(),
                client_id=principal.user_id,
                completed_at=now,
                assignment_id=assignment.id,
                difficulty=difficulty,
            )
            key = await record_key(uow, self._cipher, self._ids.new, assignment.client_id, assignment.practice_id, now)
            sealed = self._cipher.seal(_score_doc(response.score), key, _aad(response.id, assignment.client_id))
            await uow.measures.add_response(response.id, assignment, instrument.version, now, sealed)
            alert = safety_alert_for(
                response,
                alert_id=self._ids.new(),
                practice_id=assignment.practice_id,
                therapist_id=assignment.therapist_id,
                now=now,
            )
            if alert is not None:
                await uow.measures.add_alert(alert)
                await uow.jobs.enqueue(ALERT_EMAIL_JOB, {"alert_id": str(alert.id)})
            await self._plans.apply_score_in(
                uow, assignment.client_id, assignment.therapist_id, instrument.code, response.score.total, now
            )
            configured = await uow.practice_settings.crisis_resources(assignment.practice_id)
            await uow.audit.append(self._event(principal, "measure.submit", "measure_response", response.id))
            await uow.commit()
        if alert is not None and self._on_alert is not None:
            self._on_alert(alert)
        resources = crisis_resources(configured) if shows_crisis_resources(response.score) else ()
        return Submitted(response, alert, resources)

    async def email_alert(self, alert_id: uuid.UUID) -> bool:
        """The alert-email job: tell the therapist a client needs their attention. True when it was sent.

        A transient delivery failure is raised, so the queue retries with backoff. An alert already acknowledged
        is not emailed: the email only asks the therapist to open the alert, and they have."""
        async with self._uow() as uow:
            alert = await uow.measures.alert(alert_id)
            if alert is None or not alert.open:
                return False
            therapist = await uow.users.get(alert.therapist_id)
        if therapist is None:
            return False
        # Deliberately content-free: email is not a safe channel for clinical detail.
        await self._email.send(
            EmailMessage(
                to=therapist.email,
                subject="A client needs your attention",
                text=f"A client needs your attention. Please open Hearth: {self._base_url}/therapist/alerts\n",
            )
        )
        return True

    async def responses(
        self, principal: Principal, client_id: uuid.UUID, *, after: After = None, limit: int | None = None
    ) -> Page[ScoredResponse]:
        """A client's scored responses in the caller's view, oldest first by (completed_at, id), after `after`;
        all of them without `limit`. Only what is returned is opened."""
        async with self._uow() as uow:
            practice_ids = [
                p
                for p in await self._check_reader(uow, principal, client_id)
                if await uow.client_records.key_id(client_id, p) is not None
            ]
            rows = await uow.measures.responses(
                client_id, practice_ids, after=after, limit=None if limit is None else limit + 1
            )
            page = rows if limit is None else rows[:limit]
            keys: dict[uuid.UUID, WrappedDataKey] = {}
            out: list[ScoredResponse] = []
            for stored in page:
                if stored.practice_id not in keys:
                    keys[stored.practice_id] = await record_key(
                        uow, self._cipher, self._ids.new, client_id, stored.practice_id, self._clock.now()
                    )
                assignment = await uow.measures.assignment(stored.assignment_id) if stored.assignment_id else None
                version = get_instrument(stored.instrument).version
                doc = self._cipher.open(stored.body, keys[stored.practice_id], _aad(stored.id, client_id))
                out.append(
                    ScoredResponse(
                        id=stored.id,
                        client_id=client_id,
                        completed_at=stored.submitted_at,
                        score=_score_from(doc, stored.instrument, version),
                        assignment_id=assignment.id if assignment else None,
                    )
                )
            await uow.audit.append(self._event(principal, "measure.read", "client_record", client_id))
            await uow.commit()
        return Page(out, len(rows) > len(page))

    async def trend(self, principal: Principal, client_id: uuid.UUID, instrument_code: str, cutoff: int = 10) -> Trend:
        """Computed over every response: a summary of the whole series, not a list that pages."""
        get_instrument(instrument_code)
        series = (await self.responses(principal, client_id)).items
        return trend(series, instrument_code=instrument_code, cutoff=cutoff)

    async def practice_crisis_resources(self, principal: Principal) -> tuple[CrisisResource, ...]:
        if principal.practice_id is None:
            return crisis_resources()
        async with self._uow() as uow:
            return crisis_resources(await uow.practice_settings.crisis_resources(principal.practice_id))

    async def set_practice_crisis_resources(
        self, principal: Principal, resources: list[CrisisResource]
    ) -> tuple[CrisisResource, ...]:
        """Staff of a practice set what its clients see after a risk answer; an empty list restores the default."""
        if principal.role is Role.CLIENT or principal.practice_id is None:
            raise NotFound("No such practice.")
        async with self._uow() as uow:
            await uow.practice_settings.set_crisis_resources(principal.practice_id, resources, self._clock.now())
            await uow.audit.append(
                self._event(principal, "practice.crisis_resources", "practice", principal.practice_id)
            )
            await uow.commit()
        return crisis_resources(resources)

    async def open_alerts(self, principal: Principal, *, after: After = None, limit: int = 50) -> Page[SafetyAlert]:
        """The therapist's unacknowledged alerts, oldest first by (created_at, id), after `after`."""
        if principal.role is not Role.THERAPIST:
            return Page([], more=False)
        async with self._uow() as uow:
            return Page.of(await uow.measures.open_alerts(principal.user_id, after=after, limit=limit + 1), limit)

    async def acknowledge(self, principal: Principal, alert_id: uuid.UUID) -> SafetyAlert:
        async with self._uow() as uow:
            alert = await uow.measures.alert(alert_id)
            if alert is None or alert.therapist_id != principal.user_id:
                raise NotFound("No such alert.")
            acknowledged = alert.acknowledge(by=principal.user_id, at=self._clock.now())
            await uow.measures.save_alert(acknowledged)
            await uow.audit.append(self._event(principal, "safety_alert.acknowledge", "safety_alert", alert.id))
            await uow.commit()
        return acknowledged

    async def _check_reader(
        self, uow: MeasuresUnitOfWork, principal: Principal, client_id: uuid.UUID
    ) -> list[uuid.UUID]:
        """The practices whose record of this client the caller may read; NotFound for anyone else."""
        if principal.role is Role.CLIENT and principal.user_id == client_id:
            return await uow.measures.assigning_practices(client_id)
        if (
            principal.role is Role.THERAPIST
            and principal.practice_id is not None
            and await uow.care.is_active(client_id, principal.user_id)
        ):
            return [principal.practice_id]
        raise NotFound("No such client.")

    def _event(self, principal: Principal, action: str, object_type: str, object_id: uuid.UUID) -> AuditEvent:
        return event_by(principal, action, object_type, object_id, self._clock.now())
