"""Login failures look alike and are throttled per account and per address."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator

import httpx

from tests.support.users import PASSWORD, login, register


def _strip_volatile(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "request_id"}


async def test_unknown_email_and_wrong_password_look_the_same(api):
    user = await register(api)
    wrong = await login(api, user["email"], "not the right passphrase")
    unknown = await login(api, "nobody-here@example.com", "not the right passphrase")
    assert wrong.status_code == unknown.status_code == 401
    assert _strip_volatile(wrong.json()) == _strip_volatile(unknown.json())
    assert wrong.json()["code"] == "invalid_credentials"


async def test_unknown_email_costs_a_password_hash_too(api):
    user = await register(api)

    async def timed(email: str) -> float:
        started = time.perf_counter()
        await login(api, email, "not the right passphrase")
        return time.perf_counter() - started

    known = [await timed(user["email"]) for _ in range(3)]
    unknown = [await timed(f"ghost{i}@example.com") for i in range(3)]
    # Not a benchmark: only that neither path skips the hash (which would make it several times faster).
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.33 < ratio < 3, (known, unknown)


async def test_account_is_throttled_after_repeated_failures(api):
    user = await register(api)
    for _ in range(5):
        assert (await login(api, user["email"], "wrong passphrase here")).status_code == 401
    blocked = await login(api, user["email"], PASSWORD)
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"
    assert int(blocked.headers["retry-after"]) > 0
    assert blocked.json()["code"] == "rate_limited"


async def test_concurrent_guesses_cannot_outrun_the_account_limit(api):
    # All at once: each guess must count before its (slow) password check, or all of them pass the limit.
    user = await register(api)
    answers = await asyncio.gather(*(login(api, user["email"], f"guess number {i:02d}") for i in range(20)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(401) == 5 and codes.count(429) == 15, codes
    assert (await login(api, user["email"], PASSWORD)).status_code == 429


@contextlib.asynccontextmanager
async def _address_limit_of_four(settings, clock) -> AsyncIterator[httpx.AsyncClient]:
    from api.main import create_app
    from tests.support.server import serve

    tight = settings.model_copy(update={"login_max_failures_per_address": 4})
    async with serve(create_app(tight, clock=clock)) as url, httpx.AsyncClient(base_url=url, timeout=30) as api:
        yield api


async def test_address_is_throttled_across_accounts(settings, clock):
    async with _address_limit_of_four(settings, clock) as api:
        victim = await register(api)
        for i in range(4):
            await login(api, f"spray{i}@example.com", "wrong passphrase here")
        blocked = await login(api, victim["email"], PASSWORD)
        assert blocked.status_code == 429
        clock.advance(minutes=16)
        assert (await login(api, victim["email"], PASSWORD)).status_code == 200


async def test_success_on_the_attempt_reaching_the_address_limit_leaves_the_address_open(settings, clock):
    # A shared office address: colleagues' typos, then someone's right password on the attempt that reaches the limit.
    async with _address_limit_of_four(settings, clock) as api:
        user = await register(api)
        for i in range(3):
            assert (await login(api, f"colleague{i}@example.com", "wrong passphrase here")).status_code == 401
        assert (await login(api, user["email"])).status_code == 200
        assert (await login(api, user["email"])).status_code == 200


async def test_successes_do_not_launder_a_spray_from_one_address(settings, clock):
    # An attacker logging in to an account of their own between guesses gains no guesses from it.
    async with _address_limit_of_four(settings, clock) as api:
        own = await register(api)
        victim = await register(api)
        answers = []
        for i in range(4):
            answers.append((await login(api, f"spray{i}@example.com", "wrong passphrase here")).status_code)
            answers.append((await login(api, own["email"])).status_code)
        assert answers == [401, 200, 401, 200, 401, 200, 401, 429], answers
        assert (await login(api, victim["email"])).status_code == 429


async def test_success_resets_the_account_counter(api):
    user = await register(api)
    for _ in range(4):
        await login(api, user["email"], "wrong passphrase here")
    assert (await login(api, user["email"])).status_code == 200
    for _ in range(4):
        await login(api, user["email"], "wrong passphrase here")
    assert (await login(api, user["email"])).status_code == 200
