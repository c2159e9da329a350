"""Engine construction from the plain libpq URL that operators configure."""

from __future__ import annotations

from sqlalchemy.engine import make_url
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
    return create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping (a round trip per checkout); dead connections are recycled and surface as errors once.
        pool_recycle=1800,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
