"""Serves the built SPA from the same origin as the API, with client-side routes falling back
to index.html."""

from __future__ import annotations

from pathlib import Path

from starlette._utils import get_route_path
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class SpaFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            # Client routes like /therapist/calendar are the SPA's; a missing asset (a name with a dot) stays 404.
            if exc.status_code == 404 and "." not in Path(path).name:
                return await super().get_response("index.html", scope)
            raise


class SpaMount(Mount):
    """The catch-all mount of the SPA, which leaves /api/ alone. Mounted at "/" it fully matches every path, and
    Starlette prefers a full match over an API route's partial one (right path, wrong method): a wrong method on
    an API path was answered by the static files (404, or 405 with `Allow: GET, HEAD`) instead of the router's
    405. Unknown API paths now reach the router's 404 too."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_api_path(get_route_path(scope)):
            return Match.NONE, {}
        return super().matches(scope)


def spa_mount(directory: Path) -> SpaMount:
    return SpaMount("/", app=SpaFiles(directory=directory, html=True), name="spa")


def spa_available(directory: Path) -> bool:
    return (directory / "index.html").is_file()
