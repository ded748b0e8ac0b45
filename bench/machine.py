"""What else the machine is doing while the benchmarks run.

    .venv/bin/python -m bench.machine "bench_api start"    # appends one JSON line to var/bench/load.jsonl

Each sample: the load average and the processes that used the most CPU over one second, leaving out
this run's own (same process group as scripts/bench.sh: the bench scripts, gunicorn, wrk, the fake
gateway) and the PostgreSQL backends serving the bench databases. Every figure in docs/benchmarks.md is
a ratio to a floor measured beside it, so other load mostly cancels — but the reader should know it
was there, and how much.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "var" / "bench" / "load.jsonl"


def _cpu_ticks() -> dict[int, tuple[int, int, str]]:
    """pid → (utime + stime ticks, process group, command line)."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmd = (
                Path(entry.path, "cmdline")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode("utf-8", "replace")
                .strip()
            )
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(entry.name)] = (int(fields[11]) + int(fields[12]), int(fields[2]), cmd)
    return out


def sample(label: str, *, seconds: float = 1.0) -> dict:
    ours = os.getpgid(0)
    bench_db = urlparse(os.environ.get("BENCH_DATABASE_URL", "")).path.lstrip("/") or "zhiquan_bench"
    before = _cpu_ticks()
    time.sleep(seconds)
    after = _cpu_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, (ticks, group, cmd) in after.items():
        if pid not in before or group == ours or not cmd or bench_db in cmd:
            continue
        share = (ticks - before[pid][0]) / hz / seconds
        if share >= 0.05:
            busy.append((share, cmd[:90]))
    busy.sort(reverse=True)
    return {
        "at": time.time(),
        "label": label,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "cores": os.cpu_count(),
        "others": [{"cpu": round(share, 2), "cmd": cmd} for share, cmd in busy[:6]],
    }


def read() -> list[dict]:
    if not LOG.exists():
        return []
    return [json.loads(line) for line in LOG.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(sample(" ".join(sys.argv[1:]) or "sample"), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
