"""The API's documentation pages, /docs (Swagger UI) and /redoc (ADR 22): FastAPI's own page builders, pointed at
the copies of Swagger UI and ReDoc that the SPA's build puts in dist/api-docs/ (npm packages pinned, with their
hashes, by frontend/package-lock.json), so an operator's browser loads no code from a third party. A server
without a built SPA has no copies: the pages then answer 404 and say how to get them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from api.errors import problem

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
# Written by frontend/vite.config.ts (`API_DOCS`), served by the SPA's mount like any other file of dist/.
ASSETS = "/api-docs"
SWAGGER_JS = f"{ASSETS}/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = f"{ASSETS}/swagger-ui/swagger-ui.css"
FAVICON = f"{ASSETS}/swagger-ui/favicon-32x32.png"
REDOC_JS = f"{ASSETS}/redoc/redoc.standalone.js"
_NEEDED = (SWAGGER_JS, SWAGGER_CSS, FAVICON, REDOC_JS)


def docs_built(spa_dir: Path) -> bool:
    return all((spa_dir / asset.removeprefix("/")).is_file() for asset in _NEEDED)


def swagger_page(app: FastAPI, root_path: str) -> HTMLResponse:
    """The page at DOCS_URL. The security headers' middleware renders it too, to allow its inline script by hash."""
    root = root_path.rstrip("/")
    return get_swagger_ui_html(
        openapi_url=root + str(app.openapi_url),
        title=f"{app.title} - Swagger UI",
        swagger_js_url=root + SWAGGER_JS,
        swagger_css_url=root + SWAGGER_CSS,
        swagger_favicon_url=root + FAVICON,
        swagger_ui_parameters=app.swagger_ui_parameters,
    )


def redoc_page(app: FastAPI, root_path: str) -> HTMLResponse:
    root = root_path.rstrip("/")
    return get_redoc_html(
        openapi_url=root + str(app.openapi_url),
        title=f"{app.title} - ReDoc",
        redoc_js_url=root + REDOC_JS,
        redoc_favicon_url=root + FAVICON,
        with_google_fonts=False,  # the system's fonts: no request to Google
    )


def docs_router(spa_dir: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False, tags=["docs"])  # the tag only names the operations (api.openapi)
    built = docs_built(spa_dir)

    def page(request: Request, render: Callable[[FastAPI, str], HTMLResponse]) -> Response:
        if not built:
            return problem(
                request,
                404,
                "docs_not_built",
                "The documentation pages use Swagger UI and ReDoc from the built SPA, which this server does not "
                "have: build it (`make spa`; `make run` does) or set HEARTH_SPA_DIR. The API's contract is at "
                f"{request.scope.get('root_path', '').rstrip('/')}/openapi.json.",
            )
        return render(request.app, request.scope.get("root_path", ""))

    @router.get(DOCS_URL)
    async def swagger_ui(request: Request) -> Response:
        return page(request, swagger_page)

    @router.get(REDOC_URL)
    async def redoc(request: Request) -> Response:
        return page(request, redoc_page)

    return router
