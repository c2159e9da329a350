"""Billing use cases: prices and policy, charges from real sessions and missed ones, invoices, card payments,
refunds, provider webhooks, statements and superbills.

Access: a client sees their own invoices and superbills; a therapist their own charges and invoices (their
clients'); a practice admin their practice's. Anything else is `NotFound`, like an object that does not exist.

Money-moving calls to the provider are made *outside* a database transaction (a slow provider must not hold
row locks), between two transactions: the first records the attempt (so its idempotency key is fixed before
the call), the second applies the answer. A crash in between is repaired by retrying: the same attempt uses the
same provider idempotency key, so the provider answers the first result instead of charging again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from domain.audit.events import AuditEvent, Outcome, event_by
from domain.billing import invoices as inv
from domain.billing.codec import claim_from_dict, claim_to_dict, coding_from_dict, coding_to_dict
from domain.billing.coding import (
    Coding,
    CodingBasis,
    Keep,
    code_session,
    code_session_without_diagnoses,
    override_coding,
    validate_diagnoses,
)
from domain.billing.errors import PaymentActionRequired, PaymentDeclined, PaymentFailed
from domain.billing.fees import (
    CancellationPolicy,
    FeeRule,
    MonthlyStatement,
    PlatformFeePlan,
    RateCard,
    missed_session_fee,
    month_bounds,
    monthly_statement,
    rate_card_from_profile,
    session_price,
    validate_policy,
    validate_rate_card,
    validate_sliding_scale,
)
from domain.billing.invoices import ChargeKind, Invoice, InvoiceStatus
from domain.billing.money import Money, check_currency, validate_money, zero
from domain.billing.ports import (
    IntentStatus,
    PaymentEvent,
    PaymentEventKind,
    PaymentGateway,
    PaymentIntent,
    RefundReason,
)
from domain.billing.storage import (
    BillingSettings,
    BillingUnitOfWork,
    ClaimRecord,
    InvoiceQuery,
    InvoiceSchedule,
    PaymentProfile,
    StoredCharge,
)
from domain.billing.superbill import Superbill, SuperbillLine, SuperbillProvider, SuperbillRenderer
from domain.scheduling.localtime import ensure_utc, load_zone
from domain.scheduling.model import (
    Appointment,
    AppointmentStatus,
    Modality,
)
from domain.shared.cipher import AadContext, PayloadCipher
from domain.shared.errors import Conflict, InvalidState, NotFound, StaleVersion, ValidationFailed
from domain.shared.ports import Clock, IdGenerator
from domain.shared.principal import Principal, Role
from domain.shared.records import record_key

DEFAULT_CURRENCY = "USD"
ISSUE_MONTH_JOB = "billing.issue_month"
CHARGE_FEE_JOB = "billing.charge_fee"
REFUND_VOID_PAYMENT_JOB = "billing.refund_void_payment"
MAX_STATEMENT_MONTHS = 36
MAX_SUPERBILL_DAYS = 366


@dataclass(frozen=True, slots=True)
class ChargeView:
    charge: StoredCharge
    coding: Coding | None
    invoice: Invoice | None


@dataclass(frozen=True, slots=True)
class InvoiceView:
    """An invoice with its charge's coding (a session's CPT, modifier, place of service, diagnoses): the
    client's own data, shown on their invoice."""

    invoice: Invoice
    coding: Coding | None = None


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """The invoice after a payment call; `client_secret` when the bank wants the client to authenticate."""

    invoice: InvoiceView
    client_secret: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    outcome: str  # applied | ignored | duplicate | refund | unmatched | conflict | not_handled
    invoice_id: uuid.UUID | None = None


def _coding_aad(charge_id: uuid.UUID) -> AadContext:
    return AadContext.of("billing_charges", charge_id, "coding")


def _claim_aad(client_id: uuid.UUID, practice_id: uuid.UUID) -> AadContext:
    return AadContext.of("client_billing_records", client_id, "body", practice=practice_id)


def _local_date(moment: datetime, timezone: str) -> date:
    return ensure_utc(moment, field="at").astimezone(load_zone(timezone)).date()


class BillingService:
    def __init__(
        self,
        uow: Callable[[], BillingUnitOfWork],
        cipher: PayloadCipher,
        clock: Clock,
        ids: IdGenerator,
        gateway: PaymentGateway | None,
        renderer: SuperbillRenderer,
        default_fee_plan: PlatformFeePlan,
        default_currency: str = DEFAULT_CURRENCY,
    ) -> None:
        self._uow = uow
        self._cipher = cipher
        self._clock = clock
        self._ids = ids
        self._gateway = gateway
        self._renderer = renderer
        self._default_fee_plan = default_fee_plan
        self._default_currency = check_currency(default_currency)

    # ------------------------------------------------------------------------------------ settings

    async def settings(self, principal: Principal) -> BillingSettings:
        async with self._uow() as uow:
            return await self._settings(uow, principal.user_id)

    async def save_settings(self, principal: Principal, settings: BillingSettings) -> BillingSettings:
        """Replace the therapist's prices; `settings.version` is the version read (0 when none was stored)."""
        if principal.practice_id is None:
            raise NotFound("No practice.")
        validate_rate_card(settings.card)
        validate_sliding_scale(settings.sliding_scale, currency=settings.card.currency)
        if settings.check_in_price is not None:
            validate_money(settings.check_in_price, field="check_in_price")
            if settings.check_in_price.currency != settings.card.currency:
                raise ValidationFailed("The check-in rate uses the rates' currency.", code="invalid_rate")
        async with self._uow() as uow:
            for client_id in {p.client_id for p in settings.sliding_scale}:
                if not await uow.care.is_active(client_id, principal.user_id):
                    raise NotFound("No such client.", code="not_found")
            stored = replace(settings, therapist_id=principal.user_id)
            saved = await uow.billing_settings.save(
                stored, principal.practice_id, expected_version=settings.version, now=self._clock.now()
            )
            if not saved:
                raise StaleVersion("The billing settings changed since you read them.")
            await uow.audit.append(self._event(principal, "billing.settings.update", "therapist", principal.user_id))
            await uow.commit()
        return replace(stored, version=settings.version + 1)

    async def _settings(self, uow: BillingUnitOfWork, therapist_id: uuid.UUID) -> BillingSettings:
        stored = await uow.billing_settings.get(therapist_id)
        if stored is not None:
            return stored
        profile = await uow.profiles.get(therapist_id)
        if profile is not None and profile.rates:
            currency = next(iter(profile.rates.values())).currency
            card = rate_card_from_profile(profile, currency=currency)
        else:
            card = RateCard(self._default_currency, ())
        return BillingSettings(therapist_id=therapist_id, card=card, version=0)

    # ------------------------------------------------------------------------------------ cancellation policy

    async def policy(self, therapist_id: uuid.UUID) -> CancellationPolicy | None:
        """The therapist's current policy: what a client is shown (and accepts) when booking."""
        async with self._uow() as uow:
            therapist = await uow.users.get(therapist_id)
            if therapist is None or therapist.role is not Role.THERAPIST:
                raise NotFound("No such therapist.")
            return await uow.cancellation_policies.current(therapist_id)

    async def set_policy(
        self,
        principal: Principal,
        *,
        window_hours: int,
        late_cancellation: FeeRule | None,
        no_show: FeeRule | None,
        expected_version: int,
    ) -> CancellationPolicy:
        """Publish the next version. Appointments keep the version their client accepted."""
        async with self._uow() as uow:
            settings = await self._settings(uow, principal.user_id)
            currency = settings.card.currency
            for rule in (late_cancellation, no_show):
                if rule is not None and rule.flat is not None and rule.flat.currency != currency:
                    raise ValidationFailed("A flat fee uses the rates' currency.", code="currency_mismatch")
            current = await uow.cancellation_policies.current(principal.user_id)
            if (current.version if current else 0) != expected_version:
                raise StaleVersion("The policy changed since you read it.")
            policy = validate_policy(
                CancellationPolicy(
                    therapist_id=principal.user_id,
                    version=expected_version + 1,
                    window_hours=window_hours,
                    late_cancellation=late_cancellation,
                    no_show=no_show,
                )
            )
            if not await uow.cancellation_policies.add(policy, currency, self._clock.now()):
                raise StaleVersion("The policy changed since you read it.")
            await uow.audit.append(self._event(principal, "billing.policy.publish", "therapist", principal.user_id))
            await uow.commit()
        return policy

    # ------------------------------------------------------------------------------------ claim record

    async def claim_record(self, principal: Principal, client_id: uuid.UUID) -> ClaimRecord:
        async with self._uow() as uow:
            practice_id = await self._client_practice(uow, principal, client_id)
            record = await self._claim(uow, client_id, practice_id)
            await uow.audit.append(self._event(principal, "billing.claim_record.read", "client", client_id))
            await uow.commit()
        return record

    async def save_claim_record(
        self,
        principal: Principal,
        client_id: uuid.UUID,
        *,
        diagnoses: Sequence[str],
        date_of_birth: date | None,
        expected_version: int,
    ) -> ClaimRecord:
        codes = validate_diagnoses(diagnoses) if diagnoses else ()
        if date_of_birth is not None and not date(1900, 1, 1) <= date_of_birth <= self._clock.now().date():
            raise ValidationFailed("A date of birth in the past.", code="invalid_date_of_birth", field="date_of_birth")
        now = self._clock.now()
        async with self._uow() as uow:
            practice_id = await self._client_practice(uow, principal, client_id)
            key = await record_key(uow, self._cipher, self._ids.new, client_id, practice_id, now)
            body = self._cipher.seal(
                json.dumps(claim_to_dict(codes, date_of_birth)), key, _claim_aad(client_id, practice_id)
            )
            saved = await uow.claim_records.save(
                client_id, practice_id, body, expected_version=expected_version, by=principal.user_id, now=now
            )
            if not saved:
                raise StaleVersion("The client's billing record changed since you read it.")
            await uow.audit.append(self._event(principal, "billing.claim_record.update", "client", client_id))
            await uow.commit()
        return ClaimRecord(client_id, practice_id, codes, date_of_birth, expected_version + 1)

    async def _client_practice(self, uow: BillingUnitOfWork, principal: Principal, client_id: uuid.UUID) -> uuid.UUID:
        if principal.role is not Role.THERAPIST or principal.practice_id is None:
            raise NotFound("No such client.")
        if not await uow.care.is_active(client_id, principal.user_id):
            raise NotFound("No such client.")
        return principal.practice_id

    async def _claim(self, uow: BillingUnitOfWork, client_id: uuid.UUID, practice_id: uuid.UUID) -> ClaimRecord:
        stored = await uow.claim_records.get(client_id, practice_id)
        if stored is None:
            return ClaimRecord(client_id, practice_id)
        body, version = stored
        key = await record_key(uow, self._cipher, self._ids.new, client_id, practice_id, self._clock.now())
        codes, born = claim_from_dict(json.loads(self._cipher.open(body, key, _claim_aad(client_id, practice_id))))
        return ClaimRecord(client_id, practice_id, codes, born, version)

    # ------------------------------------------------------------------------------------ charges

    async def record_completed_session(
        self,
        appointment_id: uuid.UUID,
        connected_minutes: Mapping[Modality, int],
        at_home: bool | None,
        ended_at: datetime,
    ) -> ChargeView:
        """The coded charge of a session that took place, in a transaction of its own (the live session's end
        makes it in its own transaction instead, through `completed_session_in`).

        The coding follows the real connected minutes and the check-in (`at_home` None: the client gave no
        location, so not known to be home: "02"); the price follows what was booked, except that a session
        coded as a brief check-in (under 16 voice minutes) costs the therapist's check-in rate when they set
        one, and a session with no connected minute at all costs nothing. Idempotent per appointment: a second
        call returns the first charge. A zero price (no rate for the session, or nothing connected): the charge
        is recorded at zero and no invoice is made (the therapist can see it and bill by hand)."""
        async with self._uow() as uow:
            appointment = await uow.appointments.get(appointment_id, for_update=True)
            if appointment is None:
                raise NotFound("No such appointment.")
            if appointment.status not in (AppointmentStatus.IN_PROGRESS, AppointmentStatus.COMPLETED):
                raise InvalidState(
                    f"An appointment that is {appointment.status.value} has no session to bill.",
                    code="session_not_held",
                )
            view = await self.completed_session_in(uow, appointment, connected_minutes, at_home, ended_at)
            await uow.commit()
        return view

    async def completed_session_in(
        self,
        uow: BillingUnitOfWork,
        appointment: Appointment,
        connected_minutes: Mapping[Modality, int],
        at_home: bool | None,
        ended_at: datetime,
    ) -> ChargeView:
        """Inside the caller's transaction, with `appointment` locked (the live session's end, which completes it):
        the session's charge as `record_completed_session` makes it, committed with the completion, so no
        failure after that commit can leave a held session unbilled. Database work only: a session invoice is paid
        by the client, never charged to a saved card here."""
        ended = ensure_utc(ended_at, field="ended_at")
        existing = await uow.charges.for_appointment(appointment.id, ChargeKind.SESSION)
        if existing is not None:
            return await self._view(uow, existing)
        claim = await self._claim(uow, appointment.client_id, appointment.practice_id)
        home = bool(at_home)
        if claim.diagnoses:
            coding = code_session(connected_minutes, at_home=home, diagnoses=claim.diagnoses)
        else:
            coding = code_session_without_diagnoses(connected_minutes, at_home=home)
        settings = await self._settings(uow, appointment.therapist_id)
        if coding.psychotherapy_minutes == 0 and coding.chat_minutes == 0:
            # Not one minute connected (the two never overlapped on the call, or the phone bridge dropped at
            # once): nothing was delivered, so the held-session rate is not owed. A missed session is the
            # no-show's business, with the fee the client accepted; this charge only keeps the record.
            price = zero(settings.card.currency)
        elif coding.basis is CodingBasis.BRIEF_CHECK_IN and settings.check_in_price is not None:
            price = settings.check_in_price
        else:
            price = self._price(settings, appointment) or zero(settings.card.currency)
        timezone = await self._therapist_zone(uow, appointment.therapist_id)
        return await self._add_charge(
            uow,
            appointment,
            kind=ChargeKind.SESSION,
            service_date=_local_date(appointment.start, timezone),
            amount=price,
            coding=coding,
            policy_version=None,
            settings=settings,
            at=ended,
        )

    async def record_no_show(self, appointment_id: uuid.UUID, at: datetime) -> ChargeView | None:
        """The no-show fee of an appointment already marked `no_show`, if the policy the client accepted has
        one (else None). Idempotent: marking it through scheduling already created it; this returns it."""
        ensure_utc(at, field="at")
        async with self._uow() as uow:
            appointment = await uow.appointments.get(appointment_id, for_update=True)
            if appointment is None:
                raise NotFound("No such appointment.")
            if appointment.status is not AppointmentStatus.NO_SHOW:
                raise InvalidState("The appointment is not marked as a no-show.", code="not_a_no_show")
            view = await self.missed_in(uow, appointment)
            await uow.commit()
        return view

    async def missed_in(
        self, uow: BillingUnitOfWork, appointment: Appointment, at: datetime | None = None
    ) -> ChargeView | None:
        """Inside the caller's transaction: the fee for a late cancellation or a no-show, computed only from the
        policy version the client accepted at booking (no accepted policy or no such fee: None), charged `at`
        (default now)."""
        if appointment.status is AppointmentStatus.LATE_CANCELLED:
            kind = ChargeKind.LATE_CANCELLATION
        elif appointment.status is AppointmentStatus.NO_SHOW:
            kind = ChargeKind.NO_SHOW
        else:
            return None
        existing = await uow.charges.for_appointment(appointment.id, kind)
        if existing is not None:
            return await self._view(uow, existing)
        if appointment.policy_version is None:
            return None
        policy = await uow.cancellation_policies.version(appointment.therapist_id, appointment.policy_version)
        settings = await self._settings(uow, appointment.therapist_id)
        fee = await self._fee_in(uow, appointment, appointment.status, policy, settings)
        if fee is None:
            return None
        timezone = await self._therapist_zone(uow, appointment.therapist_id)
        return await self._add_charge(
            uow,
            appointment,
            kind=kind,
            service_date=_local_date(appointment.start, timezone),
            amount=fee,
            coding=None,
            policy_version=appointment.policy_version,
            settings=settings,
            at=at or self._clock.now(),
        )

    async def late_fee_in(self, uow: BillingUnitOfWork, appointment: Appointment) -> Money | None:
        """Inside the caller's transaction: what late-cancelling `appointment` would charge its client (the fee
        `missed_in` then adds), or None. Scheduling asks before a client's late cancellation, which needs the
        client's acceptance of exactly this fee."""
        if appointment.policy_version is None:
            return None
        policy = await uow.cancellation_policies.version(appointment.therapist_id, appointment.policy_version)
        return await self._fee_in(uow, appointment, AppointmentStatus.LATE_CANCELLED, policy)

    async def _fee_in(
        self,
        uow: BillingUnitOfWork,
        appointment: Appointment,
        status: AppointmentStatus,
        policy: CancellationPolicy | None,
        settings: BillingSettings | None = None,
    ) -> Money | None:
        """The fee for `appointment` missed as `status`, under `policy` (the accepted version, as loaded)."""
        settings = settings or await self._settings(uow, appointment.therapist_id)
        return missed_session_fee(
            status=status,
            therapist_id=appointment.therapist_id,
            accepted_policy_version=appointment.policy_version,
            accepted_policy=policy,
            session_price=self._price(settings, appointment) or zero(settings.card.currency),
        )

    def _price(self, settings: BillingSettings, appointment: Appointment) -> Money | None:
        try:
            return session_price(
                settings.card,
                minutes=appointment.duration_minutes,
                modality=appointment.modality,
                client_id=appointment.client_id,
                sliding_scale=settings.sliding_scale,
            )
        except NotFound:
            return None

    async def _therapist_zone(self, uow: BillingUnitOfWork, therapist_id: uuid.UUID) -> str:
        profile = await uow.profiles.get(therapist_id)
        if profile is not None:
            return profile.timezone
        user = await uow.users.get(therapist_id)
        return user.timezone if user is not None else "UTC"

    async def _add_charge(
        self,
        uow: BillingUnitOfWork,
        appointment: Appointment,
        *,
        kind: ChargeKind,
        service_date: date,
        amount: Money,
        coding: Coding | None,
        policy_version: int | None,
        settings: BillingSettings,
        at: datetime,
    ) -> ChargeView:
        charge_id = self._ids.new()
        sealed = None
        if coding is not None:
            key = await record_key(uow, self._cipher, self._ids.new, appointment.client_id, appointment.practice_id, at)
            sealed = self._cipher.seal(json.dumps(coding_to_dict(coding)), key, _coding_aad(charge_id))
        stored = StoredCharge(
            id=charge_id,
            practice_id=appointment.practice_id,
            therapist_id=appointment.therapist_id,
            client_id=appointment.client_id,
            appointment_id=appointment.id,
            kind=kind,
            service_date=service_date,
            amount=amount,
            policy_version=policy_version,
            coding=sealed,
            created_at=at,
        )
        if not await uow.charges.add(stored):
            raise Conflict("This appointment is already charged.", code="already_charged")
        invoice: Invoice | None = None
        if amount.amount_minor > 0:
            if coding is not None:
                charge = inv.session_charge(
                    appointment_id=appointment.id, service_date=service_date, price=amount, coding=coding
                )
            else:
                charge = inv.fee_charge(
                    kind=kind,
                    appointment_id=appointment.id,
                    service_date=service_date,
                    fee=amount,
                    policy_version=policy_version or 0,
                )
            invoice = inv.new_invoice(
                id=self._ids.new(),
                practice_id=appointment.practice_id,
                therapist_id=appointment.therapist_id,
                client_id=appointment.client_id,
                charge=charge,
                created_at=at,
            )
            if settings.invoice_schedule is InvoiceSchedule.PER_CHARGE:
                invoice = inv.issue(invoice, at=at)
            await uow.invoices.add(invoice, charge_id)
            if invoice.status is InvoiceStatus.OPEN and kind is not ChargeKind.SESSION:
                # After commit, outside this transaction: the provider call must not hold the booking's locks.
                await uow.jobs.enqueue(CHARGE_FEE_JOB, {"invoice_id": str(invoice.id)}, at)
            if invoice.status is InvoiceStatus.DRAFT:
                # The month's batch goes out when the therapist's month ends (one job per draft; the first to
                # run issues them all, the others find nothing left).
                timezone = await self._therapist_zone(uow, appointment.therapist_id)
                local = ensure_utc(at, field="at").astimezone(load_zone(timezone))
                _, month_end = month_bounds(local.year, local.month, timezone)
                await uow.jobs.enqueue(
                    ISSUE_MONTH_JOB,
                    {"therapist_id": str(appointment.therapist_id), "until": month_end.isoformat()},
                    month_end,
                )
        await uow.audit.append(
            AuditEvent(
                action=f"billing.charge.{kind.value}",
                object_type="charge",
                object_id=str(charge_id),
                actor_id=None,
                actor_role="system",
                practice_id=appointment.practice_id,
                outcome=Outcome.SUCCESS,
                occurred_at=at,
            )
        )
        return ChargeView(stored, coding, invoice)

    async def _view(self, uow: BillingUnitOfWork, charge: StoredCharge) -> ChargeView:
        return ChargeView(charge, await self._open_coding(uow, charge), await uow.invoices.for_charge(charge.id))

    async def _open_coding(self, uow: BillingUnitOfWork, charge: StoredCharge) -> Coding | None:
        if charge.coding is None:
            return None
        key = await record_key(
            uow, self._cipher, self._ids.new, charge.client_id, charge.practice_id, self._clock.now()
        )
        return coding_from_dict(json.loads(self._cipher.open(charge.coding, key, _coding_aad(charge.id))))

    async def charges(
        self, principal: Principal, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[ChargeView]:
        """A therapist's charges (a practice admin: the practice's), newest first, with coding and invoice."""
        if principal.practice_id is None or principal.role is Role.CLIENT:
            return []
        therapist_id = principal.user_id if principal.role is Role.THERAPIST else None
        async with self._uow() as uow:
            found = await uow.charges.find(
                practice_id=principal.practice_id, therapist_id=therapist_id, after=after, limit=limit
            )
            views = [await self._view(uow, c) for c in found]
            await uow.audit.append(self._event(principal, "billing.charges.list", "practice", principal.practice_id))
            await uow.commit()
        return views

    async def override(
        self,
        principal: Principal,
        charge_id: uuid.UUID,
        *,
        reason: str,
        expected_version: int | None = None,
        cpt: str | Keep | None = Keep.KEEP,
        modifier: str | Keep | None = Keep.KEEP,
        place_of_service: str | Keep = Keep.KEEP,
        diagnoses: Sequence[str] | Keep = Keep.KEEP,
    ) -> ChargeView:
        """The therapist changes coding fields with a reason; each changed field is kept with the charge and
        audited (the audit event names the charge and the fields, never the codes or the reason)."""
        now = self._clock.now()
        async with self._uow() as uow:
            charge = await uow.charges.get(charge_id, for_update=True)
            if charge is None or charge.therapist_id != principal.user_id or charge.coding is None:
                raise NotFound("No such charge.")
            if expected_version is not None and expected_version != charge.version:
                raise StaleVersion("The charge changed since you read it.")
            current = await self._open_coding(uow, charge)
            assert current is not None
            updated, changes = override_coding(
                current,
                reason=reason,
                by=principal.user_id,
                at=now,
                cpt=cpt,
                modifier=modifier,
                place_of_service=place_of_service,
                diagnoses=diagnoses,
            )
            key = await record_key(uow, self._cipher, self._ids.new, charge.client_id, charge.practice_id, now)
            sealed = self._cipher.seal(json.dumps(coding_to_dict(updated)), key, _coding_aad(charge.id))
            if not await uow.charges.save_coding(charge.id, sealed, expected_version=charge.version):
                raise StaleVersion("The charge changed since you read it.")
            for change in changes:
                await uow.audit.append(
                    self._event(principal, f"billing.coding.override.{change.field.value}", "charge", charge.id)
                )
            await uow.commit()
            stored = replace(charge, coding=sealed, version=charge.version + 1)
        async with self._uow() as uow:
            invoice = await uow.invoices.for_charge(charge.id)
        return ChargeView(stored, updated, invoice)

    # ------------------------------------------------------------------------------------ invoices

    def _scope(self, principal: Principal) -> InvoiceQuery:
        if principal.role is Role.CLIENT:
            return InvoiceQuery(client_id=principal.user_id, drafts=False)
        if principal.practice_id is None:
            raise NotFound("No such invoice.")
        if principal.role is Role.THERAPIST:
            return InvoiceQuery(practice_id=principal.practice_id, therapist_id=principal.user_id)
        return InvoiceQuery(practice_id=principal.practice_id)

    @staticmethod
    def _visible(principal: Principal, invoice: Invoice | None) -> Invoice:
        if invoice is not None:
            if principal.role is Role.CLIENT:
                if invoice.client_id == principal.user_id and invoice.status is not InvoiceStatus.DRAFT:
                    return invoice
            elif principal.role is Role.THERAPIST:
                if invoice.therapist_id == principal.user_id:
                    return invoice
            elif invoice.practice_id == principal.practice_id:
                return invoice
        raise NotFound("No such invoice.")

    async def invoices(
        self, principal: Principal, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[InvoiceView]:
        query = replace(self._scope(principal), after=after, limit=limit)
        async with self._uow() as uow:
            views = []
            for line in await uow.invoices.lines(query):
                coding = None
                if line.sealed_coding is not None:
                    coding = await self._open(uow, line.invoice, line.charge_id, line.sealed_coding)
                views.append(InvoiceView(line.invoice, coding))
            # Invoices show diagnoses: reading them is a read of clinical data.
            await uow.audit.append(self._event(principal, "billing.invoices.list", "user", principal.user_id))
            await uow.commit()
        return views

    async def invoice(self, principal: Principal, invoice_id: uuid.UUID) -> InvoiceView:
        async with self._uow() as uow:
            view = await self._invoice_view(uow, self._visible(principal, await uow.invoices.get(invoice_id)))
            await uow.audit.append(self._event(principal, "billing.invoice.read", "invoice", invoice_id))
            await uow.commit()
        return view

    async def _invoice_view(self, uow: BillingUnitOfWork, invoice: Invoice) -> InvoiceView:
        charge = await uow.charges.for_appointment(invoice.charge.appointment_id, invoice.charge.kind)
        return InvoiceView(invoice, await self._open_coding(uow, charge) if charge is not None else None)

    async def _open(self, uow: BillingUnitOfWork, invoice: Invoice, charge_id: uuid.UUID, sealed: bytes) -> Coding:
        key = await record_key(
            uow, self._cipher, self._ids.new, invoice.client_id, invoice.practice_id, self._clock.now()
        )
        return coding_from_dict(json.loads(self._cipher.open(sealed, key, _coding_aad(charge_id))))

    async def issue_drafts(self, principal: Principal) -> list[InvoiceView]:
        """Issue every draft invoice of the therapist now (the monthly batch, sent early)."""
        async with self._uow() as uow:
            issued = await self._issue(uow, principal.user_id, before=None)
            await uow.audit.append(self._event(principal, "billing.invoices.issue", "therapist", principal.user_id))
            await uow.commit()
        return issued

    async def issue_month(self, therapist_id: uuid.UUID, until: datetime) -> int:
        """The month-end job: issue the therapist's drafts created before `until` (their month's end)."""
        async with self._uow() as uow:
            issued = await self._issue(uow, therapist_id, before=ensure_utc(until, field="until"))
            await uow.commit()
        return len(issued)

    async def _issue(
        self, uow: BillingUnitOfWork, therapist_id: uuid.UUID, *, before: datetime | None
    ) -> list[InvoiceView]:
        now = self._clock.now()
        drafts = await uow.invoices.find(
            InvoiceQuery(
                therapist_id=therapist_id, status=InvoiceStatus.DRAFT.value, created_before=before, limit=10_000
            )
        )
        issued: list[InvoiceView] = []
        for draft in drafts:
            opened = inv.issue(draft, at=now)
            if not await uow.invoices.save(opened, expected_version=draft.version):
                raise StaleVersion("An invoice changed meanwhile; try again.")
            issued.append(await self._invoice_view(uow, opened))
        return issued

    async def void(self, principal: Principal, invoice_id: uuid.UUID) -> InvoiceView:
        """Cancel an unpaid invoice. A payment of it still under way is canceled at the provider first (between
        two transactions, like every provider call): voided without that, the client could still finish 3-D
        Secure, or the payment succeed, and be charged for a void invoice. A payment the provider says went
        through, or will not stop, refuses the void and leaves the invoice as it is."""
        async with self._uow() as uow:
            invoice = await uow.invoices.get(invoice_id, for_update=True)
            if principal.role is Role.CLIENT:
                raise NotFound("No such invoice.")
            invoice = self._visible(principal, invoice)
            payment_id = inv.payment_to_cancel(invoice)
            if payment_id is None:
                return await self._voided(uow, principal, invoice, inv.void(invoice, at=self._clock.now()))
        intent = await self._require_gateway().cancel_payment(
            payment_id, idempotency_key=inv.cancel_idempotency_key(invoice)
        )
        async with self._uow() as uow:
            current = await uow.invoices.get(invoice.id, for_update=True)
            assert current is not None
            now = self._clock.now()
            voided = inv.void_after_cancel(current, intent, at=now)
            await uow.invoices.record_payment(
                current.id, intent.payment_id, current.payment_attempts, intent.status.value, intent.amount, now
            )
            return await self._voided(uow, principal, current, voided)

    async def _voided(
        self, uow: BillingUnitOfWork, principal: Principal, invoice: Invoice, voided: Invoice
    ) -> InvoiceView:
        await self._save(uow, voided, invoice.version)
        await uow.audit.append(self._event(principal, "billing.invoice.void", "invoice", invoice.id))
        view = await self._invoice_view(uow, voided)
        await uow.commit()
        return view

    async def _save(self, uow: BillingUnitOfWork, invoice: Invoice, expected_version: int) -> None:
        if not await uow.invoices.save(invoice, expected_version=expected_version):
            raise StaleVersion("The invoice changed meanwhile; try again.")

    # ------------------------------------------------------------------------------------ payments

    def _require_gateway(self) -> PaymentGateway:
        if self._gateway is None:
            raise InvalidState("Card payments are not configured on this server.", code="payments_not_configured")
        return self._gateway

    async def pay(
        self, principal: Principal, invoice_id: uuid.UUID, payment_method_id: str, *, save_for_fees: bool = False
    ) -> PaymentOutcome:
        """The client pays an invoice with a card payment method made by the provider's card form; with
        `save_for_fees` the card is kept (at the provider, on the client's customer) for later late-cancellation
        and no-show fees, charged off-session. It is recorded here when the payment succeeds at once; when the bank
        wants the client to authenticate first, the payment's log remembers the request and the provider's
        webhook records the card once the payment succeeds (`apply_event`).

        The provider call uses the invoice's current attempt key: retrying after a lost answer replays the
        first result (never a second charge); a new attempt (a new key) starts only after a failed payment."""
        gateway = self._require_gateway()
        async with self._uow() as uow:
            invoice = await uow.invoices.get(invoice_id, for_update=True)
            if principal.role is not Role.CLIENT:
                raise NotFound("No such invoice.")
            invoice = self._visible(principal, invoice)
            if invoice.status in (InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_REFUNDED, InvoiceStatus.REFUNDED):
                raise InvalidState("This invoice is already paid.", code="already_paid")
            if invoice.status is InvoiceStatus.PROCESSING:
                raise InvalidState("A payment for this invoice is under way.", code="payment_in_progress")
            if invoice.status is InvoiceStatus.PAYMENT_FAILED or invoice.payment_attempts == 0:
                attempt = inv.start_payment_attempt(invoice)
                await self._save(uow, attempt, invoice.version)
                await uow.commit()
                invoice = attempt
            elif invoice.payment_id is not None:
                raise InvalidState("A payment for this invoice awaits authentication.", code="payment_in_progress")
            # else: open, an attempt started and its answer never stored: retry it with the same key
            profile = await uow.payment_profiles.get(invoice.client_id)
        customer_id = profile.customer_id if profile else None
        if save_for_fees and customer_id is None:
            customer_id = await gateway.create_customer(
                client_id=invoice.client_id, idempotency_key=f"hearth-customer-{invoice.client_id}"
            )
            async with self._uow() as uow:
                await uow.payment_profiles.save(PaymentProfile(invoice.client_id, customer_id), self._clock.now())
                await uow.commit()
        key = inv.payment_idempotency_key(invoice)
        request = inv.payment_request(invoice, customer_id=customer_id if save_for_fees else None)
        try:
            intent = await gateway.pay_with_method(
                request, payment_method_id=payment_method_id, idempotency_key=key, save_for_fees=save_for_fees
            )
        except PaymentDeclined as declined:
            await self._apply_decline(invoice.id, declined)
            raise
        now = self._clock.now()
        keep_card = save_for_fees and customer_id is not None
        async with self._uow() as uow:
            updated = await self._record_intent(uow, invoice, intent, now, keep_card=keep_card)
            if keep_card and customer_id and intent.status is IntentStatus.SUCCEEDED:
                # Paid at once: the card is kept now. After 3-D Secure, the webhook records it (`_keep_card`).
                await uow.payment_profiles.keep_card(
                    invoice.client_id, customer_id, payment_method_id, kept_at=now, now=now
                )
            await uow.audit.append(self._event(principal, "billing.invoice.pay", "invoice", invoice.id))
            view = await self._invoice_view(uow, updated)
            await uow.commit()
        secret = intent.client_secret if intent.status is IntentStatus.REQUIRES_ACTION else None
        return PaymentOutcome(view, secret)

    async def charge_fee(self, invoice_id: uuid.UUID) -> None:
        """The job after a late-cancellation or no-show fee is invoiced: charge the client's saved card
        off-session. No saved card: the invoice waits for the client. A decline, or a bank that wants the
        client to authenticate, marks the invoice `payment_failed` and the client pays it on-session. A provider
        outage raises, so the job is retried, with the same attempt key (never a second charge)."""
        gateway = self._require_gateway()
        async with self._uow() as uow:
            invoice = await uow.invoices.get(invoice_id, for_update=True)
            if invoice is None or invoice.charge.kind is ChargeKind.SESSION or invoice.status is not InvoiceStatus.OPEN:
                return
            profile = await uow.payment_profiles.get(invoice.client_id)
            if profile is None or profile.payment_method_id is None:
                return
            if invoice.payment_attempts == 0:
                attempt = inv.start_payment_attempt(invoice)
                await self._save(uow, attempt, invoice.version)
                await uow.commit()
                invoice = attempt
            elif invoice.payment_id is not None:
                return  # the client is paying it themselves
        try:
            intent = await gateway.charge_saved_method(
                inv.payment_request(invoice, customer_id=profile.customer_id),
                customer_id=profile.customer_id,
                payment_method_id=profile.payment_method_id,
                idempotency_key=inv.payment_idempotency_key(invoice),
            )
        except (PaymentDeclined, PaymentActionRequired) as failure:
            await self._apply_decline(invoice.id, failure)
            return
        async with self._uow() as uow:
            await self._record_intent(uow, invoice, intent, self._clock.now())
            await uow.commit()

    async def _record_intent(
        self, uow: BillingUnitOfWork, invoice: Invoice, intent: PaymentIntent, now: datetime, *, keep_card: bool = False
    ) -> Invoice:
        """What the provider answered for this payment attempt, on the invoice (as it is now) and in its log;
        `keep_card`: the client asked to keep the card for fees."""
        current = await uow.invoices.get(invoice.id, for_update=True)
        assert current is not None
        updated = inv.record_intent(current, intent, at=now)
        if updated is not current:
            await self._save(uow, updated, current.version)
        await uow.invoices.record_payment(
            current.id,
            intent.payment_id,
            invoice.payment_attempts,
            intent.status.value,
            intent.amount,
            now,
            keep_card=keep_card,
        )
        return updated

    async def _apply_decline(self, invoice_id: uuid.UUID, failure: PaymentFailed) -> None:
        async with self._uow() as uow:
            current = await uow.invoices.get(invoice_id, for_update=True)
            if current is None or current.status not in inv.PAYABLE_STATUSES:
                return
            updated = inv.record_decline(
                current, payment_id=failure.payment_id, failure_code=failure.provider_code or failure.code
            )
            if updated is not current:
                await self._save(uow, updated, current.version)
            await uow.commit()

    async def refund(
        self,
        principal: Principal,
        invoice_id: uuid.UUID,
        *,
        amount_minor: int | None,
        reason: RefundReason = RefundReason.REQUESTED_BY_CUSTOMER,
        request_key: str | None = None,
    ) -> InvoiceView:
        """Refund all that is left (amount None) or part of a paid invoice; the therapist's decision.
        `request_key`: the caller's Idempotency-Key (see `refund_idempotency_key`)."""
        gateway = self._require_gateway()
        async with self._uow() as uow:
            invoice = await uow.invoices.get(invoice_id)
            if principal.role is Role.CLIENT:
                raise NotFound("No such invoice.")
            invoice = self._visible(principal, invoice)
        amount = Money(amount_minor, invoice.currency) if amount_minor is not None else None
        request = inv.refund_request(invoice, amount=amount, reason=reason)
        result = await gateway.refund(request, idempotency_key=inv.refund_idempotency_key(invoice, request_key))
        async with self._uow() as uow:
            current = await uow.invoices.get(invoice.id, for_update=True)
            assert current is not None
            updated = inv.record_refund(current, result, at=self._clock.now())
            if updated is not current:
                await self._save(uow, updated, current.version)
            await uow.audit.append(self._event(principal, "billing.invoice.refund", "invoice", current.id))
            view = await self._invoice_view(uow, updated)
            await uow.commit()
        return view

    # ------------------------------------------------------------------------------------ webhooks

    async def handle_webhook(self, payload: bytes, signature: str) -> WebhookOutcome:
        """A provider webhook: verified (signature and freshness, else `InvalidWebhook`), then applied once."""
        event = self._require_gateway().parse_webhook(payload, signature)
        if event is None:
            return WebhookOutcome("not_handled")
        return await self.apply_event(event)

    async def apply_event(self, event: PaymentEvent) -> WebhookOutcome:
        now = self._clock.now()
        async with self._uow() as uow:
            invoice = None
            if event.invoice_id is not None:
                invoice = await uow.invoices.get(event.invoice_id, for_update=True)
            if invoice is None:
                invoice = await uow.invoices.by_payment(event.payment_id, for_update=True)
            if invoice is None:
                claimed = await uow.invoices.claim_event(event.event_id, None, event.kind.value, "unmatched", now)
                await uow.commit()
                return WebhookOutcome("unmatched" if claimed else "duplicate")
            try:
                result = inv.apply_payment_event(invoice, event)
            except (Conflict, InvalidState, ValidationFailed) as exc:
                # Money that does not add up: keep the event for a person to look at, and do not ask the
                # provider to redeliver it forever.
                claimed = await uow.invoices.claim_event(event.event_id, invoice.id, event.kind.value, "conflict", now)
                await uow.audit.append(
                    AuditEvent(
                        action=f"billing.webhook.{exc.code}",
                        object_type="invoice",
                        object_id=str(invoice.id),
                        actor_id=None,
                        actor_role="provider",
                        practice_id=invoice.practice_id,
                        outcome=Outcome.FAILURE,
                        occurred_at=now,
                    )
                )
                await uow.commit()
                return WebhookOutcome("conflict" if claimed else "duplicate", invoice.id)
            if result.outcome is inv.EventOutcome.DUPLICATE:
                return WebhookOutcome("duplicate", invoice.id)
            if not await uow.invoices.claim_event(
                event.event_id, invoice.id, event.kind.value, result.outcome.value, now
            ):
                return WebhookOutcome("duplicate", invoice.id)
            if result.outcome is inv.EventOutcome.REFUND:
                await self._refund_later(uow, invoice, event, now)
            elif result.invoice.status is not invoice.status or result.outcome is inv.EventOutcome.APPLIED:
                await self._save(uow, result.invoice, invoice.version)
            if result.outcome is inv.EventOutcome.APPLIED and event.kind is PaymentEventKind.SUCCEEDED:
                await self._keep_card(uow, invoice, event, now)
            await uow.commit()
        return WebhookOutcome(result.outcome.value, invoice.id)

    async def _keep_card(self, uow: BillingUnitOfWork, invoice: Invoice, event: PaymentEvent, now: datetime) -> None:
        """A payment that kept its card for off-session fees succeeded after the client authenticated (3-D
        Secure), so `pay` could not record the card: record it now, in the event's transaction (a redelivered
        event is claimed already and never gets here). Only when the provider kept the card off-session on the
        customer stored for this invoice's client, and Hearth started this very payment of this invoice with the
        client asking to keep the card. A card kept by a later payment replaces the recorded one (the last card
        the client chose is the one they expect to be charged); a late event for an older card does not
        (`event.occurred_at` orders them)."""
        if not (event.keeps_method_off_session and event.customer_id and event.payment_method_id):
            return
        if not await uow.invoices.keeps_card(invoice.id, event.payment_id):
            return
        kept = await uow.payment_profiles.keep_card(
            invoice.client_id, event.customer_id, event.payment_method_id, kept_at=event.occurred_at, now=now
        )
        if kept:  # audited on the invoice whose payment kept the card
            action = "billing.payment_profile.card_kept"
            await uow.audit.append(self._invoice_event(action, invoice, Outcome.SUCCESS, actor_role="provider"))

    async def _refund_later(self, uow: BillingUnitOfWork, invoice: Invoice, event: PaymentEvent, now: datetime) -> None:
        """Money for a void invoice: kept in the payments log and audited, and refunded by a job committed with the
        event, so a provider outage delays the refund (the job is retried with the same key) but never loses it:
        the event, once claimed, is not processed again."""
        await uow.invoices.record_payment(
            invoice.id, event.payment_id, invoice.payment_attempts, IntentStatus.SUCCEEDED.value, event.amount, now
        )
        await uow.jobs.enqueue(
            REFUND_VOID_PAYMENT_JOB, {"invoice_id": str(invoice.id), "payment_id": event.payment_id}, now
        )
        await uow.audit.append(
            self._invoice_event("billing.webhook.void_invoice_paid", invoice, Outcome.FAILURE, actor_role="provider")
        )

    async def refund_void_payment(self, invoice_id: uuid.UUID, payment_id: str) -> None:
        """The job after a payment reached a void invoice: refund all of it. A provider outage raises, so the job
        is retried, with the same key (never a second refund)."""
        gateway = self._require_gateway()
        async with self._uow() as uow:
            invoice = await uow.invoices.get(invoice_id)
        if invoice is None:
            return
        result = await gateway.refund(
            inv.void_refund_request(invoice, payment_id),
            idempotency_key=inv.void_refund_idempotency_key(invoice, payment_id),
        )
        async with self._uow() as uow:
            outcome = Outcome.SUCCESS if result.counts else Outcome.FAILURE
            await uow.audit.append(self._invoice_event("billing.invoice.void_payment_refund", invoice, outcome))
            await uow.commit()

    def _invoice_event(
        self, action: str, invoice: Invoice, outcome: Outcome, *, actor_role: str = "system"
    ) -> AuditEvent:
        return AuditEvent(
            action=action,
            object_type="invoice",
            object_id=str(invoice.id),
            actor_id=None,
            actor_role=actor_role,
            practice_id=invoice.practice_id,
            outcome=outcome,
            occurred_at=self._clock.now(),
        )

    # ------------------------------------------------------------------------------------ statements

    async def statements(
        self, principal: Principal, *, first: tuple[int, int], last: tuple[int, int]
    ) -> list[MonthlyStatement]:
        """The therapist's statements for each month from `first` to `last` (year, month), inclusive."""
        months = _months(first, last)
        async with self._uow() as uow:
            settings = await self._settings(uow, principal.user_id)
            timezone = await self._therapist_zone(uow, principal.user_id)
            plan = await self._fee_plan(uow, principal)
            start, _ = month_bounds(months[0][0], months[0][1], timezone)
            _, end = month_bounds(months[-1][0], months[-1][1], timezone)
            invoices = await uow.invoices.for_statement(principal.user_id, start, end)
        currency = settings.card.currency
        return [
            monthly_statement(
                therapist_id=principal.user_id,
                year=year,
                month=month,
                timezone=timezone,
                currency=currency,
                plan=plan,
                invoices=[i for i in invoices if i.currency == currency],
            )
            for year, month in months
        ]

    async def fee_plan(self, principal: Principal) -> PlatformFeePlan:
        async with self._uow() as uow:
            return await self._fee_plan(uow, principal)

    async def _fee_plan(self, uow: BillingUnitOfWork, principal: Principal) -> PlatformFeePlan:
        if principal.practice_id is None:
            return self._default_fee_plan
        return await uow.platform_fees.get(principal.practice_id) or self._default_fee_plan

    async def set_fee_plan(self, practice_id: uuid.UUID, plan: PlatformFeePlan) -> None:
        """The platform operator's setting for one practice (CLI; no role in the API may change it)."""
        async with self._uow() as uow:
            if await uow.practices.get(practice_id) is None:
                raise NotFound("No such practice.")
            await uow.platform_fees.save(practice_id, plan, self._clock.now())
            await uow.commit()

    # ------------------------------------------------------------------------------------ superbill

    async def superbill(self, principal: Principal, client_id: uuid.UUID, start: date, end: date) -> bytes:
        if end < start or (end - start).days > MAX_SUPERBILL_DAYS:
            raise ValidationFailed(
                f"A superbill covers 1 to {MAX_SUPERBILL_DAYS + 1} days.", code="invalid_period", field="to"
            )
        query = InvoiceQuery(client_id=client_id, service_from=start, service_to=end, limit=10_000, drafts=False)
        if principal.role is Role.CLIENT:
            if principal.user_id != client_id:
                raise NotFound("No such client.")
        elif principal.role is Role.THERAPIST:
            query = replace(query, therapist_id=principal.user_id)
        else:
            query = replace(query, practice_id=principal.practice_id)
        async with self._uow() as uow:
            client = await uow.users.get(client_id)
            if client is None or client.role is not Role.CLIENT:
                raise NotFound("No such client.")
            if principal.role is Role.THERAPIST and not await uow.care.is_active(client_id, principal.user_id):
                raise NotFound("No such client.")
            lines = await uow.invoices.lines(query)
            by_therapist: dict[uuid.UUID, list[SuperbillLine]] = {}
            practice_of: dict[uuid.UUID, uuid.UUID] = {}
            currency_of: dict[uuid.UUID, str] = {}
            for line in lines:
                invoice = line.invoice
                if invoice.charge.kind is not ChargeKind.SESSION or invoice.status is InvoiceStatus.VOID:
                    continue
                if line.sealed_coding is None:
                    continue
                key = await record_key(
                    uow, self._cipher, self._ids.new, invoice.client_id, invoice.practice_id, self._clock.now()
                )
                coding = coding_from_dict(
                    json.loads(self._cipher.open(line.sealed_coding, key, _coding_aad(line.charge_id)))
                )
                by_therapist.setdefault(invoice.therapist_id, []).append(
                    SuperbillLine(
                        service_date=invoice.charge.service_date,
                        cpt=coding.cpt,
                        modifier=coding.modifier,
                        place_of_service=coding.place_of_service,
                        diagnoses=coding.diagnoses,
                        fee=invoice.amount_due,
                        paid=invoice.collected,
                    )
                )
                practice_of[invoice.therapist_id] = invoice.practice_id
                currency_of[invoice.therapist_id] = invoice.currency
            providers = []
            born: date | None = None
            for therapist_id, bill_lines in by_therapist.items():
                practice = await uow.practices.get(practice_of[therapist_id])
                therapist = await uow.users.get(therapist_id)
                profile = await uow.profiles.get(therapist_id)
                settings = await self._settings(uow, therapist_id)
                claim = await self._claim(uow, client_id, practice_of[therapist_id])
                born = born or claim.date_of_birth
                providers.append(
                    SuperbillProvider(
                        therapist_id=therapist_id,
                        practice_name=practice.name if practice else "",
                        therapist_name=profile.display_name
                        if profile
                        else (therapist.display_name if therapist else ""),
                        npi=settings.npi,
                        licenses=profile.licenses if profile else (),
                        tax_id=settings.tax_id,
                        lines=tuple(sorted(bill_lines, key=lambda x: x.service_date)),
                        currency=currency_of[therapist_id],
                    )
                )
            await uow.audit.append(self._event(principal, "billing.superbill.read", "client", client_id))
            await uow.commit()
        bill = Superbill(
            client_id=client_id,
            client_name=client.display_name,
            date_of_birth=born,
            period_from=start,
            period_to=end,
            providers=tuple(providers),
        )
        return self._renderer.render(bill)

    def _event(self, principal: Principal, action: str, object_type: str, object_id: object) -> AuditEvent:
        return event_by(principal, action, object_type, object_id, self._clock.now())


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    (y, m), (ly, lm) = first, last
    if not (1 <= m <= 12 and 1 <= lm <= 12) or (y, m) > (ly, lm):
        raise ValidationFailed("The first month comes before the last.", code="invalid_month", field="from")
    months = []
    while (y, m) <= (ly, lm):
        months.append((y, m))
        if len(months) > MAX_STATEMENT_MONTHS:
            raise ValidationFailed(f"At most {MAX_STATEMENT_MONTHS} months at once.", code="invalid_month", field="to")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months
