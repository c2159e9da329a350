"""Hot-path statements sent straight through asyncpg, inside the unit of work's own transaction.

A SQLAlchemy Core statement costs ~60-150 us of Python per execution on top of asyncpg's ~17 us (building it,
its cache key, the compiled-cache lookup, the execution context, the result wrapper). Booking sends about
twenty statements, so that overhead was most of its CPU. `FastStatement` compiles a Core statement (written
with `sa.bindparam`s, from `infra.db.tables` as usual) once, keeps SQLAlchemy's own bind and result
processors for its types (JSONB, for instance), and runs it on the session's asyncpg connection. Rows answer
attribute access like SQLAlchemy rows, so the repositories' row mapping is shared by both paths.

Use it only where a statement is hot; everything else stays plain SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from infra.jobs.queue import driver_connection

_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
_DRIVER_KEY = "hearth.driver_connection"
_NO_SNAPSHOT_KEY = "hearth.no_snapshot"


class Row(asyncpg.Record):  # type: ignore[misc]
    """An asyncpg record that also answers `row.column`, as a SQLAlchemy row does."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class ProcessedRow(dict[str, Any]):
    """A row whose values went through result processors (records are immutable)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class FastStatement:
    def __init__(self, statement: ClauseElement) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT))
        self.sql = str(compiled)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        # Values fixed in the statement itself (e.g. `.limit(1)`) are bind parameters too.
        self._fixed = {name: bind.value for name, bind in compiled.binds.items() if not bind.required}
        processors: Mapping[str, Any] = compiled._bind_processors
        self._binds: tuple[Callable[[Any], Any] | None, ...] = tuple(processors.get(name) for name in self.names)
        self._any_bind = any(self._binds)
        results: list[tuple[str, Callable[[Any], Any]]] = []
        for entry in compiled._result_columns or ():
            processor = entry[3]._cached_result_processor(_DIALECT, None)
            if processor is not None:
                results.append((entry[0], processor))
        self._results = tuple(results)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        try:
            values = [params[name] if name in params else self._fixed[name] for name in self.names]
        except KeyError as missing:
            raise TypeError(f"missing bind parameter {missing} for: {self.sql}") from None
        if self._any_bind:
            values = [p(v) if p is not None else v for p, v in zip(self._binds, values, strict=True)]
        return values

    def row(self, record: Any) -> Any:
        if not self._results:
            return record
        row = ProcessedRow(record.items())
        for name, processor in self._results:
            row[name] = processor(row[name])
        return row


def read_without_transaction(session: AsyncSession) -> None:
    """Fast statements of this session run outside a transaction (see UnitOfWork.without_snapshot)."""
    session.info[_NO_SNAPSHOT_KEY] = True


async def driver(session: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection with its transaction begun, looked up once per transaction."""
    # Checked without `session.connection()`: that call spawns a greenlet (~25 us), and booking sends a dozen
    # fast statements. The root transaction holds one connection for its whole life; once it is committed,
    # rolled back or failed, `get_transaction()` answers another object (or None) or `is_active` is False.
    cached = session.info.get(_DRIVER_KEY)
    if cached is not None:
        transaction = session.sync_session.get_transaction()
        if transaction is cached[0] and transaction is not None and transaction.is_active:
            found: asyncpg.Connection = cached[1]
            return found
    connection: AsyncConnection = await session.connection()
    if session.info.get(_NO_SNAPSHOT_KEY):
        # Not cached: a later SQLAlchemy statement may begin a transaction, and writes must join it.
        plain: asyncpg.Connection = (await connection.get_raw_connection()).driver_connection
        return plain
    raw = await driver_connection(connection)
    session.info[_DRIVER_KEY] = (session.sync_session.get_transaction(), raw)
    return raw


async def fetchrow(session: AsyncSession, statement: FastStatement, **params: Any) -> Any:
    """The first row (attribute access, as a SQLAlchemy row) or None."""
    record = await (await driver(session)).fetchrow(statement.sql, *statement.args(params), record_class=Row)
    return None if record is None else statement.row(record)


async def fetch(session: AsyncSession, statement: FastStatement, **params: Any) -> list[Any]:
    records = await (await driver(session)).fetch(statement.sql, *statement.args(params), record_class=Row)
    return [statement.row(record) for record in records]


async def fetchval(session: AsyncSession, statement: FastStatement, **params: Any) -> Any:
    return await (await driver(session)).fetchval(statement.sql, *statement.args(params))


async def execute(session: AsyncSession, statement: FastStatement, **params: Any) -> str:
    status: str = await (await driver(session)).execute(statement.sql, *statement.args(params))
    return status


# A transaction-scoped advisory lock on a 64-bit key (the audit chain, a therapist's calendar).
ADVISORY_XACT_LOCK = FastStatement(sa.select(sa.func.pg_advisory_xact_lock(sa.bindparam("key", type_=sa.BigInteger))))
