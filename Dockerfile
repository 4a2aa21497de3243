# syntax=docker/dockerfile:1
# Insatskollen for an association's server: `docker compose up -d` (see compose.yaml and the README).
# The app runs as an unprivileged user; everything that changes lives on the /data volume:
# the database and its snapshots, the referrer mapping edited on /data, the local accounts, the sign-in
# settings (auth.toml, secrets.toml) and the audit log.

# Python 3.11 as in development, pinned by tag and digest. To move to a newer patch release:
#   docker buildx imagetools inspect python:3.11-slim-bookworm   (and put its tag and digest here)
FROM python:3.11.13-slim-bookworm@sha256:cec9aa7aa96eea4fa036e9b82be1e6b325f2e3707f462d885868df51ec0a4b47

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FINSAM_DB=/data/finsam.duckdb \
    FINSAM_ACCOUNTS=/data/accounts.toml \
    FINSAM_AUTH_CONFIG=/data/auth.toml \
    FINSAM_AUDIT_DB=/data/audit.sqlite \
    FINSAM_REFERRERS=/data/referrers.csv \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

WORKDIR /app

# The time zone database: times are shown in Swedish time (zoneinfo, Europe/Stockholm).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tzdata \
 && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

RUN groupadd --system --gid 10001 insats \
 && useradd --system --uid 10001 --gid insats --create-home --home-dir /home/insats --shell /usr/sbin/nologin insats \
 && mkdir -p /data \
 && chown insats:insats /data \
 && chmod 0700 /data

# The code and the reference tables belong to root: the app user can read them, not change them.
COPY . .
RUN chmod -R a+rX,go-w /app
# OIDC settings (st.login) are read from /data/secrets.toml when it exists; without it, no OIDC.
RUN ln -sf /data/secrets.toml /app/.streamlit/secrets.toml

USER insats
VOLUME ["/data"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]
CMD ["streamlit", "run", "app.py"]
