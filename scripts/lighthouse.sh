#!/usr/bin/env bash
# `make lighthouse`: Lighthouse (mobile) on the eight key pages, figures into docs/quality.md.
#
# Builds a throwaway demo site in var/lighthouse/site (its own SQLite database, cache, broker folders,
# media and collected static files: `make demo`'s var/ is never touched), the way `make demo` seeds it
# (`seed_demo --history`) but served the way production serves pages: gunicorn, DEBUG off, whitenoise
# with the compressed, hashed static files (config/settings/lighthouse.py). Then `manage.py lighthouse`
# measures the pages (JSON into var/lighthouse/runs/) and scripts/lighthouse_report.py prints the table
# and rewrites the Lighthouse section of docs/quality.md.
#
# Needs Node 18.16+ with npm (Lighthouse 12.2.3 is pinned in tools/lighthouse/ and installed here with
# `npm ci`) and Debian's Chromium (CHROME_PATH, default /usr/bin/chromium; no browser is downloaded).
# Not part of `make test`: the figures are measured and reported, never asserted.
# Options: RUNS=N runs per page (default 3); NO_DOC=1 leaves docs/quality.md alone; arguments go to
# `manage.py lighthouse` (e.g. `--only home-visitor tiers`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

command -v npm >/dev/null 2>&1 || { echo "make lighthouse: needs Node 18.16+ and npm" >&2; exit 1; }
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
[[ -x "$CHROME_PATH" ]] || { echo "make lighthouse: no Chromium at $CHROME_PATH (apt-get install chromium)" >&2; exit 1; }
echo "make lighthouse: npm ci in tools/lighthouse"
(cd tools/lighthouse && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefer-offline --no-audit --no-fund --loglevel=error)

out="$PWD/var/lighthouse"
rm -rf "$out/site" "$out/runs"
mkdir -p "$out/site/celery/queue" "$out/site/celery/control" "$out/runs"
unset DATABASE_URL REDIS_URL STATIC_ROOT MEDIA_ROOT
export VAR_DIR="$out/site" DJANGO_SETTINGS_MODULE=config.settings.lighthouse
port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
export SITE_URL="$url"  # the demo lesson's media URL is absolute: it must name this server

echo "make lighthouse: a throwaway demo site in $VAR_DIR"
.venv/bin/python manage.py migrate --noinput >/dev/null
.venv/bin/python manage.py collectstatic --noinput >/dev/null  # seed_demo's covers need the manifest
.venv/bin/python manage.py seed_demo --history >"$out/seed.log" 2>&1 || { tail -20 "$out/seed.log" >&2; exit 1; }

.venv/bin/gunicorn config.wsgi --bind "127.0.0.1:$port" --workers 2 --access-logfile "$out/access.log" \
  >"$out/gunicorn.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  .venv/bin/python -c "import urllib.request; urllib.request.urlopen('$url/favicon.ico', timeout=2)" 2>/dev/null && break
  sleep 1
done

echo "make lighthouse: measuring $url (${RUNS:-3} runs per page)"
.venv/bin/python manage.py lighthouse --url "$url" --out "$out/runs" --runs "${RUNS:-3}" "$@"
if [[ -n "${NO_DOC:-}" ]]; then
  .venv/bin/python scripts/lighthouse_report.py "$out/runs"
else
  .venv/bin/python scripts/lighthouse_report.py "$out/runs" --doc docs/quality.md
fi
