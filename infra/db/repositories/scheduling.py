"""PostgreSQL repositories for scheduling. Overlap is refused by exclusion constraints, which surface here
as the domain's `slot_taken` conflict."""

from __future__ import annotations

import functools
import uuid
import zlib
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from asyncpg.exceptions import ExclusionViolationError
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.scheduling.model import (
    Appointment,
    AppointmentStatus,
    CancelledBy,
    DateException,
    Modality,
    Money,
    OfficeHours,
    TherapistProfile,
    TimeRange,
    WeeklyRule,
)
from domain.scheduling.ports import AppointmentQuery, ClientInCare, DueReminder, NewReminder, StoredOffer
from domain.scheduling.recurrence import Frequency, RecurrenceRule, Series
from domain.scheduling.waitlist import WaitlistEntry, WaitlistOffer
from domain.shared.errors import Conflict
from domain.shared.paging import After
from infra.db import fast
from infra.db.keyset import ascending_after
from infra.db.tables import (
    ACTIVE_APPOINTMENT_SQL,
    STAFFED_PROFILE,
    appointment_series,
    appointments,
    calendar_feeds,
    care_relationships,
    office_hours,
    reminders,
    therapist_profiles,
    users,
    waitlist_entries,
    waitlist_offers,
)

_SLOT_TAKEN = "This time overlaps another session."


def _is_exclusion(exc: IntegrityError) -> bool:
    cause = getattr(exc.orig, "__cause__", None)
    return isinstance(cause, ExclusionViolationError) or "ex_appointments_" in str(exc.orig)


# --- profiles ----------------------------------------------------------------------------------------------


def profile_of(row: Any) -> TherapistProfile:
    return TherapistProfile(
        therapist_id=row.therapist_id,
        display_name=row.display_name,
        timezone=row.timezone,
        bio=row.bio,
        licenses=tuple(row.licenses),
        specialties=tuple(row.specialties),
        languages=tuple(row.languages),
        modalities=tuple(Modality(m) for m in row.modalities),
        session_lengths=tuple(row.session_lengths),
        rates={int(k): Money(v["amount_minor"], v["currency"]) for k, v in row.rates.items()},
        accepting_new_clients=row.accepting_new_clients,
        caseload_capacity=row.caseload_capacity,
        cancellation_window_hours=row.cancellation_window_hours,
        version=row.version,
        gender=row.gender,
        faith_based=row.faith_based,
        lgbtq_affirming=row.lgbtq_affirming,
        insurance_payers=tuple(row.insurance_payers),
    )


class SqlProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, therapist_id: uuid.UUID) -> TherapistProfile | None:
        row = await fast.fetchrow(self._s, _PROFILE, id=therapist_id)
        return profile_of(row) if row else None

    async def save(self, profile: TherapistProfile, practice_id: uuid.UUID, *, expected_version: int) -> bool:
        values = {
            "display_name": profile.display_name,
            "bio": profile.bio,
            "timezone": profile.timezone,
            "licenses": list(profile.licenses),
            "specialties": list(profile.specialties),
            "languages": list(profile.languages),
            "modalities": [m.value for m in profile.modalities],
            "session_lengths": list(profile.session_lengths),
            "rates": {
                str(k): {"amount_minor": v.amount_minor, "currency": v.currency} for k, v in profile.rates.items()
            },
            "accepting_new_clients": profile.accepting_new_clients,
            "caseload_capacity": profile.caseload_capacity,
            "cancellation_window_hours": profile.cancellation_window_hours,
            "gender": profile.gender,
            "faith_based": profile.faith_based,
            "lgbtq_affirming": profile.lgbtq_affirming,
            "insurance_payers": list(profile.insurance_payers),
            "version": expected_version + 1,
            "updated_at": sa.func.now(),
        }
        if expected_version == 0:
            inserted = await self._s.execute(
                pg_insert(therapist_profiles)
                .values(therapist_id=profile.therapist_id, practice_id=practice_id, **values)
                .on_conflict_do_nothing()
                .returning(therapist_profiles.c.therapist_id)
            )
            return inserted.first() is not None
        updated = await self._s.execute(
            therapist_profiles.update()
            .where(
                therapist_profiles.c.therapist_id == profile.therapist_id,
                therapist_profiles.c.version == expected_version,
            )
            .values(**values)
        )
        return bool(updated.rowcount == 1)  # type: ignore[attr-defined]

    async def list_accepting(self, *, after: uuid.UUID | None, limit: int) -> list[TherapistProfile]:
        query = (
            sa.select(therapist_profiles)
            .where(therapist_profiles.c.accepting_new_clients.is_(True), STAFFED_PROFILE)
            .order_by(therapist_profiles.c.therapist_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(therapist_profiles.c.therapist_id > after)
        return [profile_of(r) for r in (await self._s.execute(query)).all()]


# --- office hours ------------------------------------------------------------------------------------------


def _hm(value: time) -> str:
    return value.strftime("%H:%M")


def _rules_doc(hours: OfficeHours) -> dict[str, Any]:
    return {
        "weekly": [[r.weekday, _hm(r.start), _hm(r.end)] for r in hours.weekly],
        "exceptions": [[e.date.isoformat(), [[_hm(r.start), _hm(r.end)] for r in e.ranges]] for e in hours.exceptions],
        "messaging": None
        if hours.messaging_hours is None
        else [[r.weekday, _hm(r.start), _hm(r.end)] for r in hours.messaging_hours],
    }


def office_hours_of(row: Any) -> OfficeHours:
    from datetime import date

    doc = row.rules
    return OfficeHours(
        timezone=row.timezone,
        weekly=tuple(WeeklyRule(d, time.fromisoformat(s), time.fromisoformat(e)) for d, s, e in doc["weekly"]),
        exceptions=tuple(
            DateException(
                date.fromisoformat(d), tuple(TimeRange(time.fromisoformat(s), time.fromisoformat(e)) for s, e in rs)
            )
            for d, rs in doc["exceptions"]
        ),
        buffer_minutes=row.buffer_minutes,
        max_sessions_per_day=row.max_sessions_per_day,
        min_notice_minutes=row.min_notice_minutes,
        horizon_days=row.horizon_days,
        messaging_hours=None
        if doc["messaging"] is None
        else tuple(WeeklyRule(d, time.fromisoformat(s), time.fromisoformat(e)) for d, s, e in doc["messaging"]),
    )


class SqlOfficeHoursRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, therapist_id: uuid.UUID) -> OfficeHours | None:
        row = await fast.fetchrow(self._s, _OFFICE_HOURS, id=therapist_id)
        return office_hours_of(row) if row else None

    async def save(self, therapist_id: uuid.UUID, hours: OfficeHours, now: datetime) -> None:
        values = {
            "timezone": hours.timezone,
            "rules": _rules_doc(hours),
            "buffer_minutes": hours.buffer_minutes,
            "max_sessions_per_day": hours.max_sessions_per_day,
            "min_notice_minutes": hours.min_notice_minutes,
            "horizon_days": hours.horizon_days,
            "updated_at": now,
        }
        await self._s.execute(
            pg_insert(office_hours)
            .values(therapist_id=therapist_id, version=1, **values)
            .on_conflict_do_update(
                index_elements=[office_hours.c.therapist_id],
                set_={**values, "version": office_hours.c.version + 1},
            )
        )


# --- appointments ------------------------------------------------------------------------------------------

_APPOINTMENT_COLUMNS = [c for c in appointments.c if c.name != "during"]


def _appointment(row: Any) -> Appointment:
    return Appointment(
        id=row.id,
        therapist_id=row.therapist_id,
        client_id=row.client_id,
        practice_id=row.practice_id,
        start=row.start_at,
        end=row.end_at,
        duration_minutes=row.duration_minutes,
        modality=Modality(row.modality),
        status=AppointmentStatus(row.status),
        created_at=row.created_at,
        series_id=row.series_id,
        series_index=row.series_index,
        cancel_reason=row.cancel_reason,
        cancelled_by=CancelledBy(row.cancelled_by) if row.cancelled_by else None,
        cancelled_at=row.cancelled_at,
        policy_version=row.policy_version,
        version=row.version,
    )


def _appointment_values(a: Appointment) -> dict[str, Any]:
    return {
        "therapist_id": a.therapist_id,
        "client_id": a.client_id,
        "practice_id": a.practice_id,
        "start_at": a.start,
        "end_at": a.end,
        "duration_minutes": a.duration_minutes,
        "modality": a.modality.value,
        "status": a.status.value,
        "series_id": a.series_id,
        "series_index": a.series_index,
        "cancel_reason": a.cancel_reason,
        "cancelled_by": a.cancelled_by.value if a.cancelled_by else None,
        "cancelled_at": a.cancelled_at,
        "policy_version": a.policy_version,
        "created_at": a.created_at,
        "version": a.version,
    }


# --- hot statements (see infra/db/fast.py) ------------------------------------------------------------------

# A profile is a therapist's: an admin who was one keeps theirs (ADR 21) but shows none, so nobody reads their
# slots or profile as a therapist's while they are not one.
_PROFILE = fast.FastStatement(
    sa.select(therapist_profiles).where(
        therapist_profiles.c.therapist_id == sa.bindparam("id"),
        sa.exists().where(users.c.id == therapist_profiles.c.therapist_id, users.c.role == "therapist"),
    )
)
_OFFICE_HOURS = fast.FastStatement(sa.select(office_hours).where(office_hours.c.therapist_id == sa.bindparam("id")))


def _active_between(*columns: Any) -> fast.FastStatement:
    return fast.FastStatement(
        sa.select(*columns)
        .where(
            appointments.c.therapist_id == sa.bindparam("therapist_id"),
            appointments.c.start_at < sa.bindparam("end", type_=appointments.c.start_at.type),
            appointments.c.end_at > sa.bindparam("start", type_=appointments.c.end_at.type),
            sa.text(ACTIVE_APPOINTMENT_SQL),
        )
        .order_by(appointments.c.start_at)
    )


_ENSURE_CARE = fast.FastStatement(
    pg_insert(care_relationships)
    .values(
        id=sa.bindparam("id"),
        client_id=sa.bindparam("client_id"),
        therapist_id=sa.bindparam("therapist_id"),
        practice_id=sa.bindparam("practice_id"),
        started_at=sa.bindparam("started_at"),
    )
    .on_conflict_do_nothing(
        index_elements=[care_relationships.c.client_id, care_relationships.c.therapist_id],
        index_where=care_relationships.c.ended_at.is_(None),
    )
    .returning(care_relationships.c.id)
)
_REMINDER_COLUMNS = ("id", "appointment_id", "recipient_id", "channel", "due_at", "status")


@functools.cache
def _insert_reminders(rows: int) -> fast.FastStatement:
    """One multi-row INSERT per row count (an appointment has a handful of reminders)."""
    return fast.FastStatement(
        reminders.insert().values(
            [
                {name: sa.bindparam(f"{name}_{i}", type_=reminders.c[name].type) for name in _REMINDER_COLUMNS}
                for i in range(rows)
            ]
        )
    )


def therapist_lock_key(therapist_id: uuid.UUID) -> int:
    """The transaction-level advisory lock that serialises a therapist's bookings (and whatever must not race
    them: a change of hours, their removal from the practice)."""
    return zlib.crc32(b"appointments:" + therapist_id.bytes)


_BLOCKING = _active_between(*_APPOINTMENT_COLUMNS)
_BUSY = _active_between(appointments.c.start_at, appointments.c.end_at)
_INSERT_APPOINTMENT = fast.FastStatement(
    appointments.insert().values({c.name: sa.bindparam(c.name) for c in _APPOINTMENT_COLUMNS})
)


class SqlAppointmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def lock_therapist(self, therapist_id: uuid.UUID) -> None:
        await fast.fetchval(self._s, fast.ADVISORY_XACT_LOCK, key=therapist_lock_key(therapist_id))

    async def add(self, appointment: Appointment, *, recoverable: bool = True) -> None:
        values = {"id": appointment.id, **_appointment_values(appointment)}
        try:
            if recoverable:
                async with (await fast.driver(self._s)).transaction():  # a savepoint
                    await fast.execute(self._s, _INSERT_APPOINTMENT, **values)
            else:
                await fast.execute(self._s, _INSERT_APPOINTMENT, **values)
        except ExclusionViolationError:
            raise Conflict(_SLOT_TAKEN, code="slot_taken") from None

    async def save(self, appointment: Appointment) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(
                    appointments.update()
                    .where(appointments.c.id == appointment.id)
                    .values(**_appointment_values(appointment))
                )
        except IntegrityError as exc:
            if _is_exclusion(exc):
                raise Conflict(_SLOT_TAKEN, code="slot_taken") from None
            raise

    async def get(self, appointment_id: uuid.UUID, *, for_update: bool = False) -> Appointment | None:
        query = sa.select(*_APPOINTMENT_COLUMNS).where(appointments.c.id == appointment_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _appointment(row) if row else None

    async def blocking_for_therapist(
        self, therapist_id: uuid.UUID, start: datetime, end: datetime, *, exclude: uuid.UUID | None = None
    ) -> list[Appointment]:
        if exclude is None:
            rows = await fast.fetch(self._s, _BLOCKING, therapist_id=therapist_id, start=start, end=end)
            return [_appointment(r) for r in rows]
        query = (
            sa.select(*_APPOINTMENT_COLUMNS)
            .where(
                appointments.c.therapist_id == therapist_id,
                appointments.c.start_at < end,
                appointments.c.end_at > start,
                sa.text(ACTIVE_APPOINTMENT_SQL),
            )
            .order_by(appointments.c.start_at)
        )
        if exclude is not None:
            query = query.where(appointments.c.id != exclude)
        return [_appointment(r) for r in (await self._s.execute(query)).all()]

    async def busy(self, therapist_id: uuid.UUID, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        rows = await fast.fetch(self._s, _BUSY, therapist_id=therapist_id, start=start, end=end)
        return [(r.start_at, r.end_at) for r in rows]

    async def find(self, query: AppointmentQuery) -> list[Appointment]:
        key = (appointments.c.start_at, appointments.c.id)
        order = [c.desc() for c in key] if query.newest_first else list(key)
        stmt = sa.select(*_APPOINTMENT_COLUMNS).order_by(*order).limit(query.limit)
        if query.client_id is not None:
            stmt = stmt.where(appointments.c.client_id == query.client_id)
        if query.practice_id is not None:
            stmt = stmt.where(appointments.c.practice_id == query.practice_id)
        if query.therapist_id is not None:
            stmt = stmt.where(appointments.c.therapist_id == query.therapist_id)
        if query.start is not None:
            stmt = stmt.where(appointments.c.start_at >= query.start)
        if query.end is not None:
            stmt = stmt.where(appointments.c.start_at < query.end)
        if query.after is not None:
            after = sa.tuple_(*query.after)
            stmt = stmt.where(sa.tuple_(*key) < after if query.newest_first else sa.tuple_(*key) > after)
        return [_appointment(r) for r in (await self._s.execute(stmt)).all()]

    async def for_series(self, series_id: uuid.UUID) -> list[Appointment]:
        rows = await self._s.execute(
            sa.select(*_APPOINTMENT_COLUMNS)
            .where(appointments.c.series_id == series_id)
            .order_by(appointments.c.start_at)
        )
        return [_appointment(r) for r in rows.all()]

    async def changed_for_user(self, user_id: uuid.UUID, since: datetime) -> list[Appointment]:
        rows = await self._s.execute(
            sa.select(*_APPOINTMENT_COLUMNS)
            .where(
                sa.or_(appointments.c.therapist_id == user_id, appointments.c.client_id == user_id),
                appointments.c.start_at >= since,
            )
            .order_by(appointments.c.start_at)
            .limit(2000)
        )
        return [_appointment(r) for r in rows.all()]


# --- series ------------------------------------------------------------------------------------------------


def _series(row: Any) -> Series:
    return Series(
        id=row.id,
        therapist_id=row.therapist_id,
        client_id=row.client_id,
        practice_id=row.practice_id,
        timezone=row.timezone,
        start_date=row.start_date,
        start_time=row.start_time,
        duration_minutes=row.duration_minutes,
        modality=Modality(row.modality),
        rule=RecurrenceRule(Frequency(row.frequency), count=row.count, until=row.until),
        created_at=row.created_at,
        ends_before_index=row.ends_before_index,
        previous_series_id=row.previous_series_id,
        version=row.version,
    )


def _series_values(s: Series) -> dict[str, Any]:
    return {
        "therapist_id": s.therapist_id,
        "client_id": s.client_id,
        "practice_id": s.practice_id,
        "timezone": s.timezone,
        "start_date": s.start_date,
        "start_time": s.start_time,
        "duration_minutes": s.duration_minutes,
        "modality": s.modality.value,
        "frequency": s.rule.frequency.value,
        "count": s.rule.count,
        "until": s.rule.until,
        "ends_before_index": s.ends_before_index,
        "previous_series_id": s.previous_series_id,
        "created_at": s.created_at,
        "version": s.version,
    }


class SqlSeriesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, series: Series) -> None:
        await self._s.execute(appointment_series.insert().values(id=series.id, **_series_values(series)))

    async def get(self, series_id: uuid.UUID) -> Series | None:
        row = (await self._s.execute(sa.select(appointment_series).where(appointment_series.c.id == series_id))).first()
        return _series(row) if row else None

    async def save(self, series: Series) -> None:
        await self._s.execute(
            appointment_series.update().where(appointment_series.c.id == series.id).values(**_series_values(series))
        )


# --- care relationships ------------------------------------------------------------------------------------


class SqlCareRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def ensure(
        self, client_id: uuid.UUID, therapist_id: uuid.UUID, practice_id: uuid.UUID, now: datetime
    ) -> bool:
        inserted = await fast.fetchrow(
            self._s,
            _ENSURE_CARE,
            id=uuid.uuid4(),
            client_id=client_id,
            therapist_id=therapist_id,
            practice_id=practice_id,
            started_at=now,
        )
        return inserted is not None

    async def is_active(self, client_id: uuid.UUID, therapist_id: uuid.UUID) -> bool:
        found = await self._s.execute(
            sa.select(sa.literal(1)).where(
                care_relationships.c.client_id == client_id,
                care_relationships.c.therapist_id == therapist_id,
                care_relationships.c.ended_at.is_(None),
            )
        )
        return found.first() is not None

    async def clients_of(
        self, therapist_id: uuid.UUID, now: datetime, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[ClientInCare]:
        stmt = (
            sa.select(care_relationships.c.client_id, care_relationships.c.started_at, users.c.display_name)
            .join(users, users.c.id == care_relationships.c.client_id)
            .where(care_relationships.c.therapist_id == therapist_id, care_relationships.c.ended_at.is_(None))
            .order_by(care_relationships.c.started_at.desc(), care_relationships.c.client_id.desc())
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(
                sa.tuple_(care_relationships.c.started_at, care_relationships.c.client_id) < sa.tuple_(*after)
            )
        rows = (await self._s.execute(stmt)).all()
        if not rows:
            return []
        # One query for the page's next sessions rather than one per client.
        upcoming = await self._s.execute(
            sa.select(*_APPOINTMENT_COLUMNS)
            .ext(distinct_on(appointments.c.client_id))
            .where(
                appointments.c.therapist_id == therapist_id,
                appointments.c.client_id.in_([r.client_id for r in rows]),
                appointments.c.start_at > now,
                appointments.c.status.in_(("booked", "checked_in")),
            )
            .order_by(appointments.c.client_id, appointments.c.start_at)
        )
        nexts = {a.client_id: a for a in map(_appointment, upcoming.all())}
        return [ClientInCare(r.client_id, r.display_name, r.started_at, nexts.get(r.client_id)) for r in rows]

    async def names_for(self, therapist_id: uuid.UUID, client_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        cared = sa.exists().where(
            care_relationships.c.client_id == users.c.id, care_relationships.c.therapist_id == therapist_id
        )
        waiting = sa.exists().where(
            waitlist_entries.c.client_id == users.c.id,
            waitlist_entries.c.therapist_id == therapist_id,
            waitlist_entries.c.removed_at.is_(None),
        )
        rows = await self._s.execute(
            sa.select(users.c.id, users.c.display_name).where(
                users.c.id.in_(set(client_ids)), users.c.role == "client", sa.or_(cared, waiting)
            )
        )
        return {r.id: r.display_name for r in rows}


# --- waitlist ----------------------------------------------------------------------------------------------


def _entry(row: Any) -> WaitlistEntry:
    return WaitlistEntry(
        id=row.id,
        client_id=row.client_id,
        therapist_id=row.therapist_id,
        timezone=row.timezone,
        durations=tuple(row.durations),
        created_at=row.created_at,
        weekdays=frozenset(row.weekdays),
        time_ranges=tuple(TimeRange(time.fromisoformat(s), time.fromisoformat(e)) for s, e in row.time_ranges),
        modality=Modality(row.modality) if row.modality else None,
    )


def _offer(row: Any) -> StoredOffer:
    return StoredOffer(
        id=row.id,
        therapist_id=row.therapist_id,
        offer=WaitlistOffer(
            entry_id=row.entry_id,
            client_id=row.client_id,
            start=row.start_at,
            end=row.end_at,
            duration_minutes=row.duration_minutes,
            modality=Modality(row.modality),
            valid_from=row.valid_from,
            expires_at=row.expires_at,
        ),
        claimed_appointment_id=row.claimed_appointment_id,
    )


class SqlWaitlistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_entry(self, entry: WaitlistEntry) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(
                    waitlist_entries.insert().values(
                        id=entry.id,
                        therapist_id=entry.therapist_id,
                        client_id=entry.client_id,
                        timezone=entry.timezone,
                        durations=list(entry.durations),
                        weekdays=sorted(entry.weekdays),
                        time_ranges=[[_hm(r.start), _hm(r.end)] for r in entry.time_ranges],
                        modality=entry.modality.value if entry.modality else None,
                        created_at=entry.created_at,
                    )
                )
        except IntegrityError:
            raise Conflict("You are already on this therapist's waitlist.", code="already_waitlisted") from None

    async def entry(self, entry_id: uuid.UUID) -> WaitlistEntry | None:
        row = (
            await self._s.execute(
                sa.select(waitlist_entries).where(
                    waitlist_entries.c.id == entry_id, waitlist_entries.c.removed_at.is_(None)
                )
            )
        ).first()
        return _entry(row) if row else None

    async def remove_entry(self, entry_id: uuid.UUID, now: datetime) -> None:
        await self._s.execute(waitlist_entries.update().where(waitlist_entries.c.id == entry_id).values(removed_at=now))

    async def _entries(self, where: sa.ColumnElement[bool], after: After, limit: int | None) -> list[WaitlistEntry]:
        t = waitlist_entries
        query = sa.select(t).where(where, t.c.removed_at.is_(None))
        rows = await self._s.execute(ascending_after(query, t.c.created_at, t.c.id, after, limit))
        return [_entry(r) for r in rows.all()]

    async def entries_for_therapist(
        self, therapist_id: uuid.UUID, *, after: After = None, limit: int | None = None
    ) -> list[WaitlistEntry]:
        return await self._entries(waitlist_entries.c.therapist_id == therapist_id, after, limit)

    async def entries_for_client(
        self, client_id: uuid.UUID, *, after: After = None, limit: int | None = None
    ) -> list[WaitlistEntry]:
        return await self._entries(waitlist_entries.c.client_id == client_id, after, limit)

    async def add_offer(self, offer: StoredOffer, now: datetime) -> None:
        o = offer.offer
        await self._s.execute(
            waitlist_offers.insert().values(
                id=offer.id,
                entry_id=o.entry_id,
                therapist_id=offer.therapist_id,
                client_id=o.client_id,
                start_at=o.start,
                end_at=o.end,
                duration_minutes=o.duration_minutes,
                modality=o.modality.value,
                valid_from=o.valid_from,
                expires_at=o.expires_at,
                created_at=now,
            )
        )

    async def offer(self, offer_id: uuid.UUID, *, for_update: bool = False) -> StoredOffer | None:
        query = sa.select(waitlist_offers).where(waitlist_offers.c.id == offer_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _offer(row) if row else None

    async def open_offers_for_client(
        self, client_id: uuid.UUID, now: datetime, *, after: After, limit: int
    ) -> list[StoredOffer]:
        t = waitlist_offers
        query = sa.select(t).where(
            t.c.client_id == client_id, t.c.expires_at > now, t.c.claimed_appointment_id.is_(None)
        )
        rows = await self._s.execute(ascending_after(query, t.c.start_at, t.c.id, after, limit))
        return [_offer(r) for r in rows.all()]

    async def mark_claimed(self, offer_id: uuid.UUID, appointment_id: uuid.UUID) -> None:
        await self._s.execute(
            waitlist_offers.update()
            .where(waitlist_offers.c.id == offer_id)
            .values(claimed_appointment_id=appointment_id)
        )

    async def close_for_therapist(self, therapist_id: uuid.UUID, now: datetime) -> list[WaitlistEntry]:
        rows = await self._s.execute(
            waitlist_entries.update()
            .where(waitlist_entries.c.therapist_id == therapist_id, waitlist_entries.c.removed_at.is_(None))
            .values(removed_at=now)
            .returning(*waitlist_entries.c)
        )
        return sorted((_entry(r) for r in rows.all()), key=lambda e: (e.created_at, e.id))

    async def withdraw_offers(self, therapist_id: uuid.UUID, now: datetime) -> int:
        result = await self._s.execute(
            waitlist_offers.update()
            .where(
                waitlist_offers.c.therapist_id == therapist_id,
                waitlist_offers.c.claimed_appointment_id.is_(None),
                waitlist_offers.c.expires_at > now,
            )
            .values(valid_from=sa.func.least(waitlist_offers.c.valid_from, now), expires_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


# --- reminders ---------------------------------------------------------------------------------------------


class SqlReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def schedule(self, new: Sequence[NewReminder]) -> None:
        if not new:
            return
        params: dict[str, Any] = {}
        for i, r in enumerate(new):
            params.update(
                {
                    f"id_{i}": r.id,
                    f"appointment_id_{i}": r.appointment_id,
                    f"recipient_id_{i}": r.recipient_id,
                    f"channel_{i}": r.channel,
                    f"due_at_{i}": r.due_at,
                    f"status_{i}": "pending",
                }
            )
        await fast.execute(self._s, _insert_reminders(len(new)), **params)

    async def cancel_pending(self, appointment_id: uuid.UUID) -> int:
        result = await self._s.execute(
            reminders.update()
            .where(reminders.c.appointment_id == appointment_id, reminders.c.status == "pending")
            .values(status="cancelled")
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def pending(self, reminder_id: uuid.UUID) -> DueReminder | None:
        row = (
            await self._s.execute(
                sa.select(reminders)
                .where(reminders.c.id == reminder_id, reminders.c.status == "pending")
                .with_for_update(skip_locked=True)
            )
        ).first()
        if row is None:
            return None
        return DueReminder(row.id, row.appointment_id, row.recipient_id, row.channel, row.due_at, row.attempts)

    async def mark_sent(self, reminder_id: uuid.UUID, now: datetime) -> None:
        await self._s.execute(
            reminders.update()
            .where(reminders.c.id == reminder_id)
            .values(status="sent", sent_at=now, attempts=reminders.c.attempts + 1)
        )

    async def note_attempt(self, reminder_id: uuid.UUID, error: str) -> None:
        await self._s.execute(
            reminders.update()
            .where(reminders.c.id == reminder_id)
            .values(attempts=reminders.c.attempts + 1, last_error=error[:200])
        )

    async def mark_failed(self, reminder_id: uuid.UUID, error: str) -> None:
        await self._s.execute(
            reminders.update()
            .where(reminders.c.id == reminder_id)
            .values(status="failed", attempts=reminders.c.attempts + 1, last_error=error[:200])
        )

    async def mark_expired(self, reminder_id: uuid.UUID) -> None:
        await self._s.execute(reminders.update().where(reminders.c.id == reminder_id).values(status="expired"))

    async def give_up(self, reminder_id: uuid.UUID, error: str) -> bool:
        result = await self._s.execute(
            reminders.update()
            .where(reminders.c.id == reminder_id, reminders.c.status == "pending")
            .values(status="failed", last_error=error[:200])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


# --- calendar feeds ----------------------------------------------------------------------------------------


class SqlCalendarFeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def replace(self, user_id: uuid.UUID, token_hash: str, now: datetime) -> None:
        await self.revoke_all(user_id, now)
        await self._s.execute(calendar_feeds.insert().values(token_hash=token_hash, user_id=user_id, created_at=now))

    async def revoke_all(self, user_id: uuid.UUID, now: datetime) -> None:
        await self._s.execute(
            calendar_feeds.update()
            .where(calendar_feeds.c.user_id == user_id, calendar_feeds.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def user_for(self, token_hash: str) -> uuid.UUID | None:
        return (
            await self._s.execute(
                sa.select(calendar_feeds.c.user_id).where(
                    calendar_feeds.c.token_hash == token_hash, calendar_feeds.c.revoked_at.is_(None)
                )
            )
        ).scalar_one_or_none()
