"""The messaging WebSocket: tickets, live delivery after commit, resume, receipts, access, limits, 4401."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.e2e.messaging.conftest import conversation_of, in_care
from tests.support.scheduling import bookable_therapist
from tests.support.users import signed_up

TIMEOUT = 10


def _ws_url(app) -> str:
    return app[1].replace("http://", "ws://") + "/api/v1/ws"


async def _connect(api, app, user, **kwargs):
    ticket = (await api.post("/api/v1/ws-tickets", headers=user.headers)).json()["ticket"]
    return await websockets.connect(f"{_ws_url(app)}?ticket={ticket}", **kwargs)


async def _recv(socket, kind: str | None = None) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
        if kind is None or frame["type"] == kind:
            return frame


async def test_live_delivery_and_ack_after_commit(api, app, care):
    cid = (await conversation_of(api, care))["id"]
    client_ws = await _connect(api, app, care.client)
    therapist_ws = await _connect(api, app, care.therapist)
    try:
        await client_ws.send(json.dumps({"type": "resume", "conversation_id": cid, "after_seq": 0}))
        welcome = await _recv(client_ws, "message")
        assert welcome["message"]["seq"] == 1 and welcome["message"]["kind"] == "welcome"
        assert (await _recv(client_ws, "resumed"))["last_seq"] == 1
        await therapist_ws.send(json.dumps({"type": "resume", "conversation_id": cid, "after_seq": 1}))
        await _recv(therapist_ws, "resumed")

        await client_ws.send(
            json.dumps({"type": "send", "conversation_id": cid, "client_message_id": "c1", "body": "Hi!"})
        )
        ack = await _recv(client_ws, "ack")
        assert (ack["seq"], ack["duplicate"]) == (2, False)
        stored = (
            await api.get(f"/api/v1/conversations/{cid}/messages?after_seq=1", headers=care.client.headers)
        ).json()
        assert [m["body"] for m in stored["items"]] == ["Hi!"], "acknowledged means committed"
        pushed = await _recv(therapist_ws, "message")
        assert (pushed["message"]["seq"], pushed["message"]["body"]) == (2, "Hi!")

        await client_ws.send(
            json.dumps({"type": "send", "conversation_id": cid, "client_message_id": "c1", "body": "Hi!"})
        )
        again = await _recv(client_ws, "ack")
        assert (again["seq"], again["duplicate"]) == (2, True)

        await therapist_ws.send(json.dumps({"type": "typing", "conversation_id": cid}))
        assert (await _recv(client_ws, "typing"))["user_id"] == care.therapist.id
        await therapist_ws.send(json.dumps({"type": "read", "conversation_id": cid, "seq": 2}))
        receipt = await _recv(client_ws, "read")
        assert (receipt["user_id"], receipt["seq"]) == (care.therapist.id, 2)
    finally:
        await client_ws.close()
        await therapist_ws.close()


async def test_the_sending_socket_gets_the_ack_and_the_users_other_devices_the_message(api, app, care):
    cid = (await conversation_of(api, care))["id"]
    phone = await _connect(api, app, care.client)
    laptop = await _connect(api, app, care.client)
    therapist = await _connect(api, app, care.therapist)
    try:
        for socket in (phone, laptop, therapist):
            await socket.send(json.dumps({"type": "resume", "conversation_id": cid, "after_seq": 0}))
            assert (await _recv(socket, "resumed"))["last_seq"] == 1
        for n in range(3):
            await phone.send(
                json.dumps({"type": "send", "conversation_id": cid, "client_message_id": f"p{n}", "body": f"m{n}"})
            )
            frame = await _recv(phone)  # the next frame, whatever it is: the ack, not a push of its own message
            assert (frame["type"], frame.get("seq")) == ("ack", 2 + n)
        for socket in (laptop, therapist):
            got = [(await _recv(socket, "message"))["message"] for _ in range(3)]
            assert [(m["seq"], m["body"], m["client_message_id"]) for m in got] == [
                (2, "m0", "p0"),
                (3, "m1", "p1"),
                (4, "m2", "p2"),
            ]
        # The phone stays live in the conversation: the therapist's answer is pushed to it, and nothing of its own
        # came before it (the acks carried those).
        await therapist.send(
            json.dumps({"type": "send", "conversation_id": cid, "client_message_id": "t0", "body": "Got them."})
        )
        answer = await _recv(phone)
        assert answer["type"] == "message" and (answer["message"]["seq"], answer["message"]["body"]) == (5, "Got them.")
    finally:
        for socket in (phone, laptop, therapist):
            await socket.close()


async def test_reconnect_and_resume_gets_exactly_what_was_missed(api, app, care):
    cid = (await conversation_of(api, care))["id"]
    for i in range(5):
        await api.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"client_message_id": f"t{i}", "body": f"while you were away {i}"},
            headers=care.therapist.headers,
        )
    socket = await _connect(api, app, care.client)
    try:
        await socket.send(json.dumps({"type": "resume", "conversation_id": cid, "after_seq": 3}))
        got = []
        while True:
            frame = await _recv(socket)
            if frame["type"] == "resumed":
                break
            got.append(frame["message"]["seq"])
        assert got == [4, 5, 6]
    finally:
        await socket.close()


async def test_a_resume_past_the_end_is_answered_with_the_real_end_and_later_messages_still_arrive(api, app, care):
    """A client that claims more than the conversation holds (a seq from another conversation, a stale cache) is
    told where the conversation really ends, and its socket keeps delivering what comes next."""
    cid = (await conversation_of(api, care))["id"]
    socket = await _connect(api, app, care.client)
    try:
        await socket.send(json.dumps({"type": "resume", "conversation_id": cid, "after_seq": 50}))
        assert (await _recv(socket))["last_seq"] == 1
        sent = await api.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"client_message_id": "t-after", "body": "Are you there?"},
            headers=care.therapist.headers,
        )
        assert sent.status_code == 201, sent.text
        pushed = await _recv(socket)
        assert pushed["type"] == "message" and pushed["message"]["seq"] == 2
    finally:
        await socket.close()


async def test_tickets_are_single_use_and_origins_checked(api, app, care):
    ticket = (await api.post("/api/v1/ws-tickets", headers=care.client.headers)).json()["ticket"]
    first = await websockets.connect(f"{_ws_url(app)}?ticket={ticket}")
    await first.close()
    with pytest.raises(ConnectionClosed) as closed:
        again = await websockets.connect(f"{_ws_url(app)}?ticket={ticket}")
        await asyncio.wait_for(again.recv(), TIMEOUT)
    assert closed.value.rcvd.code == 4401
    with pytest.raises((ConnectionClosed, websockets.InvalidStatus)):
        evil = await _connect(api, app, care.client, origin="https://evil.example")
        await asyncio.wait_for(evil.recv(), TIMEOUT)


async def test_strangers_get_error_frames_and_nothing_else(api, app, care):
    cid = (await conversation_of(api, care))["id"]
    other = await in_care(api)
    socket = await _connect(api, app, other.client)
    try:
        await socket.send(json.dumps({"type": "resume", "conversation_id": cid, "after_seq": 0}))
        assert (await _recv(socket))["code"] == "not_found"
        await socket.send(json.dumps({"type": "send", "conversation_id": cid, "client_message_id": "x", "body": "hi"}))
        assert (await _recv(socket))["code"] == "not_found"
        # A message in the foreign conversation never reaches this socket.
        await api.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"client_message_id": "p", "body": "private"},
            headers=care.client.headers,
        )
        await socket.send(json.dumps({"type": "ping"}))
        assert (await _recv(socket))["type"] == "pong"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.recv(), 1.0)
    finally:
        await socket.close()


async def test_bad_frames_and_oversized_frames(api, app, care):
    socket = await _connect(api, app, care.client)
    await socket.send("not json")
    assert (await _recv(socket))["code"] == "invalid_frame"
    await socket.send(json.dumps({"type": "send", "conversation_id": str(uuid.uuid4())}))
    assert (await _recv(socket))["code"] == "invalid_frame"
    for odd in ({"type": "no_such_frame"}, {"conversation_id": str(uuid.uuid4())}, ["send"]):
        await socket.send(json.dumps(odd))
        assert (await _recv(socket))["code"] == "invalid_frame"
    await socket.send("x" * 300_000)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), TIMEOUT)
    assert closed.value.rcvd.code == 1009


async def test_a_send_of_the_longest_body_fits_in_a_frame_however_its_json_escapes_it(api, app, care):
    """10,000 characters is the body limit whatever the characters: an encoder that escapes non-ASCII (Python's
    json.dumps, 12 bytes an emoji) makes a 120 kB frame of a legal send, which must not close the socket."""
    cid = (await conversation_of(api, care))["id"]
    socket = await _connect(api, app, care.client)
    try:
        body = "\U0001f600" * 10_000
        frame = json.dumps(
            {"type": "send", "conversation_id": cid, "client_message_id": "\U0001f4ac" * 64, "body": body}
        )
        assert len(frame.encode()) > 120_000
        await socket.send(frame)
        ack = await _recv(socket)
        assert (ack["type"], ack["seq"]) == ("ack", 2), ack
        stored = await api.get(f"/api/v1/conversations/{cid}/messages?after_seq=1", headers=care.therapist.headers)
        assert [m["body"] for m in stored.json()["items"]] == [body]
    finally:
        await socket.close()


async def test_frames_are_never_compressed_even_when_the_client_offers_it(api, app, care):
    """permessage-deflate would let one party's chosen text reveal another's messages through frame sizes
    (ADR 14): the server declines it, and the socket works uncompressed."""
    socket = await _connect(api, app, care.client, compression="deflate")
    try:
        assert socket.request.headers.get("Sec-WebSocket-Extensions"), "the client did offer compression"
        assert socket.response.headers.get("Sec-WebSocket-Extensions") is None
        assert socket.protocol.extensions == []
        await socket.send(json.dumps({"type": "ping"}))
        assert (await _recv(socket))["type"] == "pong"
    finally:
        await socket.close()


async def test_binary_deeply_nested_and_out_of_range_frames_get_an_error_frame_and_the_socket_goes_on(api, app, care):
    cid = (await conversation_of(api, care))["id"]
    socket = await _connect(api, app, care.client)
    try:
        await socket.send(b'{"type": "ping"}')
        assert (await _recv(socket))["code"] == "invalid_frame"
        await socket.send("[" * 5000)  # 5 kB, nested deeper than the JSON parser recurses
        assert (await _recv(socket))["code"] == "invalid_frame"
        await socket.send(json.dumps({"type": "resume", "conversation_id": cid, "after_seq": 2**63}))
        assert (await _recv(socket))["code"] == "invalid_frame"
        await socket.send(json.dumps({"type": "resume", "conversation_id": cid, "after_seq": 0}))
        assert (await _recv(socket, "resumed"))["last_seq"] == 1
    finally:
        await socket.close()


async def test_a_replayed_refresh_token_closes_the_sessions_socket_at_once(api, app, care):
    # Reuse detection revokes the whole token family: the socket opened with it closes now, not at its next check.
    socket = await _connect(api, app, care.client)
    await socket.send(json.dumps({"type": "ping"}))
    await _recv(socket, "pong")
    spent = care.client.refresh_token
    assert (await api.post("/api/v1/auth/refresh", json={"refresh_token": spent})).status_code == 200
    replay = await api.post("/api/v1/auth/refresh", json={"refresh_token": spent})
    assert replay.status_code == 401 and replay.json()["code"] == "refresh_token_reused"
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 5)  # well inside the 15 s between the socket's own checks
    assert closed.value.rcvd.code == 4401


async def test_logout_closes_the_socket_with_4401(api, app, care):
    socket = await _connect(api, app, care.client)
    await socket.send(json.dumps({"type": "ping"}))
    await _recv(socket, "pong")
    await api.post("/api/v1/auth/logout", headers=care.client.headers)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), TIMEOUT)
    assert closed.value.rcvd.code == 4401


async def test_a_ticket_taken_before_logout_opens_no_socket(api, app, care, monkeypatch):
    """ADR 20: a revoked session is refused at once, so a ticket its token got before the logout (valid 30 s) opens
    nothing. The socket's own database check is stubbed out: it races the first frames, and lost often enough that
    a message was stored for a session already signed out."""

    async def never_checked(principal) -> bool:
        return True

    monkeypatch.setattr(app[0].state.container.identity, "session_active", never_checked)
    cid = (await conversation_of(api, care))["id"]
    ticket = (await api.post("/api/v1/ws-tickets", headers=care.client.headers)).json()["ticket"]
    assert (await api.post("/api/v1/auth/logout", headers=care.client.headers)).status_code == 204
    socket = await websockets.connect(f"{_ws_url(app)}?ticket={ticket}")
    frame = {"type": "send", "conversation_id": cid, "client_message_id": "late", "body": "Hi"}
    with pytest.raises(ConnectionClosed) as closed:  # the send, if the close is in already, or the next read
        await socket.send(json.dumps(frame))
        await _recv(socket)
    assert closed.value.rcvd.code == 4401
    stored = await api.get(f"/api/v1/conversations/{cid}/messages?after_seq=1", headers=care.therapist.headers)
    assert stored.json()["items"] == [], "nothing was sent on the signed-out session"


async def test_a_frame_refused_by_the_rate_limit_is_named_in_its_error(api, app, care):
    cid = (await conversation_of(api, care))["id"]
    socket = await _connect(api, app, care.client)
    # Far more than the burst of 60 at once: the budget stays spent for the frames after them, however slow the
    # server (it refills one frame every 50 ms).
    spend = 200
    ours = [
        {"type": "send", "conversation_id": cid, "client_message_id": "m1", "body": "Refused, so not stored"},
        {"type": "resume", "conversation_id": cid, "after_seq": 0},
        {"type": "read", "conversation_id": cid, "seq": 1},
        {"type": "ping"},
    ]
    try:
        for _ in range(spend):
            await socket.send(json.dumps({"type": "ping"}))
        for frame in ours:
            await socket.send(json.dumps(frame))
        await socket.send("not json")
        answers = []
        while len(answers) < spend + len(ours) + 1:
            answer = await _recv(socket)
            if answer["type"] in ("pong", "error"):
                answers.append(answer)
        assert any(a["type"] == "error" for a in answers[:spend]), "the pings spent the budget"
        refusals = answers[spend:]
        assert {a["code"] for a in refusals} == {"rate_limited"}
        named = [(a["frame_type"], a["ref"], a["conversation_id"]) for a in refusals]
        unreadable = (None, None, None)  # "not json": refused all the same, but there is nothing to name
        expected = [("send", "m1", cid), ("resume", cid, cid), ("read", cid, cid), ("ping", None, None), unreadable]
        assert named == expected
        assert all(0 <= a["retry_after"] <= 0.05 for a in refusals), refusals

        await asyncio.sleep(0.2)  # a few frames of budget back
        await socket.send(json.dumps(ours[0]))
        ack = await _recv(socket, "ack")
        assert (ack["client_message_id"], ack["duplicate"]) == ("m1", False), "the refused send was not handled"
    finally:
        await socket.close()


async def test_other_refusals_name_their_frame_the_same_way(api, app, care):
    cid = (await conversation_of(api, care))["id"]
    other = await in_care(api)
    socket = await _connect(api, app, other.client)
    try:
        await socket.send(json.dumps({"type": "send", "conversation_id": cid, "client_message_id": "x", "body": "hi"}))
        error = await _recv(socket, "error")
        named = (error["code"], error["frame_type"], error["ref"], error["conversation_id"], error["retry_after"])
        assert named == ("not_found", "send", "x", cid, None)
    finally:
        await socket.close()


async def test_a_frame_refused_as_invalid_is_named_when_it_says_what_it_is(api, app, care):
    """A send with a body over the limit (or without one) is refused as `invalid_frame`; the error names it like
    any other refusal, so a client with several sends in flight knows which one will never be acknowledged."""
    cid = (await conversation_of(api, care))["id"]
    socket = await _connect(api, app, care.client)
    try:
        refused = [
            {"type": "send", "conversation_id": cid, "client_message_id": "long", "body": "x" * 10_001},
            {"type": "send", "conversation_id": cid, "client_message_id": "none"},
            {"type": "resume", "conversation_id": cid, "after_seq": -1},
            {"type": "read", "conversation_id": cid, "seq": "2"},
            {"type": "ping", "extra": True},
            {"type": "no_such_frame", "conversation_id": cid},
            {"type": "send", "conversation_id": "not-a-uuid", "client_message_id": ["odd"], "body": "hi"},
        ]
        for frame in refused:
            await socket.send(json.dumps(frame))
        errors = [await _recv(socket) for _ in refused]
        assert {e["code"] for e in errors} == {"invalid_frame"}
        named = [(e["frame_type"], e["ref"], e["conversation_id"]) for e in errors]
        assert named == [
            ("send", "long", cid),
            ("send", "none", cid),
            ("resume", cid, cid),
            ("read", cid, cid),
            ("ping", None, None),
            (None, None, None),  # not a frame of this API: there is nothing to name
            ("send", None, None),
        ]
        assert all("x" * 100 not in json.dumps(e) for e in errors), "a refusal never echoes a body"
    finally:
        await socket.close()


async def test_a_new_conversations_welcome_message_reaches_sockets_already_open(api, app):
    """A client whose app is open when their care starts (a first booking) gets the welcome message on that
    socket, and so do the therapist's devices: nobody waits for the conversation's next message to see it."""
    therapist = await signed_up(api, "therapist", display_name="Dr. Dana Reyes")
    await bookable_therapist(api, therapist)
    client = await signed_up(api, "client", display_name="Sam Client")
    client_ws = await _connect(api, app, client)
    therapist_ws = await _connect(api, app, therapist)
    try:
        await client_ws.send(json.dumps({"type": "ping"}))
        await _recv(client_ws, "pong")  # the socket is live before care starts
        booked = await api.post(
            "/api/v1/appointments",
            json={
                "therapist_id": therapist.id,
                "start": "2026-12-01T15:00:00Z",
                "duration_minutes": 50,
                "modality": "video",
            },
            headers=client.headers,
        )
        assert booked.status_code == 201, booked.text
        for socket in (client_ws, therapist_ws):
            pushed = await _recv(socket, "message")
            assert (pushed["message"]["seq"], pushed["message"]["kind"]) == (1, "welcome")
    finally:
        await client_ws.close()
        await therapist_ws.close()


async def test_the_codes_of_an_empty_and_a_blank_body_are_the_ones_the_ws_ticket_description_lists(api, app, care):
    """Published codes, kept as they are: an empty body is `validation_failed` over REST and `invalid_frame` on the
    socket, a blank one `invalid_message` on both; all are permanent refusals (the SPA does not retry them)."""
    cid = (await conversation_of(api, care))["id"]
    url = f"/api/v1/conversations/{cid}/messages"
    for body, code in (("", "validation_failed"), (" \n\x85", "invalid_message")):
        refused = await api.post(url, json={"client_message_id": "r", "body": body}, headers=care.client.headers)
        assert (refused.status_code, refused.json()["code"]) == (422, code)
    socket = await _connect(api, app, care.client)
    try:
        for n, (body, code) in enumerate((("", "invalid_frame"), (" \n\x85", "invalid_message"))):
            await socket.send(
                json.dumps({"type": "send", "conversation_id": cid, "client_message_id": f"w{n}", "body": body})
            )
            error = await _recv(socket, "error")
            assert (error["code"], error["ref"], error["frame_type"]) == (code, f"w{n}", "send")
    finally:
        await socket.close()
