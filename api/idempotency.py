"""`Idempotency-Key` for creating POSTs: the same key and body replays the first answer; the same key
with another body is `422 idempotency_key_reused`; a retry racing the first request waits its turn. A key is
remembered for a retention period (`HEARTH_IDEMPOTENCY_RETENTION_HOURS`); after it, the key is a new request."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api.errors import PROBLEM_JSON, ApiProblem, domain_problem, status_for
from domain.shared.errors import DomainError
from domain.shared.principal import Principal

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retry safely: the same key and body returns the first response; the operation (a booking, a "
        "payment) happens once. A key is remembered for 24 hours (the default retention); after that it starts a "
        "new request",
    ),
]
"""The header of every creating POST that runs through `run_idempotent`."""


class StoredResponse(Protocol):
    @property
    def request_hash(self) -> str: ...

    @property
    def status_code(self) -> int | None:
        """None while the first request is still running."""

    @property
    def body(self) -> Any:
        """The answer's JSON; for an error, `{"problem": <its body as sent>, "headers": {...}}` (an error stored
        before that shape is `{"code", "detail"}`)."""


class IdempotencyStore(Protocol):
    async def begin(
        self, user_id: uuid.UUID, key: str, operation: str, request_hash: str, now: datetime
    ) -> StoredResponse | None:
        """Claim the key (None) or return what is stored under it. A key older than the retention period is
        claimed anew, as if it had never been used."""

    async def finish(
        self,
        user_id: uuid.UUID,
        key: str,
        operation: str,
        request_hash: str,
        status_code: int,
        body: Any,
        now: datetime,
    ) -> None:
        """Keep the answer to replay it; it may hold private data, so the store must not keep it readable."""

    async def abandon(self, user_id: uuid.UUID, key: str, operation: str) -> None: ...


def request_hash(body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# Per response, not part of the answer: a replay has its own.
_NOT_REPLAYED = frozenset({"content-length", "content-type", "x-request-id"})
REPLAYED = {"Idempotent-Replayed": "true"}


async def run_idempotent(
    request: Request,
    store: IdempotencyStore,
    now: datetime,
    principal: Principal,
    key: str | None,
    operation: str,
    body: BaseModel,
    status_code: int,
    create: Callable[[], Awaitable[BaseModel | tuple[BaseModel, int]]],
) -> Response:
    """`create` answers its result, answered with `status_code`, or a result and the status it is answered with
    (an operation that may find what it would create: `201` or `200`)."""
    if key is None:
        result, status_code = _answer(await create(), status_code)
        # Serialised once, in pydantic-core: the same JSON as the dict path below, without the dict in between.
        return Response(result.model_dump_json(), status_code=status_code, media_type="application/json")
    digest = request_hash(body)
    stored = await store.begin(principal.user_id, key, operation, digest, now)
    if stored is not None:
        if stored.request_hash != digest:
            raise ApiProblem(422, "idempotency_key_reused", "This Idempotency-Key was used with another request.")
        if stored.status_code is None:
            raise ApiProblem(
                409, "idempotency_in_progress", "A request with this key is still running.", {"Retry-After": "1"}
            )
        if stored.status_code >= 400:
            return _replayed_problem(stored.status_code, stored.body)
        return JSONResponse(stored.body, status_code=stored.status_code, headers=REPLAYED)
    try:
        result, status_code = _answer(await create(), status_code)
    except DomainError as exc:
        status = status_for(exc)
        if status >= 500 or status == 429:  # passing: a retry should run again
            await store.abandon(principal.user_id, key, operation)
            raise
        # The whole answer, as sent: its body byte for byte (`errors`, the first request's id) and its headers.
        answer = domain_problem(request, exc)
        headers = {name: value for name, value in answer.headers.items() if name not in _NOT_REPLAYED}
        stored_problem = {"problem": bytes(answer.body).decode(), "headers": headers}
        await store.finish(principal.user_id, key, operation, digest, status, stored_problem, now)
        return answer
    except BaseException:
        await store.abandon(principal.user_id, key, operation)
        raise
    payload = result.model_dump(mode="json")
    await store.finish(principal.user_id, key, operation, digest, status_code, payload, now)
    return JSONResponse(payload, status_code=status_code)


def _answer(outcome: BaseModel | tuple[BaseModel, int], status_code: int) -> tuple[BaseModel, int]:
    return outcome if isinstance(outcome, tuple) else (outcome, status_code)


def _replayed_problem(status: int, stored: dict[str, Any]) -> Response:
    if "problem" not in stored:  # stored before whole answers were: its code and detail only
        raise ApiProblem(status, stored["code"], stored["detail"], dict(REPLAYED))
    return Response(
        stored["problem"], status_code=status, media_type=PROBLEM_JSON, headers={**stored["headers"], **REPLAYED}
    )
