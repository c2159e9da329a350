"""Serves the built SPA from the same origin as the API, with client-side routes falling back
to index.html."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class SpaFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            # Client routes like /therapist/calendar are the SPA's; unknown API paths stay 404.
            if exc.status_code == 404 and not path.startswith("api/") and "." not in Path(path).name:
                return await super().get_response("index.html", scope)
            raise


def spa_available(directory: Path) -> bool:
    return (directory / "index.html").is_file()
