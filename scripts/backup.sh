#!/usr/bin/env bash
# `make backup [FILE=…]` / `make restore FILE=…`: a consistent dump of the database and its restore.
#
# PostgreSQL (DATABASE_URL set): pg_dump's custom format (one consistent snapshot, compressed) and
# pg_restore --clean into the target database. Embedded SQLite (no DATABASE_URL): SQLite's online
# backup API, so a running demo can be backed up too.
set -euo pipefail
cd "$(dirname "$0")/.."

action="${1:-}"
file="${2:-}"
if [[ -z "${DATABASE_URL:-}" && -f .env ]]; then
  DATABASE_URL="$(grep -E '^DATABASE_URL=' .env | tail -1 | cut -d= -f2- || true)"
fi
database_url="${DATABASE_URL:-}"
python=".venv/bin/python"
[[ -x $python ]] || python=python3

sqlite_copy() {  # sqlite_copy FROM TO — online backup, safe while the demo writes
  "$python" - "$1" "$2" <<'PY'
import sqlite3, sys
source, target = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)
PY
}

case "$action" in
  backup)
    mkdir -p var/backups
    stamp="$(date +%Y%m%d-%H%M%S)"
    if [[ -n "$database_url" ]]; then
      file="${file:-var/backups/zhiquan-$stamp.dump}"
      pg_dump --format=custom --no-owner --file="$file" "$database_url"
    else
      file="${file:-var/backups/zhiquan-$stamp.sqlite3}"
      sqlite_copy var/db.sqlite3 "$file"
    fi
    echo "backup: wrote $file"
    ;;
  restore)
    if [[ -z "$file" || ! -f "$file" ]]; then
      echo "restore: give the dump to restore: make restore FILE=var/backups/…" >&2
      exit 2
    fi
    if [[ -n "$database_url" ]]; then
      # --clean --if-exists drops what the dump recreates, so a restore over an older copy is exact.
      pg_restore --clean --if-exists --no-owner --exit-on-error --single-transaction \
        --dbname="$database_url" "$file"
    else
      sqlite_copy "$file" var/db.sqlite3
    fi
    echo "restore: restored $file"
    ;;
  *)
    echo "usage: scripts/backup.sh backup [FILE] | restore FILE" >&2
    exit 2
    ;;
esac
