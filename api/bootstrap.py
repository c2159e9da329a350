"""Composition root: the one place that builds infra adapters and wires them into domain services."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AliasChoices, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.idempotency import IdempotencyStore
from api.ws.hub import Hub
from domain.audit.events import ChainReport, ChainVerifier
from domain.billing.fees import PlatformFeeMode, PlatformFeePlan
from domain.billing.money import Money
from domain.billing.service import CHARGE_FEE_JOB, ISSUE_MONTH_JOB, REFUND_VOID_PAYMENT_JOB, BillingService
from domain.identity.invitations import GroupInvite, InvitationService
from domain.identity.model import SessionPolicies, SessionPolicy
from domain.identity.ports import AccessTokens
from domain.identity.revocation_reloads import RevocationReloads
from domain.identity.revocations import RevokedSessions
from domain.identity.service import IdentityService, ThrottleRules
from domain.identity.staff import StaffService
from domain.identity.throttle import ThrottleRule
from domain.identity.tickets import TicketService
from domain.matching.scoring import Weights, validate_weights
from domain.matching.service import MatchingService
from domain.measures.service import ALERT_EMAIL_JOB, MeasuresService
from domain.media.relay import MediaRelay
from domain.messaging.bus import BusEvent, MessageBus
from domain.messaging.service import NOTIFY_UNREAD_JOB, MessagingService
from domain.notes.service import NotesService
from domain.plans.service import PlansService
from domain.scheduling.calendar_service import CalendarService
from domain.scheduling.model import Appointment, Modality
from domain.scheduling.ports import SchedulingUnitOfWork
from domain.scheduling.reminder_service import ReminderService
from domain.scheduling.series_service import SeriesService
from domain.scheduling.service import PHONE_SESSION_CALL_JOB, SEND_REMINDER_JOB, Freed, SchedulingService
from domain.scheduling.waitlist_service import CLOSED_EMAIL_JOB, OFFER_EMAIL_JOB, WaitlistService
from domain.sessions.ice import IceConfig
from domain.sessions.model import WindowRules
from domain.sessions.notify import BusSessionNotifier
from domain.sessions.ports import PhoneCalls, SessionOutcomes, SessionsUnitOfWork
from domain.sessions.service import NO_SHOW_JOB, SessionService
from domain.shared.data_keys import KeyRotation, RotationReport
from domain.shared.ports import Clock, SystemClock, UuidGenerator
from domain.telephony.service import TelephonyService
from infra.billing.superbill_pdf import FpdfSuperbillRenderer
from infra.crypto.cipher import NaclPayloadCipher
from infra.crypto.keyring import Keyring, KeyringError, decode_key, generate_key, keyring_from_settings
from infra.crypto.passwords import Argon2PasswordHasher
from infra.crypto.tokens import (
    JwtAccessTokens,
    JwtConfig,
    KeyFileError,
    ensure_dev_key,
    load_private_key,
    load_public_key,
    private_key_pem,
)
from infra.db import migrate
from infra.db.embedded import EmbeddedPostgres
from infra.db.engine import create_engine, session_factory
from infra.db.repositories.audit import read_chain
from infra.db.repositories.idempotency import SWEEP_EVERY, SWEEP_JOB, SqlIdempotencyStore
from infra.db.uow import SqlUnitOfWork
from infra.jobs import periodic
from infra.jobs.factory import job_worker_from_settings
from infra.jobs.queue import JobQueue, create_pool
from infra.jobs.worker import JobWorker
from infra.logging import configure_logging
from infra.matching.assignment import ScipyAssigner
from infra.media.forwarding_relay import ForwardingRelay
from infra.media.http_api import relay_app
from infra.media.ice import IceServer, IceSettings
from infra.media.remote import RemoteRelay
from infra.media.threaded import ThreadedRelay
from infra.notify.factory import ClosableSmsSender, email_sender_from_settings, sms_sender_from_settings
from infra.payments.stripe import StripeConfig, StripeGateway
from infra.pubsub.factory import bus_from_settings
from infra.settings import Settings
from infra.telephony.console import ConsoleTelephony
from infra.telephony.factory import ClosableTelephony, telephony_from_settings

__all__ = ["Container", "Settings", "StartupError", "build_container", "load_settings"]


class StartupError(ValueError):
    """Hearth cannot start as configured. The message names the setting to fix and holds no secret; the CLI prints
    it as one line instead of a traceback an operator has to dig the cause out of."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise StartupError(_settings_problems(exc)) from None


def _settings_problems(exc: ValidationError) -> str:
    # Without the input values (pydantic's own rendering shows them): a rejected value may be a secret.
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        field = str(error["loc"][0]) if error["loc"] else None
        if field is not None and field in Settings.model_fields:
            alias = Settings.model_fields[field].validation_alias
            name = alias.choices[0] if isinstance(alias, AliasChoices) else f"HEARTH_{field}"
            message = f"{str(name).upper()}: {message}"
        problems.append(message)
    return "; ".join(problems)


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    clock: Clock
    tokens: AccessTokens
    revoked_sessions: RevokedSessions
    revocation_reloads: RevocationReloads
    identity: IdentityService
    invitations: InvitationService
    scheduling: SchedulingService
    series: SeriesService
    waitlist: WaitlistService
    calendar: CalendarService
    reminders: ReminderService
    measures: MeasuresService
    matching: MatchingService
    staff: StaffService
    plans: PlansService
    notes: NotesService
    messaging: MessagingService
    sessions: SessionService
    tickets: TicketService
    hub: Hub
    bus: MessageBus
    idempotency: IdempotencyStore
    migration_heads: set[str]
    sms: ClosableSmsSender
    job_pool: asyncpg.Pool
    jobs: JobQueue
    worker: JobWorker
    cipher: NaclPayloadCipher
    key_rotation: KeyRotation
    telephony: TelephonyService
    telephony_provider: ClosableTelephony
    billing: BillingService
    payments: StripeGateway | None

    # Live sessions reach these through ports; the composition root (or a test) plugs the real ones in.
    @property
    def media_relay(self) -> MediaRelay | None:
        return self.sessions.relay

    @media_relay.setter
    def media_relay(self, relay: MediaRelay | None) -> None:
        self.sessions.relay = relay

    @property
    def phone_calls(self) -> PhoneCalls | None:
        return self.sessions.phone_calls

    @phone_calls.setter
    def phone_calls(self, calls: PhoneCalls | None) -> None:
        self.sessions.phone_calls = calls

    @property
    def session_outcomes(self) -> SessionOutcomes | None:
        return self.sessions.outcomes

    @session_outcomes.setter
    def session_outcomes(self, outcomes: SessionOutcomes | None) -> None:
        self.sessions.outcomes = outcomes

    async def database_ready(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return await migrate.at_head(self.engine, self.migration_heads)
        except Exception:
            return False

    async def on_bus_event(self, event: BusEvent) -> None:
        await self.hub.on_event(event)
        if event.kind == "session_end" and event.user_id is not None:
            # The bell names the user only: their revocations are read back (one query per bell, not per request).
            await self.revocation_reloads.reload(event.user_id)

    async def start_upkeep(self) -> None:
        """Start the periodic jobs (the expiry of idempotency keys) where a worker runs them; idempotent."""
        await periodic.start(self.jobs, SWEEP_JOB, self.clock)

    def jobs_ready(self) -> bool:
        """The in-process job worker is polling. Were it dead or stuck, reminders, unread-message emails, phone
        calls and no-show checks would silently stop while the API kept answering. A separate `hearth worker` is
        not this process's to judge."""
        return not self.settings.jobs_in_process or self.worker.healthy()

    async def close(self) -> None:
        await self.bus.stop()
        await self.revocation_reloads.close()  # after the bus: no bell or gap starts another retry
        await self.worker.stop()
        relay_close = getattr(self.media_relay, "close", None)  # the in-process relay's thread, a remote's client
        if relay_close is not None:
            await relay_close()
        await self.sms.aclose()
        await self.telephony_provider.aclose()
        if self.payments is not None:
            await self.payments.aclose()
        await self.job_pool.close()
        await self.engine.dispose()


class BillingOutcomes:
    """`SessionOutcomes` by billing, in the live session's own transaction (one unit of work serves both)."""

    def __init__(self, billing: BillingService) -> None:
        self._billing = billing

    async def completed_in(
        self,
        uow: SessionsUnitOfWork,
        appointment: Appointment,
        connected_minutes: Mapping[Modality, int],
        at_home: bool | None,
        ended_at: datetime,
    ) -> object:
        unit = cast(SqlUnitOfWork, uow)
        return await self._billing.completed_session_in(unit, appointment, connected_minutes, at_home, ended_at)

    async def no_show_in(self, uow: SessionsUnitOfWork, appointment: Appointment, at: datetime) -> object:
        return await self._billing.missed_in(cast(SqlUnitOfWork, uow), appointment, at)


def matching_weights(overrides: dict[str, float]) -> Weights:
    """The default weights with the configured overrides; an unknown name or a bad value stops start-up."""
    known = {f.name for f in fields(Weights)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"HEARTH_MATCHING_WEIGHTS: unknown weight(s) {', '.join(unknown)}; known: {sorted(known)}")
    integral = {"availability_target", "horizon_days"}
    values: dict[str, Any] = {k: int(v) if k in integral and float(v).is_integer() else v for k, v in overrides.items()}
    weights = replace(Weights(), **values)
    validate_weights(weights)
    return weights


def payment_gateway_from_settings(settings: Settings, clock: Clock) -> StripeGateway | None:
    if settings.payments_backend != "stripe":
        return None
    if settings.stripe_secret_key is None or settings.stripe_webhook_secret is None:
        raise RuntimeError("HEARTH_STRIPE_SECRET_KEY and HEARTH_STRIPE_WEBHOOK_SECRET are needed for Stripe")
    if not (settings.stripe_publishable_key or "").startswith("pk_"):
        # Served to every browser: a secret key here would be published, so only a pk_ key is taken.
        raise RuntimeError("HEARTH_STRIPE_PUBLISHABLE_KEY (pk_...) is needed for Stripe's card form in the browser")
    config = StripeConfig(
        secret_key=settings.stripe_secret_key.get_secret_value(),
        webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
        base_url=settings.stripe_base_url,
        api_version=settings.stripe_api_version,
        webhook_tolerance_seconds=settings.stripe_webhook_tolerance_seconds,
    )
    return StripeGateway(config, clock=clock)


def _fee_plan(settings: Settings) -> PlatformFeePlan:
    if settings.platform_fee_mode == "monthly_subscription":
        monthly = Money(settings.platform_fee_monthly_minor or 0, settings.billing_currency)
        return PlatformFeePlan(PlatformFeeMode.MONTHLY_SUBSCRIPTION, monthly=monthly)
    return PlatformFeePlan(PlatformFeeMode.PERCENT_PER_INVOICE, percent_bp=settings.platform_fee_percent_bp)


def _configured_signing_keys(settings: Settings) -> tuple[Ed25519PrivateKey | None, list[Ed25519PublicKey]]:
    try:
        key = load_private_key(settings.jwt_private_key_file) if settings.jwt_private_key_file else None
    except KeyFileError as exc:
        raise StartupError(f"HEARTH_JWT_PRIVATE_KEY_FILE: {exc}") from None
    try:
        extra = [load_public_key(p) for p in settings.jwt_extra_public_key_files]
    except KeyFileError as exc:
        raise StartupError(f"HEARTH_JWT_EXTRA_PUBLIC_KEY_FILES: {exc}") from None
    return key, extra


def check_keys(settings: Settings) -> None:
    """Load the configured signing and key-encryption keys the way start-up does, so that a missing key or key file
    stops a command before it migrates or listens, with a StartupError rather than a failed application start-up."""
    _configured_signing_keys(settings)
    try:
        keyring_from_settings(settings)
    except KeyringError as exc:
        raise StartupError(str(exc)) from None


def new_payload_kek(kek_id: str) -> dict[str, str]:
    """A new key-encryption key under `kek_id`, in the form of HEARTH_PAYLOAD_KEKS and its file (base64 value).
    ValueError when the id is not one Hearth accepts, rather than a file that stops the next start."""
    key = generate_key()
    try:
        Keyring({kek_id: decode_key(key, kek_id)}, kek_id)
    except KeyringError as exc:
        raise ValueError(str(exc)) from None
    return {kek_id: key}


def new_signing_key_pem() -> str:
    """A new Ed25519 access-token signing key in PEM (PKCS#8), for HEARTH_JWT_PRIVATE_KEY_FILE."""
    return private_key_pem(Ed25519PrivateKey.generate()).decode()


def _access_tokens(settings: Settings, clock: Clock) -> AccessTokens:
    key, extra = _configured_signing_keys(settings)
    if key is None:
        key = ensure_dev_key(settings.data_dir / "keys" / "jwt-ed25519.pem")
    return JwtAccessTokens(
        key,
        JwtConfig(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            lifetime=timedelta(minutes=settings.access_token_minutes),
        ),
        clock,
        extra_verification_keys=extra,
        kid=settings.jwt_key_id,
    )


async def build_container(settings: Settings, clock: Clock | None = None) -> Container:
    if settings.database_url is None:
        raise RuntimeError("DATABASE_URL is not set (the CLI starts an embedded PostgreSQL for you)")
    configure_logging(settings.log_level, settings.log_json)
    clock = clock or SystemClock()
    payments = payment_gateway_from_settings(settings, clock)  # refuses an incomplete Stripe setup before any I/O
    engine = create_engine(
        settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
    )
    sessions = session_factory(engine)
    hasher = Argon2PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    tokens = _access_tokens(settings, clock)
    # Kept a minute past the tokens' life: their `exp` leeway, and the clocks of the processes that revoked them.
    revoked_sessions = RevokedSessions(
        lambda: SqlUnitOfWork(sessions), clock, timedelta(minutes=settings.access_token_minutes + 1)
    )
    revocation_reloads = RevocationReloads(revoked_sessions)
    identity = IdentityService(
        uow=lambda: SqlUnitOfWork(sessions),
        hasher=hasher,
        tokens=tokens,
        clock=clock,
        ids=UuidGenerator(),
        policies=SessionPolicies(
            staff=SessionPolicy(
                idle=timedelta(minutes=settings.staff_idle_minutes),
                absolute=timedelta(hours=settings.staff_absolute_hours),
            ),
            client=SessionPolicy(
                idle=timedelta(minutes=settings.client_idle_minutes),
                absolute=timedelta(hours=settings.client_absolute_hours),
            ),
        ),
        throttle=ThrottleRules(
            account=ThrottleRule(
                settings.login_max_failures_per_account,
                timedelta(minutes=settings.login_window_minutes),
                timedelta(minutes=settings.login_block_minutes),
            ),
            address=ThrottleRule(
                settings.login_max_failures_per_address,
                timedelta(minutes=settings.login_window_minutes),
                timedelta(minutes=settings.login_block_minutes),
            ),
        ),
        dummy_hash=await asyncio.to_thread(hasher.hash_sync, "hearth-timing-equaliser-not-a-password"),
        revoked=revoked_sessions,
    )
    # Refuses to start in production without a configured key-encryption key.
    cipher = NaclPayloadCipher(keyring_from_settings(settings), cache_size=settings.payload_key_cache_size)
    job_pool = await create_pool(settings.database_url, max_size=4)
    jobs = JobQueue(job_pool, clock=clock)
    uow = lambda: SqlUnitOfWork(sessions, jobs)  # noqa: E731
    ids = UuidGenerator()
    email = email_sender_from_settings(settings, clock)
    sms = sms_sender_from_settings(settings)
    invitations = InvitationService(
        lambda: SqlUnitOfWork(sessions),
        hasher,
        clock,
        ids,
        email,
        settings.public_url,
        timedelta(days=settings.invitation_valid_days),
    )
    waitlist_box: list[WaitlistService] = []

    async def offer_freed(unit: SchedulingUnitOfWork, freed: Freed) -> None:
        await waitlist_box[0].offer_in(unit, freed)

    messaging = MessagingService(
        uow,
        cipher,
        clock,
        ids,
        email=email,
        base_url=settings.public_url,
        notify_after=timedelta(minutes=settings.message_notify_after_minutes),
        notify_throttle=timedelta(minutes=settings.message_notify_throttle_minutes),
    )

    async def open_conversation(
        unit: SchedulingUnitOfWork, client_id: uuid.UUID, therapist_id: uuid.UUID, practice_id: uuid.UUID
    ) -> None:
        await messaging.open_in(cast(SqlUnitOfWork, unit), client_id, therapist_id, practice_id)

    billing = BillingService(
        uow,
        cipher,
        clock,
        ids,
        payments,
        FpdfSuperbillRenderer(),
        _fee_plan(settings),
        settings.billing_currency,
    )

    async def client_came(unit: SchedulingUnitOfWork, appointment: Appointment) -> bool:
        return await SessionService.client_came_in(cast(SqlUnitOfWork, unit), appointment)

    async def took_place(unit: SchedulingUnitOfWork, appointment: Appointment) -> bool:
        return await SessionService.took_place_in(cast(SqlUnitOfWork, unit), appointment)

    async def charge_missed(unit: SchedulingUnitOfWork, appointment: Appointment) -> None:
        await billing.missed_in(cast(SqlUnitOfWork, unit), appointment)

    async def late_fee(unit: SchedulingUnitOfWork, appointment: Appointment) -> Money | None:
        return await billing.late_fee_in(cast(SqlUnitOfWork, unit), appointment)

    media_relay = build_media_relay(settings)
    live = SessionService(
        uow,
        cipher,
        clock,
        ids,
        rules=WindowRules(
            early=timedelta(minutes=settings.session_join_early_minutes),
            late=timedelta(minutes=settings.session_join_late_minutes),
            no_show_after=timedelta(minutes=settings.session_no_show_minutes),
        ),
        ice=IceConfig(
            stun_urls=tuple(settings.stun_urls),
            turn_urls=tuple(settings.turn_urls),
            turn_secret=settings.turn_secret.get_secret_value() if settings.turn_secret else None,
            turn_ttl=timedelta(seconds=settings.turn_ttl_seconds),
        ),
        relay=media_relay,
        outcomes=BillingOutcomes(billing),  # a completed session becomes a coded charge; a no-show its policy fee
    )

    scheduling = SchedulingService(
        uow=uow,
        clock=clock,
        ids=ids,
        on_freed=offer_freed,
        on_care=open_conversation,
        on_missed=charge_missed,
        late_fee=late_fee,
        booked_jobs=lambda appointment: (live.no_show_check(appointment),),
        client_came=client_came,
        join_opens=lambda appointment: live.rules.window(appointment).opens,
        took_place=took_place,
        complete=live.complete,
    )
    waitlist = WaitlistService(uow, scheduling, clock, ids, email, settings.public_url)
    waitlist_box.append(waitlist)
    reminders = ReminderService(uow, clock, email, sms, settings.public_url)

    async def email_offer(payload: dict[str, Any]) -> None:
        await waitlist.email_offer(uuid.UUID(payload["offer_id"]))

    async def email_waitlist_closed(payload: dict[str, Any]) -> None:
        await waitlist.email_closed(uuid.UUID(payload["client_id"]), uuid.UUID(payload["therapist_id"]))

    async def send_reminder(payload: dict[str, Any]) -> None:
        await reminders.send(uuid.UUID(payload["reminder_id"]))

    async def give_up_reminder(payload: dict[str, Any], reason: str) -> None:
        await reminders.give_up(uuid.UUID(payload["reminder_id"]), reason)

    async def check_no_show(payload: dict[str, Any]) -> None:
        await live.check_no_show(uuid.UUID(payload["appointment_id"]))

    async def notify_unread(payload: dict[str, Any]) -> None:
        await messaging.notify_unread(
            uuid.UUID(payload["conversation_id"]), uuid.UUID(payload["user_id"]), int(payload["seq"])
        )

    plans = PlansService(uow, cipher, clock, ids)
    measures = MeasuresService(uow, cipher, clock, ids, email, settings.public_url, plans)

    async def email_alert(payload: dict[str, Any]) -> None:
        await measures.email_alert(uuid.UUID(payload["alert_id"]))

    telephony_provider = telephony_from_settings(settings, clock)
    telephony = TelephonyService(uow, telephony_provider, clock, ids)
    if isinstance(telephony_provider, ConsoleTelephony):
        telephony_provider.attach(telephony.apply_event)  # the console plays the provider's webhooks in-process
    # Step-down to the phone places the bridged call; its progress counts as the session's phone minutes.
    live.phone_calls = telephony
    telephony.add_listener(live.record_phone_status)

    async def place_session_call(payload: dict[str, Any]) -> None:
        await telephony.place_scheduled(uuid.UUID(payload["appointment_id"]), datetime.fromisoformat(payload["start"]))

    async def issue_month(payload: dict[str, Any]) -> None:
        await billing.issue_month(uuid.UUID(payload["therapist_id"]), datetime.fromisoformat(payload["until"]))

    async def charge_fee(payload: dict[str, Any]) -> None:
        if payments is not None:
            await billing.charge_fee(uuid.UUID(payload["invoice_id"]))

    async def refund_void_payment(payload: dict[str, Any]) -> None:
        if payments is not None:
            await billing.refund_void_payment(uuid.UUID(payload["invoice_id"]), payload["payment_id"])

    idempotency = SqlIdempotencyStore(engine, cipher, timedelta(hours=settings.idempotency_retention_hours))

    async def sweep_idempotency() -> None:
        await idempotency.sweep(clock.now())

    worker = job_worker_from_settings(
        job_pool,
        {
            SEND_REMINDER_JOB: send_reminder,
            NOTIFY_UNREAD_JOB: notify_unread,
            PHONE_SESSION_CALL_JOB: place_session_call,
            ISSUE_MONTH_JOB: issue_month,
            CHARGE_FEE_JOB: charge_fee,
            REFUND_VOID_PAYMENT_JOB: refund_void_payment,
            NO_SHOW_JOB: check_no_show,
            ALERT_EMAIL_JOB: email_alert,
            OFFER_EMAIL_JOB: email_offer,
            CLOSED_EMAIL_JOB: email_waitlist_closed,
            SWEEP_JOB: periodic.periodic(jobs, SWEEP_JOB, SWEEP_EVERY, clock, sweep_idempotency),
        },
        settings,
        on_give_up={SEND_REMINDER_JOB: give_up_reminder},
    )
    matching = MatchingService(
        uow, cipher, clock, ids, scheduling, messaging, ScipyAssigner(), matching_weights(settings.matching_weights)
    )
    hub = Hub(messaging, identity, live)

    async def on_gap() -> None:
        await hub.on_gap()
        await revocation_reloads.reload()  # a `session_end` bell may have been lost too

    bus = bus_from_settings(settings, on_gap=on_gap)
    messaging.attach_bus(bus)
    live.notifier = BusSessionNotifier(bus)
    return Container(
        settings=settings,
        engine=engine,
        clock=clock,
        tokens=tokens,
        revoked_sessions=revoked_sessions,
        revocation_reloads=revocation_reloads,
        identity=identity,
        invitations=invitations,
        scheduling=scheduling,
        series=SeriesService(uow, scheduling, clock, ids),
        waitlist=waitlist,
        calendar=CalendarService(uow, clock),
        reminders=reminders,
        measures=measures,
        plans=plans,
        matching=matching,
        staff=StaffService(uow, matching, waitlist, clock, revoked_sessions),
        notes=NotesService(uow, cipher, clock, ids, plans),
        messaging=messaging,
        sessions=live,
        tickets=TicketService(uow, clock),
        hub=hub,
        bus=bus,
        idempotency=idempotency,
        sms=sms,
        job_pool=job_pool,
        jobs=jobs,
        worker=worker,
        cipher=cipher,
        key_rotation=KeyRotation(uow, cipher, cipher.current_kek_id, clock),
        billing=billing,
        payments=payments,
        migration_heads=migrate.head_revisions(settings.database_url),
        telephony=telephony,
        telephony_provider=telephony_provider,
    )


@asynccontextmanager
async def container_lifespan(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Container]:
    container = await build_container(settings, clock)
    await container.bus.start(container.on_bus_event)
    # After the bus listens: a revocation committed before this read is in it, one after it rings a bell heard.
    await container.revoked_sessions.load()
    if settings.jobs_in_process:
        await container.start_upkeep()
        container.worker.start()
    try:
        yield container
    finally:
        await container.close()


# --- operations used by the CLI -------------------------------------------------------------


def start_embedded_postgres(pgdata: Path) -> EmbeddedPostgres:
    return EmbeddedPostgres(pgdata)


def run_migrations(database_url: str) -> None:
    migrate.upgrade(database_url)


async def verify_audit_chain(database_url: str) -> ChainReport:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        verifier = ChainVerifier()
        async for item in read_chain(engine):
            if not verifier.feed(item):
                break
        return verifier.report()
    finally:
        await engine.dispose()


async def rotate_keys(settings: Settings) -> RotationReport:
    """`hearth keys rotate`: re-wrap every data key under the newest key-encryption key."""
    container = await build_container(settings)
    try:
        return await container.key_rotation.run()
    finally:
        await container.close()


async def set_platform_fee(settings: Settings, practice_id: uuid.UUID, plan: PlatformFeePlan) -> None:
    """`hearth billing set-fee`: the platform fee one practice pays (the operator's decision, not a user's)."""
    container = await build_container(settings)
    try:
        await container.billing.set_fee_plan(practice_id, plan)
    finally:
        await container.close()


async def create_group_practice(settings: Settings, name: str, admin_email: str, admin_name: str) -> GroupInvite:
    """`hearth practice create-group`: a group practice and the invitation of its first admin."""
    container = await build_container(settings)
    try:
        return await container.invitations.create_group(name, admin_email, admin_name)
    finally:
        await container.close()


async def run_worker(settings: Settings) -> None:
    """`hearth worker`: run background jobs until SIGINT/SIGTERM."""
    container = await build_container(settings)
    try:
        await container.start_upkeep()
        await container.worker.run_until_signalled()
    finally:
        await container.close()


def configure_cli_logging(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)


def relay_ice_settings(settings: Settings) -> IceSettings:
    servers = [
        IceServer(
            urls=[url],
            username=settings.relay_turn_username if url.startswith("turn") else None,
            credential=(
                settings.relay_turn_credential.get_secret_value()
                if url.startswith("turn") and settings.relay_turn_credential
                else None
            ),
        )
        for url in settings.relay_ice_servers
    ]
    return IceSettings(host_addresses=list(settings.relay_host_addresses), servers=servers)


def build_media_relay(settings: Settings) -> MediaRelay:
    """The in-process forwarding relay (on a thread and event loop of its own), or a `hearth relay` process when
    HEARTH_RELAY_URL is set. Both have an async `close()`; call it at shutdown.
    """
    if settings.relay_url:
        if settings.relay_secret is None:
            raise ValueError("HEARTH_RELAY_URL needs HEARTH_RELAY_SECRET")
        return RemoteRelay(settings.relay_url, settings.relay_secret.get_secret_value())
    return ThreadedRelay(ForwardingRelay(relay_ice_settings(settings)))


def build_relay_app(settings: Settings) -> Any:
    """The ASGI app of `hearth relay`: a forwarding relay behind its internal HTTP API."""
    if settings.relay_secret is None or not settings.relay_secret.get_secret_value():
        raise ValueError("hearth relay needs HEARTH_RELAY_SECRET")
    relay = ForwardingRelay(relay_ice_settings(settings))
    return relay_app(relay, settings.relay_secret.get_secret_value(), on_shutdown=relay.close)
