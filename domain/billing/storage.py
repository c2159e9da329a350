"""What billing keeps and the repositories (ports) that keep it.

The therapist's `BillingSettings` (rate card, check-in rate, sliding scale, invoicing schedule, the identifiers
a superbill prints), the versions of their `CancellationPolicy`, a client's `ClaimRecord` (diagnoses and date of
birth, sealed like the rest of the clinical record), charges with their sealed coding, invoices with their
payments, refunds and processed provider events, and the platform fee plan of a practice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from domain.audit.events import AuditLog
from domain.billing.fees import CancellationPolicy, PlatformFeePlan, RateCard, SlidingScalePrice
from domain.billing.invoices import ChargeKind, Invoice
from domain.billing.money import Money
from domain.identity.ports import PracticeRepository, UserRepository
from domain.scheduling.ports import AppointmentRepository, CareRepository, ProfileRepository
from domain.shared.data_keys import DataKeyRepository
from domain.shared.jobs import JobScheduler
from domain.shared.ports import UnitOfWork
from domain.shared.records import ClientRecordRepository


class InvoiceSchedule(StrEnum):
    """`per_charge`: an invoice is issued as soon as its charge exists. `monthly`: invoices wait as drafts and
    are issued together (by the therapist, or the month-end run), so the client gets one batch a month."""

    PER_CHARGE = "per_charge"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class BillingSettings:
    therapist_id: uuid.UUID
    card: RateCard
    check_in_price: Money | None = None  # a session with under 16 voice minutes (a brief check-in)
    sliding_scale: tuple[SlidingScalePrice, ...] = ()
    invoice_schedule: InvoiceSchedule = InvoiceSchedule.PER_CHARGE
    npi: str | None = None
    tax_id: str | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """What a claim needs about the client, entered by the therapist: ICD-10-CM codes (first primary) and
    date of birth."""

    client_id: uuid.UUID
    practice_id: uuid.UUID
    diagnoses: tuple[str, ...] = ()
    date_of_birth: date | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class StoredCharge:
    """A charge row; `coding` is the sealed coding (None for fees)."""

    id: uuid.UUID
    practice_id: uuid.UUID
    therapist_id: uuid.UUID
    client_id: uuid.UUID
    appointment_id: uuid.UUID
    kind: ChargeKind
    service_date: date
    amount: Money
    policy_version: int | None
    coding: bytes | None
    created_at: datetime
    version: int = 1


@dataclass(frozen=True, slots=True)
class InvoiceQuery:
    practice_id: uuid.UUID | None = None
    therapist_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    service_from: date | None = None
    service_to: date | None = None  # inclusive
    after: tuple[datetime, uuid.UUID] | None = None
    limit: int = 50
    drafts: bool = True
    status: str | None = None
    created_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class BillingLine:
    """An invoice with the sealed coding of its charge (for superbills and charge lists)."""

    invoice: Invoice
    charge_id: uuid.UUID
    sealed_coding: bytes | None = field(repr=False)


class BillingSettingsRepository(Protocol):
    async def get(self, therapist_id: uuid.UUID) -> BillingSettings | None: ...

    async def save(
        self, settings: BillingSettings, practice_id: uuid.UUID, *, expected_version: int, now: datetime
    ) -> bool:
        """Insert (expected_version 0) or update when the stored version matches; False when it does not."""


class PolicyRepository(Protocol):
    async def current(self, therapist_id: uuid.UUID) -> CancellationPolicy | None: ...

    async def version(self, therapist_id: uuid.UUID, version: int) -> CancellationPolicy | None: ...

    async def add(self, policy: CancellationPolicy, currency: str, now: datetime) -> bool:
        """False when that version exists already (a concurrent edit)."""

    async def window_hours(self, therapist_id: uuid.UUID, version: int) -> int | None: ...


class ClaimRecordRepository(Protocol):
    async def get(self, client_id: uuid.UUID, practice_id: uuid.UUID) -> tuple[bytes, int] | None:
        """The sealed record and its version."""

    async def save(
        self,
        client_id: uuid.UUID,
        practice_id: uuid.UUID,
        body: bytes,
        *,
        expected_version: int,
        by: uuid.UUID,
        now: datetime,
    ) -> bool: ...


class ChargeRepository(Protocol):
    async def add(self, charge: StoredCharge) -> bool:
        """False when the appointment already has a charge of that kind."""

    async def get(self, charge_id: uuid.UUID, *, for_update: bool = False) -> StoredCharge | None: ...

    async def for_appointment(self, appointment_id: uuid.UUID, kind: ChargeKind) -> StoredCharge | None: ...

    async def save_coding(self, charge_id: uuid.UUID, coding: bytes, *, expected_version: int) -> bool: ...

    async def find(
        self,
        *,
        practice_id: uuid.UUID,
        therapist_id: uuid.UUID | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[StoredCharge]: ...


class InvoiceRepository(Protocol):
    async def add(self, invoice: Invoice, charge_id: uuid.UUID) -> None: ...

    async def get(self, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice | None: ...

    async def for_charge(self, charge_id: uuid.UUID) -> Invoice | None: ...

    async def by_payment(self, payment_id: str, *, for_update: bool = False) -> Invoice | None: ...

    async def save(self, invoice: Invoice, *, expected_version: int) -> bool:
        """Write the invoice's state and its new refunds; False when another writer got there first."""

    async def find(self, query: InvoiceQuery) -> list[Invoice]: ...

    async def lines(self, query: InvoiceQuery) -> list[BillingLine]: ...

    async def for_statement(self, therapist_id: uuid.UUID, start: datetime, end: datetime) -> list[Invoice]:
        """Invoices paid or issued in [start, end)."""

    async def record_payment(
        self,
        invoice_id: uuid.UUID,
        payment_id: str,
        attempt: int,
        status: str,
        amount: Money,
        now: datetime,
        *,
        keep_card: bool = False,
    ) -> None:
        """Log what the provider answered for a payment Hearth started. `keep_card`: the client asked to keep its
        card for fees (remembered when the payment is first logged, so a webhook can record the card later)."""

    async def keeps_card(self, invoice_id: uuid.UUID, payment_id: str) -> bool:
        """Whether Hearth started `payment_id` for `invoice_id` with the client asking to keep the card."""

    async def claim_event(
        self, event_id: str, invoice_id: uuid.UUID | None, kind: str, outcome: str, now: datetime
    ) -> bool:
        """Record a provider event as processed; False when it was processed before."""


@dataclass(frozen=True, slots=True)
class PaymentProfile:
    client_id: uuid.UUID
    customer_id: str
    payment_method_id: str | None = None


class PaymentProfileRepository(Protocol):
    async def get(self, client_id: uuid.UUID) -> PaymentProfile | None: ...

    async def save(self, profile: PaymentProfile, now: datetime) -> None:
        """Insert or replace (a customer id, once stored, is kept)."""

    async def keep_card(
        self, client_id: uuid.UUID, customer_id: str, payment_method_id: str, *, kept_at: datetime, now: datetime
    ) -> bool:
        """Record the card the client kept for fees on their stored customer `customer_id`, unless a card kept at
        a later `kept_at` is recorded already (a late webhook must not bring back a card since replaced). False
        when nothing changed: no profile, another customer, or a newer card."""


class PlatformFeeRepository(Protocol):
    async def get(self, practice_id: uuid.UUID) -> PlatformFeePlan | None: ...

    async def save(self, practice_id: uuid.UUID, plan: PlatformFeePlan, now: datetime) -> None: ...


class BillingUnitOfWork(UnitOfWork, Protocol):
    users: UserRepository
    practices: PracticeRepository
    profiles: ProfileRepository
    appointments: AppointmentRepository
    care: CareRepository
    audit: AuditLog
    data_keys: DataKeyRepository
    client_records: ClientRecordRepository
    billing_settings: BillingSettingsRepository
    cancellation_policies: PolicyRepository
    claim_records: ClaimRecordRepository
    charges: ChargeRepository
    invoices: InvoiceRepository
    platform_fees: PlatformFeeRepository
    payment_profiles: PaymentProfileRepository
    jobs: JobScheduler
