# inbox-watchdog: the daemon, its HTTP endpoints and the SQLite database in a volume.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    WATCHDOG_CONFIG=/etc/watchdog/watchdog.toml

RUN useradd --system --create-home --home-dir /var/lib/watchdog --uid 10001 watchdog

WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY watchdog ./watchdog
COPY rules ./rules
COPY migrations ./migrations
RUN pip install --no-cache-dir '.[postgres]' && rm -rf /src

USER watchdog
WORKDIR /var/lib/watchdog
VOLUME ["/var/lib/watchdog"]
EXPOSE 8080

# The config file is mounted at /etc/watchdog/watchdog.toml; with the default
# database url the SQLite file lands in the volume. [web] listen must be
# "0.0.0.0:8080" inside a container for the port to be reachable.
HEALTHCHECK --interval=60s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"

CMD ["watchdog", "run"]
