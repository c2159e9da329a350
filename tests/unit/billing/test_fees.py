from __future__ import annotations

import uuid

import pytest

from domain.billing.fees import (
    CancellationPolicy,
    FeeRule,
    Rate,
    RateCard,
    SlidingScalePrice,
    missed_session_fee,
    rate_card_from_profile,
    session_price,
    validate_policy,
    validate_rate_card,
    validate_sliding_scale,
)
from domain.scheduling.model import AppointmentStatus, Modality, Money, TherapistProfile
from domain.shared.errors import Conflict, NotFound, ValidationFailed
from tests.unit.billing.factories import CLIENT, THERAPIST, usd

CARD = RateCard(
    "USD",
    (
        Rate(50, usd(14000)),
        Rate(50, usd(12000), Modality.PHONE),
        Rate(30, usd(9000)),
        Rate(15, usd(4000)),  # short check-in
    ),
)


# ---------------------------------------------------------------------------------------------- rates


def test_price_by_length_and_modality() -> None:
    assert session_price(CARD, minutes=50, modality=Modality.VIDEO) == usd(14000)
    assert session_price(CARD, minutes=50, modality=Modality.PHONE) == usd(12000)  # the exact rate wins
    assert session_price(CARD, minutes=30, modality=Modality.PHONE) == usd(9000)  # any-modality rate
    assert session_price(CARD, minutes=15, modality=Modality.CHAT) == usd(4000)


def test_no_rate_for_a_length_is_not_found() -> None:
    with pytest.raises(NotFound) as err:
        session_price(CARD, minutes=60, modality=Modality.VIDEO)
    assert err.value.code == "no_rate"


def test_sliding_scale_price_for_one_client() -> None:
    scale = [
        SlidingScalePrice(CLIENT, usd(6000)),  # any length
        SlidingScalePrice(CLIENT, usd(3000), minutes=30),
        SlidingScalePrice(uuid.uuid4(), usd(1)),  # someone else
    ]
    validate_sliding_scale(scale, currency="USD")
    assert session_price(CARD, minutes=50, modality=Modality.VIDEO, client_id=CLIENT, sliding_scale=scale) == usd(6000)
    assert session_price(CARD, minutes=30, modality=Modality.VIDEO, client_id=CLIENT, sliding_scale=scale) == usd(3000)
    other = uuid.uuid4()
    assert session_price(CARD, minutes=50, modality=Modality.VIDEO, client_id=other, sliding_scale=scale) == usd(14000)


def test_rate_card_validation() -> None:
    validate_rate_card(CARD)
    with pytest.raises(ValidationFailed) as err:
        validate_rate_card(RateCard("USD", (Rate(50, usd(1)), Rate(50, usd(2)))))
    assert err.value.code == "invalid_rate"
    with pytest.raises(ValidationFailed):
        validate_rate_card(RateCard("USD", (Rate(50, Money(1, "EUR")),)))
    with pytest.raises(ValidationFailed) as err:
        validate_rate_card(RateCard("USD", (Rate(7, usd(1)),)))
    assert err.value.code == "invalid_duration"
    with pytest.raises(ValidationFailed):
        validate_sliding_scale([SlidingScalePrice(CLIENT, usd(1)), SlidingScalePrice(CLIENT, usd(2))], currency="USD")


def test_rate_card_from_the_therapist_profile() -> None:
    profile = TherapistProfile(
        therapist_id=THERAPIST,
        display_name="Sam",
        timezone="America/New_York",
        session_lengths=(30, 50),
        rates={50: usd(14000), 30: usd(9000)},
    )
    card = rate_card_from_profile(profile, currency="USD")
    assert session_price(card, minutes=30, modality=Modality.AUDIO) == usd(9000)
    assert [r.minutes for r in card.rates] == [30, 50]


# ---------------------------------------------------------------------------------------------- policy fees

V1_NO_FEES = CancellationPolicy(THERAPIST, version=1, window_hours=24)
V2_FEES = CancellationPolicy(
    THERAPIST, version=2, window_hours=24, late_cancellation=FeeRule(percent_bp=5000), no_show=FeeRule(flat=usd(9000))
)
PRICE = usd(14000)


def fee(status: AppointmentStatus, accepted: int | None, policy: CancellationPolicy | None) -> Money | None:
    return missed_session_fee(
        status=status,
        therapist_id=THERAPIST,
        accepted_policy_version=accepted,
        accepted_policy=policy,
        session_price=PRICE,
    )


def test_late_cancellation_fee_when_the_accepted_policy_says_so() -> None:
    assert fee(AppointmentStatus.LATE_CANCELLED, 2, V2_FEES) == usd(7000)  # 50 % of 140.00


def test_no_show_fee_when_the_accepted_policy_says_so() -> None:
    assert fee(AppointmentStatus.NO_SHOW, 2, V2_FEES) == usd(9000)


@pytest.mark.parametrize("status", [AppointmentStatus.LATE_CANCELLED, AppointmentStatus.NO_SHOW])
def test_no_fee_when_the_accepted_policy_has_none_even_if_the_current_one_does(status: AppointmentStatus) -> None:
    # The client booked under v1 (no fees); the therapist has since published v2 with fees.
    assert fee(status, 1, V1_NO_FEES) is None


@pytest.mark.parametrize("status", [AppointmentStatus.LATE_CANCELLED, AppointmentStatus.NO_SHOW])
def test_no_fee_when_the_client_accepted_no_policy(status: AppointmentStatus) -> None:
    assert fee(status, None, None) is None
    assert fee(status, None, V2_FEES) is None


def test_charging_by_a_policy_other_than_the_accepted_one_is_a_conflict() -> None:
    with pytest.raises(Conflict) as err:
        fee(AppointmentStatus.NO_SHOW, 1, V2_FEES)  # accepted v1, but v2 passed in
    assert err.value.code == "policy_version_mismatch"
    someone_else = CancellationPolicy(uuid.uuid4(), version=2, window_hours=24, no_show=FeeRule(flat=usd(1)))
    with pytest.raises(Conflict):
        fee(AppointmentStatus.NO_SHOW, 2, someone_else)


def test_a_missing_accepted_policy_is_not_found() -> None:
    with pytest.raises(NotFound) as err:
        fee(AppointmentStatus.NO_SHOW, 3, None)
    assert err.value.code == "policy_not_found"


@pytest.mark.parametrize(
    "status",
    [AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN],
)
def test_only_late_cancellations_and_no_shows_have_fees(status: AppointmentStatus) -> None:
    assert fee(status, 2, V2_FEES) is None


def test_only_the_matching_rule_applies() -> None:
    late_only = CancellationPolicy(THERAPIST, version=4, window_hours=48, late_cancellation=FeeRule(flat=usd(5000)))
    assert fee(AppointmentStatus.LATE_CANCELLED, 4, late_only) == usd(5000)
    assert fee(AppointmentStatus.NO_SHOW, 4, late_only) is None


def test_percentage_fee_rounds_half_up() -> None:
    policy = CancellationPolicy(THERAPIST, version=5, window_hours=24, no_show=FeeRule(percent_bp=3333))
    odd = missed_session_fee(
        status=AppointmentStatus.NO_SHOW,
        therapist_id=THERAPIST,
        accepted_policy_version=5,
        accepted_policy=policy,
        session_price=usd(12345),
    )
    assert odd == usd(4115)  # 12345 * 0.3333 = 4114.5885 -> 4115
    half = CancellationPolicy(THERAPIST, version=6, window_hours=24, no_show=FeeRule(percent_bp=5000))
    assert missed_session_fee(
        status=AppointmentStatus.NO_SHOW,
        therapist_id=THERAPIST,
        accepted_policy_version=6,
        accepted_policy=half,
        session_price=usd(12345),
    ) == usd(6173)  # 6172.5 -> 6173


def test_a_zero_fee_is_no_fee() -> None:
    policy = CancellationPolicy(THERAPIST, version=7, window_hours=24, no_show=FeeRule(flat=usd(0)))
    assert fee(AppointmentStatus.NO_SHOW, 7, policy) is None


def test_a_flat_fee_in_another_currency_is_refused() -> None:
    policy = CancellationPolicy(THERAPIST, version=8, window_hours=24, no_show=FeeRule(flat=Money(100, "EUR")))
    with pytest.raises(ValidationFailed) as err:
        fee(AppointmentStatus.NO_SHOW, 8, policy)
    assert err.value.code == "currency_mismatch"


@pytest.mark.parametrize(
    "policy",
    [
        CancellationPolicy(THERAPIST, version=0, window_hours=24),
        CancellationPolicy(THERAPIST, version=1, window_hours=200),
        CancellationPolicy(THERAPIST, version=1, window_hours=24, no_show=FeeRule()),
        CancellationPolicy(THERAPIST, version=1, window_hours=24, no_show=FeeRule(flat=usd(1), percent_bp=1)),
        CancellationPolicy(THERAPIST, version=1, window_hours=24, late_cancellation=FeeRule(percent_bp=10_001)),
        CancellationPolicy(THERAPIST, version=1, window_hours=24, late_cancellation=FeeRule(flat=usd(-5))),
    ],
    ids=["version-0", "window", "empty-rule", "both", "over-100-percent", "negative"],
)
def test_malformed_policies_are_refused(policy: CancellationPolicy) -> None:
    with pytest.raises(ValidationFailed):
        validate_policy(policy)
