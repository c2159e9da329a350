"""With the SPA mounted (as in production), a wrong method on an API path is the router's 405 with every method
the path answers in `Allow`, an unknown API path a problem+json 404, and client routes still get index.html."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.bootstrap import Settings
from api.main import create_app
from tests.support.server import serve

INDEX = "<!doctype html><title>Hearth SPA</title>"


@pytest.fixture
async def with_spa(settings: Settings, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    spa = tmp_path / "spa"
    (spa / "assets").mkdir(parents=True)
    (spa / "index.html").write_text(INDEX)
    (spa / "assets" / "app.js").write_text("console.log('hearth')")
    app = create_app(settings.model_copy(update={"spa_dir": spa}))
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "method,path,allow",
    [
        ("GET", "/api/v1/calendar-feeds", "DELETE, POST"),
        ("PUT", "/api/v1/calendar-feeds", "DELETE, POST"),
        ("GET", "/api/v1/auth/token", "POST"),
        ("PATCH", "/api/v1/me", "GET, PUT"),
        ("DELETE", "/api/v1/me", "GET, PUT"),
        ("PATCH", "/api/v1/therapists/me/profile", "GET, PUT"),
        # A path with a parameter: the methods of every route whose pattern matches.
        ("PUT", "/api/v1/appointments/6f1c1a52-3c55-4d4c-9d8e-2a1f9b1e7a01", "GET"),
    ],
)
async def test_a_wrong_method_on_an_api_path_is_405_with_the_real_methods(with_spa, method, path, allow):
    response = await with_spa.request(method, path)
    _problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow


async def test_unknown_api_paths_stay_problem_404(with_spa):
    for path in ("/api/v1/nothing-here", "/api/v1", "/api/nothing.js"):
        _problem(await with_spa.get(path), 404, "not_found")


async def test_the_spa_still_serves_its_files_and_client_routes(with_spa):
    for path in ("/", "/therapist/calendar", "/client/waitlist"):
        page = await with_spa.get(path)
        assert page.status_code == 200 and page.text == INDEX, path
    asset = await with_spa.get("/assets/app.js")
    assert asset.status_code == 200 and "hearth" in asset.text
    assert (await with_spa.get("/assets/missing.js")).status_code == 404
    # A client route is static content: GET and HEAD only.
    assert (await with_spa.post("/therapist/calendar")).status_code == 405
