# syntax=docker/dockerfile:1
# IAM Portal production image: gunicorn serving iam_portal.wsgi on port 8000, as a non-root user.
#   docker build -t iam-portal .
# Configuration comes from the environment at run time (see .env.example and README "Production").

# Both stages use the same image: the venv's python links to that image's interpreter.
ARG PYTHON_IMAGE=python:3.12-slim

# --- builder: resolve the locked runtime dependencies into /app/.venv --------------------------------
FROM ${PYTHON_IMAGE} AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# --- runtime: the same Python, the venv and the application code ---------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/app/.venv/bin:$PATH"
RUN useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin iam
WORKDIR /app
# Code and static files stay owned by root: the server process can read them, not change them.
COPY --from=builder /app/.venv /app/.venv
COPY . /app
# The throwaway key exists only for this step; the running container needs a real SECRET_KEY.
RUN DEBUG=false SECRET_KEY=collectstatic-build-step-only-not-a-secret \
    python manage.py collectstatic --noinput

USER iam
EXPOSE 8000
# /healthz answers 200 when the database is reachable. It is answered before Django's host check, and the probe
# follows GUNICORN_BIND's port (no curl in slim images: a few lines of standard-library Python).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "iam_portal.healthcheck"]
# Settings in gunicorn.conf.py: GUNICORN_BIND (default 0.0.0.0:8000), WEB_CONCURRENCY sync workers (default 3), logs to stdout.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "iam_portal.wsgi"]
