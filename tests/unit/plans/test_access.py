from __future__ import annotations

import pytest

from domain.plans.access import (
    acknowledgeable_plan_or_404,
    can_acknowledge_plan,
    can_read_plan,
    can_write_plan,
    readable_plan_or_404,
    writable_plan_or_404,
)
from domain.plans.model import TherapyPlan
from domain.scheduling.model import Modality, new_appointment
from domain.shared.errors import Forbidden, NotFound
from domain.shared.principal import Principal, Role
from tests.unit.plans.factories import (
    ADMIN,
    CLIENT,
    OTHER_CLIENT,
    OTHER_PRACTICE,
    OTHER_THERAPIST,
    PRACTICE,
    THERAPIST,
    plan,
    principal,
    utc,
)

# (who, read, write, acknowledge)
MATRIX: list[tuple[str, Principal, bool, bool, bool]] = [
    ("treating therapist", principal(Role.THERAPIST, THERAPIST), True, True, False),
    (
        "treating therapist acting in another practice",
        principal(Role.THERAPIST, THERAPIST, OTHER_PRACTICE),
        False,
        False,
        False,
    ),
    ("treating therapist without a practice", principal(Role.THERAPIST, THERAPIST, None), False, False, False),
    ("another therapist of the practice", principal(Role.THERAPIST, OTHER_THERAPIST), False, False, False),
    (
        "a therapist of another practice",
        principal(Role.THERAPIST, OTHER_THERAPIST, OTHER_PRACTICE),
        False,
        False,
        False,
    ),
    ("the client", principal(Role.CLIENT, CLIENT, None), True, False, True),
    ("the client, practice on the token", principal(Role.CLIENT, CLIENT), True, False, True),
    ("another client", principal(Role.CLIENT, OTHER_CLIENT, None), False, False, False),
    ("another client of the practice", principal(Role.CLIENT, OTHER_CLIENT), False, False, False),
    ("admin of the practice", principal(Role.PRACTICE_ADMIN, ADMIN), True, False, False),
    ("admin of another practice", principal(Role.PRACTICE_ADMIN, ADMIN, OTHER_PRACTICE), False, False, False),
    ("admin without a practice", principal(Role.PRACTICE_ADMIN, ADMIN, None), False, False, False),
    ("the therapist's id with the client role", principal(Role.CLIENT, THERAPIST), False, False, False),
    ("the client's id with the therapist role", principal(Role.THERAPIST, CLIENT), False, False, False),
]
IDS = [row[0] for row in MATRIX]


@pytest.mark.parametrize(("who", "actor", "read", "write", "ack"), MATRIX, ids=IDS)
def test_the_policy_matrix(who: str, actor: Principal, read: bool, write: bool, ack: bool) -> None:
    p = plan()
    assert can_read_plan(actor, p) is read
    assert can_write_plan(actor, p) is write
    assert can_acknowledge_plan(actor, p) is ack


@pytest.mark.parametrize(("who", "actor", "read", "write", "ack"), MATRIX, ids=IDS)
def test_what_cannot_be_read_does_not_exist(who: str, actor: Principal, read: bool, write: bool, ack: bool) -> None:
    p = plan()
    for guard in (readable_plan_or_404, writable_plan_or_404, acknowledgeable_plan_or_404):
        if read:
            continue
        with pytest.raises(NotFound) as err:
            guard(actor, p)
        assert err.value.code == "not_found"
    if read:
        assert readable_plan_or_404(actor, p) is p


@pytest.mark.parametrize(
    ("who", "actor", "read", "write", "ack"), [r for r in MATRIX if r[2]], ids=[r[0] for r in MATRIX if r[2]]
)
def test_readers_who_may_not_act_are_forbidden(who: str, actor: Principal, read: bool, write: bool, ack: bool) -> None:
    p = plan()
    if write:
        assert writable_plan_or_404(actor, p) is p
    else:
        with pytest.raises(Forbidden) as err:
            writable_plan_or_404(actor, p)
        assert err.value.code == "plan_read_only"
    if ack:
        assert acknowledgeable_plan_or_404(actor, p) is p
    else:
        with pytest.raises(Forbidden) as err2:
            acknowledgeable_plan_or_404(actor, p)
        assert err2.value.code == "not_plan_client"


@pytest.mark.parametrize("actor", [row[1] for row in MATRIX], ids=IDS)
def test_a_missing_plan_is_not_found_for_everyone(actor: Principal) -> None:
    missing: TherapyPlan | None = None
    with pytest.raises(NotFound):
        readable_plan_or_404(actor, missing)
    with pytest.raises(NotFound):
        writable_plan_or_404(actor, missing)


def test_creating_a_plan_follows_the_appointments_relationship() -> None:
    appointment = new_appointment(
        id=CLIENT,
        therapist_id=THERAPIST,
        client_id=CLIENT,
        practice_id=PRACTICE,
        start=utc(2026, 5, 4, 14),
        duration_minutes=50,
        modality=Modality.VIDEO,
        created_at=utc(2026, 5, 1),
    )
    assert can_write_plan(principal(Role.THERAPIST, THERAPIST), appointment)
    assert not can_write_plan(principal(Role.THERAPIST, OTHER_THERAPIST), appointment)
    assert not can_write_plan(principal(Role.PRACTICE_ADMIN, ADMIN), appointment)
    assert not can_write_plan(principal(Role.CLIENT, CLIENT), appointment)
