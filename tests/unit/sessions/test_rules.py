"""Pure session rules: connected minutes per modality, TURN credentials, licences, check-in validation, step-down."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.scheduling.model import Modality
from domain.sessions.attendance import client_came, connected_minutes, present, took_place
from domain.sessions.ice import IceConfig, ice_servers
from domain.sessions.model import (
    CheckIn,
    EmergencyContact,
    EventKind,
    LiveSession,
    MediaPath,
    SessionEvent,
    licensed_for,
    validate_check_in,
)
from domain.shared.errors import ValidationFailed

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
THERAPIST, CLIENT = uuid.uuid4(), uuid.uuid4()
BOTH = frozenset({THERAPIST, CLIENT})
AID = uuid.uuid4()


def ev(minute: float, kind: EventKind, actor=None, modality=None, detail=None) -> SessionEvent:
    return SessionEvent(uuid.uuid4(), AID, T0 + timedelta(minutes=minute), kind, actor, modality, detail)


@pytest.mark.parametrize(
    ("events", "held"),
    [
        ([], False),
        ([ev(0, EventKind.CHECKED_IN, CLIENT), ev(1, EventKind.ADMITTED, THERAPIST)], False),
        ([ev(0, EventKind.JOINED, THERAPIST), ev(40, EventKind.LEFT, THERAPIST)], False),
        ([ev(0, EventKind.JOINED, CLIENT)], False),
        ([ev(0, EventKind.PHONE_STATUS, detail="ringing"), ev(1, EventKind.PHONE_STATUS, detail="no_answer")], False),
        ([ev(0, EventKind.JOINED, THERAPIST), ev(1, EventKind.LEFT, THERAPIST), ev(5, EventKind.JOINED, CLIENT)], True),
        ([ev(0, EventKind.PHONE_STATUS, detail="in_progress")], True),
        # "Not alone today": the session became chat at the check-in; the conversation is the room.
        ([ev(0, EventKind.CHECKED_IN, CLIENT), ev(0, EventKind.MODALITY_CHANGED, CLIENT, Modality.CHAT)], True),
        ([ev(0, EventKind.MODALITY_CHANGED, THERAPIST, Modality.CHAT)], False),  # chat, but the client never came
    ],
)
def test_a_session_took_place_when_both_joined_the_phone_connected_or_the_client_came_to_chat(events, held):
    assert took_place(events, therapist_id=THERAPIST, client_id=CLIENT, start_modality=Modality.VIDEO) is held
    assert client_came(events, start_modality=Modality.VIDEO, client_id=CLIENT) is (
        held or any(e.kind is EventKind.JOINED and e.actor_id == CLIENT for e in events)
    )


def test_a_booked_chat_session_took_place_once_the_client_checked_in():
    checked_in = [ev(-5, EventKind.CHECKED_IN, CLIENT)]
    assert took_place(checked_in, therapist_id=THERAPIST, client_id=CLIENT, start_modality=Modality.CHAT)
    assert not took_place(checked_in, therapist_id=THERAPIST, client_id=CLIENT, start_modality=Modality.VIDEO)
    assert not client_came([], start_modality=Modality.CHAT, client_id=CLIENT)


def test_minutes_count_only_while_both_are_connected():
    events = [
        ev(0, EventKind.JOINED, THERAPIST),
        ev(2, EventKind.JOINED, CLIENT),
        ev(12, EventKind.LEFT, CLIENT),
        ev(15, EventKind.JOINED, CLIENT),
        ev(30, EventKind.ENDED, THERAPIST),
    ]
    assert connected_minutes(
        events, start_modality=Modality.VIDEO, participants=BOTH, until=T0 + timedelta(hours=1)
    ) == {Modality.VIDEO: 25}


def test_minutes_split_by_step_down_and_phone_status():
    events = [
        ev(0, EventKind.JOINED, THERAPIST),
        ev(0, EventKind.JOINED, CLIENT),
        ev(10, EventKind.MODALITY_CHANGED, CLIENT, Modality.AUDIO),
        ev(20, EventKind.MODALITY_CHANGED, CLIENT, Modality.PHONE),
        ev(21, EventKind.PHONE_STATUS, None, Modality.PHONE, "ringing"),
        ev(22, EventKind.PHONE_STATUS, None, Modality.PHONE, "in_progress"),
        ev(40, EventKind.PHONE_STATUS, None, Modality.PHONE, "completed"),
        ev(41, EventKind.MODALITY_CHANGED, THERAPIST, Modality.CHAT),
    ]
    got = connected_minutes(events, start_modality=Modality.VIDEO, participants=BOTH, until=T0 + timedelta(minutes=50))
    assert got == {Modality.VIDEO: 10, Modality.AUDIO: 10, Modality.PHONE: 18, Modality.CHAT: 9}


def test_half_minutes_round_up_and_nothing_is_counted_alone():
    alone = [ev(0, EventKind.JOINED, THERAPIST)]
    assert (
        connected_minutes(alone, start_modality=Modality.VIDEO, participants=BOTH, until=T0 + timedelta(minutes=30))
        == {}
    )
    pair = [ev(0, EventKind.JOINED, THERAPIST), ev(0, EventKind.JOINED, CLIENT)]
    until = T0 + timedelta(minutes=2, seconds=30)
    assert connected_minutes(pair, start_modality=Modality.AUDIO, participants=BOTH, until=until) == {Modality.AUDIO: 3}
    assert present([*pair, ev(1, EventKind.LEFT, CLIENT)]) == {THERAPIST}


def test_turn_credentials_follow_the_coturn_rest_format():
    config = IceConfig(
        stun_urls=("stun:a:3478",), turn_urls=("turn:b:3478",), turn_secret="s3cret", turn_ttl=timedelta(minutes=30)
    )
    servers, expires = ice_servers(config, "user-1", T0)
    assert expires == T0 + timedelta(minutes=30)
    assert servers[0].urls == ("stun:a:3478",) and servers[0].credential is None
    username = f"{int(expires.timestamp())}:user-1"
    assert servers[1].username == username
    assert (
        servers[1].credential
        == base64.b64encode(hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest()).decode()
    )
    assert ice_servers(IceConfig(turn_urls=("turn:b",)), "u", T0) == ([], None), "no secret, no TURN entry"


def check_in(country="US", region="NY", phone="+12125550100") -> CheckIn:
    return CheckIn(country, region, True, EmergencyContact("Robin", phone), False, True)


@pytest.mark.parametrize(("country", "region"), [("US", "NY"), ("US", "DC"), ("GB", "ENG"), ("GB", None), ("CA", "ON")])
def test_real_locations_check_in(country, region):
    validate_check_in(check_in(country=country, region=region))


def test_licences_for_states_and_countries():
    assert licensed_for(("US-NY",), check_in())
    assert not licensed_for(("US-NY",), check_in(region="CA"))
    assert not licensed_for(("US",), check_in(region="CA")), "a US licence is per state"
    assert licensed_for(("GB",), check_in(country="GB", region="ENG"))
    assert licensed_for(("GB",), check_in(country="GB", region=None))
    assert not licensed_for(("US-NY",), check_in(country="GB", region=None))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (check_in(country="usa"), "country"),
        (check_in(country="ZZ", region=None), "country"),  # the shape of a country, but none
        (check_in(country="US", region="ZZZ"), "region"),
        (check_in(country="GB", region="NY"), "region"),  # New York is not in Great Britain
        (check_in(region=None), "region"),
        (check_in(phone="2125550100"), "emergency_contact.phone"),
        (CheckIn("US", "NY", True, EmergencyContact(" ", "+12125550100"), False, True), "emergency_contact.name"),
    ],
)
def test_check_in_validation(value, field):
    with pytest.raises(ValidationFailed) as refused:
        validate_check_in(value)
    assert (refused.value.code, refused.value.field) == ("invalid_check_in", field)


def test_step_down_only_goes_down():
    session = LiveSession(AID, uuid.uuid4(), Modality.VIDEO, MediaPath.P2P, uuid.uuid4(), T0)
    session.step_down(Modality.PHONE)
    assert session.modality is Modality.PHONE
    for target in (Modality.VIDEO, Modality.AUDIO, Modality.PHONE):
        with pytest.raises(ValidationFailed):
            session.step_down(target)
    session.step_down(Modality.CHAT)
    assert session.modality is Modality.CHAT
