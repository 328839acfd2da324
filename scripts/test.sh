#!/usr/bin/env bash
# Install everything the test suite needs on a Debian/Ubuntu machine, then run it.
#
#   ./scripts/test.sh            the whole suite
#   ./scripts/test.sh -k config  any pytest arguments pass through
#
# Debian packages: dovecot-imapd (the real IMAP server the tests start),
# postgresql (initdb/pg_ctl for a throwaway cluster), python3-venv, openssl,
# systemd (systemd-analyze checks contrib/watchdog.service).
# Python packages go into ./.venv, never into the system Python.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/sbin/dovecot ] || command -v dovecot >/dev/null || missing+=(dovecot-imapd)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
command -v openssl >/dev/null || missing+=(openssl)
command -v systemd-analyze >/dev/null || missing+=(systemd)
python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,postgres]'
exec .venv/bin/python -m pytest "$@"
