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

# The volume: 1 (100,000 members …) unless ARGS say `--scale X`. "How cost grows" compares it with a
# tenth of it: bench_api runs both itself; settlement runs at a tenth first (bench_settlement_tenth).
scale=1
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ "${args[i]}" == "--scale" ]] && scale="${args[i + 1]}"
done
tenth=$(awk -v s="$scale" 'BEGIN { print s / 10 }')

started=$(date +%s)
: > var/bench/timings.tsv
run() {  # $1 = label, then the module and its arguments
  local label=$1 module=$2
  shift 2
  echo "bench: $label" >&2
  .venv/bin/python -m bench.machine "$label start"  # what else is running (bench/machine.py)
  local t0
  t0=$(date +%s)
  .venv/bin/python -m "bench.$module" "$@" > "var/bench/$label.md"
  printf '%s\t%s\n' "$label" "$(( $(date +%s) - t0 ))" >> var/bench/timings.tsv
  .venv/bin/python -m bench.machine "$label end"
  echo "bench: $label took $(( $(date +%s) - t0 )) s" >&2
}
run bench_notifications bench_notifications "$@"
run bench_settlement_tenth bench_settlement --scale "$tenth" --json var/bench/settlement-tenth.json
run bench_settlement bench_settlement --scale "$scale" --json var/bench/settlement-full.json
run bench_reminders bench_reminders "$@"
run bench_feed bench_feed "$@"
run bench_media bench_media
run bench_heartbeats bench_heartbeats "$@"
run bench_dashboard bench_dashboard "$@"
run bench_api bench_api "$@"
.venv/bin/python -m bench.assemble --seconds "$(( $(date +%s) - started ))" --command "make bench $*"
echo "bench: wrote docs/benchmarks.md" >&2
