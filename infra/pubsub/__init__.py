"""MessageBus adapters (fan-out between API processes): PostgreSQL LISTEN/NOTIFY (default), Redis pub/sub
(scaled out) and an in-memory bus (tests, a single process). Events carry ids only; the bus is a doorbell, and
receivers read what changed from the database (see `core` for the delivery guarantees)."""
