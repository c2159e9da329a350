"""What an Idempotency-Key replays of a refused request: the first answer's body and headers (the HTTP round trip
and the sealed store are tested in tests/e2e/scheduling)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

from api.idempotency import run_idempotent
from domain.shared.errors import AuthenticationFailed
from domain.shared.principal import Principal, Role

NOW = datetime(2026, 11, 28, tzinfo=UTC)


@dataclass
class Row:
    request_hash: str
    status_code: int | None = None
    body: Any = None


class MemoryStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[uuid.UUID, str, str], Row] = {}

    async def begin(self, user_id, key, operation, request_hash, now):
        found = self.rows.get((user_id, key, operation))
        if found is None:
            self.rows[(user_id, key, operation)] = Row(request_hash)
        return found

    async def finish(self, user_id, key, operation, request_hash, status_code, body, now):
        self.rows[(user_id, key, operation)] = Row(request_hash, status_code, body)

    async def abandon(self, user_id, key, operation):
        self.rows.pop((user_id, key, operation), None)


class Body(BaseModel):
    n: int


def request(request_id: str) -> Request:
    return Request(
        {"type": "http", "method": "POST", "path": "/api/v1/things", "headers": [], "state": {"request_id": request_id}}
    )


async def test_a_refusal_replays_with_its_headers():
    store, principal = MemoryStore(), Principal(uuid.uuid4(), Role.CLIENT, None)
    calls = 0

    async def refuse() -> Body:
        nonlocal calls
        calls += 1
        raise AuthenticationFailed("Log in again.", code="reauthentication_required")

    answers = []
    for request_id in ("first", "second"):
        answers.append(
            await run_idempotent(request(request_id), store, NOW, principal, "k", "things", Body(n=1), 201, refuse)
        )
    first, replay = answers
    assert calls == 1
    assert (replay.status_code, replay.body) == (first.status_code, first.body)
    assert first.status_code == 401
    assert b'"request_id":"first"' in replay.body
    assert first.headers["www-authenticate"] == replay.headers["www-authenticate"] == "Bearer"
    assert replay.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
