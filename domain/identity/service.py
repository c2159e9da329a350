"""Identity use cases: register, log in, rotate refresh tokens, log out, who am I."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from domain.audit.events import AuditEvent, Outcome
from domain.identity.model import LoginSession, Practice, PracticeKind, RefreshToken, SessionPolicies, User
from domain.identity.passwords import check_password
from domain.identity.ports import AccessTokens, IdentityUnitOfWork, PasswordHasher
from domain.identity.revocations import RevokedSessions
from domain.identity.throttle import CountedAttempt, ThrottleRule, blocked_for, count_attempt, take_back
from domain.scheduling.localtime import load_zone
from domain.shared.errors import AuthenticationFailed, NotFound, RateLimited, SessionRevoked, ValidationFailed
from domain.shared.phone import normalise_phone
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role

_LOGIN_FAILED = "The email or password is incorrect."
_SESSION_ENDED = "The session has ended; please log in again."
_DEACTIVATED = "This account was deactivated by its practice; ask the practice's admin."


@dataclass(frozen=True, slots=True)
class Registration:
    email: str
    password: str
    role: Role
    display_name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    session_id: uuid.UUID
    # The session's idle limit, and how much of it is left: the client signs out when it runs out with no activity.
    idle_timeout: timedelta
    idle_left: timedelta


@dataclass(frozen=True, slots=True)
class Me:
    user: User
    practice_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class ThrottleRules:
    account: ThrottleRule
    address: ThrottleRule


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


def hash_refresh_token(token: str) -> str:
    # The token carries 256 random bits, so a plain digest cannot be brute-forced.
    return hashlib.sha256(token.encode()).hexdigest()


class IdentityService:
    def __init__(
        self,
        uow: Callable[[], IdentityUnitOfWork],
        hasher: PasswordHasher,
        tokens: AccessTokens,
        clock: Clock,
        ids: IdGenerator,
        policies: SessionPolicies,
        throttle: ThrottleRules,
        dummy_hash: str,
        revoked: RevokedSessions,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._ids = ids
        self._policies = policies
        self._throttle = throttle
        # Verified against when the email is unknown, so both failures cost the same time.
        self._dummy_hash = dummy_hash
        # Every revocation goes in right after its commit: this process refuses the session's access tokens at once,
        # before the `session_end` bell (rung by the caller) reaches the others.
        self._revoked = revoked

    async def register(self, cmd: Registration, request_id: str | None = None) -> User:
        if cmd.role is Role.PRACTICE_ADMIN:
            raise ValidationFailed(
                "Practice admins are invited by their practice; they cannot self-register.",
                code="role_not_allowed",
                field="role",
            )
        email = normalize_email(cmd.email)
        display_name = cmd.display_name.strip()
        if not display_name:
            raise ValidationFailed("A display name is required.", field="display_name")
        load_zone(cmd.timezone)
        check_password(cmd.password, email=email, display_name=display_name)
        password_hash = await self._hasher.hash(cmd.password)
        now = self._clock.now()
        user_id = self._ids.new()
        practice_id: uuid.UUID | None = None
        async with self._uow() as uow:
            if cmd.role is Role.THERAPIST:
                practice = Practice(
                    id=self._ids.new(),
                    name=f"{display_name}'s practice",
                    kind=PracticeKind.INDEPENDENT,
                    created_at=now,
                )
                await uow.practices.add(practice)
                practice_id = practice.id
            user = User(
                id=user_id,
                email=email,
                password_hash=password_hash,
                role=cmd.role,
                display_name=display_name,
                timezone=cmd.timezone,
                practice_id=practice_id,
                created_at=now,
            )
            await uow.users.add(user)
            await uow.audit.append(
                AuditEvent(
                    action="user.register",
                    object_type="user",
                    object_id=str(user.id),
                    actor_id=user.id,
                    actor_role=str(user.role),
                    practice_id=practice_id,
                    outcome=Outcome.SUCCESS,
                    occurred_at=now,
                    request_id=request_id,
                )
            )
            await uow.commit()
        return user

    async def login(self, email: str, password: str, address: str, request_id: str | None = None) -> TokenPair:
        email = normalize_email(email)
        account_key = f"account:{email}"
        address_key = f"address:{address}"
        now = self._clock.now()
        async with self._uow() as uow:
            # Each attempt counts as a failure before its password is checked, under the keys' locks (the check
            # takes a while): concurrent guesses cannot all pass the limit before any failure is written. A
            # successful login takes its count back below.
            counted: dict[str, CountedAttempt] = {}
            for key, rule in ((account_key, self._throttle.account), (address_key, self._throttle.address)):
                state = await uow.throttle.get(key, for_update=True)
                wait = blocked_for(state, now)
                if wait is not None:
                    raise RateLimited("Too many failed logins; try again later.", retry_after=wait)
                state, counted[key] = count_attempt(state, key, rule, now)
                await uow.throttle.save(state)
            user = await uow.users.by_email(email)
            await uow.commit()
        candidate = user.password_hash if user else self._dummy_hash
        valid = await self._hasher.verify(candidate, password) and user is not None
        now = self._clock.now()
        async with self._uow() as uow:
            if valid and user is not None:
                # Under the account's row lock: a removal committing meanwhile is seen, and one that comes after
                # this commit revokes the session made here (ADR 18).
                user = await uow.users.get(user.id, for_update=True)
            if not valid or user is None or not user.active:
                await uow.audit.append(
                    AuditEvent(
                        action="auth.login",
                        object_type="user",
                        object_id=str(user.id) if user else None,
                        actor_id=None,
                        actor_role=None,
                        practice_id=None,
                        outcome=Outcome.DENIED if valid else Outcome.FAILURE,
                        occurred_at=now,
                        request_id=request_id,
                    )
                )
                await uow.commit()
                if valid:
                    # Only to whoever knows the password: the account exists and its practice removed it.
                    raise AuthenticationFailed(_DEACTIVATED, code="account_deactivated")
                raise AuthenticationFailed(_LOGIN_FAILED, code="invalid_credentials")
            # The account's earlier failures were guesses at this very account, which its owner has now proven to
            # know: they all go. The address's may have been aimed at other accounts: only this attempt goes.
            await uow.throttle.clear(account_key)
            await self._take_back(uow, address_key, counted[address_key], self._throttle.address)
            policy = self._policies.for_role(user.role)
            session = LoginSession(
                id=self._ids.new(),
                user_id=user.id,
                created_at=now,
                last_used_at=now,
                absolute_expires_at=now + policy.absolute,
                last_active_at=now,
            )
            await uow.sessions.add_session(session)
            refresh = await self._new_refresh_token(uow, session.id)
            practice_id = await self._practice_of(uow, user)
            await uow.audit.append(self._event("auth.login", user, practice_id, Outcome.SUCCESS, request_id))
            await uow.commit()
        access = self._tokens.issue(user, practice_id, session.id)
        return TokenPair(access.token, access.expires_in, refresh, session.id, policy.idle, policy.idle)

    async def refresh(
        self, refresh_token: str, request_id: str | None = None, *, idle_for: timedelta | None = None
    ) -> TokenPair:
        """`idle_for`: how long the user has been away from the device, as the client saw it (a tab refreshing for a
        background poll says so). None counts the refresh itself as activity, for clients that cannot tell."""
        token_hash = hash_refresh_token(refresh_token)
        now = self._clock.now()
        async with self._uow() as uow:
            token = await uow.sessions.token_by_hash(token_hash, for_update=True)
            if token is None:
                raise AuthenticationFailed(_SESSION_ENDED, code="invalid_refresh_token")
            session = await uow.sessions.get_session(token.session_id, for_update=True)
            user = await uow.users.get(session.user_id) if session else None
            if session is None or user is None:
                raise AuthenticationFailed(_SESSION_ENDED, code="invalid_refresh_token")
            if not user.active:
                session.revoke(now, "deactivated")
                await uow.sessions.save_session(session)
                await uow.commit()
                self._revoked.add(session.id, session.revoked_at or now)
                raise AuthenticationFailed(_DEACTIVATED, code="account_deactivated")
            if token.used_at is not None:
                # A spent token came back: it was stolen or replayed, so nobody keeps this family.
                session.revoke(now, "refresh_token_reused")
                await uow.sessions.save_session(session)
                await uow.audit.append(
                    self._event("auth.refresh_reuse", user, user.practice_id, Outcome.DENIED, request_id)
                )
                await uow.commit()
                self._revoked.add(session.id, session.revoked_at or now)
                raise SessionRevoked(_SESSION_ENDED, code="refresh_token_reused", user_id=user.id)
            policy = self._policies.for_role(user.role)
            # Declared activity can move the idle deadline up to now at most, never past it.
            session.note_activity(now - max(idle_for, timedelta(0)) if idle_for is not None else now, policy.idle)
            if not session.is_live(now, policy.idle):
                if session.revoked_at is None:
                    session.revoke(now, "expired")
                    await uow.sessions.save_session(session)
                    await uow.commit()
                    self._revoked.add(session.id, now)
                    raise SessionRevoked(_SESSION_ENDED, code="session_expired", user_id=user.id)
                raise AuthenticationFailed(_SESSION_ENDED, code="session_expired")
            token.used_at = now
            await uow.sessions.mark_used(token)
            session.last_used_at = now
            await uow.sessions.save_session(session)
            new_refresh = await self._new_refresh_token(uow, session.id)
            practice_id = await self._practice_of(uow, user)
            await uow.commit()
        access = self._tokens.issue(user, practice_id, session.id)
        idle_left = session.idle_deadline(policy.idle) - now
        return TokenPair(access.token, access.expires_in, new_refresh, session.id, policy.idle, idle_left)

    async def logout(
        self, *, principal: Principal | None, refresh_token: str | None, request_id: str | None = None
    ) -> uuid.UUID | None:
        """Revoke the session of the access token, else of the refresh token; its user's id, None when no session
        ended here."""
        now = self._clock.now()
        async with self._uow() as uow:
            session_id = principal.session_id if principal else None
            if session_id is None and refresh_token:
                token = await uow.sessions.token_by_hash(hash_refresh_token(refresh_token))
                session_id = token.session_id if token else None
            if session_id is None:
                return None
            session = await uow.sessions.get_session(session_id, for_update=True)
            if session is None or session.revoked_at is not None:
                return None
            if principal is not None and session.user_id != principal.user_id:
                return None
            session.revoke(now, "logout")
            await uow.sessions.save_session(session)
            user = await uow.users.get(session.user_id)
            if user is not None:
                await uow.audit.append(self._event("auth.logout", user, user.practice_id, Outcome.SUCCESS, request_id))
            await uow.commit()
        self._revoked.add(session.id, now)
        return session.user_id

    async def update_contact(self, principal: Principal, *, display_name: str, timezone: str, phone: str | None) -> Me:
        display_name = display_name.strip()
        if not display_name:
            raise ValidationFailed("A display name is required.", field="display_name")
        load_zone(timezone)
        if phone is not None:
            phone = normalise_phone(phone)  # the same rule as PUT /me/phone: one number, one form
        async with self._uow() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None:
                raise NotFound("No such user.")
            user.display_name, user.timezone, user.phone = display_name, timezone, phone
            await uow.users.update_contact(user)
            await uow.audit.append(
                self._event("user.update", user, user.practice_id, Outcome.SUCCESS, principal.request_id)
            )
            practice_id = await self._practice_of(uow, user)
            await uow.commit()
        return Me(user=user, practice_id=practice_id)

    async def session_active(self, principal: Principal) -> bool:
        """Whether the login session behind a long-lived connection is still valid (not revoked, not past its
        absolute limit). Idle time is judged at token refresh, not here."""
        if principal.session_id is None:
            return False
        async with self._uow() as uow:
            session = await uow.sessions.get_session(principal.session_id)
        now = self._clock.now()
        return (
            session is not None
            and session.user_id == principal.user_id
            and session.revoked_at is None
            and now < session.absolute_expires_at
        )

    async def me(self, principal: Principal) -> Me:
        async with self._uow() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None:
                raise NotFound("No such user.")
            return Me(user=user, practice_id=await self._practice_of(uow, user))

    async def _practice_of(self, uow: IdentityUnitOfWork, user: User) -> uuid.UUID | None:
        if user.role is Role.CLIENT:
            return await uow.practices.client_practice(user.id)
        return user.practice_id

    async def _new_refresh_token(self, uow: IdentityUnitOfWork, session_id: uuid.UUID) -> str:
        raw = secrets.token_urlsafe(32)
        await uow.sessions.add_token(
            RefreshToken(token_hash=hash_refresh_token(raw), session_id=session_id, issued_at=self._clock.now())
        )
        return raw

    @staticmethod
    async def _take_back(uow: IdentityUnitOfWork, key: str, attempt: CountedAttempt, rule: ThrottleRule) -> None:
        """Take back the failure a successful login's attempt counted (see login)."""
        state = take_back(await uow.throttle.get(key, for_update=True), attempt, rule)
        if state is not None:
            await uow.throttle.save(state)

    def _event(
        self, action: str, user: User, practice_id: uuid.UUID | None, outcome: Outcome, request_id: str | None
    ) -> AuditEvent:
        return AuditEvent(
            action=action,
            object_type="user",
            object_id=str(user.id),
            actor_id=user.id,
            actor_role=str(user.role),
            practice_id=practice_id,
            outcome=outcome,
            occurred_at=self._clock.now(),
            request_id=request_id,
        )
