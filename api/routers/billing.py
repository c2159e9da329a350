"""Billing: rates and cancellation policy, claim records, charges and coding overrides, invoices, card payments,
refunds, the payment provider's webhook, statements and superbills."""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status

from api.deps import Billing, Container_, CurrentPrincipal, Scheduling
from api.errors import ApiProblem
from api.etags import etag, parse_if_match, sets_etag
from api.idempotency import IdempotencyKey, run_idempotent
from api.pagination import parse_time_id_cursor, time_id_cursor
from api.schemas.billing import (
    BillingSettingsIn,
    BillingSettingsOut,
    CancellationTermsOut,
    ChargeOut,
    ChargePage,
    ClaimRecordIn,
    ClaimRecordOut,
    CodingOverrideIn,
    FeePlanOut,
    InvoiceOut,
    InvoicePage,
    IssuedOut,
    PayIn,
    PaymentOut,
    PaymentsConfigOut,
    PolicyIn,
    PolicyOut,
    RefundIn,
    StatementOut,
    StatementsOut,
    WebhookAck,
    rule_in,
)
from api.schemas.types import IsoDate
from domain.billing.coding import KEEP, Keep
from domain.billing.fees import Rate, RateCard, SlidingScalePrice
from domain.billing.money import Money
from domain.billing.ports import RefundReason
from domain.billing.storage import BillingSettings, InvoiceSchedule
from domain.scheduling.model import Modality

router = APIRouter(prefix="/api/v1", tags=["billing"])

IfMatch = Annotated[str | None, Header(max_length=40, description='The ETag you read; "v0" to create')]
MonthParam = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such object, or not yours (`not_found`)"}}
_VERSIONED: dict[int | str, dict[str, Any]] = {
    412: {"description": "Changed since you read it (`precondition_failed`)"},
    428: {"description": "If-Match is required"},
}


# ---------------------------------------------------------------------------------------------- settings


@router.get("/therapists/me/billing-settings", summary="My rates, check-in rate, sliding scale and invoicing")
@sets_etag
async def get_settings(principal: CurrentPrincipal, billing: Billing, response: Response) -> BillingSettingsOut:
    settings = await billing.settings(principal)
    response.headers["ETag"] = etag(settings.version)
    return BillingSettingsOut.of(settings)


@router.put(
    "/therapists/me/billing-settings",
    summary="Replace my rates and invoicing settings",
    description='Send If-Match with the ETag you read ("v0" the first time). A rate with `modality` null applies '
    "to any modality of that length; an exact (length, modality) rate wins. Sliding-scale prices are per client "
    "(one of your clients) and win over rates.",
    responses={**_VERSIONED, 404: {"description": "A sliding-scale client is not yours"}},
)
@sets_etag
async def put_settings(
    body: BillingSettingsIn, principal: CurrentPrincipal, billing: Billing, response: Response, if_match: IfMatch = None
) -> BillingSettingsOut:
    version = parse_if_match(if_match)
    currency = body.currency
    settings = BillingSettings(
        therapist_id=principal.user_id,
        card=RateCard(
            currency,
            tuple(
                Rate(r.minutes, Money(r.amount_minor, currency), Modality(r.modality) if r.modality else None)
                for r in body.rates
            ),
        ),
        check_in_price=Money(body.check_in_amount_minor, currency) if body.check_in_amount_minor is not None else None,
        sliding_scale=tuple(
            SlidingScalePrice(p.client_id, Money(p.amount_minor, currency), p.minutes) for p in body.sliding_scale
        ),
        invoice_schedule=InvoiceSchedule(body.invoice_schedule),
        npi=body.npi,
        tax_id=body.tax_id,
        version=version,
    )
    saved = await billing.save_settings(principal, settings)
    response.headers["ETag"] = etag(saved.version)
    return BillingSettingsOut.of(saved)


# ---------------------------------------------------------------------------------------------- policy


@router.get(
    "/therapists/{therapist_id}/cancellation-policy",
    summary="A therapist's current cancellation policy (what a client accepts by booking)",
    responses={404: {"description": "No such therapist, or no policy (`no_policy`)"}},
)
@sets_etag
async def get_policy(
    therapist_id: uuid.UUID, principal: CurrentPrincipal, billing: Billing, response: Response
) -> PolicyOut:
    policy = await billing.policy(therapist_id)
    if policy is None:
        raise ApiProblem(404, "no_policy", "This therapist has no cancellation policy.")
    response.headers["ETag"] = etag(policy.version)
    return PolicyOut.of(policy)


@router.get(
    "/appointments/{appointment_id}/cancellation-terms",
    summary="What cancelling this session would cost, under the policy the client accepted",
    description="The window and the late-cancellation fee of the policy version accepted at booking, and whether "
    "cancelling now (as the caller) would be late: ask the client to confirm that fee before cancelling.",
    responses=_NOT_FOUND,
)
async def cancellation_terms(
    appointment_id: uuid.UUID, principal: CurrentPrincipal, scheduling: Scheduling
) -> CancellationTermsOut:
    # Scheduling's terms, not a copy in billing: the cancel checks the fee it accepts against these same terms.
    return CancellationTermsOut.of(await scheduling.cancellation_terms(principal, appointment_id))


@router.put(
    "/therapists/me/cancellation-policy",
    summary="Publish the next version of my cancellation policy",
    description='If-Match: the ETag of the version you read ("v0" for the first). Booked appointments keep the '
    "version their client accepted; fees are charged only from that version.",
    responses=_VERSIONED,
)
@sets_etag
async def put_policy(
    body: PolicyIn, principal: CurrentPrincipal, billing: Billing, response: Response, if_match: IfMatch = None
) -> PolicyOut:
    version = parse_if_match(if_match)
    currency = (await billing.settings(principal)).card.currency
    policy = await billing.set_policy(
        principal,
        window_hours=body.window_hours,
        late_cancellation=rule_in(body.late_cancellation, currency),
        no_show=rule_in(body.no_show, currency),
        expected_version=version,
    )
    response.headers["ETag"] = etag(policy.version)
    return PolicyOut.of(policy)


# ---------------------------------------------------------------------------------------------- claim record


@router.get(
    "/clients/{client_id}/billing-record",
    summary="A client's diagnoses (ICD-10-CM) and date of birth for claims",
    responses=_NOT_FOUND,
)
@sets_etag
async def get_claim_record(
    client_id: uuid.UUID, principal: CurrentPrincipal, billing: Billing, response: Response
) -> ClaimRecordOut:
    record = await billing.claim_record(principal, client_id)
    response.headers["ETag"] = etag(record.version)
    return ClaimRecordOut.of(record)


@router.put(
    "/clients/{client_id}/billing-record",
    summary="Set a client's diagnoses and date of birth (their therapist)",
    responses={**_NOT_FOUND, **_VERSIONED},
)
@sets_etag
async def put_claim_record(
    client_id: uuid.UUID,
    body: ClaimRecordIn,
    principal: CurrentPrincipal,
    billing: Billing,
    response: Response,
    if_match: IfMatch = None,
) -> ClaimRecordOut:
    record = await billing.save_claim_record(
        principal,
        client_id,
        diagnoses=body.diagnoses,
        date_of_birth=body.date_of_birth,
        expected_version=parse_if_match(if_match),
    )
    response.headers["ETag"] = etag(record.version)
    return ClaimRecordOut.of(record)


# ---------------------------------------------------------------------------------------------- charges


@router.get("/charges", summary="My charges (a practice admin: the practice's) with coding and invoice")
async def list_charges(
    principal: CurrentPrincipal,
    billing: Billing,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> ChargePage:
    found = await billing.charges(principal, after=parse_time_id_cursor(cursor), limit=limit)
    last = found[-1].charge if len(found) == limit else None
    return ChargePage(
        items=[ChargeOut.of(v) for v in found],
        next_cursor=time_id_cursor(last.created_at, last.id) if last else None,
    )


@router.post(
    "/charges/{charge_id}/coding-overrides",
    summary="Override coding fields of a charge, with a reason (audited)",
    description="Only the fields present change; `cpt` or `modifier` null removes the code. An override that "
    "changes nothing is `422 nothing_to_override`.",
    responses={**_NOT_FOUND, 412: {"description": "The charge changed since you read it"}},
)
async def override_coding(
    charge_id: uuid.UUID, body: CodingOverrideIn, principal: CurrentPrincipal, billing: Billing
) -> ChargeOut:
    present = body.model_fields_set

    def pick(name: str) -> Any:
        return getattr(body, name) if name in present else KEEP

    place = pick("place_of_service")
    diagnoses = pick("diagnoses")
    if place is None or diagnoses is None:
        raise ApiProblem(422, "invalid_coding", "A charge always has a place of service and a diagnosis list.")
    view = await billing.override(
        principal,
        charge_id,
        reason=body.reason,
        expected_version=body.expected_version,
        cpt=pick("cpt"),
        modifier=pick("modifier"),
        place_of_service=place,
        diagnoses=diagnoses if isinstance(diagnoses, Keep) else list(diagnoses),
    )
    return ChargeOut.of(view)


# ---------------------------------------------------------------------------------------------- invoices


@router.get("/invoices", summary="My invoices (clients), my clients' (therapists), the practice's (admins)")
async def list_invoices(
    principal: CurrentPrincipal,
    billing: Billing,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> InvoicePage:
    found = await billing.invoices(principal, after=parse_time_id_cursor(cursor), limit=limit)
    last = found[-1].invoice if len(found) == limit else None
    return InvoicePage(
        items=[InvoiceOut.view(v) for v in found],
        next_cursor=time_id_cursor(last.created_at, last.id) if last else None,
    )


@router.post(
    "/invoices/issue",
    summary="Issue all my draft invoices (the monthly schedule's batch)",
)
async def issue_invoices(principal: CurrentPrincipal, billing: Billing) -> IssuedOut:
    return IssuedOut(issued=[InvoiceOut.view(v) for v in await billing.issue_drafts(principal)])


@router.get("/invoices/{invoice_id}", summary="One invoice", responses=_NOT_FOUND)
async def get_invoice(invoice_id: uuid.UUID, principal: CurrentPrincipal, billing: Billing) -> InvoiceOut:
    return InvoiceOut.view(await billing.invoice(principal, invoice_id))


@router.post(
    "/invoices/{invoice_id}/void",
    summary="Cancel an unpaid invoice",
    description="A card payment of the invoice still under way (awaiting the client's 3-D Secure step, "
    "processing, or declined and open to another card) is canceled at the payment provider first, so the client "
    "can no longer be charged for it. If the provider answers that the payment already went through, the void is "
    "refused with `409 already_paid` and the invoice is left as it is (the payment's webhook records it; refund "
    "it instead); a payment the provider will not stop is `409 payment_in_progress`.",
    responses={
        **_NOT_FOUND,
        409: {
            "description": "Paid, refunded or already void (`invalid_state`); its payment went through at the "
            "provider (`already_paid`); a payment under way the provider will not stop (`payment_in_progress`)"
        },
        412: {"description": "The invoice's payment changed meanwhile (`precondition_failed`); try again"},
        502: {"description": "The payment provider refused to cancel the payment (`payment_rejected`)"},
        503: {"description": "The payment provider is unreachable (`payment_provider_unavailable`); try again"},
    },
)
async def void_invoice(invoice_id: uuid.UUID, principal: CurrentPrincipal, billing: Billing) -> InvoiceOut:
    return InvoiceOut.view(await billing.void(principal, invoice_id))


@router.post(
    "/invoices/{invoice_id}/payments",
    status_code=status.HTTP_201_CREATED,
    summary="Pay an invoice by card (the client)",
    description="`payment_method_id` comes from the payment provider's card form in the browser. With an "
    "`Idempotency-Key` a retry replays the first answer; in any case one invoice attempt is one provider "
    "payment, so a retry never charges twice. A decline is `402 payment_declined` (the invoice shows "
    "`payment_failed`; paying again starts a new attempt).",
    responses={
        201: {"model": PaymentOut},
        **_NOT_FOUND,
        402: {"description": "Declined (`payment_declined`) or authentication needed"},
        409: {"description": "`already_paid`, `payment_in_progress`, `idempotency_in_progress`"},
        503: {"description": "The payment provider is unreachable; retry with the same key"},
    },
    response_model=PaymentOut,
)
async def pay_invoice(
    invoice_id: uuid.UUID,
    body: PayIn,
    principal: CurrentPrincipal,
    billing: Billing,
    container: Container_,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def pay() -> PaymentOut:
        outcome = await billing.pay(principal, invoice_id, body.payment_method_id, save_for_fees=body.save_for_fees)
        return PaymentOut(
            invoice=InvoiceOut.view(outcome.invoice),
            requires_action=outcome.client_secret is not None,
            client_secret=outcome.client_secret,
        )

    return await run_idempotent(
        request,
        container.idempotency,
        container.clock.now(),
        principal,
        idempotency_key,
        f"billing-pay-invoice:{invoice_id}",
        body,
        status.HTTP_201_CREATED,
        pay,
    )


@router.post(
    "/invoices/{invoice_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    summary="Refund a paid invoice, in full or in part (the therapist)",
    responses={
        201: {"model": InvoiceOut},
        **_NOT_FOUND,
        409: {"description": "Not paid (`invalid_state`)"},
        422: {"description": "`refund_too_large`"},
    },
    response_model=InvoiceOut,
)
async def refund_invoice(
    invoice_id: uuid.UUID,
    body: RefundIn,
    principal: CurrentPrincipal,
    billing: Billing,
    container: Container_,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def refund() -> InvoiceOut:
        invoice = await billing.refund(
            principal,
            invoice_id,
            amount_minor=body.amount_minor,
            reason=RefundReason(body.reason),
            request_key=f"{principal.user_id}:{idempotency_key}" if idempotency_key else None,
        )
        return InvoiceOut.view(invoice)

    return await run_idempotent(
        request,
        container.idempotency,
        container.clock.now(),
        principal,
        idempotency_key,
        f"billing-refund-invoice:{invoice_id}",
        body,
        status.HTTP_201_CREATED,
        refund,
    )


@router.get(
    "/payments/config",
    summary="Which card payment provider the browser uses, with its public key (no user token)",
    description="`stripe`: load Stripe.js with `publishable_key`, turn the card into a PaymentMethod and pay "
    "with its id; `none`: this server takes no card payments.",
)
async def payments_config(container: Container_) -> PaymentsConfigOut:
    settings = container.settings
    if settings.payments_backend != "stripe":
        return PaymentsConfigOut(provider="none")
    return PaymentsConfigOut(provider="stripe", publishable_key=settings.stripe_publishable_key)


@router.post(
    "/payments/stripe/webhook",
    summary="Stripe's webhook (signed; no user token)",
    description="Verified with the `Stripe-Signature` header over the raw body; a bad signature or a timestamp "
    "outside the tolerance (a replay) is `400 invalid_webhook`. The same event twice changes nothing. A payment "
    "that succeeded for a void invoice is not applied: it is refunded in full (outcome `refund`). A payment the "
    "client asked to keep their card with (`save_for_fees`) that succeeded after 3-D Secure records that card for "
    "late-cancellation and no-show fees. A signed body that is not a Stripe event of the expected shape (a "
    "field Hearth reads missing or of another type) is `400` with code `bad_event`.",
    responses={
        400: {"description": "`invalid_webhook`"},
        409: {"description": "`payments_not_configured` on a server without a payment provider"},
    },
)
async def stripe_webhook(
    request: Request,
    billing: Billing,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature", max_length=2000)] = None,
) -> WebhookAck:
    payload = await request.body()
    outcome = await billing.handle_webhook(payload, stripe_signature or "")
    return WebhookAck(received=True, outcome=outcome.outcome)


# ---------------------------------------------------------------------------------------------- statements


def _month(value: str) -> tuple[int, int]:
    year, month = value.split("-")
    return int(year), int(month)


@router.get(
    "/therapists/me/statements",
    summary="My earnings by month: gross, platform fee, net, outstanding",
    responses={422: {"description": "`invalid_month`"}},
)
async def list_statements(
    principal: CurrentPrincipal,
    billing: Billing,
    from_: Annotated[str, Query(alias="from", pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-01"])],
    to: MonthParam,
) -> StatementsOut:
    months = await billing.statements(principal, first=_month(from_), last=_month(to))
    plan = await billing.fee_plan(principal)
    return StatementsOut(platform_fee_plan=FeePlanOut.of(plan), months=[StatementOut.of(m) for m in months])


@router.get(
    "/therapists/me/statements.csv",
    summary="My monthly statements as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per month"}},
)
async def export_statements(
    principal: CurrentPrincipal,
    billing: Billing,
    from_: Annotated[str, Query(alias="from", pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-01"])],
    to: MonthParam,
) -> Response:
    months = await billing.statements(principal, first=_month(from_), last=_month(to))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "month",
            "currency",
            "gross_minor",
            "platform_fee_minor",
            "net_minor",
            "outstanding_minor",
            "paid_invoices",
            "outstanding_invoices",
        ]
    )
    for m in months:
        writer.writerow(
            [
                f"{m.year:04d}-{m.month:02d}",
                m.gross.currency,
                m.gross.amount_minor,
                m.platform_fee.amount_minor,
                m.net.amount_minor,
                m.outstanding.amount_minor,
                m.paid_invoices,
                m.outstanding_invoices,
            ]
        )
    name = re.sub(r"[^0-9-]", "", f"statements-{from_}-{to}")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


# ---------------------------------------------------------------------------------------------- superbill


@router.get(
    "/clients/{client_id}/superbill",
    summary="A superbill PDF of the client's sessions in a period (the client, or their therapist)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The superbill"}, **_NOT_FOUND},
)
async def get_superbill(
    client_id: uuid.UUID,
    principal: CurrentPrincipal,
    billing: Billing,
    from_: Annotated[IsoDate, Query(alias="from", description="First date of service")],
    to: Annotated[IsoDate, Query(description="Last date of service (inclusive)")],
) -> Response:
    pdf = await billing.superbill(principal, client_id, from_, to)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="superbill-{from_.isoformat()}-{to.isoformat()}.pdf"',
            "Cache-Control": "no-store",
        },
    )
