#!/usr/bin/env bash
# Create .venv and install pinned Python dependencies (re-run only when requirements change).
# With --system (and root), also install the Debian packages tests need: Chromium for Playwright,
# a CJK font for posters, the PostgreSQL client for the backup drill, and GNU gettext (msgfmt) for
# makemessages/compilemessages (the compiled .mo files are committed, so `make demo` needs none of it).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

if [[ "${1:-}" == "--system" ]]; then
  missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
  command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)
  command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
  # Compose v1 validates docker-compose.yml offline (no Docker engine runs on CI machines).
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  if (( ${#missing[@]} )); then
    if [[ "$(id -u)" == "0" ]]; then
      echo "bootstrap: installing system packages: ${missing[*]}"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "bootstrap: missing system packages (not root, not installing): ${missing[*]}"
    fi
  fi
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat $stamp)" != "$want" ]]; then
  echo "bootstrap: installing Python dependencies"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements/dev.txt
  echo "$want" > "$stamp"
fi
