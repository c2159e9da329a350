"""PostgreSQL-backed background jobs (pgqueuer over asyncpg): schema, enqueue/cancel, worker."""
