"""A database error logged by the app carries none of the statement's values: they are users' data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import structlog
from sqlalchemy.exc import DBAPIError

from infra.db.engine import create_engine
from infra.logging import configure_logging

CANARY = "canary-F41.1-at-home"


async def _logged_failure(database_url: str, statement: str, capsys: pytest.CaptureFixture[str]) -> str:
    configure_logging("INFO", json=True)
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(DBAPIError) as caught:
            async with engine.begin() as conn:
                await conn.execute(sa.text(statement), {"value": CANARY})
    finally:
        await engine.dispose()
    # What the app's handler of unexpected errors (api/errors.py) writes for a 500, traceback included.
    structlog.get_logger("hearth.errors").error("unhandled_error", exc_info=caught.value)
    line = capsys.readouterr().err
    assert "violates" in line and "[SQL:" in line, "the line is the failed statement's"
    return line


async def test_a_failing_statements_log_line_lacks_its_bound_values(database_url, capsys):
    # The second row repeats the first one's id; the canary is a bound value in another column.
    line = await _logged_failure(
        database_url,
        "INSERT INTO data_keys (id, kek_id, wrapped, version, created_at) "
        "SELECT '00000000-0000-0000-0000-000000000001', :value, '', 1, now() FROM generate_series(1, 2)",
        capsys,
    )
    assert "uq_" in line or "pk_data_keys" in line, "the constraint's name stays, for operators"
    assert CANARY not in line


async def test_a_violated_constraints_log_line_lacks_the_rows_values(database_url, capsys):
    # PostgreSQL's DETAIL would quote the whole failing row, canary included.
    line = await _logged_failure(
        database_url,
        "INSERT INTO idempotency_keys (user_id, key, operation, request_hash, created_at) "
        "VALUES (gen_random_uuid(), :value, 'test', NULL, now())",
        capsys,
    )
    assert "request_hash" in line
    assert CANARY not in line
