"""Concurrent sends in one process share a transaction (MessagingService._store_batch): each keeps the semantics of
a send of its own. Real concurrency: many sends in flight at once, through the service and over WebSockets."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import asyncpg
import websockets

from api.bootstrap import verify_audit_chain
from api.ws.hub import Hub
from domain.messaging.service import Sent
from domain.shared.errors import DomainError
from domain.shared.principal import Principal, Role
from infra.db.repositories.messaging import SqlConversationRepository
from infra.jobs.queue import asyncpg_dsn
from tests.e2e.messaging.conftest import conversation_of, in_care
from tests.e2e.messaging.test_reliability import stored_messages
from tests.support.users import LoggedIn

TIMEOUT = 20


def _principal(user: LoggedIn) -> Principal:
    return Principal(uuid.UUID(user.id), Role(user.role), uuid.UUID(user.practice_id) if user.practice_id else None)


async def _db(app) -> asyncpg.Connection:
    return await asyncpg.connect(asyncpg_dsn(app[0].state.container.settings.database_url))


async def _stored(app, conversation_id: str) -> list[asyncpg.Record]:
    return await stored_messages(asyncpg_dsn(app[0].state.container.settings.database_url), conversation_id)


async def _outcome(coroutine) -> Sent | DomainError:
    try:
        return await coroutine
    except DomainError as error:
        return error


async def test_concurrent_sends_each_get_their_own_answer_and_are_stored_once_in_seq_order(api, app, care):
    container = app[0].state.container
    messaging = container.messaging
    other = await in_care(api)
    closed = await in_care(api)
    pairs = [care, other]
    cids = [(await conversation_of(api, pair))["id"] for pair in pairs]
    closed_cid = (await conversation_of(api, closed))["id"]
    conn = await _db(app)
    try:
        await conn.execute("UPDATE conversations SET closed_at = now() WHERE id = $1", uuid.UUID(closed_cid))
    finally:
        await conn.close()
    batches_before = messaging.send_batches

    sends = []  # (label, conversation id, principal, client_message_id, body)
    for pair, cid in zip(pairs, cids, strict=True):
        for role, user in (("c", pair.client), ("t", pair.therapist)):
            for i in range(30):
                sends.append(("ok", cid, _principal(user), f"{role}-{i}", f"{role} says {i} in {cid[:8]}"))
        # The same message twice at once (a retry racing the original): one is stored, both get it.
        sends += [("twice", cid, _principal(pair.client), "dup", "the same words")] * 2
        # One id with two different bodies: the first to arrive is stored, the other is refused on its own.
        sends.append(("reused", cid, _principal(pair.client), "clash", "first body"))
        sends.append(("reused", cid, _principal(pair.client), "clash", "second body"))
    for i in range(3):
        sends.append(("closed", closed_cid, _principal(closed.client), f"late-{i}", "anyone there?"))
    # Someone else's conversation: refused for that send only.
    sends.append(("foreign", cids[0], _principal(closed.client), "nosy", "hello?"))

    outcomes = await asyncio.gather(*(_outcome(messaging.send(p, uuid.UUID(c), m, b)) for _, c, p, m, b in sends))

    batches, largest = messaging.send_batches
    assert largest > 1 and batches - batches_before[0] < len(sends), "the sends were batched"
    by_label: dict[str, list] = {}
    for (label, *_), outcome in zip(sends, outcomes, strict=True):
        by_label.setdefault(label, []).append(outcome)
    assert all(isinstance(o, Sent) and o.created for o in by_label["ok"]), [
        o for o in by_label["ok"] if not isinstance(o, Sent)
    ]
    twice = by_label["twice"]
    for first, second in zip(twice[::2], twice[1::2], strict=True):
        assert isinstance(first, Sent) and isinstance(second, Sent)
        assert first.message.id == second.message.id and sorted([first.created, second.created]) == [False, True]
    reused = by_label["reused"]
    for first, second in zip(reused[::2], reused[1::2], strict=True):
        assert isinstance(first, Sent) and first.created and first.message.body == "first body"
        assert isinstance(second, DomainError) and second.code == "client_message_id_reused"
    assert all(isinstance(o, DomainError) and o.code == "conversation_closed" for o in by_label["closed"])
    assert [type(o).__name__ for o in by_label["foreign"]] == ["NotFound"]

    acked = {o.message.id: o.message for o in outcomes if isinstance(o, Sent)}
    for pair, cid in zip(pairs, cids, strict=True):
        rows = await _stored(app, cid)
        assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1)), "gap-free, no duplicate seq"
        users = [r for r in rows if r["kind"] == "user"]
        keys = Counter((str(r["sender_id"]), r["client_message_id"]) for r in users)
        assert all(n == 1 for n in keys.values()), "every message stored exactly once"
        assert len(users) == 60 + 2, "30 + 30, the duplicate once, the clashing id once"
        for r in users:
            assert acked[r["id"]].seq == r["seq"], "the ack's seq is the stored seq"
        page = (
            await api.get(f"/api/v1/conversations/{cid}/messages?after_seq=0&limit=200", headers=pair.client.headers)
        ).json()["items"]
        assert [m["seq"] for m in page] == [r["seq"] for r in rows]
        for m in page:
            if m["id"] in {str(k) for k in acked}:
                assert m["body"] == acked[uuid.UUID(m["id"])].body, "decrypts to what was sent"
    assert [r["kind"] for r in await _stored(app, closed_cid)] == ["welcome"], "nothing stored when closed"

    report = await verify_audit_chain(container.settings.database_url)
    assert report.ok, report
    conn = await _db(app)
    try:
        writes = await conn.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'message.write' AND object_id = ANY($1::text[])",
            [str(m.id) for m in acked.values()],
        )
    finally:
        await conn.close()
    assert writes == len({o.message.id for o in outcomes if isinstance(o, Sent) and o.created}), "one event each"


async def test_a_failing_batch_falls_back_to_one_by_one(api, app, care, monkeypatch):
    messaging = app[0].state.container.messaging
    cid = (await conversation_of(api, care))["id"]
    original = SqlConversationRepository.store
    failed = []

    async def refuse_batches(self, messages, progress, audit=()):
        if len(messages) > 1:
            failed.append(len(messages))
            raise RuntimeError("simulated failure of a whole batch")
        await original(self, messages, progress, audit)

    monkeypatch.setattr(SqlConversationRepository, "store", refuse_batches)
    client = _principal(care.client)
    outcomes = await asyncio.gather(
        *(_outcome(messaging.send(client, uuid.UUID(cid), f"m-{i}", f"message {i}")) for i in range(20))
    )
    assert failed, "a batch of several was tried (and failed)"
    assert all(isinstance(o, Sent) and o.created for o in outcomes), outcomes
    rows = await _stored(app, cid)
    assert [r["seq"] for r in rows] == list(range(1, 22))
    assert sorted(o.message.seq for o in outcomes) == list(range(2, 22))
    assert (await verify_audit_chain(app[0].state.container.settings.database_url)).ok


def _ws_url(app) -> str:
    return app[1].replace("http://", "ws://") + "/api/v1/ws"


async def _connect(api, app, user):
    ticket = (await api.post("/api/v1/ws-tickets", headers=user.headers)).json()["ticket"]
    return await websockets.connect(f"{_ws_url(app)}?ticket={ticket}", max_queue=None)


async def test_concurrent_socket_senders_reach_the_other_party_once_in_order(api, app, care, monkeypatch):
    """Four sockets of the client each fire 25 `send` frames without waiting; the therapist's live socket gets
    seq 2..101 exactly once and in order (pushed from memory, or read back when behind), every send is acked."""
    monkeypatch.setattr(Hub, "allow", lambda self, principal: True)  # 100 frames at once: not the limiter's test
    senders = 4
    cid = (await conversation_of(api, care))["id"]
    therapist = await _connect(api, app, care.therapist)
    sockets = [await _connect(api, app, care.client) for _ in range(senders)]
    per_socket = 25
    try:
        await therapist.send(json.dumps({"type": "resume", "conversation_id": cid, "after_seq": 1}))
        while json.loads(await asyncio.wait_for(therapist.recv(), TIMEOUT))["type"] != "resumed":
            pass

        async def fire(n: int, socket) -> list[int]:
            for i in range(per_socket):
                frame = {"type": "send", "conversation_id": cid, "client_message_id": f"s{n}-{i}", "body": f"{n}/{i}"}
                await socket.send(json.dumps(frame))
            acks: list[int] = []
            while len(acks) < per_socket:
                frame = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
                assert frame["type"] in ("ack", "message"), frame
                if frame["type"] == "ack":
                    acks.append(frame["seq"])
            return acks

        async def receive() -> list[int]:
            seqs: list[int] = []
            while len(seqs) < senders * per_socket:
                frame = json.loads(await asyncio.wait_for(therapist.recv(), TIMEOUT))
                if frame["type"] == "message":
                    seqs.append(frame["message"]["seq"])
            return seqs

        received, *acked = await asyncio.gather(receive(), *(fire(n, s) for n, s in enumerate(sockets)))
        total = senders * per_socket
        assert received == list(range(2, total + 2)), "once each, in order, no gap"
        assert sorted(seq for acks in acked for seq in acks) == list(range(2, total + 2))
        assert app[0].state.container.messaging.send_batches[1] > 1, "the sends were batched"
    finally:
        for socket in (therapist, *sockets):
            await socket.close()


async def test_retries_of_stored_messages_in_a_batch_of_new_ones_are_answered_and_the_rest_is_stored(
    api, app, care, monkeypatch
):
    # A batch does not look its client_message_ids up first; a stored one makes its INSERT fail, and the batch is
    # run again with the lookup. Every request must still get the answer it would get on its own.
    messaging = app[0].state.container.messaging
    cid = uuid.UUID((await conversation_of(api, care))["id"])
    client = _principal(care.client)
    earlier = [await messaging.send(client, cid, f"early-{i}", f"early {i}") for i in range(10)]
    looked_up: list[bool] = []
    store_batch = messaging._store_batch

    async def recording(requests, *, look_up):
        looked_up.append(look_up)
        return await store_batch(requests, look_up=look_up)

    monkeypatch.setattr(messaging, "_store_batch", recording)
    sends = [(f"new-{i}", f"new {i}") for i in range(20)]
    sends += [(f"early-{i}", f"early {i}") for i in range(5)]  # a retry: same id, same body
    sends += [(f"early-{i}", f"other words {i}") for i in range(5, 10)]  # the same id for another message
    order = list(range(len(sends)))
    order = order[::3] + order[1::3] + order[2::3]  # retries spread among the new messages

    outcomes = await asyncio.gather(*(_outcome(messaging.send(client, cid, *sends[i])) for i in order))

    answers = dict(zip(order, outcomes, strict=True))
    assert False in looked_up and True in looked_up, "tried without the lookup, then again with it"
    assert all(isinstance(answers[i], Sent) and answers[i].created for i in range(20))
    for i in range(5):
        retry = answers[20 + i]
        assert isinstance(retry, Sent) and not retry.created and retry.message == earlier[i].message
    for i in range(5, 10):
        refused = answers[20 + i]
        assert isinstance(refused, DomainError) and refused.code == "client_message_id_reused"
    rows = await _stored(app, str(cid))
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1)), "gap-free, no duplicate seq"
    users = [r for r in rows if r["kind"] == "user"]
    assert sorted(r["client_message_id"] for r in users) == sorted(
        [f"early-{i}" for i in range(10)] + [f"new-{i}" for i in range(20)]
    )
    assert {answers[i].message.seq for i in range(20)} == {
        r["seq"] for r in users if r["client_message_id"].startswith("new-")
    }
