"""PostgreSQL repositories for billing. Uniqueness does the idempotency: one charge per appointment and kind,
one invoice per charge, one row per provider event and per provider refund."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.billing.fees import (
    CancellationPolicy,
    FeeRule,
    PlatformFeeMode,
    PlatformFeePlan,
    Rate,
    RateCard,
    SlidingScalePrice,
)
from domain.billing.invoices import Charge, ChargeKind, Invoice, InvoiceStatus, RecordedRefund
from domain.billing.money import Money
from domain.billing.storage import (
    BillingLine,
    BillingSettings,
    InvoiceQuery,
    InvoiceSchedule,
    PaymentProfile,
    StoredCharge,
)
from domain.scheduling.model import Modality
from infra.db import fast
from infra.db.tables import (
    billing_charges,
    billing_invoices,
    billing_payment_profiles,
    billing_payments,
    billing_provider_events,
    billing_refunds,
    billing_settings,
    cancellation_policies,
    client_billing_records,
    platform_fee_settings,
)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


# ---------------------------------------------------------------------------------------------- settings


def _settings(row: Any) -> BillingSettings:
    currency = row.currency
    return BillingSettings(
        therapist_id=row.therapist_id,
        card=RateCard(
            currency,
            tuple(
                Rate(
                    r["minutes"], Money(r["amount_minor"], currency), Modality(r["modality"]) if r["modality"] else None
                )
                for r in row.rates
            ),
        ),
        check_in_price=Money(row.check_in_minor, currency) if row.check_in_minor is not None else None,
        sliding_scale=tuple(
            SlidingScalePrice(uuid.UUID(p["client_id"]), Money(p["amount_minor"], currency), p["minutes"])
            for p in row.sliding_scale
        ),
        invoice_schedule=InvoiceSchedule(row.invoice_schedule),
        npi=row.npi,
        tax_id=row.tax_id,
        version=row.version,
    )


class SqlBillingSettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, therapist_id: uuid.UUID) -> BillingSettings | None:
        row = (
            await self._s.execute(sa.select(billing_settings).where(billing_settings.c.therapist_id == therapist_id))
        ).first()
        return _settings(row) if row else None

    async def save(
        self, settings: BillingSettings, practice_id: uuid.UUID, *, expected_version: int, now: datetime
    ) -> bool:
        values = {
            "currency": settings.card.currency,
            "rates": [
                {
                    "minutes": r.minutes,
                    "modality": r.modality.value if r.modality else None,
                    "amount_minor": r.price.amount_minor,
                }
                for r in settings.card.rates
            ],
            "check_in_minor": settings.check_in_price.amount_minor if settings.check_in_price else None,
            "sliding_scale": [
                {"client_id": str(p.client_id), "minutes": p.minutes, "amount_minor": p.price.amount_minor}
                for p in settings.sliding_scale
            ],
            "invoice_schedule": settings.invoice_schedule.value,
            "npi": settings.npi,
            "tax_id": settings.tax_id,
            "version": expected_version + 1,
            "updated_at": now,
        }
        if expected_version == 0:
            inserted = await self._s.execute(
                pg_insert(billing_settings)
                .values(therapist_id=settings.therapist_id, practice_id=practice_id, **values)
                .on_conflict_do_nothing()
                .returning(billing_settings.c.therapist_id)
            )
            return inserted.first() is not None
        updated = await self._s.execute(
            billing_settings.update()
            .where(
                billing_settings.c.therapist_id == settings.therapist_id,
                billing_settings.c.version == expected_version,
            )
            .values(**values)
        )
        return _rowcount(updated) == 1


# ---------------------------------------------------------------------------------------------- policies


def _rule(currency: str, flat: int | None, percent: int | None) -> FeeRule | None:
    if flat is not None:
        return FeeRule(flat=Money(flat, currency))
    if percent is not None:
        return FeeRule(percent_bp=percent)
    return None


def _policy(row: Any) -> CancellationPolicy:
    return CancellationPolicy(
        therapist_id=row.therapist_id,
        version=row.version,
        window_hours=row.window_hours,
        late_cancellation=_rule(row.currency, row.late_flat_minor, row.late_percent_bp),
        no_show=_rule(row.currency, row.no_show_flat_minor, row.no_show_percent_bp),
    )


# Read on every booking (the version the client accepts).
_CURRENT_POLICY = fast.FastStatement(
    sa.select(cancellation_policies)
    .where(cancellation_policies.c.therapist_id == sa.bindparam("therapist_id"))
    .order_by(cancellation_policies.c.version.desc())
    .limit(1)
)


class SqlPolicyRepository:
    """Billing's versions of the cancellation policy, and scheduling's view of them (`AcceptedPolicies`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def current(self, therapist_id: uuid.UUID) -> CancellationPolicy | None:
        row = await fast.fetchrow(self._s, _CURRENT_POLICY, therapist_id=therapist_id)
        return _policy(row) if row else None

    async def version(self, therapist_id: uuid.UUID, version: int) -> CancellationPolicy | None:
        row = (
            await self._s.execute(
                sa.select(cancellation_policies).where(
                    cancellation_policies.c.therapist_id == therapist_id, cancellation_policies.c.version == version
                )
            )
        ).first()
        return _policy(row) if row else None

    async def add(self, policy: CancellationPolicy, currency: str, now: datetime) -> bool:
        late, no_show = policy.late_cancellation, policy.no_show
        inserted = await self._s.execute(
            pg_insert(cancellation_policies)
            .values(
                therapist_id=policy.therapist_id,
                version=policy.version,
                window_hours=policy.window_hours,
                currency=currency,
                late_flat_minor=late.flat.amount_minor if late and late.flat else None,
                late_percent_bp=late.percent_bp if late else None,
                no_show_flat_minor=no_show.flat.amount_minor if no_show and no_show.flat else None,
                no_show_percent_bp=no_show.percent_bp if no_show else None,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(cancellation_policies.c.version)
        )
        return inserted.first() is not None

    async def current_terms(self, therapist_id: uuid.UUID) -> tuple[int, int] | None:
        policy = await self.current(therapist_id)
        return (policy.version, policy.window_hours) if policy else None

    async def window_hours(self, therapist_id: uuid.UUID, version: int) -> int | None:
        policy = await self.version(therapist_id, version)
        return policy.window_hours if policy else None


# ---------------------------------------------------------------------------------------------- claim records


class SqlClaimRecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, client_id: uuid.UUID, practice_id: uuid.UUID) -> tuple[bytes, int] | None:
        t = client_billing_records
        row = (
            await self._s.execute(
                sa.select(t.c.body, t.c.version).where(t.c.client_id == client_id, t.c.practice_id == practice_id)
            )
        ).first()
        return (bytes(row.body), row.version) if row else None

    async def save(
        self,
        client_id: uuid.UUID,
        practice_id: uuid.UUID,
        body: bytes,
        *,
        expected_version: int,
        by: uuid.UUID,
        now: datetime,
    ) -> bool:
        t = client_billing_records
        values = {"body": body, "version": expected_version + 1, "updated_by": by, "updated_at": now}
        if expected_version == 0:
            inserted = await self._s.execute(
                pg_insert(t)
                .values(client_id=client_id, practice_id=practice_id, **values)
                .on_conflict_do_nothing()
                .returning(t.c.client_id)
            )
            return inserted.first() is not None
        updated = await self._s.execute(
            t.update()
            .where(t.c.client_id == client_id, t.c.practice_id == practice_id, t.c.version == expected_version)
            .values(**values)
        )
        return _rowcount(updated) == 1


# ---------------------------------------------------------------------------------------------- charges


def _charge(row: Any) -> StoredCharge:
    return StoredCharge(
        id=row.id,
        practice_id=row.practice_id,
        therapist_id=row.therapist_id,
        client_id=row.client_id,
        appointment_id=row.appointment_id,
        kind=ChargeKind(row.kind),
        service_date=row.service_date,
        amount=Money(row.amount_minor, row.currency),
        policy_version=row.policy_version,
        coding=bytes(row.coding) if row.coding is not None else None,
        created_at=row.created_at,
        version=row.version,
    )


class SqlChargeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, charge: StoredCharge) -> bool:
        inserted = await self._s.execute(
            pg_insert(billing_charges)
            .values(
                id=charge.id,
                practice_id=charge.practice_id,
                therapist_id=charge.therapist_id,
                client_id=charge.client_id,
                appointment_id=charge.appointment_id,
                kind=charge.kind.value,
                service_date=charge.service_date,
                amount_minor=charge.amount.amount_minor,
                currency=charge.amount.currency,
                policy_version=charge.policy_version,
                coding=charge.coding,
                created_at=charge.created_at,
                version=charge.version,
            )
            .on_conflict_do_nothing()
            .returning(billing_charges.c.id)
        )
        return inserted.first() is not None

    async def get(self, charge_id: uuid.UUID, *, for_update: bool = False) -> StoredCharge | None:
        query = sa.select(billing_charges).where(billing_charges.c.id == charge_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._s.execute(query)).first()
        return _charge(row) if row else None

    async def for_appointment(self, appointment_id: uuid.UUID, kind: ChargeKind) -> StoredCharge | None:
        row = (
            await self._s.execute(
                sa.select(billing_charges).where(
                    billing_charges.c.appointment_id == appointment_id, billing_charges.c.kind == kind.value
                )
            )
        ).first()
        return _charge(row) if row else None

    async def save_coding(self, charge_id: uuid.UUID, coding: bytes, *, expected_version: int) -> bool:
        updated = await self._s.execute(
            billing_charges.update()
            .where(billing_charges.c.id == charge_id, billing_charges.c.version == expected_version)
            .values(coding=coding, version=expected_version + 1)
        )
        return _rowcount(updated) == 1

    async def find(
        self,
        *,
        practice_id: uuid.UUID,
        therapist_id: uuid.UUID | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[StoredCharge]:
        t = billing_charges
        query = sa.select(t).where(t.c.practice_id == practice_id)
        if therapist_id is not None:
            query = query.where(t.c.therapist_id == therapist_id)
        if after is not None:
            query = query.where(
                sa.tuple_(t.c.created_at, t.c.id) < sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
            )
        rows = (await self._s.execute(query.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit))).all()
        return [_charge(r) for r in rows]


# ---------------------------------------------------------------------------------------------- invoices

_INVOICE_COLUMNS: list[Any] = [
    billing_invoices,
    billing_charges.c.kind,
    billing_charges.c.appointment_id,
    billing_charges.c.service_date,
    billing_charges.c.amount_minor,
    billing_charges.c.currency,
    billing_charges.c.policy_version,
]
_JOINED = billing_invoices.join(billing_charges, billing_charges.c.id == billing_invoices.c.charge_id)


def _invoice(row: Any, refunds: tuple[RecordedRefund, ...] = (), events: frozenset[str] = frozenset()) -> Invoice:
    return Invoice(
        id=row.id,
        practice_id=row.practice_id,
        therapist_id=row.therapist_id,
        client_id=row.client_id,
        # The coding stays sealed in billing_charges; the invoice needs only what is billed.
        charge=Charge(
            kind=ChargeKind(row.kind),
            appointment_id=row.appointment_id,
            service_date=row.service_date,
            amount=Money(row.amount_minor, row.currency),
            policy_version=row.policy_version,
        ),
        status=InvoiceStatus(row.status),
        created_at=row.created_at,
        issued_at=row.issued_at,
        paid_at=row.paid_at,
        voided_at=row.voided_at,
        amount_paid_minor=row.amount_paid_minor,
        amount_refunded_minor=row.amount_refunded_minor,
        payment_id=row.payment_id,
        payment_attempts=row.payment_attempts,
        failure_code=row.failure_code,
        refunds=refunds,
        processed_events=events,
        version=row.version,
    )


def _invoice_values(invoice: Invoice) -> dict[str, Any]:
    return {
        "status": invoice.status.value,
        "issued_at": invoice.issued_at,
        "paid_at": invoice.paid_at,
        "voided_at": invoice.voided_at,
        "amount_paid_minor": invoice.amount_paid_minor,
        "amount_refunded_minor": invoice.amount_refunded_minor,
        "payment_id": invoice.payment_id,
        "payment_attempts": invoice.payment_attempts,
        "failure_code": invoice.failure_code,
        "version": invoice.version,
    }


class SqlInvoiceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, invoice: Invoice, charge_id: uuid.UUID) -> None:
        await self._s.execute(
            billing_invoices.insert().values(
                id=invoice.id,
                charge_id=charge_id,
                practice_id=invoice.practice_id,
                therapist_id=invoice.therapist_id,
                client_id=invoice.client_id,
                created_at=invoice.created_at,
                **_invoice_values(invoice),
            )
        )

    async def _one(self, where: sa.ColumnElement[bool], for_update: bool) -> Invoice | None:
        query = sa.select(*_INVOICE_COLUMNS).select_from(_JOINED).where(where)
        if for_update:
            query = query.with_for_update(of=billing_invoices)
        row = (await self._s.execute(query)).first()
        if row is None:
            return None
        refunds = (
            await self._s.execute(
                sa.select(billing_refunds)
                .where(billing_refunds.c.invoice_id == row.id)
                .order_by(billing_refunds.c.refunded_at, billing_refunds.c.refund_id)
            )
        ).all()
        events = (
            await self._s.execute(
                sa.select(billing_provider_events.c.event_id).where(billing_provider_events.c.invoice_id == row.id)
            )
        ).scalars()
        return _invoice(
            row,
            tuple(RecordedRefund(r.refund_id, r.amount_minor, r.refunded_at) for r in refunds),
            frozenset(events),
        )

    async def get(self, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice | None:
        return await self._one(billing_invoices.c.id == invoice_id, for_update)

    async def for_charge(self, charge_id: uuid.UUID) -> Invoice | None:
        return await self._one(billing_invoices.c.charge_id == charge_id, False)

    async def by_payment(self, payment_id: str, *, for_update: bool = False) -> Invoice | None:
        found = (
            await self._s.execute(
                sa.select(billing_payments.c.invoice_id).where(billing_payments.c.payment_id == payment_id)
            )
        ).scalar()
        if found is not None:
            return await self._one(billing_invoices.c.id == found, for_update)
        return await self._one(billing_invoices.c.payment_id == payment_id, for_update)

    async def save(self, invoice: Invoice, *, expected_version: int) -> bool:
        updated = await self._s.execute(
            billing_invoices.update()
            .where(billing_invoices.c.id == invoice.id, billing_invoices.c.version == expected_version)
            .values(**_invoice_values(invoice))
        )
        if _rowcount(updated) != 1:
            return False
        if invoice.refunds:
            await self._s.execute(
                pg_insert(billing_refunds)
                .values(
                    [
                        {
                            "refund_id": r.refund_id,
                            "invoice_id": invoice.id,
                            "amount_minor": r.amount_minor,
                            "refunded_at": r.at,
                        }
                        for r in invoice.refunds
                    ]
                )
                .on_conflict_do_nothing()
            )
        return True

    def _query(self, query: InvoiceQuery) -> sa.Select[Any]:
        select = sa.select(*_INVOICE_COLUMNS).select_from(_JOINED)
        t = billing_invoices
        if query.practice_id is not None:
            select = select.where(t.c.practice_id == query.practice_id)
        if query.therapist_id is not None:
            select = select.where(t.c.therapist_id == query.therapist_id)
        if query.client_id is not None:
            select = select.where(t.c.client_id == query.client_id)
        if query.service_from is not None:
            select = select.where(billing_charges.c.service_date >= query.service_from)
        if query.service_to is not None:
            select = select.where(billing_charges.c.service_date <= query.service_to)
        if not query.drafts:
            select = select.where(t.c.status != InvoiceStatus.DRAFT.value)
        if query.status is not None:
            select = select.where(t.c.status == query.status)
        if query.created_before is not None:
            select = select.where(t.c.created_at < query.created_before)
        if query.after is not None:
            select = select.where(
                sa.tuple_(t.c.created_at, t.c.id) < sa.tuple_(sa.literal(query.after[0]), sa.literal(query.after[1]))
            )
        return select.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(query.limit)

    async def find(self, query: InvoiceQuery) -> list[Invoice]:
        return [_invoice(r) for r in (await self._s.execute(self._query(query))).all()]

    async def lines(self, query: InvoiceQuery) -> list[BillingLine]:
        select = self._query(query).add_columns(billing_charges.c.coding.label("sealed_coding"))
        rows = (await self._s.execute(select)).all()
        return [
            BillingLine(_invoice(r), r.charge_id, bytes(r.sealed_coding) if r.sealed_coding is not None else None)
            for r in rows
        ]

    async def for_statement(self, therapist_id: uuid.UUID, start: datetime, end: datetime) -> list[Invoice]:
        t = billing_invoices
        select = (
            sa.select(*_INVOICE_COLUMNS)
            .select_from(_JOINED)
            .where(
                t.c.therapist_id == therapist_id,
                sa.or_(
                    sa.and_(t.c.paid_at >= start, t.c.paid_at < end),
                    sa.and_(t.c.issued_at >= start, t.c.issued_at < end),
                ),
            )
        )
        return [_invoice(r) for r in (await self._s.execute(select)).all()]

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
        statement = pg_insert(billing_payments).values(
            payment_id=payment_id,
            invoice_id=invoice_id,
            attempt=attempt,
            status=status,
            amount_minor=amount.amount_minor,
            currency=amount.currency,
            keep_card=keep_card,
            created_at=now,
            updated_at=now,
        )
        # `keep_card` is what the first request said: a retry of the attempt is the same request (the provider
        # refuses the same key with other parameters), and later updates (a void's cancel) do not know it.
        await self._s.execute(
            statement.on_conflict_do_update(
                index_elements=[billing_payments.c.payment_id],
                set_={"status": statement.excluded.status, "updated_at": statement.excluded.updated_at},
            )
        )

    async def keeps_card(self, invoice_id: uuid.UUID, payment_id: str) -> bool:
        t = billing_payments
        select = sa.select(t.c.keep_card).where(t.c.payment_id == payment_id, t.c.invoice_id == invoice_id)
        return bool((await self._s.execute(select)).scalar_one_or_none())

    async def claim_event(
        self, event_id: str, invoice_id: uuid.UUID | None, kind: str, outcome: str, now: datetime
    ) -> bool:
        inserted = await self._s.execute(
            pg_insert(billing_provider_events)
            .values(event_id=event_id, invoice_id=invoice_id, kind=kind, outcome=outcome, received_at=now)
            .on_conflict_do_nothing()
            .returning(billing_provider_events.c.event_id)
        )
        return inserted.first() is not None


# ---------------------------------------------------------------------------------------------- platform fee


class SqlPlatformFeeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, practice_id: uuid.UUID) -> PlatformFeePlan | None:
        t = platform_fee_settings
        row = (await self._s.execute(sa.select(t).where(t.c.practice_id == practice_id))).first()
        if row is None:
            return None
        monthly = Money(row.monthly_minor, row.currency) if row.monthly_minor is not None else None
        return PlatformFeePlan(PlatformFeeMode(row.mode), percent_bp=row.percent_bp, monthly=monthly)

    async def save(self, practice_id: uuid.UUID, plan: PlatformFeePlan, now: datetime) -> None:
        values = {
            "mode": plan.mode.value,
            "percent_bp": plan.percent_bp,
            "monthly_minor": plan.monthly.amount_minor if plan.monthly else None,
            "currency": plan.monthly.currency if plan.monthly else None,
            "updated_at": now,
        }
        statement = pg_insert(platform_fee_settings).values(practice_id=practice_id, **values)
        await self._s.execute(
            statement.on_conflict_do_update(index_elements=[platform_fee_settings.c.practice_id], set_=values)
        )


# ---------------------------------------------------------------------------------------------- payment profiles


class SqlPaymentProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, client_id: uuid.UUID) -> PaymentProfile | None:
        t = billing_payment_profiles
        row = (await self._s.execute(sa.select(t).where(t.c.client_id == client_id))).first()
        return PaymentProfile(row.client_id, row.customer_id, row.payment_method_id) if row else None

    async def save(self, profile: PaymentProfile, now: datetime) -> None:
        t = billing_payment_profiles
        statement = pg_insert(t).values(
            client_id=profile.client_id,
            customer_id=profile.customer_id,
            payment_method_id=profile.payment_method_id,
            updated_at=now,
        )
        await self._s.execute(
            statement.on_conflict_do_update(
                index_elements=[t.c.client_id],
                set_={"payment_method_id": statement.excluded.payment_method_id, "updated_at": now},
            )
        )

    async def keep_card(
        self, client_id: uuid.UUID, customer_id: str, payment_method_id: str, *, kept_at: datetime, now: datetime
    ) -> bool:
        t = billing_payment_profiles
        updated = await self._s.execute(
            t.update()
            .where(
                t.c.client_id == client_id,
                t.c.customer_id == customer_id,
                sa.or_(t.c.card_kept_at.is_(None), t.c.card_kept_at <= kept_at),
            )
            .values(payment_method_id=payment_method_id, card_kept_at=kept_at, updated_at=now)
            .returning(t.c.client_id)
        )
        return updated.first() is not None
