"""Lists page with `?limit=&cursor=` and answer `next_cursor`; the cursor handed out is the one accepted, and a
cursor the API never gave is `422 invalid_cursor`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import httpx

from tests.e2e.clinical.conftest import in_care
from tests.e2e.matching.conftest import fresh_login, into_practice, submitted, therapist
from tests.e2e.scheduling.conftest import booking
from tests.support.scheduling import bookable_therapist
from tests.support.users import LoggedIn, relogin, signed_up

BAD_CURSORS = ("zzz", "-1", "1e3", "eyJ4Ijog")


def _invalid_cursor(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_cursor"


async def _walk(
    api: httpx.AsyncClient, path: str, user: LoggedIn, limit: int, key: str = "id", cursor: str | None = None
) -> list[list]:
    """Every page of a list (from `cursor` when given), as lists of `key`, following next_cursor to the end."""
    pages: list[list] = []
    params: dict = {"limit": limit, **({"cursor": cursor} if cursor else {})}
    for _ in range(20):  # a cursor that is ignored would walk the same page for ever
        response = await api.get(path, params=params, headers=user.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item[key] for item in body["items"]])
        if body["next_cursor"] is None:
            return pages
        params = {"limit": limit, "cursor": body["next_cursor"]}
    raise AssertionError(f"{path}: still a next_cursor after 20 pages: {pages[:3]}")


async def test_the_message_cursor_handed_out_is_the_one_accepted(clocked_api):
    api = clocked_api
    care = await in_care(api)
    conversation = (await api.get("/api/v1/conversations", headers=care.client.headers)).json()["items"][0]
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    for n in range(3):
        sent = await api.post(
            url, json={"client_message_id": str(uuid.uuid4()), "body": f"hello {n}"}, headers=care.client.headers
        )
        assert sent.status_code == 201, sent.text
    every = [m["seq"] for m in (await api.get(url, headers=care.client.headers)).json()["items"]]
    assert len(every) >= 3

    pages = await _walk(api, url, care.client, limit=2, key="seq")
    assert [seq for page in pages for seq in page] == every
    assert all(len(page) == 2 for page in pages[:-1]) and len(pages) > 1
    # after_seq stays the documented resume point: the last seq you have.
    resumed = await api.get(url, params={"after_seq": every[1], "limit": 2}, headers=care.client.headers)
    assert [m["seq"] for m in resumed.json()["items"]] == every[2:4]

    for bad in BAD_CURSORS:
        _invalid_cursor(await api.get(url, params={"cursor": bad}, headers=care.client.headers))
    _invalid_cursor(await api.get(url, params={"cursor": "2", "after_seq": 2}, headers=care.client.headers))


async def test_conversations_page_in_an_order_new_messages_do_not_change(clocked_api):
    api = clocked_api
    therapist = await signed_up(api, "therapist")
    await bookable_therapist(api, therapist)
    for day in (1, 2, 3):
        client = await signed_up(api, "client")
        booked = await api.post(
            "/api/v1/appointments", json=booking(therapist, f"2026-12-0{day}T15:00:00Z"), headers=client.headers
        )
        assert booked.status_code == 201, booked.text
    path = "/api/v1/conversations"
    first = (await api.get(path, params={"limit": 1}, headers=therapist.headers)).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    # A message in the oldest conversation mid-walk must not move it ahead of the cursor (skipped) or repeat it.
    everything = (await api.get(path, headers=therapist.headers)).json()["items"]
    oldest = everything[-1]["id"]
    sent = await api.post(
        f"{path}/{oldest}/messages",
        json={"client_message_id": str(uuid.uuid4()), "body": "hi"},
        headers=therapist.headers,
    )
    assert sent.status_code == 201, sent.text
    rest = await _walk(api, path, therapist, limit=1, cursor=first["next_cursor"])
    walked = [first["items"][0]["id"], *(i for page in rest for i in page)]
    assert sorted(walked) == sorted(c["id"] for c in everything) and len(walked) == 3

    for bad in BAD_CURSORS:
        _invalid_cursor(await api.get(path, params={"limit": 1, "cursor": bad}, headers=therapist.headers))


async def test_waitlist_and_psychotherapy_notes_page(clocked_api):
    api = clocked_api
    care = await in_care(api)
    for n in range(3):
        waiting = await signed_up(api, "client")
        joined = await api.post(
            f"/api/v1/therapists/{care.therapist.id}/waitlist", json={"durations": [50]}, headers=waiting.headers
        )
        assert joined.status_code == 201, joined.text
        note = await api.post(
            f"/api/v1/clients/{care.client.id}/psychotherapy-notes",
            json={"text": f"n{n}"},
            headers=care.therapist.headers,
        )
        assert note.status_code == 201, note.text
    for path in ("/api/v1/waitlist", f"/api/v1/clients/{care.client.id}/psychotherapy-notes"):
        pages = await _walk(api, path, care.therapist, limit=2)
        assert [len(page) for page in pages] == [2, 1], path
        assert len({i for page in pages for i in page}) == 3, path
        await _in_order(api, path, care.therapist)


async def test_every_other_list_answers_next_cursor_and_refuses_a_foreign_cursor(clocked_api):
    api = clocked_api
    care = await in_care(api)
    therapist_lists = (
        "/api/v1/safety-alerts",
        "/api/v1/notes/todo",
        f"/api/v1/clients/{care.client.id}/measure-responses",
        f"/api/v1/clients/{care.client.id}/measures",
        f"/api/v1/clients/{care.client.id}/psychotherapy-notes",
        "/api/v1/waitlist",
    )
    for path, user in [*((p, care.therapist) for p in therapist_lists), ("/api/v1/waitlist/offers", care.client)]:
        plain = await api.get(path, params={"limit": 1}, headers=user.headers)
        assert plain.status_code == 200 and plain.json()["next_cursor"] is None, (path, plain.text)
        for bad in BAD_CURSORS:
            _invalid_cursor(await api.get(path, params={"cursor": bad}, headers=user.headers))


async def _in_order(api: httpx.AsyncClient, path: str, user: LoggedIn, limit: int = 2, key: str = "id") -> list:
    """Walk a list `limit` at a time and check it is the whole list (read in one page), each item once, in order."""
    whole = (await api.get(path, params={"limit": 200}, headers=user.headers)).json()["items"]
    pages = await _walk(api, path, user, limit, key)
    walked = [i for page in pages for i in page]
    assert walked == [item[key] for item in whole], path
    assert len(whole) > limit and all(len(page) == limit for page in pages[:-1]), path
    return walked


async def _remove_mid_walk(api: httpx.AsyncClient, path: str, user: LoggedIn, remove, key: str = "id") -> None:
    """Walk two at a time; after the first page remove one item already seen and the first one not yet seen:
    the rest of the walk neither repeats the one seen nor skips any other."""
    every = await _in_order(api, path, user, key=key)
    first = (await api.get(path, params={"limit": 2}, headers=user.headers)).json()
    assert [i[key] for i in first["items"]] == every[:2]
    await remove(every[0])
    await remove(every[2])
    rest = await _walk(api, path, user, limit=2, key=key, cursor=first["next_cursor"])
    assert [i for page in rest for i in page] == every[3:], path


async def test_measure_lists_and_safety_alerts_page_in_sql_order(clocked_api):
    api = clocked_api
    care = await in_care(api)
    for _ in range(5):  # the clock stands still: equal timestamps, so the id decides the order
        assigned = await api.post(
            f"/api/v1/clients/{care.client.id}/measures",
            json={"instrument": "phq9", "frequency": "once"},
            headers=care.therapist.headers,
        )
        assert assigned.status_code == 201, assigned.text
        answered = await api.post(
            f"/api/v1/measure-assignments/{assigned.json()['id']}/responses",
            json={"answers": {f"q{i}": 1 for i in range(1, 10)}},  # item 9 answered: a safety alert each
            headers=care.client.headers,
        )
        assert answered.status_code == 201, answered.text
    for path in (f"/api/v1/clients/{care.client.id}/measures", f"/api/v1/clients/{care.client.id}/measure-responses"):
        await _in_order(api, path, care.therapist)
        await _in_order(api, path, care.client)

    async def acknowledge(alert_id: str) -> None:
        done = await api.post(f"/api/v1/safety-alerts/{alert_id}/acknowledge", headers=care.therapist.headers)
        assert done.status_code == 200, done.text

    await _remove_mid_walk(api, "/api/v1/safety-alerts", care.therapist, acknowledge)


async def test_match_queue_pages_in_sql_order(clocked_api, database_url):
    api = clocked_api
    owner = await therapist(api, "Dr. Owner")
    admin = await signed_up(api, "therapist", display_name="Pat Admin")
    await into_practice(database_url, owner.practice_id, admin, role="practice_admin")
    admin = await fresh_login(api, admin, role="practice_admin")
    waiting: dict[str, LoggedIn] = {}
    for n in range(5):  # queued in the same instant: the id decides the order
        client = await signed_up(api, "client", display_name=f"Waiting {n}")
        await submitted(api, client)
        queued = await api.post(
            "/api/v1/matches", json={"mode": "queue", "practice_id": owner.practice_id}, headers=client.headers
        )
        assert queued.status_code == 201, queued.text
        waiting[queued.json()["id"]] = client

    async def leave_queue(match_id: str) -> None:  # a newer request closes the queued one
        asked = await api.post("/api/v1/matches", json={"mode": "suggest"}, headers=waiting[match_id].headers)
        assert asked.status_code == 201, asked.text

    path = f"/api/v1/practices/{owner.practice_id}/match-queue"
    await _remove_mid_walk(api, path, admin, leave_queue, key="match_id")


async def test_waitlist_entries_and_offers_page_in_sql_order(clocked_api):
    api = clocked_api
    owner = await signed_up(api, "therapist")
    await bookable_therapist(api, owner)
    waiting: dict[str, LoggedIn] = {}
    for _ in range(5):  # joined in the same instant: the id decides the order
        client = await signed_up(api, "client")
        joined = await api.post(
            f"/api/v1/therapists/{owner.id}/waitlist", json={"durations": [50]}, headers=client.headers
        )
        assert joined.status_code == 201, joined.text
        waiting[joined.json()["id"]] = client

    async def leave(entry_id: str) -> None:
        left = await api.delete(f"/api/v1/waitlist/{entry_id}", headers=waiting.pop(entry_id).headers)
        assert left.status_code == 204, left.text

    await _remove_mid_walk(api, "/api/v1/waitlist", owner, leave)

    waiter = next(iter(waiting.values()))  # one still waiting
    holder = await signed_up(api, "client")
    for day in (11, 7, 9, 8, 10):  # each cancellation offers its time to the waiting clients
        booked = await api.post(
            "/api/v1/appointments", json=booking(owner, f"2026-12-{day:02d}T15:00:00Z"), headers=holder.headers
        )
        assert booked.status_code == 201, booked.text
        cancelled = await api.post(
            f"/api/v1/appointments/{booked.json()['id']}/cancel", json={}, headers=holder.headers
        )
        assert cancelled.status_code == 200, cancelled.text

    async def claim(offer_id: str) -> None:
        claimed = await api.post(f"/api/v1/waitlist/offers/{offer_id}/claim", headers=waiter.headers)
        assert claimed.status_code == 201, claimed.text

    await _remove_mid_walk(api, "/api/v1/waitlist/offers", waiter, claim)


async def test_notes_todo_pages_in_sql_order(clocked_api, clock, database_url):
    api = clocked_api
    care = await in_care(api)
    for day in (5, 2, 4, 3):  # with the session in_care booked on 1 Dec
        booked = await api.post(
            "/api/v1/appointments",
            json=booking(care.therapist, f"2026-12-0{day}T15:00:00Z"),
            headers=care.client.headers,
        )
        assert booked.status_code == 201, booked.text
    conn = await asyncpg.connect(database_url)
    try:  # held and completed: how they got there is not what this test is about
        await conn.execute(
            "UPDATE appointments SET status = 'completed' WHERE therapist_id = $1", uuid.UUID(care.therapist.id)
        )
    finally:
        await conn.close()
    clock.set(datetime(2026, 12, 10, 15, 0, tzinfo=UTC))  # every note is overdue
    await relogin(api, care.therapist)
    draft = {"template": "free", "fields": {"text": "Seen"}, "ratings": []}

    async def sign(appointment_id: str) -> None:
        note = await api.put(
            f"/api/v1/appointments/{appointment_id}/note",
            json=draft,
            headers={**care.therapist.headers, "If-Match": '"v0"'},
        )
        assert note.status_code == 200, note.text
        signed = await api.post(f"/api/v1/notes/{note.json()['id']}/sign", headers=care.therapist.headers)
        assert signed.status_code == 200, signed.text

    await _remove_mid_walk(api, "/api/v1/notes/todo", care.therapist, sign, key="appointment_id")
