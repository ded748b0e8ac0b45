#!/usr/bin/env bash
# `make demo`: everything on embedded defaults — SQLite, a filesystem Celery broker, sandbox
# payments, demo data — plus a Celery worker and beat. Ctrl-C stops all of it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

unset DATABASE_URL REDIS_URL
export DJANGO_SETTINGS_MODULE=config.settings.demo
mkdir -p var/celery/queue var/celery/control var/media

.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo --history

pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; echo "demo stopped"; }
trap cleanup INT TERM EXIT

.venv/bin/celery -A config worker --loglevel=INFO --concurrency=1 --without-gossip --without-mingle > var/worker.log 2>&1 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel=INFO --scheduler django_celery_beat.schedulers:DatabaseScheduler \
  --schedule var/celerybeat-schedule > var/beat.log 2>&1 &
pids+=($!)

cat <<INFO

  知圈 Zhiquan demo is starting on http://127.0.0.1:8000
    operator (admin, dashboard): operator / zhiquan-demo-2026   http://127.0.0.1:8000/admin/
    dashboard:                   http://127.0.0.1:8000/ops/   (also ops 运营 / finance 财务, same password)
    member:                      member   / zhiquan-demo-2026   http://127.0.0.1:8000/accounts/login/
    API docs:                    http://127.0.0.1:8000/api/docs/
  Celery worker and beat log to var/worker.log and var/beat.log. Ctrl-C stops everything.

INFO
.venv/bin/python manage.py runserver 127.0.0.1:8000 --noreload &
pids+=($!)
wait "${pids[@]}"
