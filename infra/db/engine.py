"""Engine construction from the plain libpq URL that operators configure."""

from __future__ import annotations

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


def sqlalchemy_url(database_url: str) -> str:
    """`postgresql://...` (libpq form, unix sockets via ?host=) -> the asyncpg dialect URL."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres", "postgresql+asyncpg"):
        url = url.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {url.drivername}://")
    return url.render_as_string(hide_password=False)


def create_engine(database_url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping (a round trip per checkout); dead connections are recycled and surface as errors once.
        pool_recycle=1800,
        # A failed statement's message otherwise ends in `[parameters: ...]`, and the handler of unexpected errors
        # logs it: bound values are users' data (emails, codes, answers), which must not reach the logs.
        hide_parameters=True,
    )
    event.listen(engine.sync_engine, "handle_error", _drop_row_values)
    return engine


def _drop_row_values(context: ExceptionContext) -> None:
    # PostgreSQL's DETAIL quotes the values of the offending row or key ("Failing row contains (...)", "Key
    # (email)=(...) already exists"), and asyncpg's error prints it: a logged traceback would carry them despite
    # hide_parameters. Constraint names stay in the message, which is what repositories match on.
    error: BaseException | None = context.original_exception
    while error is not None:
        if isinstance(error, asyncpg.PostgresError):
            error.detail = None
        error = error.__cause__


def session_factory(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
