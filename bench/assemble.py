"""Collect var/bench/*.md (one section per benchmark script) into docs/benchmarks.md.

Adds what a reader needs to trust the figures: the command, the date, the machine, how long each
benchmark took, and what else the machine was doing meanwhile (bench/machine.py samples).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from datetime import UTC, datetime

from bench import machine as load
from bench.common import ROOT, md_table

ORDER = [
    "bench_notifications",
    "bench_settlement",
    "bench_reminders",
    "bench_feed",
    "bench_media",
    "bench_heartbeats",
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
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split(" ")
    redis_version = next((part.split("=")[1] for part in redis if part.startswith("v=")), "?")
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, Python {platform.python_version()}, {pg}, "
        f"Redis {redis_version}"
    )


def timings_table() -> str:
    path = ROOT / "var" / "bench" / "timings.tsv"
    if not path.exists():
        return ""
    rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip()]
    samples = {s["label"]: s for s in load.read()}
    table = []
    for name, seconds in rows:
        start, end = samples.get(f"{name} start"), samples.get(f"{name} end")
        others = {}
        for sample in (start, end):
            for proc in (sample or {}).get("others", []):
                key = proc["cmd"][:60]
                others[key] = max(others.get(key, 0), proc["cpu"])
        busiest = "; ".join(
            f"{cmd} ({cpu:.0%} of a core)" for cmd, cpu in sorted(others.items(), key=lambda kv: -kv[1])[:3]
        )
        table.append(
            [
                f"`{name}`",
                seconds,
                f"{start['loadavg'][0] if start else '?'} → {end['loadavg'][0] if end else '?'}",
                busiest or "nothing above 5% of a core",
            ]
        )
    return (
        "### Duration and machine load\n\n"
        + md_table(
            [
                "benchmark",
                "seconds",
                "load average (1 min), start → end",
                "other busy processes (not this run)",
            ],
            table,
        )
        + "\n"
    )


def settlement_growth() -> str:
    """ "How cost grows" for settlement: the tenth-volume run beside the full one (scripts/bench.sh)."""
    import json

    paths = [ROOT / "var" / "bench" / f"settlement-{name}.json" for name in ("tenth", "full")]
    if not all(path.exists() for path in paths):
        return ""
    small, full = (json.loads(path.read_text()) for path in paths)
    per = [v["seconds"] / v["earnings"] * 1e6 for v in (small, full)]
    floor_per = [v["floor_seconds"] / v["earnings"] * 1e6 for v in (small, full)]
    factor = full["earnings"] / small["earnings"]
    rows = [
        [
            f"{v['earnings']:,} earnings of {v['members']:,} members",
            f"{v['seconds']:.1f}",
            f"{p:.1f}",
            f"{v['floor_seconds']:.2f} ({fp:.1f} µs/earning)",
            v["batches"],
            f"{v['max_batch_ms']:.0f}",
        ]
        for v, p, fp in zip((small, full), per, floor_per, strict=True)
    ]
    return (
        f"### How settlement cost grows ({factor:.0f}× the earnings)\n\n"
        + md_table(
            ["volume", "seconds", "µs per earning", "floor seconds", "batches", "longest batch ms"], rows
        )
        + f"\n\nTime grew {full['seconds'] / small['seconds']:.1f}× for {factor:.0f}× the earnings "
        f"(per earning: {per[1] / per[0]:.2f}× — 1.00 is linear); the floor grew "
        f"{full['floor_seconds'] / small['floor_seconds']:.1f}×. The tenth-volume run is a separate "
        "`bench_settlement --scale` run just before the full one, in the same `make bench`.\n"
    )


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
        if name == "bench_settlement" and settlement_growth():
            sections.append(settlement_growth().strip())
    header = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`scripts/bench.sh`, `bench/`); do not edit by hand — re-run it.",
        "Every figure is measured side by side with its floor in the same run, and every ratio is to that "
        "floor: throughput ratios are subject ÷ floor (higher is better), time ratios subject ÷ floor "
        "(lower is better), as each table says. The machine is shared, so absolute figures move with "
        "whatever else runs (see the load table); the ratios are what to compare between runs.",
        "",
        f"- Command: `{args.command.strip()}` (total {args.seconds} s = {args.seconds / 60:.1f} min)",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        "",
        timings_table(),
    ]
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(
        "\n".join(header) + "\n" + "\n\n".join(sections) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
