from __future__ import annotations

import pytest

from domain.billing import invoices as inv
from domain.billing.fees import (
    MonthlyStatement,
    PlatformFeeMode,
    PlatformFeePlan,
    month_bounds,
    monthly_statement,
    platform_fee_for_invoice,
)
from domain.billing.ports import RefundResult, RefundStatus
from domain.scheduling.model import Money
from domain.shared.errors import ValidationFailed
from tests.unit.billing.factories import OTHER_THERAPIST, PAYMENT, THERAPIST, draft, opened, paid, usd, utc

PERCENT = PlatformFeePlan(PlatformFeeMode.PERCENT_PER_INVOICE, percent_bp=250)  # 2.5 %
SUBSCRIPTION = PlatformFeePlan(PlatformFeeMode.MONTHLY_SUBSCRIPTION, monthly=usd(4900))
ZONE = "America/New_York"


def statement(invoices: list[inv.Invoice], plan: PlatformFeePlan = PERCENT, month: int = 3) -> MonthlyStatement:
    return monthly_statement(
        therapist_id=THERAPIST, year=2026, month=month, timezone=ZONE, currency="USD", plan=plan, invoices=invoices
    )


def refunded(invoice: inv.Invoice, cents: int, refund_id: str = "re_1") -> inv.Invoice:
    result = RefundResult(refund_id, PAYMENT, usd(cents), RefundStatus.SUCCEEDED, invoice.id)
    return inv.record_refund(invoice, result, at=utc(2026, 3, 20))


def test_percentage_platform_fee_per_paid_invoice_rounds_half_up() -> None:
    assert platform_fee_for_invoice(PERCENT, paid(usd(1234))) == usd(31)  # 30.85 -> 31
    assert platform_fee_for_invoice(PERCENT, paid(usd(14000))) == usd(350)
    assert platform_fee_for_invoice(PERCENT, opened(usd(14000))) == usd(0)  # not paid: no fee
    assert platform_fee_for_invoice(SUBSCRIPTION, paid(usd(14000))) == usd(0)  # charged per month instead


def test_platform_fee_is_on_what_was_kept_after_refunds() -> None:
    assert platform_fee_for_invoice(PERCENT, refunded(paid(usd(14000)), 4000)) == usd(250)  # 2.5 % of 100.00
    assert platform_fee_for_invoice(PERCENT, refunded(paid(usd(14000)), 14000)) == usd(0)


def test_monthly_statement_with_a_percentage_plan() -> None:
    a = paid(usd(14000), at=utc(2026, 3, 2, 15))
    b = paid(usd(1234), at=utc(2026, 3, 10, 15))
    c = refunded(paid(usd(9000), at=utc(2026, 3, 11, 15)), 3000)
    unpaid = opened(usd(7000), at=utc(2026, 3, 30, 15))
    s = statement([a, b, c, unpaid])
    assert s.gross == usd(14000 + 1234 + 6000)
    assert s.platform_fee == usd(350 + 31 + 150)  # rounded per invoice: 350 + 30.85->31 + 150
    assert s.net == usd(21234 - 531)
    assert s.outstanding == usd(7000)
    assert (s.paid_invoices, s.outstanding_invoices) == (3, 1)


def test_monthly_statement_with_a_subscription_even_in_a_quiet_month() -> None:
    s = statement([paid(usd(14000), at=utc(2026, 3, 2, 15))], plan=SUBSCRIPTION)
    assert (s.gross, s.platform_fee, s.net) == (usd(14000), usd(4900), usd(9100))
    quiet = statement([], plan=SUBSCRIPTION, month=4)
    assert (quiet.gross, quiet.platform_fee, quiet.net, quiet.outstanding) == (usd(0), usd(4900), usd(-4900), usd(0))


def test_month_boundaries_are_in_the_therapists_time_zone() -> None:
    # 2026-04-01 03:30 UTC is still 31 March 23:30 in New York (EDT, UTC-4)
    late_march = paid(usd(10000), at=utc(2026, 4, 1, 3, 30))
    early_april = paid(usd(20000), at=utc(2026, 4, 1, 4, 0))
    march, april = statement([late_march, early_april], month=3), statement([late_march, early_april], month=4)
    assert (march.gross, april.gross) == (usd(10000), usd(20000))
    start, end = month_bounds(2026, 3, ZONE)
    assert (start, end) == (utc(2026, 3, 1, 5), utc(2026, 4, 1, 4))  # EST at the start, EDT at the end


def test_december_ends_at_new_year() -> None:
    start, end = month_bounds(2026, 12, "UTC")
    assert (start, end) == (utc(2026, 12, 1), utc(2027, 1, 1))


def test_outstanding_counts_unpaid_invoices_issued_in_the_month_only() -> None:
    attempt = inv.start_payment_attempt(opened(usd(5000), at=utc(2026, 3, 5, 15)))
    failed = inv.record_decline(attempt, payment_id=None, failure_code="card_declined")
    another_open = opened(usd(1), at=utc(2026, 3, 6, 15))
    earlier = opened(usd(8000), at=utc(2026, 2, 27, 15))
    voided = inv.void(opened(usd(9000), at=utc(2026, 3, 6, 15)), at=utc(2026, 3, 7))
    never_issued = draft(usd(700), created_at=utc(2026, 3, 6, 15))
    s = statement([failed, another_open, earlier, voided, never_issued])
    assert s.outstanding == usd(5001)
    assert s.outstanding_invoices == 2
    assert s.gross == usd(0)


def test_percentage_is_rounded_per_invoice_not_on_the_sum() -> None:
    # 2.5 % of 12.20 is 0.305 -> 0.31 per invoice: 0.62 for two; on the sum (24.40) it would be 0.61
    s = statement([paid(usd(1220), at=utc(2026, 3, 2, 15)), paid(usd(1220), at=utc(2026, 3, 3, 15))])
    assert s.platform_fee == usd(62)
    assert s.net == usd(2440 - 62)


def test_only_the_therapists_own_invoices_count() -> None:
    mine = paid(usd(14000), at=utc(2026, 3, 2, 15))
    theirs = paid(usd(99999), at=utc(2026, 3, 2, 15), therapist_id=OTHER_THERAPIST)
    assert statement([mine, theirs]).gross == usd(14000)


def test_an_invoice_in_another_currency_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        statement([paid(Money(14000, "EUR"), at=utc(2026, 3, 2, 15))])
    assert err.value.code == "currency_mismatch"


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {"mode": PlatformFeeMode.PERCENT_PER_INVOICE, "percent_bp": 10_001},
        {"mode": PlatformFeeMode.PERCENT_PER_INVOICE, "percent_bp": 100, "monthly": usd(1)},
        {"mode": PlatformFeeMode.MONTHLY_SUBSCRIPTION},
        {"mode": PlatformFeeMode.MONTHLY_SUBSCRIPTION, "monthly": usd(-1)},
        {"mode": PlatformFeeMode.MONTHLY_SUBSCRIPTION, "monthly": usd(100), "percent_bp": 5},
    ],
)
def test_malformed_plans_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        PlatformFeePlan(**kwargs)  # type: ignore[arg-type]


def test_bad_month_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        month_bounds(2026, 13, ZONE)
    assert err.value.code == "invalid_month"
    with pytest.raises(ValidationFailed) as err:
        month_bounds(2026, 1, "Mars/Olympus")
    assert err.value.code == "invalid_timezone"
