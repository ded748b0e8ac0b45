"""Collect var/bench/*.md (one section per benchmark script) into docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from datetime import UTC, datetime

from bench.common import ROOT

ORDER = [
    "bench_notifications",
    "bench_settlement",
    "bench_reminders",
    "bench_feed",
    "bench_dashboard",
    "bench_api",
]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip() or "psql ?"
    return f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, Python {platform.python_version()}, {pg}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=0)
    parser.add_argument("--command", default="make bench")
    args = parser.parse_args()
    sections = []
    for name in ORDER:
        path = ROOT / "var" / "bench" / f"{name}.md"
        if path.exists() and path.read_text().strip():
            sections.append(path.read_text().strip())
    header = [
        "# Benchmarks",
        "",
        "Every figure is measured side by side with its floor in the same run (see `bench/`).",
        "Ratios are subject ÷ floor for throughput (higher is better) or time (lower is better), as each table says.",
        "",
        f"- Command: `{args.command.strip()}` (total {args.seconds} s)",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        "",
    ]
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(
        "\n".join(header) + "\n\n".join(sections) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
