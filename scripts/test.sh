#!/usr/bin/env bash
# `make test`: lint, type check, then the whole pytest suite on real PostgreSQL and Redis.
# Outside CI, unreachable services fall back to SQLite / no Redis and the skipped tests are listed;
# with CI=true a missing service is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --system

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/zhiquan_test}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export DJANGO_SETTINGS_MODULE=config.settings.test

services=$(.venv/bin/python scripts/check_services.py)
echo "make test: $services"
if [[ "$services" != *"postgres=ok"* || "$services" != *"redis=ok"* ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    echo "make test: CI needs PostgreSQL and Redis ($services)" >&2
    exit 1
  fi
  [[ "$services" == *"postgres=ok"* ]] || { echo "make test: PostgreSQL unreachable -> SQLite"; unset DATABASE_URL; }
  [[ "$services" == *"redis=ok"* ]] || { echo "make test: Redis unreachable -> tests marked 'redis' are skipped"; unset REDIS_URL; }
fi

echo "make test: ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "make test: mypy"
.venv/bin/mypy
echo "make test: migrations are complete"
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null
echo "make test: pytest"
.venv/bin/python -m pytest "$@"
