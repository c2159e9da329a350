"""Late-cancellation and no-show fees come only from the policy version the client accepted at booking."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.shared.errors import InvalidState
from tests.e2e.billing.conftest import book, put_policy, put_rates
from tests.support.users import relogin, signed_up

SOON = "2026-11-28T14:00:00Z"  # 23 hours after the clock's 2026-11-27 15:00 UTC: inside a 24-hour window
LATER = "2026-11-30T15:00:00Z"


async def _invoices(api, user) -> list[dict]:
    response = await api.get("/api/v1/invoices", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _usd(amount_minor: int) -> dict:
    return {"amount_minor": amount_minor, "currency": "USD"}


async def _cancel(api, user, appointment, accept: dict | None = None, **body) -> dict:
    if accept is not None:
        body["accept_late_fee"] = accept
    response = await api.post(f"/api/v1/appointments/{appointment['id']}/cancel", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _refused(api, user, appointment, accept: dict | None = None, **body) -> dict:
    """A cancel refused for want of the fee's acceptance: the problem body."""
    if accept is not None:
        body["accept_late_fee"] = accept
    response = await api.post(f"/api/v1/appointments/{appointment['id']}/cancel", json=body, headers=user.headers)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "late_fee_not_accepted"
    return response.json()


async def _status(api, user, appointment) -> str:
    response = await api.get(f"/api/v1/appointments/{appointment['id']}", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["status"]


@pytest.fixture
async def people(api, care):
    # `care` booked a session before any policy existed: it accepted none.
    return care


async def test_the_booking_records_the_policy_version_and_refuses_a_stale_one(api, people, clock):
    policy = await put_policy(api, people.therapist, late_cancellation={"flat_amount_minor": 5000})
    assert policy["version"] == 1
    assert people.appointment["policy_version"] is None
    seen = await api.get(f"/api/v1/therapists/{people.therapist.id}/cancellation-policy", headers=people.client.headers)
    assert seen.status_code == 200 and seen.json()["late_cancellation"] == {
        "flat_amount_minor": 5000,
        "percent_bp": None,
    }
    booked = await book(api, people.therapist, people.client, SOON, policy_version=1)
    assert booked["policy_version"] == 1
    await put_policy(api, people.therapist, late_cancellation=None)
    stale = await api.post(
        "/api/v1/appointments",
        json={
            "therapist_id": people.therapist.id,
            "start": LATER,
            "duration_minutes": 50,
            "modality": "video",
            "policy_version": 1,
        },
        headers=people.client.headers,
    )
    assert stale.status_code == 409 and stale.json()["code"] == "policy_changed"
    implicit = await book(api, people.therapist, people.client, LATER)
    assert implicit["policy_version"] == 2


async def test_a_late_cancellation_is_charged_only_when_the_accepted_policy_says_so(api, people, clock):
    # Accepted no policy: late, but no fee.
    clock.set(datetime(2026, 11, 30, 20, 0, tzinfo=UTC))  # 19 hours before people.appointment
    await relogin(api, people.therapist, people.client)
    cancelled = await _cancel(api, people.client, people.appointment)
    assert cancelled["status"] == "late_cancelled"
    assert await _invoices(api, people.client) == []

    clock.set(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    await relogin(api, people.therapist, people.client)
    await put_policy(api, people.therapist, window_hours=48, late_cancellation={"flat_amount_minor": 5000})
    with_fee = await book(api, people.therapist, people.client, SOON, policy_version=1)
    on_time = await book(api, people.therapist, people.client, "2026-12-03T15:00:00Z", policy_version=1)
    # The therapist now drops the fee: appointments booked under version 1 keep it.
    await put_policy(api, people.therapist, window_hours=48, late_cancellation=None)
    without_fee = await book(api, people.therapist, people.client, "2026-11-28T20:00:00Z")
    assert without_fee["policy_version"] == 2

    assert (await _cancel(api, people.client, with_fee, _usd(5000)))["status"] == "late_cancelled"
    assert (await _cancel(api, people.client, on_time))["status"] == "cancelled"
    assert (await _cancel(api, people.client, without_fee))["status"] == "late_cancelled"
    invoices = await _invoices(api, people.client)
    assert [(i["kind"], i["appointment_id"], i["amount"]["amount_minor"], i["policy_version"]) for i in invoices] == [
        ("late_cancellation", with_fee["id"], 5000, 1)
    ]
    assert invoices[0]["status"] == "open"


async def test_a_therapist_cancelling_late_never_charges_the_client(api, people, clock):
    await put_policy(api, people.therapist, late_cancellation={"percent_bp": 5000})
    soon = await book(api, people.therapist, people.client, SOON)
    await _cancel(api, people.therapist, soon)
    assert await _invoices(api, people.client) == []


async def test_a_percentage_fee_is_of_the_booked_session_price(api, people, clock):
    await put_policy(api, people.therapist, late_cancellation={"percent_bp": 5000})
    soon = await book(api, people.therapist, people.client, SOON)
    await _cancel(api, people.client, soon, _usd(7500))
    [invoice] = await _invoices(api, people.client)
    assert invoice["amount"]["amount_minor"] == 7500  # half of the 50-minute rate


async def test_a_no_show_is_charged_only_when_the_accepted_policy_says_so(api, people, clock, container):
    await put_policy(api, people.therapist, no_show={"percent_bp": 10000})
    charged = await book(api, people.therapist, people.client, SOON)
    await put_policy(api, people.therapist, no_show=None)
    free = await book(api, people.therapist, people.client, "2026-11-28T17:00:00Z")

    clock.set(datetime(2026, 11, 28, 18, 0, tzinfo=UTC))
    await relogin(api, people.therapist, people.client)
    for appointment in (charged, free):
        marked = await api.post(
            f"/api/v1/appointments/{appointment['id']}/status",
            json={"status": "no_show"},
            headers=people.therapist.headers,
        )
        assert marked.status_code == 200, marked.text
    [invoice] = await _invoices(api, people.client)
    assert (invoice["kind"], invoice["appointment_id"], invoice["amount"]["amount_minor"]) == (
        "no_show",
        charged["id"],
        15000,
    )
    # The live session's call after marking it is idempotent: the same charge, no second invoice.
    view = await container.billing.record_no_show(uuid.UUID(charged["id"]), clock.now())
    assert str(view.invoice.id) == invoice["id"]
    assert await container.billing.record_no_show(uuid.UUID(free["id"]), clock.now()) is None
    assert len(await _invoices(api, people.client)) == 1
    with pytest.raises(InvalidState):
        await container.billing.record_no_show(uuid.UUID(people.appointment["id"]), clock.now())


async def test_fees_need_a_policy_fee_for_the_right_case(api, people, clock):
    other_client = await signed_up(api, "client")
    await put_policy(api, people.therapist, no_show={"flat_amount_minor": 4000})  # no late-cancellation fee
    soon = await book(api, people.therapist, other_client, SOON)
    await _cancel(api, other_client, soon)
    assert await _invoices(api, other_client) == []


async def _terms(api, user, appointment) -> dict:
    response = await api.get(f"/api/v1/appointments/{appointment['id']}/cancellation-terms", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_cancellation_terms_tell_the_client_the_fee_before_they_cancel(api, people, clock):
    await put_policy(api, people.therapist, window_hours=48, late_cancellation={"flat_amount_minor": 9000})
    soon = await book(api, people.therapist, people.client, SOON, policy_version=1)
    later = await book(api, people.therapist, people.client, "2026-12-03T15:00:00Z", policy_version=1)
    # A newer policy changes nothing for sessions booked under version 1.
    await put_policy(api, people.therapist, window_hours=2, late_cancellation={"percent_bp": 5000})

    terms = await _terms(api, people.client, soon)
    assert datetime.fromisoformat(terms.pop("late_from")) == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    assert terms == {
        "appointment_id": soon["id"],
        "policy_version": 1,
        "window_hours": 48,
        "late_now": True,
        "late_cancellation_fee": {"amount_minor": 9000, "currency": "USD"},
    }
    assert (await _terms(api, people.client, later))["late_now"] is False
    # The therapist cancelling is never late for the client; the fee is still what the client would owe.
    as_therapist = await _terms(api, people.therapist, soon)
    assert (as_therapist["late_now"], as_therapist["late_cancellation_fee"]["amount_minor"]) == (False, 9000)
    # Version 2's fee is a share of the booked session's price.
    current = await book(api, people.therapist, people.client, "2026-11-28T20:00:00Z", policy_version=2)
    assert (await _terms(api, people.client, current))["late_cancellation_fee"] == {
        "amount_minor": 7500,
        "currency": "USD",
    }
    # Booked before any policy: the profile's window, and never a fee.
    unpoliced = await _terms(api, people.client, people.appointment)
    assert (unpoliced["policy_version"], unpoliced["window_hours"], unpoliced["late_cancellation_fee"]) == (
        None,
        24,
        None,
    )
    stranger = await signed_up(api, "client")
    hidden = await api.get(f"/api/v1/appointments/{soon['id']}/cancellation-terms", headers=stranger.headers)
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"

    # The fee the client was told (and accepted) is the fee they are charged.
    assert (await _cancel(api, people.client, soon, terms["late_cancellation_fee"]))["status"] == "late_cancelled"
    [invoice] = await _invoices(api, people.client)
    assert (invoice["appointment_id"], invoice["amount"]) == (soon["id"], terms["late_cancellation_fee"])


async def test_the_terms_quoted_are_the_terms_the_cancel_applies(api, people, clock):
    """Whatever the endpoint quotes, the cancel follows: sending the quoted fee (or nothing, when the quote costs
    nothing now) cancels with the status it named and charges exactly that fee, and a late cancel without the fee
    is refused with the very terms quoted. The endpoint and the cancel share one computation, so a window or a fee
    worked out differently on one side fails here."""
    await put_policy(api, people.therapist, window_hours=48, late_cancellation={"percent_bp": 5000})
    late = await book(api, people.therapist, people.client, SOON, policy_version=1)
    on_time = await book(api, people.therapist, people.client, "2026-12-03T15:00:00Z", policy_version=1)
    by_therapist = await book(api, people.therapist, people.client, "2026-11-28T17:00:00Z", policy_version=1)
    # A newer version (shorter window, another fee) must not leak into the terms of sessions booked under 1.
    await put_policy(api, people.therapist, window_hours=2, late_cancellation={"flat_amount_minor": 9000})
    cases = [
        (people.client, late, "late_cancelled"),
        (people.client, on_time, "cancelled"),
        (people.client, people.appointment, "cancelled"),  # booked before any policy: the profile's window
        (people.therapist, by_therapist, "cancelled"),  # inside the window, but never late for the client
    ]
    charged = []
    for user, appointment, status in cases:
        terms = await _terms(api, user, appointment)
        assert terms["late_now"] is (status == "late_cancelled")
        fee = terms["late_cancellation_fee"] if terms["late_now"] else None
        if fee is not None:
            refused = await _refused(api, user, appointment)
            assert (refused["late_fee"], refused["cancellation_terms"]) == (fee, terms)
            charged.append((appointment["id"], fee))
        assert (await _cancel(api, user, appointment, fee))["status"] == status
    assert charged == [(late["id"], _usd(7500))]
    assert [(i["appointment_id"], i["amount"]) for i in await _invoices(api, people.client)] == charged


async def test_a_series_records_the_policy_version_shown_and_refuses_a_stale_one(api, people, clock):
    await put_policy(api, people.therapist, late_cancellation={"flat_amount_minor": 5000})
    await put_policy(api, people.therapist, late_cancellation={"flat_amount_minor": 9000})
    series = {
        "therapist_id": people.therapist.id,
        "start": "2026-12-02T15:00:00Z",
        "duration_minutes": 50,
        "modality": "video",
        "frequency": "weekly",
        "count": 2,
    }
    stale = await api.post(
        "/api/v1/appointment-series", json={**series, "policy_version": 1}, headers=people.client.headers
    )
    assert stale.status_code == 409 and stale.json()["code"] == "policy_changed"
    listed = await api.get("/api/v1/appointments", headers=people.client.headers)
    assert [a["id"] for a in listed.json()["items"]] == [people.appointment["id"]], "nothing was booked"

    booked = await api.post(
        "/api/v1/appointment-series", json={**series, "policy_version": 2}, headers=people.client.headers
    )
    assert booked.status_code == 201, booked.text
    occurrences = booked.json()["occurrences"]
    assert [(o["status"], o["appointment"]["policy_version"]) for o in occurrences] == [("booked", 2), ("booked", 2)]


async def test_a_late_cancellation_with_a_fee_needs_the_clients_acceptance_of_that_fee(api, people, clock):
    await put_policy(api, people.therapist, window_hours=48, late_cancellation={"flat_amount_minor": 5000})
    soon = await book(api, people.therapist, people.client, SOON, policy_version=1)

    # No acceptance (an app that never showed the terms): refused with the terms to show, nothing changes.
    refused = await _refused(api, people.client, soon, reason="Ill")
    assert refused["late_fee"] == _usd(5000)
    # The terms in the problem are those the cancellation-terms endpoint gives.
    assert refused["cancellation_terms"] == await _terms(api, people.client, soon)
    assert refused["cancellation_terms"]["window_hours"] == 48 and refused["cancellation_terms"]["late_now"] is True
    # Another amount, another currency, or nothing at all accepted do not count either.
    await _refused(api, people.client, soon, _usd(4999))
    await _refused(api, people.client, soon, {"amount_minor": 5000, "currency": "EUR"})
    await _refused(api, people.client, soon, _usd(0))
    assert await _status(api, people.client, soon) == "booked"
    assert await _invoices(api, people.client) == []

    # The fee the problem named, accepted: late-cancelled and charged that fee.
    cancelled = await _cancel(api, people.client, soon, refused["late_fee"], reason="Ill")
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("late_cancelled", "Ill")
    [invoice] = await _invoices(api, people.client)
    assert (invoice["kind"], invoice["appointment_id"], invoice["amount"]) == (
        "late_cancellation",
        soon["id"],
        _usd(5000),
    )
    # Cancelling it again is about its state, not a fee.
    again = await api.post(f"/api/v1/appointments/{soon['id']}/cancel", json={}, headers=people.client.headers)
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"


async def test_a_fee_accepted_before_the_window_closed_or_the_price_changed_does_not_count(api, people, clock):
    await put_policy(api, people.therapist, window_hours=24, late_cancellation={"percent_bp": 5000})
    later = await book(api, people.therapist, people.client, "2026-11-29T15:00:00Z", policy_version=1)
    terms = await _terms(api, people.client, later)
    assert (terms["late_now"], terms["late_cancellation_fee"]) == (False, _usd(7500))

    # The window closes while the client looks at the page: the cancel sent then needs the fee accepted.
    clock.set(datetime(2026, 11, 28, 16, 0, tzinfo=UTC))  # 23 hours before
    await relogin(api, people.therapist, people.client)
    refused = await _refused(api, people.client, later)
    assert (refused["late_fee"], refused["cancellation_terms"]["late_now"]) == (_usd(7500), True)

    # The session's price changes: the fee (half of it) with it, and the old amount is no acceptance.
    await put_rates(api, people.therapist, rates=[{"minutes": 50, "modality": None, "amount_minor": 20000}])
    stale = await _refused(api, people.client, later, _usd(7500))
    assert stale["late_fee"] == _usd(10000)
    assert await _status(api, people.client, later) == "booked"
    assert await _invoices(api, people.client) == []

    assert (await _cancel(api, people.client, later, _usd(10000)))["status"] == "late_cancelled"
    [invoice] = await _invoices(api, people.client)
    assert invoice["amount"] == _usd(10000)


async def test_cancellations_that_cost_nothing_need_no_acceptance_and_ignore_a_stray_one(api, people, clock):
    await put_policy(api, people.therapist, window_hours=24, late_cancellation={"flat_amount_minor": 5000})
    on_time = await book(api, people.therapist, people.client, "2026-12-03T15:00:00Z", policy_version=1)
    on_time_too = await book(api, people.therapist, people.client, "2026-12-04T15:00:00Z", policy_version=1)
    by_therapist = await book(api, people.therapist, people.client, SOON, policy_version=1)
    assert (await _cancel(api, people.client, on_time))["status"] == "cancelled"
    assert (await _cancel(api, people.client, on_time_too, _usd(5000)))["status"] == "cancelled"
    # The therapist cancelling inside the window: never late for the client, nothing to accept.
    assert (await _cancel(api, people.therapist, by_therapist))["status"] == "cancelled"
    # Late, but the policy accepted charges no late-cancellation fee.
    await put_policy(api, people.therapist, window_hours=24, no_show={"flat_amount_minor": 4000})
    free = await book(api, people.therapist, people.client, SOON, policy_version=2)  # the freed time
    assert (await _cancel(api, people.client, free))["status"] == "late_cancelled"
    assert await _invoices(api, people.client) == []


async def test_cancelling_the_rest_of_a_series_late_needs_its_fees_accepted(api, people, clock):
    await put_policy(api, people.therapist, window_hours=24, late_cancellation={"flat_amount_minor": 5000})
    booked = await api.post(
        "/api/v1/appointment-series",
        json={
            "therapist_id": people.therapist.id,
            "start": SOON,
            "duration_minutes": 50,
            "modality": "video",
            "frequency": "weekly",
            "count": 3,
            "policy_version": 1,
        },
        headers=people.client.headers,
    )
    assert booked.status_code == 201, booked.text
    first, *rest = [o["appointment"] for o in booked.json()["occurrences"]]

    refused = await _refused(api, people.client, first, scope="this_and_following")
    assert refused["late_fee"] == _usd(5000)  # only the first is inside the window
    assert refused["cancellation_terms"]["appointment_id"] == first["id"]
    await _refused(api, people.client, first, _usd(15000), scope="this_and_following")
    assert [await _status(api, people.client, a) for a in (first, *rest)] == ["booked", "booked", "booked"]
    assert await _invoices(api, people.client) == []

    cancelled = await _cancel(api, people.client, first, _usd(5000), scope="this_and_following")
    assert cancelled["status"] == "late_cancelled"
    assert [await _status(api, people.client, a) for a in rest] == ["cancelled", "cancelled"]
    [invoice] = await _invoices(api, people.client)
    assert (invoice["appointment_id"], invoice["amount"]) == (first["id"], _usd(5000))
