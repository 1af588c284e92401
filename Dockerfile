# syntax=docker/dockerfile:1
#
# One image for every service of 能力評価システム (identity, consent, application, judgement,
# notification, document, portal). The entrypoint is `python -m`; the service and its command
# are the container's command, e.g.
#
#   docker run --rm -e JUDGEMENT_HTTP_HOST=0.0.0.0 ... noryoku-hyoka judgement serve
#
# (docker-compose.yml sets `command: ["judgement", "serve"]` for each service.)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
# builder: resolve the locked workspace into /app/.venv (non-editable, no dev group)
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

# Same uv as the one that wrote uv.lock.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

# UV_PYTHON_DOWNLOADS=never: use the image's CPython, which is the same path in the runtime stage
# (/usr/local/bin/python3.11), so the venv's interpreter symlink stays valid after the copy.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# 1) Third-party dependencies only: this layer is rebuilt when the lock or a manifest changes,
#    not on every source edit. uv needs every member's pyproject.toml to read the workspace.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/pyproject.toml
COPY services/identity/pyproject.toml services/identity/pyproject.toml
COPY services/consent/pyproject.toml services/consent/pyproject.toml
COPY services/application/pyproject.toml services/application/pyproject.toml
COPY services/judgement/pyproject.toml services/judgement/pyproject.toml
COPY services/notification/pyproject.toml services/notification/pyproject.toml
COPY services/document/pyproject.toml services/document/pyproject.toml
COPY services/portal/pyproject.toml services/portal/pyproject.toml
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace

# 2) The workspace members themselves, installed as wheels (--no-editable) so the runtime
#    stage needs /app/.venv only, not the source tree.
COPY shared/ shared/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# ---------------------------------------------------------------------------------------------
# runtime: slim Python + the Japanese fonts the notices (Typst) are set in
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="noryoku-hyoka" \
      org.opencontainers.image.description="能力評価システム services (python -m <service> serve)"

# fonts-noto-cjk: the Japanese glyphs of every PDF (Typst finds the system fonts itself, embeds
# and subsets them; no Pango or HarfBuzz library is needed since WeasyPrint went).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged user; the venv stays owned by root so the process cannot modify its own code.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

COPY --from=builder /app/.venv /app/.venv

ENV PATH=/app/.venv/bin:$PATH \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /app
USER 10001:10001

# Service ports: portal 8000, identity 8001, consent 8002, application 8003, judgement 8004,
# notification 8005, document 8006. Each listens on <SERVICE>_HTTP_HOST, which must be 0.0.0.0
# in a container.
EXPOSE 8000 8001 8002 8003 8004 8005 8006

# No default service: the command names it, e.g. ["judgement", "serve"].
ENTRYPOINT ["python", "-m"]
