#!/usr/bin/env bash
# `make bench`: every benchmark side by side with its floor, in one run, on PostgreSQL + Redis.
# Creates its own data (first run: about 5 minutes of bulk SQL; later runs top up), writes
# docs/benchmarks.md (figures, ratios, machine, load, date, command). ARGS are passed to each script,
# e.g. `make bench ARGS="--scale 0.1"` for a quick run at a tenth of the volume.
#
#   BENCH_DATABASE_URL  bench database (created if missing; other volumes and the dashboard's
#                       year of data live in databases named after it)
#   REDIS_URL           Redis for the cache, throttles and the broker (a bench-only db number)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --system
if ! command -v wrk >/dev/null 2>&1 && [[ "$(id -u)" == "0" ]]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/zhiquan_bench}"
export DATABASE_URL="$BENCH_DATABASE_URL"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/14}"
export DJANGO_SETTINGS_MODULE=config.settings.test
mkdir -p var/bench
rm -f var/bench/*.md var/bench/*.json var/bench/load.jsonl

started=$(date +%s)
: > var/bench/timings.tsv
for name in bench_notifications bench_settlement bench_reminders bench_feed bench_dashboard bench_api; do
  [[ -f "bench/$name.py" ]] || continue
  echo "bench: $name" >&2
  .venv/bin/python -m bench.machine "$name start"  # what else is running (bench/machine.py)
  t0=$(date +%s)
  .venv/bin/python -m "bench.$name" "$@" > "var/bench/$name.md"
  printf '%s\t%s\n' "$name" "$(( $(date +%s) - t0 ))" >> var/bench/timings.tsv
  .venv/bin/python -m bench.machine "$name end"
  echo "bench: $name took $(( $(date +%s) - t0 )) s" >&2
done
.venv/bin/python -m bench.assemble --seconds "$(( $(date +%s) - started ))" --command "make bench $*"
echo "bench: wrote docs/benchmarks.md" >&2
