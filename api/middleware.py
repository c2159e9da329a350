"""ASGI middleware: request ids, an access log without URLs' secrets, the body size limit, security headers."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from typing import Any

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.docs import DOCS_URL, REDOC_URL, swagger_page
from api.errors import problem

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = structlog.get_logger("hearth.access")


class RequestContextMiddleware:
    """Gives every request an id (kept from X-Request-ID when sane), logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status: dict[str, int] = {}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            # A socket's frames carry no headers: skip the wrapper, one await less on every frame sent.
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            route = scope.get("route")
            access_log.info(
                "request",
                method=scope.get("method", "WS"),
                # The route template, never the raw path: paths and queries can carry tokens.
                route=getattr(route, "path", None) or "unmatched",
                status=status.get("code"),
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit with 413, whether or not Content-Length tells the truth.

    The body is read up front (it is small by definition) so the refusal happens before any
    handler runs; the handler then reads the buffered copy.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        buffered: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = problem(
            Request(scope),
            413,
            "payload_too_large",
            f"The request body is larger than {self.max_bytes} bytes.",
            headers={"Connection": "close"},
        )
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _header(scope: Scope, name: bytes) -> Any:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


# Stripe.js and its frames come from these origins (the CSP section of Stripe's integration security guide,
# https://docs.stripe.com/security/guide); the card form's calls go to api.stripe.com.
_STRIPE_SCRIPTS = "https://js.stripe.com https://*.js.stripe.com"
_STRIPE_FRAMES = f"{_STRIPE_SCRIPTS} https://hooks.stripe.com"
_COMMON_CSP = "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
# API answers are data, never documents: nothing in them may load or run anything, nor be framed.
_API_CSP = "default-src 'none'; frame-ancestors 'none'"
_VALID_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_IMMUTABLE = "public, max-age=31536000, immutable"
_HSTS = "max-age=31536000"


class SecurityHeadersMiddleware:
    """The protective headers on every HTTP response (ADR 19).

    Everywhere: no sniffing, no referrer (invitation and calendar-feed addresses carry their token), no framing,
    camera and microphone for this origin only, a browsing context of its own, and HSTS when `https_only` (the
    public URL is https). The SPA's pages get its Content-Security-Policy (scripts from itself and Stripe only,
    nothing inline), /docs and /redoc a policy of their own (Swagger UI and ReDoc, from this origin too), API
    answers one that lets them load nothing. Caching, unless the handler chose: API answers `no-store` (private
    data; the ETag and If-Match of versioned resources still work), the SPA's content-hashed /assets/ a year,
    everything else `no-cache` (index.html is revalidated, so a deploy shows at once)."""

    def __init__(self, app: ASGIApp, https_only: bool) -> None:
        self.app = app
        self.https_only = https_only
        self._docs_csp: dict[tuple[int, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Read before the app runs: routing and mounts rewrite parts of the scope.
        path: str = scope["path"]
        csp = self._csp(scope, path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": self._headers(path, csp, message)}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, path: str, csp: str, start: Message) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = list(start.get("headers", []))
        present = {key.lower() for key, _ in headers}
        added = {
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
            "permissions-policy": "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()",
            "cross-origin-opener-policy": "same-origin",
            "content-security-policy": csp,
            "cache-control": _cache_control(path, start["status"]),
        }
        if self.https_only:
            added["strict-transport-security"] = _HSTS
        headers.extend((name.encode(), value.encode()) for name, value in added.items() if name.encode() not in present)
        return headers

    def _csp(self, scope: Scope, path: str) -> str:
        if path.startswith("/api/"):
            return _API_CSP
        app = scope.get("app")
        if app is not None and path == DOCS_URL:
            return self._swagger_csp(app, scope.get("root_path", ""))
        if path == REDOC_URL:
            # ReDoc's styles are injected <style> elements (styled-components), its search runs in a blob: worker.
            return (
                "default-src 'self'; script-src 'self'; worker-src blob:; style-src 'self' 'unsafe-inline'; "
                f"img-src 'self' data:; connect-src 'self'; {_COMMON_CSP}"
            )
        return (
            f"default-src 'self'; script-src 'self' {_STRIPE_SCRIPTS}; style-src 'self'; "
            f"img-src 'self' data: blob:; media-src 'self' blob:; "
            f"connect-src 'self' {self._socket_origin(scope)} https://api.stripe.com; "
            f"frame-src {_STRIPE_FRAMES}; {_COMMON_CSP}"
        )

    def _socket_origin(self, scope: Scope) -> str:
        """The live socket's origin, spelled out: CSP Level 3 lets 'self' match ws(s) of the same host, browsers
        before it (Safari < 15.4) do not. The page's own Host, when it is a plain host[:port]."""
        host = _header(scope, b"host")
        if not host or not _VALID_HOST.match(host):
            return ""
        secure = self.https_only or scope.get("scheme") == "https"
        return f"{'wss' if secure else 'ws'}://{host}"

    def _swagger_csp(self, app: Any, root_path: str) -> str:
        """Swagger UI's page starts it with an inline script: allowed by its hash, nothing else inline runs. Its
        files are Hearth's own (ADR 22): no other origin is allowed."""
        key = (id(app), root_path)
        if key not in self._docs_csp:
            page = bytes(swagger_page(app, root_path).body).decode()
            hashes = " ".join(f"'sha256-{_sha256(script)}'" for script in _INLINE_SCRIPT.findall(page))
            self._docs_csp[key] = (
                f"default-src 'self'; script-src 'self' {hashes}; "
                # Swagger UI sets inline styles (swagger-api/swagger-ui#3370); its page shows no private data.
                f"style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; {_COMMON_CSP}"
            )
        return self._docs_csp[key]


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _cache_control(path: str, status: int) -> str:
    if path.startswith("/api/"):
        return "no-store"
    if path.startswith("/assets/") and (200 <= status < 300 or status == 304):
        return _IMMUTABLE
    return "no-cache"
