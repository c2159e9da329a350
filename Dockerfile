# syntax=docker/dockerfile:1

# --- Stage 1: the SPA -------------------------------------------------------------------------
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
# Manifests first, so editing the SPA's sources does not invalidate the `npm ci` layer.
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci
COPY frontend/ ./
RUN npm run build

# --- Stage 2: the API server, serving the built SPA -------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The sources are only needed to build the wheel; the image runs the installed package.
COPY pyproject.toml README.md /tmp/hearth/
COPY api /tmp/hearth/api
COPY domain /tmp/hearth/domain
COPY infra /tmp/hearth/infra
COPY migrations /tmp/hearth/migrations
RUN pip install /tmp/hearth && rm -rf /tmp/hearth

# A fixed numeric uid lets orchestrators verify runAsNonRoot and lets operators make the JWT
# key file readable by exactly this user.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/hearth --create-home hearth

WORKDIR /app
COPY --from=frontend /src/frontend/dist /app/frontend/dist

# HEARTH_DATA_DIR must be writable: without DATABASE_URL or a key file (a plain `docker run`),
# Hearth keeps its embedded PostgreSQL and development signing key there.
ENV HEARTH_SPA_DIR=/app/frontend/dist \
    HEARTH_DATA_DIR=/var/lib/hearth

USER 10001
EXPOSE 8000

# `serve` migrates before it listens, so give a fresh database time before counting failures.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["hearth", "serve", "--host", "0.0.0.0", "--port", "8000"]
