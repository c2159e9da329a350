"""Group practices and the invitations that staff them (ADR 16).

Nobody self-registers into a group practice: the platform operator creates one with its first admin's invitation
(`hearth practice create-group`), and its admins invite therapists and further admins. An invitation is redeemed
once, by creating the account its email names; the token exists only in the emailed link, stored as a hash.

The email goes out before anything is stored, so an invitation exists only when its link reached the mail server:
a refused email changes nothing (an earlier invitation of the address keeps working), and no transaction waits on
SMTP while it holds the practice or the audit chain's lock.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.audit.events import AuditEvent, Outcome
from domain.identity.model import (
    INVITABLE_ROLES,
    Invitation,
    InvitationStatus,
    Practice,
    PracticeKind,
    User,
)
from domain.identity.passwords import check_password
from domain.identity.ports import InvitationUnitOfWork, PasswordHasher
from domain.identity.service import normalize_email
from domain.scheduling.localtime import load_zone
from domain.shared.errors import Conflict, Gone, NotFound, ValidationFailed
from domain.shared.notify import DeliveryFailed, EmailMessage, EmailSender, EmailUnavailable
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role

OPERATOR = "operator"  # the audit trail's actor role for the command line, which has no user behind it
MAX_PRACTICE_NAME = 200
MAX_TOKEN_LENGTH = 100  # token_urlsafe(32) is 43 characters; anything much longer is not ours

_ROLE_LABEL = {Role.THERAPIST: "therapist", Role.PRACTICE_ADMIN: "practice admin"}
_NO_SUCH_INVITATION = "This invitation link is not valid. Check that you copied the whole link."
_GONE = {
    InvitationStatus.ACCEPTED: ("This invitation has been used already; log in instead.", "invitation_used"),
    InvitationStatus.REVOKED: (
        "This invitation was withdrawn or replaced by a newer one; ask the practice for a new link.",
        "invitation_revoked",
    ),
    InvitationStatus.EXPIRED: ("This invitation has expired; ask the practice for a new link.", "invitation_expired"),
}


def hash_token(token: str) -> str:
    # 256 random bits: a plain digest cannot be brute-forced, and lookups by hash stay exact.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    invitation: Invitation
    link: str  # carries the token: emailed to the invitee, shown once to the operator, never stored


@dataclass(frozen=True, slots=True)
class GroupInvite:
    practice: Practice
    practice_created: bool
    issued: IssuedInvitation | None  # None: the admin already has an account in this practice


@dataclass(frozen=True, slots=True)
class InvitationView:
    invitation: Invitation
    status: InvitationStatus


@dataclass(frozen=True, slots=True)
class InvitationPreview:
    """What the join form may show before the invitee has an account: nothing beyond what the email said."""

    practice_name: str
    role: Role
    email: str


@dataclass(frozen=True, slots=True)
class Acceptance:
    token: str
    email: str
    password: str
    display_name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class _Minted:
    token_hash: str
    link: str
    expires_at: datetime


def practice_name(name: str) -> str:
    """The stored form of a group practice's name; it appears in email subjects, so no control characters."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_PRACTICE_NAME:
        raise ValidationFailed(f"A practice name has 1 to {MAX_PRACTICE_NAME} characters.", field="name")
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned):
        raise ValidationFailed("A practice name cannot contain control characters.", field="name")
    return cleaned


def require_admin_of(principal: Principal, practice_id: uuid.UUID) -> None:
    # Other practices' staff (and everyone else) cannot tell a foreign practice from a missing one.
    if principal.role is not Role.PRACTICE_ADMIN or principal.practice_id != practice_id:
        raise NotFound("No such practice.")


def _usable(invitation: Invitation | None, now: datetime) -> Invitation:
    if invitation is None:
        raise NotFound(_NO_SUCH_INVITATION, code="invitation_not_found")
    status = invitation.status(now)
    if status is not InvitationStatus.PENDING:
        detail, code = _GONE[status]
        raise Gone(detail, code=code)
    return invitation


class InvitationService:
    def __init__(
        self,
        uow: Callable[[], InvitationUnitOfWork],
        hasher: PasswordHasher,
        clock: Clock,
        ids: IdGenerator,
        email: EmailSender,
        base_url: str,
        valid_for: timedelta,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._ids = ids
        self._email = email
        self._base_url = base_url.rstrip("/")
        self._valid_for = valid_for

    # ------------------------------------------------------------------------------------ operator

    async def create_group(self, name: str, admin_email: str, admin_name: str) -> GroupInvite:
        """The operator's command: the group practice called `name` (created unless it exists) and an invitation
        for its admin. Safe to run again: the practice is found by name, and a new invitation replaces the
        admin's pending one; once the admin has joined there is nothing to send."""
        name = practice_name(name)
        email = normalize_email(admin_email)
        async with self._uow() as uow:
            existing = await uow.practices.group_named(name)
            if existing is not None and await self._member_admin(uow, existing, email):
                return GroupInvite(existing, practice_created=False, issued=None)
            await self._check_free(uow, email)
        minted = self._mint()
        await self._send(
            email,
            name,
            Role.PRACTICE_ADMIN,
            minted,
            greeting=" ".join(admin_name.split()),
            inviter="The administrator of this Hearth service",
        )
        now = self._clock.now()
        async with self._uow() as uow:
            practice = await uow.practices.group_named(name, for_update=True)
            created = practice is None
            if practice is None:
                practice = Practice(id=self._ids.new(), name=name, kind=PracticeKind.GROUP, created_at=now)
                await uow.practices.add(practice)
                await uow.audit.append(self._event("practice.create", "practice", practice.id, practice.id, None))
            issued = await self._store(uow, practice, email, Role.PRACTICE_ADMIN, None, minted)
            await uow.commit()
        return GroupInvite(practice, practice_created=created, issued=issued)

    # ------------------------------------------------------------------------------------ admins

    async def invite(self, principal: Principal, practice_id: uuid.UUID, email: str, role: Role) -> InvitationView:
        require_admin_of(principal, practice_id)
        if role not in INVITABLE_ROLES:
            raise ValidationFailed("Invite therapists or practice admins.", code="role_not_allowed", field="role")
        email = normalize_email(email)
        async with self._uow() as uow:
            practice = await uow.practices.get(practice_id)
            inviter = await uow.users.get(principal.user_id)
            if practice is None or inviter is None:
                raise NotFound("No such practice.")
            await self._check_free(uow, email)
        minted = self._mint()
        await self._send(email, practice.name, role, minted, greeting="", inviter=inviter.display_name)
        async with self._uow() as uow:
            locked = await uow.practices.get(practice_id, for_update=True)
            if locked is None:
                raise NotFound("No such practice.")
            issued = await self._store(uow, locked, email, role, principal, minted)
            await uow.commit()
        return InvitationView(issued.invitation, InvitationStatus.PENDING)

    async def open_invitations(
        self,
        principal: Principal,
        practice_id: uuid.UUID,
        *,
        after: tuple[datetime, uuid.UUID] | None = None,
        limit: int = 50,
    ) -> list[InvitationView]:
        """Invitations not yet accepted nor revoked; expired ones too, so an admin sees whom to invite again."""
        require_admin_of(principal, practice_id)
        async with self._uow() as uow:
            found = await uow.invitations.open_page(practice_id, after=after, limit=limit)
        now = self._clock.now()
        return [InvitationView(i, i.status(now)) for i in found]

    async def revoke(self, principal: Principal, practice_id: uuid.UUID, invitation_id: uuid.UUID) -> None:
        require_admin_of(principal, practice_id)
        now = self._clock.now()
        async with self._uow() as uow:
            invitation = await uow.invitations.get(invitation_id, for_update=True)
            if invitation is None or invitation.practice_id != practice_id or invitation.revoked_at is not None:
                raise NotFound("No such invitation.")
            if invitation.accepted_at is not None:
                raise Conflict(
                    "This invitation was accepted: the account exists, and withdrawing it does not remove it.",
                    code="invitation_used",
                )
            invitation.revoked_at = now
            await uow.invitations.save(invitation)
            await uow.audit.append(
                self._event("invitation.revoke", "invitation", invitation.id, practice_id, principal)
            )
            await uow.commit()

    # ------------------------------------------------------------------------------------ invitees

    async def preview(self, token: str) -> InvitationPreview:
        async with self._uow() as uow:
            invitation = _usable(await self._by_token(uow, token), self._clock.now())
            practice = await uow.practices.get(invitation.practice_id)
        assert practice is not None  # a foreign key
        return InvitationPreview(practice_name=practice.name, role=invitation.role, email=invitation.email)

    async def accept(self, cmd: Acceptance, request_id: str | None = None) -> User:
        """Create the invited account. The link is checked first, so a guess never costs a password hash; it is
        checked again under the invitation's row lock, so of two accepts racing with one link only one creates an
        account (the other finds it used)."""
        async with self._uow() as uow:
            invitation = _usable(await self._by_token(uow, cmd.token), self._clock.now())
        email = normalize_email(cmd.email)
        if email != invitation.email:
            raise ValidationFailed(
                "Use the email address the invitation was sent to.", code="invitation_email_mismatch", field="email"
            )
        display_name = cmd.display_name.strip()
        if not display_name:
            raise ValidationFailed("A display name is required.", field="display_name")
        load_zone(cmd.timezone)
        check_password(cmd.password, email=email, display_name=display_name)
        password_hash = await self._hasher.hash(cmd.password)
        now = self._clock.now()
        async with self._uow() as uow:
            invitation = _usable(await self._by_token(uow, cmd.token, for_update=True), now)
            user = User(
                id=self._ids.new(),
                email=email,
                password_hash=password_hash,
                role=invitation.role,
                display_name=display_name,
                timezone=cmd.timezone,
                practice_id=invitation.practice_id,
                created_at=now,
            )
            await uow.users.add(user)  # Conflict email_taken if the address registered since it was invited
            invitation.accepted_at, invitation.user_id = now, user.id
            await uow.invitations.save(invitation)
            joined = Principal(user.id, user.role, user.practice_id, request_id=request_id)
            await uow.audit.append(self._event("user.register", "user", user.id, user.practice_id, joined))
            await uow.audit.append(
                self._event("invitation.accept", "invitation", invitation.id, invitation.practice_id, joined)
            )
            await uow.commit()
        return user

    # ------------------------------------------------------------------------------------ internals

    @staticmethod
    async def _by_token(uow: InvitationUnitOfWork, token: str, *, for_update: bool = False) -> Invitation | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        return await uow.invitations.by_token_hash(hash_token(token), for_update=for_update)

    @staticmethod
    async def _member_admin(uow: InvitationUnitOfWork, practice: Practice, email: str) -> bool:
        user = await uow.users.by_email(email)
        return user is not None and user.practice_id == practice.id and user.role is Role.PRACTICE_ADMIN

    @staticmethod
    async def _check_free(uow: InvitationUnitOfWork, email: str) -> None:
        if await uow.users.by_email(email) is not None:
            raise Conflict(
                "An account with this email exists already; an existing account cannot be moved into a practice.",
                code="email_taken",
            )

    def _mint(self) -> _Minted:
        token = secrets.token_urlsafe(32)
        return _Minted(
            token_hash=hash_token(token),
            link=f"{self._base_url}/join?invitation={token}",
            expires_at=self._clock.now() + self._valid_for,
        )

    async def _send(
        self, email: str, practice: str, role: Role, minted: _Minted, *, greeting: str, inviter: str
    ) -> None:
        until = minted.expires_at.astimezone(UTC).strftime("%d %B %Y, %H:%M UTC")
        text = (
            f"Hello{' ' + greeting if greeting else ''},\n\n"
            f"{inviter} invited you to join {practice} on Hearth as a {_ROLE_LABEL[role]}.\n\n"
            f"Create your account with this link. It works once, until {until}:\n{minted.link}\n\n"
            "If you did not expect this invitation, you can ignore this email.\n"
        )
        try:
            await self._email.send(
                EmailMessage(to=email, subject=f"Your invitation to {practice} on Hearth", text=text)
            )
        except DeliveryFailed as exc:
            if exc.permanent:
                raise ValidationFailed(
                    "The mail server refused this address; check it and try again.", code="email_refused", field="email"
                ) from exc
            raise EmailUnavailable("The invitation email could not be sent; nothing was saved. Try again.") from exc

    async def _store(
        self,
        uow: InvitationUnitOfWork,
        practice: Practice,
        email: str,
        role: Role,
        inviter: Principal | None,
        minted: _Minted,
    ) -> IssuedInvitation:
        """Save the invitation whose email went out, replacing the address's open ones. The caller holds the
        practice's row lock, so two invitations of one address cannot both stay open."""
        await self._check_free(uow, email)  # it may have registered while the email was on its way
        await uow.invitations.revoke_open(practice.id, email, self._clock.now())
        invitation = Invitation(
            id=self._ids.new(),
            practice_id=practice.id,
            email=email,
            role=role,
            token_hash=minted.token_hash,
            invited_by=inviter.user_id if inviter else None,
            created_at=self._clock.now(),
            expires_at=minted.expires_at,
        )
        await uow.invitations.add(invitation)
        await uow.audit.append(self._event("invitation.create", "invitation", invitation.id, practice.id, inviter))
        return IssuedInvitation(invitation, minted.link)

    def _event(
        self,
        action: str,
        object_type: str,
        object_id: uuid.UUID,
        practice_id: uuid.UUID | None,
        actor: Principal | None,
    ) -> AuditEvent:
        return AuditEvent(
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            actor_id=actor.user_id if actor else None,
            actor_role=str(actor.role) if actor else OPERATOR,
            practice_id=practice_id,
            outcome=Outcome.SUCCESS,
            occurred_at=self._clock.now(),
            request_id=actor.request_id if actor else None,
        )
