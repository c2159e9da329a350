"""Matching use cases: the intake (draft, resume, submit), suggestions or automatic assignment, choosing a
therapist (which starts care, or switches it), a practice's waiting queue with batch assignment, and the
time-to-match report.

Decisions:

* **Answers are sealed.** A draft and a submitted intake are sealed JSON under the intake's own data key, bound
  to the intake row and its client. A submitted intake is never changed; submitting again makes a new one.
* **One request at a time.** A new matching request closes the client's open suggestions and queued request.
* **Choosing is a switch when the client is in care.** The current therapists are left out of suggestions and
  assignments; choosing ends their relationships in the same transaction: future sessions are cancelled by the
  practice (`cancelled`, never `late_cancelled` nor charged: a switch is not a missed session), their times
  offered to the waitlist; the conversation becomes read-only, and the therapy plan moves to the new therapist
  only when the client said so (`transfer_records`, audited as `records.transfer`).
* **Hard rules are checked again at choice time** (room may have gone since the suggestions):
  `therapist_unavailable` (409) with the rule's reason.
* **Batch assignment** works on one practice's queue and that practice's therapists; the preview changes
  nothing, the confirmation recomputes the plan under lock and starts care for every assigned client.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.audit.events import AuditEvent, event_by
from domain.identity.model import PracticeKind
from domain.matching.assignment import Assigner
from domain.matching.batch import BatchPlan, QueuedClient, build_problem, plan_batch
from domain.matching.intake import INTAKE_VERSION, Intake, validate_intake
from domain.matching.ports import (
    IntakeStatus,
    MatchingUnitOfWork,
    MatchMode,
    MatchRecord,
    MatchStatus,
    PracticeCandidate,
    StoredIntake,
    TimeToMatch,
)
from domain.matching.rules import RuleCode, first_failure
from domain.matching.scoring import DEFAULT_WEIGHTS, Match, Weights, suggest
from domain.messaging.service import MessagingService
from domain.plans import jsondoc as j
from domain.scheduling.model import CancelledBy, TherapistProfile
from domain.scheduling.ports import AppointmentQuery
from domain.scheduling.service import SchedulingService
from domain.shared.cipher import AadContext, PayloadCipher
from domain.shared.data_keys import data_key, new_data_key
from domain.shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.shared.paging import After, Page
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role

MAX_STEP = 50
SWITCH_REASON = "The client switched therapist."
_BUSY_MARGIN = timedelta(days=2)


_QUOTING = {
    "invalid_language": "The language is not a tag such as 'en' or 'es-MX'.",
    "invalid_residence": "Where you live is a code such as 'US-OH' (a US state) or 'GB' (a country).",
    "invalid_timezone": "The time zone is not an IANA zone such as 'America/New_York'.",
    "invalid_budget": "A budget is 0 to 10,000,000 in minor units of an ISO 4217 currency such as 'USD'.",
}

_NO_LONGER_FITS = {
    RuleCode.NOT_LICENSED: "they are not licensed where you live",
    RuleCode.NOT_ACCEPTING: "they are not accepting new clients",
    RuleCode.CASELOAD_FULL: "no places left",
    RuleCode.LANGUAGE_NOT_SPOKEN: "they do not offer sessions in your language",
    RuleCode.MODALITY_NOT_OFFERED: "they do not offer the kinds of session you asked for",
    RuleCode.OVER_BUDGET: "their price is now over your budget",
    RuleCode.PRICE_UNKNOWN: "they have no published price for your session length",
    RuleCode.CURRENCY_MISMATCH: "their prices are not in your budget's currency",
}


def _aad(intake_id: uuid.UUID, client_id: uuid.UUID) -> AadContext:
    return AadContext.of("intakes", intake_id, "body", client=client_id)


@dataclass(frozen=True, slots=True)
class IntakeState:
    questionnaire_version: int
    draft: dict[str, object] | None  # the answers saved so far
    step: int
    revision: int  # of the draft; 0 when there is none
    submitted_at: datetime | None  # of the latest submitted intake


@dataclass(frozen=True, slots=True)
class Suggestion:
    match: Match
    profile: TherapistProfile
    practice_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class MatchResult:
    record: MatchRecord
    suggestions: tuple[Suggestion, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueEntry:
    record: MatchRecord
    client_name: str


@dataclass(frozen=True, slots=True)
class HandedBack:
    """What ending a departing therapist's care did: relationships ended, clients put back in the queue."""

    ended: int
    queued: int


@dataclass(frozen=True, slots=True)
class BatchResult:
    plan: BatchPlan
    entries: tuple[QueueEntry, ...]  # in the order of `plan.placements`
    names: Mapping[uuid.UUID, str]  # therapist id -> display name
    confirmed: bool


def _client(principal: Principal) -> None:
    if principal.role is not Role.CLIENT:
        raise Forbidden("This is for clients.", code="forbidden")


def _admin_of(principal: Principal, practice_id: uuid.UUID) -> None:
    if principal.role is Role.CLIENT or principal.practice_id != practice_id:
        raise NotFound("No such practice.")


def check_draft(answers: Mapping[str, object], step: int) -> None:
    """Raise `ValidationFailed`: `invalid_draft` for a key that is not a question, `invalid_step`."""
    unknown = sorted(set(answers) - set(Intake.__dataclass_fields__))
    if unknown:
        raise ValidationFailed(f"Unknown answers: {', '.join(unknown)}.", code="invalid_draft", field=unknown[0])
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEP:
        raise ValidationFailed(f"step is 0 to {MAX_STEP}.", code="invalid_step", field="step")


class MatchingService:
    def __init__(
        self,
        uow: Callable[[], MatchingUnitOfWork],
        cipher: PayloadCipher,
        clock: Clock,
        ids: IdGenerator,
        scheduling: SchedulingService,
        messaging: MessagingService,
        assigner: Assigner,
        weights: Weights = DEFAULT_WEIGHTS,
    ) -> None:
        self._uow = uow
        self._cipher = cipher
        self._clock = clock
        self._ids = ids
        self._scheduling = scheduling
        self._messaging = messaging
        self._assigner = assigner
        self._weights = weights

    # ------------------------------------------------------------------------------------ intake

    async def intake_state(self, principal: Principal) -> IntakeState:
        _client(principal)
        async with self._uow() as uow:
            draft = await uow.matching.draft(principal.user_id)
            latest = await uow.matching.latest_submitted(principal.user_id)
            answers = None
            if draft is not None:
                saved = (await self._open_doc(uow, draft)).get("answers")
                answers = saved if isinstance(saved, dict) else {}
                await uow.audit.append(self._event(principal, "intake.read", "intake", draft.id))
                await uow.commit()
        return IntakeState(
            questionnaire_version=INTAKE_VERSION,
            draft=answers,
            step=draft.step if draft else 0,
            revision=draft.revision if draft else 0,
            submitted_at=latest.submitted_at if latest else None,
        )

    async def save_draft(self, principal: Principal, answers: Mapping[str, object], step: int) -> IntakeState:
        """Create or replace the client's draft (the answers so far and the wizard's step)."""
        _client(principal)
        check_draft(answers, step)
        now = self._clock.now()
        doc = json.dumps({"v": INTAKE_VERSION, "answers": dict(answers)})
        async with self._uow() as uow:
            draft = await uow.matching.draft(principal.user_id, for_update=True)
            if draft is None:
                key_id, key = await new_data_key(uow, self._cipher, self._ids.new, now)
                intake_id = self._ids.new()
                draft = StoredIntake(
                    id=intake_id,
                    client_id=principal.user_id,
                    questionnaire_version=INTAKE_VERSION,
                    status=IntakeStatus.DRAFT,
                    step=step,
                    data_key_id=key_id,
                    body=self._cipher.seal(doc, key, _aad(intake_id, principal.user_id)),
                    revision=1,
                    created_at=now,
                    updated_at=now,
                )
                await uow.matching.add_intake(draft)
            else:
                key = await data_key(uow, draft.data_key_id)
                draft = replace(
                    draft,
                    step=step,
                    body=self._cipher.seal(doc, key, _aad(draft.id, principal.user_id)),
                    revision=draft.revision + 1,
                    updated_at=now,
                )
                await uow.matching.save_intake(draft)
            latest = await uow.matching.latest_submitted(principal.user_id)
            await uow.audit.append(self._event(principal, "intake.draft", "intake", draft.id))
            await uow.commit()
        return IntakeState(INTAKE_VERSION, dict(answers), step, draft.revision, latest.submitted_at if latest else None)

    async def submit(self, principal: Principal, intake: Intake) -> StoredIntake:
        """Validate and seal the answers; the draft becomes this submitted intake."""
        _client(principal)
        try:
            validate_intake(intake)
        except ValidationFailed as exc:
            # Some of the questionnaire's messages quote the answer; answers never go into an error body.
            detail = _QUOTING.get(exc.code, exc.detail)
            raise ValidationFailed(detail, code=exc.code, field=exc.field) from None
        now = self._clock.now()
        doc = json.dumps(intake.to_dict())
        async with self._uow() as uow:
            draft = await uow.matching.draft(principal.user_id, for_update=True)
            if draft is None:
                key_id, key = await new_data_key(uow, self._cipher, self._ids.new, now)
                intake_id = self._ids.new()
                stored = StoredIntake(
                    id=intake_id,
                    client_id=principal.user_id,
                    questionnaire_version=INTAKE_VERSION,
                    status=IntakeStatus.SUBMITTED,
                    step=0,
                    data_key_id=key_id,
                    body=self._cipher.seal(doc, key, _aad(intake_id, principal.user_id)),
                    revision=1,
                    created_at=now,
                    updated_at=now,
                    submitted_at=now,
                )
                await uow.matching.add_intake(stored)
            else:
                key = await data_key(uow, draft.data_key_id)
                stored = replace(
                    draft,
                    status=IntakeStatus.SUBMITTED,
                    body=self._cipher.seal(doc, key, _aad(draft.id, principal.user_id)),
                    revision=draft.revision + 1,
                    updated_at=now,
                    submitted_at=now,
                )
                await uow.matching.save_intake(stored)
            await uow.audit.append(self._event(principal, "intake.submit", "intake", stored.id))
            await uow.commit()
        return stored

    async def _open_doc(self, uow: MatchingUnitOfWork, stored: StoredIntake) -> dict[str, object]:
        key = await data_key(uow, stored.data_key_id)
        doc = json.loads(self._cipher.open(stored.body, key, _aad(stored.id, stored.client_id)))
        if not isinstance(doc, dict):
            raise j.DocumentError("expected an object", path="")
        return doc

    async def _submitted(self, uow: MatchingUnitOfWork, client_id: uuid.UUID) -> tuple[StoredIntake, Intake]:
        stored = await uow.matching.latest_submitted(client_id)
        if stored is None or stored.submitted_at is None:
            raise Conflict("Answer the intake questionnaire first.", code="intake_required")
        return stored, Intake.from_dict(await self._open_doc(uow, stored))

    # ------------------------------------------------------------------------------------ requests

    async def request(
        self,
        principal: Principal,
        mode: MatchMode,
        *,
        practice_id: uuid.UUID | None = None,
        transfer_records: bool = False,
    ) -> MatchResult:
        """Suggestions (the top 3 with reasons), an automatic assignment, or a place in a practice's queue.
        Raises Conflict: `intake_required`, `no_match` (automatic, nobody fits); NotFound for an unknown
        practice; ValidationFailed `practice_required`, `practice_without_queue` (queue: a group practice with an
        admin)."""
        _client(principal)
        now = self._clock.now()
        async with self._uow() as uow:
            stored, intake = await self._submitted(uow, principal.user_id)
            current = await uow.matching.active_care(principal.user_id)
            await uow.matching.close_pending(principal.user_id)
            record = MatchRecord(
                id=self._ids.new(),
                client_id=principal.user_id,
                intake_id=stored.id,
                intake_submitted_at=stored.submitted_at or now,
                mode=mode,
                status=MatchStatus.OPEN,
                created_at=now,
                # Suggestions transfer at the choice; automatic assignment records what `_start` did.
                records_transferred=transfer_records if mode is MatchMode.QUEUE else False,
            )
            if mode is MatchMode.QUEUE:
                if practice_id is None:
                    raise ValidationFailed(
                        "Name the practice to wait for.", code="practice_required", field="practice_id"
                    )
                practice = await uow.practices.get(practice_id)
                if practice is None:
                    raise NotFound("No such practice.")
                if practice.kind is not PracticeKind.GROUP or not await uow.practices.has_admin(practice.id):
                    # Only a group practice's admins assign its queue: anywhere else the client would wait for good.
                    raise ValidationFailed(
                        "This practice has no waiting queue: only a group practice with an admin assigns one. Ask "
                        "for suggestions instead.",
                        code="practice_without_queue",
                        field="practice_id",
                    )
                record = replace(record, status=MatchStatus.QUEUED, queue_practice_id=practice_id)
                await uow.matching.add_match(record)
                await uow.audit.append(self._event(principal, "match.queue", "match", record.id))
                await uow.commit()
                return MatchResult(record)

            pool = await self._pool(uow, licence=intake.residence, practice_id=None, now=now)
            limit = 1 if mode is MatchMode.AUTOMATIC else 3
            found = suggest(
                intake,
                [p.candidate for p in pool.values()],
                now=now,
                weights=self._weights,
                limit=limit,
                exclude={t for t, _ in current},
            )
            suggestions = tuple(
                Suggestion(m, pool[m.therapist_id].candidate.profile, pool[m.therapist_id].practice_id) for m in found
            )
            record = replace(record, suggested=tuple(m.therapist_id for m in found))
            if mode is MatchMode.AUTOMATIC:
                if not suggestions:
                    raise Conflict("No therapist with room fits your answers right now.", code="no_match")
                best = suggestions[0]
                await self._still_fits(uow, intake, best.profile.therapist_id, now)
                await uow.matching.add_match(record)
                # A switch like a choice: the plan moves only with the client's consent, given with the request.
                record = await self._start(
                    uow,
                    principal,
                    record,
                    best.profile.therapist_id,
                    best.practice_id,
                    best.match.score,
                    transfer_records,
                    now,
                )
            else:
                await uow.matching.add_match(record)
                await uow.audit.append(self._event(principal, "match.suggest", "match", record.id))
            await uow.commit()
        return MatchResult(record, suggestions)

    async def get(self, principal: Principal, match_id: uuid.UUID) -> MatchRecord:
        async with self._uow() as uow:
            record = await uow.matching.match(match_id)
        if record is None or record.client_id != principal.user_id:
            raise NotFound("No such match.")
        return record

    async def choose(
        self, principal: Principal, match_id: uuid.UUID, therapist_id: uuid.UUID, *, transfer_records: bool
    ) -> MatchRecord:
        """Choose one of the suggested therapists: care starts (and the current one ends: a switch)."""
        _client(principal)
        now = self._clock.now()
        async with self._uow() as uow:
            record = await uow.matching.match(match_id, for_update=True)
            if record is None or record.client_id != principal.user_id:
                raise NotFound("No such match.")
            if record.status is not MatchStatus.OPEN:
                raise Conflict("These suggestions are no longer open; ask for new ones.", code="match_not_open")
            if therapist_id not in record.suggested:
                raise ValidationFailed(
                    "Choose one of the therapists suggested to you.", code="not_suggested", field="therapist_id"
                )
            _, intake = await self._submitted(uow, principal.user_id)
            chosen = await self._still_fits(uow, intake, therapist_id, now)
            record = await self._start(
                uow, principal, record, therapist_id, chosen.practice_id, None, transfer_records, now
            )
            await uow.commit()
        return record

    async def _still_fits(
        self, uow: MatchingUnitOfWork, intake: Intake, therapist_id: uuid.UUID, now: datetime
    ) -> PracticeCandidate:
        """The hard rules again, under the therapist's lock (room may have gone since the suggestions). The
        booking lock also serialises changes of their caseload: two clients cannot both take the last place."""
        await uow.appointments.lock_therapist(therapist_id)
        pool = await self._pool(uow, licence=None, practice_id=None, now=now, therapist_ids=(therapist_id,))
        chosen = pool.get(therapist_id)
        failure = first_failure(intake, chosen.candidate) if chosen is not None else None
        if chosen is None or failure is not None:
            # Fixed words, never the rule's own reason: those quote the intake's answers (where the client lives,
            # their language, their budget) or the practice's caseload, and neither goes into an error body.
            why = _NO_LONGER_FITS[failure.code] if failure is not None else _NO_LONGER_FITS[RuleCode.NOT_ACCEPTING]
            raise Conflict(f"This therapist can no longer take you: {why}.", code="therapist_unavailable")
        return chosen

    # ------------------------------------------------------------------------------------ the queue

    async def queue(
        self, principal: Principal, practice_id: uuid.UUID, *, after: After = None, limit: int = 50
    ) -> Page[QueueEntry]:
        """The practice's waiting queue, longest waiting first by (created_at, id), after `after`."""
        _admin_of(principal, practice_id)
        async with self._uow() as uow:
            page = Page.of(await uow.matching.queued(practice_id, after=after, limit=limit + 1), limit)
            return Page(await self._entries(uow, page.items), page.more)

    async def batch(self, principal: Principal, practice_id: uuid.UUID, *, confirm: bool) -> BatchResult:
        """Assign the practice's waiting queue to its therapists for the best total score within every
        therapist's room. `confirm=False` is a preview that changes nothing."""
        _admin_of(principal, practice_id)
        if principal.role is not Role.PRACTICE_ADMIN:
            raise Forbidden("Batch assignment is for practice admins.", code="forbidden")
        now = self._clock.now()
        async with self._uow() as uow:
            records = await uow.matching.queued(practice_id, for_update=confirm)
            queue: list[QueuedClient] = []
            for record in records:
                stored = await uow.matching.intake(record.intake_id)
                assert stored is not None
                intake = Intake.from_dict(await self._open_doc(uow, stored))
                current = frozenset(t for t, _ in await uow.matching.active_care(record.client_id))
                queue.append(QueuedClient(record.client_id, intake, exclude=current))
            if confirm:
                for therapist_id in sorted(await uow.matching.practice_therapists(practice_id)):
                    await uow.appointments.lock_therapist(therapist_id)  # in id order: no deadlock between batches
            pool = await self._pool(uow, licence=None, practice_id=practice_id, now=now)
            candidates = [p.candidate for p in pool.values()]
            plan = plan_batch(build_problem(queue, candidates, now=now, weights=self._weights), self._assigner)
            if confirm:
                for record, placement in zip(records, plan.placements, strict=True):
                    match = placement.match
                    if match is None:
                        continue
                    client = Principal(record.client_id, Role.CLIENT, None, request_id=principal.request_id)
                    await self._start(
                        uow,
                        client,
                        record,
                        match.therapist_id,
                        pool[match.therapist_id].practice_id,
                        match.score,
                        record.records_transferred,
                        now,
                        actor=principal,
                    )
                await uow.audit.append(self._event(principal, "match.batch_confirm", "practice", practice_id))
            else:
                await uow.audit.append(self._event(principal, "match.batch_preview", "practice", practice_id))
            entries = await self._entries(uow, records)
            await uow.commit()
        names = {p.candidate.therapist_id: p.candidate.profile.display_name for p in pool.values()}
        return BatchResult(plan, tuple(entries), names, confirm)

    async def hand_back(
        self, uow: MatchingUnitOfWork, actor: Principal, therapist_id: uuid.UUID, practice_id: uuid.UUID
    ) -> HandedBack:
        """Inside the caller's transaction (a therapist leaves the group practice, ADR 18): end every care
        relationship of the therapist; each conversation becomes read-only. A client left with no therapist who
        has a submitted intake and no matching request of their own waits in the practice's queue again, and the
        plan follows them to whoever the batch assigns (`previous_therapist_id`, `records_transferred`). The
        caller has refused the removal while the therapist had sessions booked ahead."""
        now = self._clock.now()
        ended = queued = 0
        for client_id in await uow.matching.clients_in_care(therapist_id):
            await uow.matching.end_care(client_id, therapist_id, now)
            await self._messaging.close_in(uow, client_id, therapist_id)
            ended += 1
            await uow.audit.append(
                replace(
                    self._event(actor, "care.end", "care_relationship", f"{client_id}:{therapist_id}"),
                    practice_id=practice_id,
                )
            )
            stored = await uow.matching.latest_submitted(client_id)
            if stored is None or await uow.matching.active_care(client_id) or await uow.matching.pending(client_id):
                continue
            record = MatchRecord(
                id=self._ids.new(),
                client_id=client_id,
                intake_id=stored.id,
                intake_submitted_at=stored.submitted_at or now,
                mode=MatchMode.QUEUE,
                status=MatchStatus.QUEUED,
                created_at=now,
                queue_practice_id=practice_id,
                previous_therapist_id=therapist_id,
                records_transferred=True,
            )
            await uow.matching.add_match(record)
            queued += 1
            await uow.audit.append(
                replace(self._event(actor, "match.queue", "match", record.id), practice_id=practice_id)
            )
        return HandedBack(ended, queued)

    async def _entries(self, uow: MatchingUnitOfWork, records: list[MatchRecord]) -> list[QueueEntry]:
        entries = []
        for record in records:
            user = await uow.users.get(record.client_id)
            entries.append(QueueEntry(record, user.display_name if user else ""))
        return entries

    # ------------------------------------------------------------------------------------ report

    async def time_to_match(self, principal: Principal, practice_id: uuid.UUID) -> TimeToMatch:
        _admin_of(principal, practice_id)
        async with self._uow() as uow:
            return await uow.matching.time_to_match(practice_id)

    # ------------------------------------------------------------------------------------ internals

    async def _pool(
        self,
        uow: MatchingUnitOfWork,
        *,
        licence: str | None,
        practice_id: uuid.UUID | None,
        now: datetime,
        therapist_ids: tuple[uuid.UUID, ...] | None = None,
    ) -> dict[uuid.UUID, PracticeCandidate]:
        found = await uow.matching.candidates(
            licence=licence,
            practice_id=practice_id,
            therapist_ids=therapist_ids,
            busy_from=now - _BUSY_MARGIN,
            busy_to=now + timedelta(days=self._weights.horizon_days) + _BUSY_MARGIN,
        )
        return {p.candidate.therapist_id: p for p in found}

    async def _start(
        self,
        uow: MatchingUnitOfWork,
        client: Principal,
        record: MatchRecord,
        therapist_id: uuid.UUID,
        practice_id: uuid.UUID,
        score: float | None,
        transfer_records: bool,
        now: datetime,
        *,
        actor: Principal | None = None,
    ) -> MatchRecord:
        """Start care with the therapist, ending any other relationship of the client (a switch)."""
        actor = actor or client
        client_id = client.user_id
        previous: uuid.UUID | None = None
        transferred = False
        for old_therapist, old_practice in await uow.matching.active_care(client_id):
            if old_therapist == therapist_id:
                continue
            previous = old_therapist
            await self._cancel_future(uow, actor, client_id, old_therapist, now)
            await uow.matching.end_care(client_id, old_therapist, now)
            await self._messaging.close_in(uow, client_id, old_therapist)
            await uow.audit.append(
                replace(
                    self._event(actor, "care.end", "care_relationship", f"{client_id}:{old_therapist}"),
                    practice_id=old_practice,
                )
            )
            if transfer_records and await self._transfer(
                uow, client_id, old_therapist, old_practice, therapist_id, practice_id, now
            ):
                transferred = True
                await uow.audit.append(
                    replace(
                        self._event(actor, "records.transfer", "client", client_id),
                        practice_id=practice_id,
                    )
                )
        handed_back = record.previous_therapist_id
        if previous is None and handed_back is not None and record.queue_practice_id == practice_id:
            # Queued again when their therapist left the practice (`hand_back`): the plan stays in the practice.
            previous = handed_back
            if record.records_transferred and await uow.matching.move_plan(
                client_id, handed_back, therapist_id, practice_id
            ):
                transferred = True
                await uow.audit.append(
                    replace(self._event(actor, "records.transfer", "client", client_id), practice_id=practice_id)
                )
        await uow.care.ensure(client_id, therapist_id, practice_id, now)
        await self._messaging.open_in(uow, client_id, therapist_id, practice_id)
        chosen = replace(
            record,
            status=MatchStatus.CHOSEN,
            therapist_id=therapist_id,
            practice_id=practice_id,
            score=score,
            previous_therapist_id=previous,
            records_transferred=transferred,
            chosen_at=now,
        )
        await uow.matching.save_match(chosen)
        await uow.audit.append(replace(self._event(actor, "match.choose", "match", record.id), practice_id=practice_id))
        return chosen

    async def _cancel_future(
        self, uow: MatchingUnitOfWork, actor: Principal, client_id: uuid.UUID, therapist_id: uuid.UUID, now: datetime
    ) -> None:
        """Cancel the client's future sessions with the therapist, by the practice: a switch is not the client
        missing a session, so none is late (nor charged) whatever the window. Their times are offered to the
        waitlist in the same transaction."""
        upcoming = await uow.appointments.find(
            AppointmentQuery(client_id=client_id, therapist_id=therapist_id, start=now, limit=500)
        )
        for appointment in upcoming:
            if appointment.status.value != "booked" or appointment.start <= now:
                continue
            freed = self._scheduling.cancel_in(
                uow, actor, appointment, SWITCH_REASON, 0, now=now, by=CancelledBy.PRACTICE
            )
            await uow.appointments.save(appointment)
            await uow.reminders.cancel_pending(appointment.id)
            await uow.audit.append(self._event(actor, "appointment.cancel", "appointment", appointment.id))
            await self._scheduling.release_in(uow, freed)

    async def _transfer(
        self,
        uow: MatchingUnitOfWork,
        client_id: uuid.UUID,
        old_therapist: uuid.UUID,
        old_practice: uuid.UUID,
        new_therapist: uuid.UUID,
        new_practice: uuid.UUID,
        now: datetime,
    ) -> bool:
        """Move the plan; it stays sealed under the client record's key, which the new practice then shares."""
        if old_practice != new_practice:
            old_key = await uow.client_records.key_id(client_id, old_practice)
            new_key = await uow.client_records.key_id(client_id, new_practice)
            if old_key is not None and new_key is None:
                await uow.client_records.add(client_id, new_practice, old_key, now)
            elif old_key is not None and new_key != old_key:
                raise Conflict(
                    "The client already has a record in the new practice; records cannot be merged.",
                    code="records_not_transferable",
                )
        return await uow.matching.move_plan(client_id, old_therapist, new_therapist, new_practice)

    def _event(self, principal: Principal, action: str, object_type: str, object_id: object) -> AuditEvent:
        return event_by(principal, action, object_type, object_id, self._clock.now())
