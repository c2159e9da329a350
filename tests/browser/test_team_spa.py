"""Runs frontend/e2e/team.spec.ts in real Chromium against the real app and SPA, with email going to a real SMTP
server. The operator's step is done here, as `hearth practice create-group` does it (the same service call); the
spec reads every invitation link from the mail the server received, through a small read-only mailbox endpoint
served by this harness (the app knows nothing of it)."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.main import create_app
from tests.support.playwright import FRONTEND, run_playwright
from tests.support.server import serve
from tests.support.smtp_server import SmtpServer, free_port, smtp_server

pytestmark = pytest.mark.browser


def mailbox_app(smtp: SmtpServer) -> Starlette:
    async def messages(request: Request) -> JSONResponse:
        to = request.query_params.get("to", "").lower()
        found = [
            {"to": r.rcpt_tos, "subject": str(r.message["Subject"]), "text": r.message.get_content()}
            for r in smtp.received
            if to in [t.lower() for t in r.rcpt_tos]
        ]
        return JSONResponse(found)

    return Starlette(routes=[Route("/messages", messages)])


async def test_team_spec(settings):
    assert (FRONTEND / "dist" / "index.html").is_file(), "the SPA is not built: run `make test`"
    port = free_port()  # the app must know its own address up front: it is in every invitation link
    with smtp_server() as smtp:
        configured = settings.model_copy(
            update={
                "spa_dir": FRONTEND / "dist",
                "public_url": f"http://127.0.0.1:{port}",
                "email_backend": "smtp",
                "smtp_host": smtp.host,
                "smtp_port": smtp.port,
                "smtp_security": "none",
            }
        )
        app = create_app(configured)
        async with serve(app, port=port) as url, serve(mailbox_app(smtp)) as mailbox:
            made = await app.state.container.invitations.create_group(
                "Riverbend Counseling Group", "pat.admin@example.com", "Pat"
            )
            assert made.issued is not None
            seed = {
                "practice_id": str(made.practice.id),
                "practice_name": made.practice.name,
                "admin_email": "pat.admin@example.com",
                "mailbox_url": mailbox,
            }
            await run_playwright(url, ["e2e/team.spec.ts"], {"HEARTH_TEAM_SEED": json.dumps(seed)}, timeout=600)
