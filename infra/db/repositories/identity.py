"""PostgreSQL repositories for users, practices, login sessions and login throttling."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.identity.model import Invitation, LoginSession, Practice, PracticeKind, RefreshToken, User
from domain.identity.ports import ThrottleState
from domain.shared.errors import Conflict
from domain.shared.principal import Principal, Role
from infra.db import fast
from infra.db.tables import (
    appointments,
    auth_throttle,
    care_relationships,
    invitations,
    login_sessions,
    practices,
    refresh_tokens,
    users,
    ws_tickets,
)


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        password_hash=row.password_hash,
        role=Role(row.role),
        display_name=row.display_name,
        timezone=row.timezone,
        practice_id=row.practice_id,
        created_at=row.created_at,
        phone=row.phone,
        deactivated_at=row.deactivated_at,
    )


# Read on nearly every request that changes something (booking reads both parties).
_USER_BY_ID = fast.FastStatement(sa.select(users).where(users.c.id == sa.bindparam("id")))


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        if for_update:
            # FOR NO KEY UPDATE, as for practices: a booking (or care starting) inserts rows that reference the
            # account, taking a KEY SHARE lock on it while holding the booking lock, which a staff change holding a
            # plain FOR UPDATE here then waits for: the two deadlocked. This still serialises sign-in and staff changes.
            query = sa.select(users).where(users.c.id == user_id).with_for_update(key_share=True)
            row = (await self._s.execute(query)).first()
        else:
            row = await fast.fetchrow(self._s, _USER_BY_ID, id=user_id)
        return _user(row) if row else None

    async def by_email(self, email: str) -> User | None:
        row = (await self._s.execute(sa.select(users).where(users.c.email == email))).first()
        return _user(row) if row else None

    async def update_contact(self, user: User) -> None:
        await self._s.execute(
            users.update()
            .where(users.c.id == user.id)
            .values(display_name=user.display_name, timezone=user.timezone, phone=user.phone)
        )

    async def add(self, user: User) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(
                    users.insert().values(
                        id=user.id,
                        email=user.email,
                        password_hash=user.password_hash,
                        role=str(user.role),
                        display_name=user.display_name,
                        timezone=user.timezone,
                        practice_id=user.practice_id,
                        created_at=user.created_at,
                        phone=user.phone,
                    )
                )
        except IntegrityError as exc:
            if "uq_users_email" in str(exc.orig):
                raise Conflict("An account with this email already exists.", code="email_taken") from None
            raise


_STAFF_ROLES = ("therapist", "practice_admin")
# What a therapist still has to hold: not cancelled, not over (a no-show is marked only after the start).
_UPCOMING_STATUSES = ("booked", "checked_in", "in_progress")


class SqlStaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def page(self, practice_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None, limit: int) -> list[User]:
        query = sa.select(users).where(users.c.practice_id == practice_id, users.c.role.in_(_STAFF_ROLES))
        if after is not None:
            query = query.where(sa.tuple_(users.c.created_at, users.c.id) > sa.tuple_(*after))
        query = query.order_by(users.c.created_at, users.c.id).limit(limit)
        return [_user(row) for row in await self._s.execute(query)]

    async def active_admins(self, practice_id: uuid.UUID) -> int:
        found = await self._s.execute(
            sa.select(sa.func.count()).where(
                users.c.practice_id == practice_id,
                users.c.role == "practice_admin",
                users.c.deactivated_at.is_(None),
            )
        )
        return int(found.scalar_one())

    async def deactivate(self, user_id: uuid.UUID, at: datetime, by: uuid.UUID) -> None:
        await self._s.execute(users.update().where(users.c.id == user_id).values(deactivated_at=at, deactivated_by=by))

    async def reactivate(self, user_id: uuid.UUID) -> None:
        await self._s.execute(
            users.update().where(users.c.id == user_id).values(deactivated_at=None, deactivated_by=None)
        )

    async def set_role(self, user_id: uuid.UUID, role: Role) -> None:
        await self._s.execute(users.update().where(users.c.id == user_id).values(role=str(role)))

    async def has_client_records(self, therapist_id: uuid.UUID) -> bool:
        # Every clinical or billing record of a therapist (notes, plans, measures, conversations, invoices) hangs
        # off a care relationship or an appointment, so these two say whether any exists.
        care = sa.exists().where(care_relationships.c.therapist_id == therapist_id)
        sessions = sa.exists().where(appointments.c.therapist_id == therapist_id)
        return bool((await self._s.execute(sa.select(sa.or_(care, sessions)))).scalar_one())

    async def upcoming_appointments(self, therapist_id: uuid.UUID, now: datetime) -> int:
        found = await self._s.execute(
            sa.select(sa.func.count()).where(
                appointments.c.therapist_id == therapist_id,
                appointments.c.end_at > now,
                appointments.c.status.in_(_UPCOMING_STATUSES),
            )
        )
        return int(found.scalar_one())


class SqlPracticeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, practice: Practice) -> None:
        try:
            async with self._s.begin_nested():
                await self._s.execute(
                    practices.insert().values(
                        id=practice.id, name=practice.name, kind=str(practice.kind), created_at=practice.created_at
                    )
                )
        except IntegrityError as exc:
            if "uq_practices_group_name" in str(exc.orig):
                raise Conflict("A group practice with this name exists already.", code="practice_exists") from None
            raise

    async def get(self, practice_id: uuid.UUID, *, for_update: bool = False) -> Practice | None:
        return await self._one(practices.c.id == practice_id, for_update)

    async def group_named(self, name: str, *, for_update: bool = False) -> Practice | None:
        return await self._one(sa.and_(practices.c.name == name, practices.c.kind == "group"), for_update)

    async def _one(self, where: sa.ColumnElement[bool], for_update: bool) -> Practice | None:
        query = sa.select(practices).where(where)
        if for_update:
            # FOR NO KEY UPDATE: every insert that references the practice takes a KEY SHARE lock on it, which a
            # plain FOR UPDATE would block; this lock only serialises the writers that ask for it.
            query = query.with_for_update(key_share=True)
        row = (await self._s.execute(query)).first()
        if row is None:
            return None
        return Practice(id=row.id, name=row.name, kind=PracticeKind(row.kind), created_at=row.created_at)

    async def has_admin(self, practice_id: uuid.UUID) -> bool:
        query = sa.select(
            sa.exists().where(users.c.practice_id == practice_id, users.c.role == Role.PRACTICE_ADMIN.value)
        )
        return bool((await self._s.execute(query)).scalar())

    async def client_practice(self, client_id: uuid.UUID) -> uuid.UUID | None:
        return (
            await self._s.execute(
                sa.select(care_relationships.c.practice_id)
                .where(care_relationships.c.client_id == client_id, care_relationships.c.ended_at.is_(None))
                .order_by(care_relationships.c.started_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()


def _invitation(row: Any) -> Invitation:
    return Invitation(
        id=row.id,
        practice_id=row.practice_id,
        email=row.email,
        role=Role(row.role),
        token_hash=row.token_hash,
        invited_by=row.invited_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        accepted_at=row.accepted_at,
        user_id=row.user_id,
        revoked_at=row.revoked_at,
    )


_OPEN_INVITATION = sa.and_(invitations.c.accepted_at.is_(None), invitations.c.revoked_at.is_(None))


class SqlInvitationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, invitation: Invitation) -> None:
        await self._s.execute(
            invitations.insert().values(
                id=invitation.id,
                practice_id=invitation.practice_id,
                email=invitation.email,
                role=str(invitation.role),
                token_hash=invitation.token_hash,
                invited_by=invitation.invited_by,
                created_at=invitation.created_at,
                expires_at=invitation.expires_at,
                accepted_at=invitation.accepted_at,
                user_id=invitation.user_id,
                revoked_at=invitation.revoked_at,
            )
        )

    async def get(self, invitation_id: uuid.UUID, *, for_update: bool = False) -> Invitation | None:
        return await self._one(invitations.c.id == invitation_id, for_update)

    async def by_token_hash(self, token_hash: str, *, for_update: bool = False) -> Invitation | None:
        return await self._one(invitations.c.token_hash == token_hash, for_update)

    async def _one(self, where: sa.ColumnElement[bool], for_update: bool) -> Invitation | None:
        query = sa.select(invitations).where(where)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _invitation(row) if row else None

    async def save(self, invitation: Invitation) -> None:
        await self._s.execute(
            invitations.update()
            .where(invitations.c.id == invitation.id)
            .values(accepted_at=invitation.accepted_at, user_id=invitation.user_id, revoked_at=invitation.revoked_at)
        )

    async def revoke_open(self, practice_id: uuid.UUID, email: str, now: datetime) -> list[uuid.UUID]:
        rows = await self._s.execute(
            invitations.update()
            .where(invitations.c.practice_id == practice_id, invitations.c.email == email, _OPEN_INVITATION)
            .values(revoked_at=now)
            .returning(invitations.c.id)
        )
        return list(rows.scalars())

    async def open_page(
        self, practice_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[Invitation]:
        query = sa.select(invitations).where(invitations.c.practice_id == practice_id, _OPEN_INVITATION)
        if after is not None:
            query = query.where(sa.tuple_(invitations.c.created_at, invitations.c.id) < sa.tuple_(*after))
        query = query.order_by(invitations.c.created_at.desc(), invitations.c.id.desc()).limit(limit)
        return [_invitation(row) for row in await self._s.execute(query)]


def _session(row: sa.Row) -> LoginSession:  # type: ignore[type-arg]
    return LoginSession(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        absolute_expires_at=row.absolute_expires_at,
        last_active_at=row.last_active_at,
        revoked_at=row.revoked_at,
        revoked_reason=row.revoked_reason,
    )


class SqlSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_session(self, session: LoginSession) -> None:
        await self._s.execute(
            login_sessions.insert().values(
                id=session.id,
                user_id=session.user_id,
                created_at=session.created_at,
                last_used_at=session.last_used_at,
                absolute_expires_at=session.absolute_expires_at,
                last_active_at=session.last_active_at,
                revoked_at=session.revoked_at,
                revoked_reason=session.revoked_reason,
            )
        )

    async def get_session(self, session_id: uuid.UUID, *, for_update: bool = False) -> LoginSession | None:
        query = sa.select(login_sessions).where(login_sessions.c.id == session_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _session(row) if row else None

    async def revoke_all(self, user_id: uuid.UUID, now: datetime, reason: str) -> list[uuid.UUID]:
        rows = await self._s.execute(
            login_sessions.update()
            .where(login_sessions.c.user_id == user_id, login_sessions.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
            .returning(login_sessions.c.id)
        )
        return list(rows.scalars())

    async def revoked_since(
        self, since: datetime, *, user_id: uuid.UUID | None = None
    ) -> list[tuple[uuid.UUID, datetime]]:
        query = sa.select(login_sessions.c.id, login_sessions.c.revoked_at).where(login_sessions.c.revoked_at >= since)
        if user_id is not None:
            query = query.where(login_sessions.c.user_id == user_id)
        return [(row.id, row.revoked_at) for row in await self._s.execute(query)]

    async def save_session(self, session: LoginSession) -> None:
        await self._s.execute(
            login_sessions.update()
            .where(login_sessions.c.id == session.id)
            .values(
                last_used_at=session.last_used_at,
                last_active_at=session.last_active_at,
                revoked_at=session.revoked_at,
                revoked_reason=session.revoked_reason,
            )
        )

    async def add_token(self, token: RefreshToken) -> None:
        await self._s.execute(
            refresh_tokens.insert().values(
                token_hash=token.token_hash,
                session_id=token.session_id,
                issued_at=token.issued_at,
                used_at=token.used_at,
            )
        )

    async def token_by_hash(self, token_hash: str, *, for_update: bool = False) -> RefreshToken | None:
        query = sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        if row is None:
            return None
        return RefreshToken(
            token_hash=row.token_hash, session_id=row.session_id, issued_at=row.issued_at, used_at=row.used_at
        )

    async def mark_used(self, token: RefreshToken) -> None:
        await self._s.execute(
            refresh_tokens.update().where(refresh_tokens.c.token_hash == token.token_hash).values(used_at=token.used_at)
        )


class SqlThrottleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, key: str, *, for_update: bool = False) -> ThrottleState | None:
        query = sa.select(auth_throttle).where(auth_throttle.c.key == key)
        if for_update:
            # A row lock alone leaves a key's first attempts unserialised (no row yet): lock the key itself.
            await self._s.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0))))
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        if row is None:
            return None
        return ThrottleState(
            key=row.key, failures=row.failures, window_started_at=row.window_started_at, blocked_until=row.blocked_until
        )

    async def save(self, state: ThrottleState) -> None:
        values = {
            "failures": state.failures,
            "window_started_at": state.window_started_at,
            "blocked_until": state.blocked_until,
        }
        await self._s.execute(
            pg_insert(auth_throttle)
            .values(key=state.key, **values)
            .on_conflict_do_update(index_elements=[auth_throttle.c.key], set_=values)
        )

    async def clear(self, key: str) -> None:
        await self._s.execute(auth_throttle.delete().where(auth_throttle.c.key == key))


class SqlTicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, ticket_hash: str, principal: Principal, expires_at: datetime) -> None:
        await self._s.execute(
            ws_tickets.insert().values(
                ticket_hash=ticket_hash,
                user_id=principal.user_id,
                role=str(principal.role),
                practice_id=principal.practice_id,
                session_id=principal.session_id,
                expires_at=expires_at,
            )
        )

    async def redeem(self, ticket_hash: str, now: datetime) -> Principal | None:
        row = (
            await self._s.execute(
                ws_tickets.update()
                .where(
                    ws_tickets.c.ticket_hash == ticket_hash,
                    ws_tickets.c.used_at.is_(None),
                    ws_tickets.c.expires_at > now,
                )
                .values(used_at=now)
                .returning(ws_tickets.c.user_id, ws_tickets.c.role, ws_tickets.c.practice_id, ws_tickets.c.session_id)
            )
        ).first()
        if row is None:
            return None
        return Principal(
            user_id=row.user_id, role=Role(row.role), practice_id=row.practice_id, session_id=row.session_id
        )
