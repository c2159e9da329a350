"""The protective headers over real HTTP (ADR 19): on API answers, the SPA's index and its client routes, a hashed
asset, and the /docs and /redoc pages with the copies of Swagger UI and ReDoc they load (ADR 22). The browser side
(the SPA runs under its policy with no violation) is in the Playwright specs: messaging, billing and call
(tests/browser)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.bootstrap import Settings
from api.main import create_app
from api.middleware import SecurityHeadersMiddleware
from tests.support.playwright import FRONTEND
from tests.support.server import serve
from tests.support.users import signed_up

ASSET = "index-Ab12Cd34.js"


@pytest.fixture
def spa_dir(tmp_path: Path) -> Path:
    """A built SPA in miniature: index.html and one content-hashed asset, as Vite emits them."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(f'<!doctype html><script type="module" src="/assets/{ASSET}"></script>')
    (dist / "assets" / ASSET).write_text("console.log('hearth');")
    return dist


async def _client(settings: Settings, spa_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        serve(create_app(settings.model_copy(update={"spa_dir": spa_dir}))) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client


@pytest.fixture
async def web(settings: Settings, spa_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(settings, spa_dir):
        yield client


def _directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def _assert_everywhere(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    permissions = response.headers["permissions-policy"]
    assert "camera=(self)" in permissions and "microphone=(self)" in permissions
    assert _directives(response)["frame-ancestors"] == ["'none'"]
    # The public URL here is http: no HSTS (a browser ignores it over http, and it must not pin a test host).
    assert "strict-transport-security" not in response.headers


async def test_api_answers_are_never_stored_and_load_nothing_while_etags_still_work(web: httpx.AsyncClient):
    therapist = await signed_up(web, "therapist")
    read = await web.get("/api/v1/therapists/me/billing-settings", headers=therapist.headers)
    assert read.status_code == 200, read.text
    _assert_everywhere(read)
    assert read.headers["cache-control"] == "no-store"
    assert _directives(read)["default-src"] == ["'none'"]
    # Versioned resources keep their ETag, and If-Match with it still writes; a stale one is still refused.
    body = {"currency": "USD", "rates": [], "invoice_schedule": "per_charge"}
    saved = await web.put(
        "/api/v1/therapists/me/billing-settings",
        json=body,
        headers={**therapist.headers, "If-Match": read.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    assert saved.headers["etag"] != read.headers["etag"]
    assert saved.headers["cache-control"] == "no-store"
    stale = await web.put(
        "/api/v1/therapists/me/billing-settings",
        json=body,
        headers={**therapist.headers, "If-Match": read.headers["etag"]},
    )
    assert stale.status_code == 412
    assert stale.headers["cache-control"] == "no-store"
    # Tokens and errors are API answers too.
    refused = await web.get("/api/v1/me")
    assert refused.status_code == 401
    _assert_everywhere(refused)
    assert refused.headers["cache-control"] == "no-store"


async def test_a_calendar_feed_read_by_its_secret_address_is_not_stored(web: httpx.AsyncClient):
    therapist = await signed_up(web, "therapist")
    feed = await web.post("/api/v1/calendar-feeds", headers=therapist.headers)
    assert feed.status_code == 201
    calendar = await web.get(f"/api/v1/calendar/{feed.json()['token']}.ics")
    assert calendar.status_code == 200
    _assert_everywhere(calendar)
    assert calendar.headers.get_list("cache-control") == ["no-store"]


async def test_a_handlers_own_cache_control_is_kept():
    async def handler(request: Request) -> Response:
        return Response("{}", headers={"Cache-Control": "private, max-age=60"})

    app = SecurityHeadersMiddleware(Starlette(routes=[Route("/api/v1/thing", handler)]), https_only=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hearth.test") as client:
        response = await client.get("/api/v1/thing")
    assert response.headers.get_list("cache-control") == ["private, max-age=60"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_spa_runs_under_its_policy_and_its_index_is_revalidated(web: httpx.AsyncClient):
    for path in ("/", "/client/messages"):  # the index and a client route that falls back to it
        page = await web.get(path)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        _assert_everywhere(page)
        assert page.headers["cache-control"] == "no-cache"
        csp = _directives(page)
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"]
        assert csp["style-src"] == ["'self'"]
        assert set(csp["frame-src"]) >= {"https://js.stripe.com", "https://hooks.stripe.com"}
        host = web.base_url.netloc.decode()
        assert csp["connect-src"] == ["'self'", f"ws://{host}", "https://api.stripe.com"]
        assert csp["img-src"] == ["'self'", "data:", "blob:"]
        assert csp["media-src"] == ["'self'", "blob:"]
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
        assert csp["form-action"] == ["'self'"]
    # Revalidation still works: StaticFiles answers 304 to the index's own ETag.
    again = await web.get("/", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304


async def test_a_hashed_asset_is_cached_for_a_year_but_a_missing_one_is_not(web: httpx.AsyncClient):
    asset = await web.get(f"/assets/{ASSET}")
    assert asset.status_code == 200
    _assert_everywhere(asset)
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    missing = await web.get("/assets/index-Zz99Yy88.js")
    assert missing.status_code == 404
    assert "immutable" not in missing.headers["cache-control"]


async def test_a_forged_host_header_cannot_add_directives(web: httpx.AsyncClient):
    page = await web.get("/", headers={"Host": "evil.example; script-src *"})
    policy = page.headers["content-security-policy"]
    assert "evil.example" not in policy and "script-src *" not in policy


async def test_the_docs_pages_load_only_hearths_own_copies_of_swagger_ui_and_redoc(settings: Settings):
    """ADR 22: /docs and /redoc load Swagger UI and ReDoc from the built SPA's api-docs/, on this origin, and their
    policy names no other host; Swagger UI's one inline script runs by its hash."""
    dist = FRONTEND / "dist"
    assert (dist / "index.html").is_file(), "the SPA is not built: run `make test`"
    async for web in _client(settings, dist):
        docs = await web.get("/docs")
        assert docs.status_code == 200 and "text/html" in docs.headers["content-type"], docs.text
        _assert_everywhere(docs)
        csp = _directives(docs)
        inline = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
        assert len(inline) == 1
        digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
        assert csp["script-src"] == ["'self'", f"'sha256-{digest}'"]
        assert csp["style-src"] == ["'self'", "'unsafe-inline'"]  # Swagger UI's inline styles
        assert csp["connect-src"] == ["'self'"]  # "Try it out" calls this API only
        redoc = await web.get("/redoc")
        assert redoc.status_code == 200 and "text/html" in redoc.headers["content-type"], redoc.text
        assert _directives(redoc)["script-src"] == ["'self'"]

        kinds = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
        loaded = set()
        for page in (docs, redoc):
            policy = page.headers["content-security-policy"]
            assert not re.search(r"https?:|\*|cdn|fonts\.", policy), policy  # no host, no wildcard
            sources = re.findall(r'<script src="([^"]+)"', page.text) + re.findall(
                r'<link [^>]*href="([^"]+)"', page.text
            )
            assert sources, page.text
            for source in sources:
                assert source.startswith("/api-docs/"), source  # same origin, not protocol-relative either
                asset = await web.get(source)
                assert asset.status_code == 200, source
                assert asset.headers["content-type"].startswith(kinds[Path(source).suffix]), source
                loaded.add(source)
        assert len(loaded) == 4  # Swagger UI's script and styles, ReDoc's script, the favicon they share


async def test_without_a_built_spa_the_docs_pages_say_so(web: httpx.AsyncClient):
    for path in ("/docs", "/redoc"):
        missing = await web.get(path)  # the miniature SPA has no api-docs/
        assert missing.status_code == 404, path
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["code"] == "docs_not_built" and "make spa" in missing.json()["detail"]
    assert (await web.get("/openapi.json")).status_code == 200, "the contract itself needs no SPA"


async def test_hsts_only_when_the_public_url_is_https(settings: Settings, spa_dir: Path):
    https_settings = settings.model_copy(update={"public_url": "https://hearth.example.org"})
    async for client in _client(https_settings, spa_dir):
        for path in ("/", "/api/v1/me", f"/assets/{ASSET}"):
            response = await client.get(path)
            assert response.headers["strict-transport-security"] == "max-age=31536000", path
        # The page is served over https there: its socket is wss.
        assert f"wss://{client.base_url.netloc.decode()}" in (await client.get("/")).headers["content-security-policy"]
