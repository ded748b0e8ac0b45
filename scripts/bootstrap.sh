#!/usr/bin/env bash
# Create .venv and install the Python dependencies uv.lock pins (re-run only when pyproject.toml or
# uv.lock change).
# With --system (and root), also install the Debian packages tests need: Chromium for Playwright,
# a CJK font for posters, the PostgreSQL client for the backup drill, GNU gettext (msgfmt) for
# makemessages/compilemessages (the compiled .mo files are committed, so `make demo` needs none of it),
# and ffmpeg, which transcodes uploaded audio and video into encrypted HLS (courses.media).
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
  command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
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
# uv (from PyPI, pinned) installs exactly what uv.lock pins, hashes checked, and removes anything else
# from .venv (it keeps pip and itself). `--locked` fails when pyproject.toml changed without `uv lock`.
UV_VERSION=0.13.9
export UV_LINK_MODE="${UV_LINK_MODE:-copy}"  # the uv cache is often on another filesystem
stamp=.venv/.requirements.sha
want=$(cat pyproject.toml uv.lock <(echo "uv==$UV_VERSION --compile-bytecode") | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat $stamp)" != "$want" ]]; then
  echo "bootstrap: installing Python dependencies from uv.lock"
  if [[ "$(.venv/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION"* ]]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
  fi
  # --compile-bytecode: on machines that set PYTHONDONTWRITEBYTECODE (this one does) Python would
  # compile Django, DRF, hypothesis, playwright … from source in every process: each test worker,
  # each subprocess a test starts, each management command (collecting the tests took 23 s, now 11 s).
  .venv/bin/uv sync --locked --group dev --python .venv/bin/python -q --compile-bytecode
  echo "$want" > "$stamp"
fi
