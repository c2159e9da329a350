"""The server freezes its startup heap out of the garbage collector; apps made for tests do not."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, sys
    from api.bootstrap import load_settings
    from api.main import create_app

    async def main(freeze):
        settings = load_settings(
            env="test", database_url=sys.argv[1], data_dir=sys.argv[2], jobs_in_process=False, log_level="WARNING"
        )
        app = create_app(settings, freeze_heap=freeze)
        async with app.router.lifespan_context(app):
            print(gc.get_freeze_count())

    asyncio.run(main(sys.argv[3] == "freeze"))
    """
)


def _frozen_after_startup(database_url: str, data_dir: str, mode: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, database_url, data_dir, mode], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_only_the_server_freezes_its_startup_heap(database_url, tmp_path):
    assert _frozen_after_startup(database_url, str(tmp_path / "a"), "freeze") > 50_000
    assert _frozen_after_startup(database_url, str(tmp_path / "b"), "keep") == 0
