#!/usr/bin/env python3
"""Summarise `manage.py lighthouse` runs: a markdown table on stdout and in docs/quality.md.

    .venv/bin/python scripts/lighthouse_report.py var/lighthouse/runs [--doc docs/quality.md]

For each page: the median of each category's score over its runs (with the performance range), the
metrics of the median-performance run, and the bytes of HTML, CSS and JS transferred (compressed, as
the network saw them; images, fonts and the favicon not counted) in that run. Then the largest page
by those bytes, and every scored audit short of full marks. With --doc, the part of the file between
the markers below is replaced (the markers and a heading are appended when the file has none).
Nothing here is asserted: the figures are reported, and the targets are written beside them.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

BEGIN = "<!-- lighthouse:begin (written by scripts/lighthouse_report.py) -->"
END = "<!-- lighthouse:end -->"
CATEGORIES = [
    ("performance", "perf", 95),
    ("accessibility", "a11y", 100),
    ("best-practices", "BP", 100),
    ("seo", "SEO", 95),
]
ORDER = ["home-visitor", "home-member", "tiers", "course", "lesson", "circle", "camp-term", "account"]
LABELS = {
    "home-visitor": "Home, visitor",
    "home-member": "Home, member",
    "tiers": "Tiers",
    "course": "Course",
    "lesson": "Lesson",
    "circle": "Circle feed",
    "camp-term": "Camp term",
    "account": "我的",
}
BEFORE_IMAGES = {"Document", "Stylesheet", "Script"}
BYTES_TARGET = 100 * 1024


def _score(report: dict, key: str) -> int:
    return round((report["categories"][key]["score"] or 0) * 100)


def _text_bytes(report: dict) -> int:
    items = report["audits"]["network-requests"]["details"]["items"]
    return sum(item.get("transferSize") or 0 for item in items if item.get("resourceType") in BEFORE_IMAGES)


def _short_of_full_marks(report: dict) -> list[str]:
    """Audits that count towards a category score and did not pass."""
    weighted = {
        ref["id"]
        for category in report["categories"].values()
        for ref in category["auditRefs"]
        if ref.get("weight")
    }
    short = []
    for audit_id in sorted(weighted):
        audit = report["audits"][audit_id]
        if (
            audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
            and (audit["score"] or 0) < 1
        ):
            shown = f" ({audit['displayValue']})" if audit.get("displayValue") else ""
            short.append(f"`{audit_id}` {round((audit['score'] or 0) * 100)}{shown}")
    return short


def load(runs_dir: Path) -> dict[str, list[dict]]:
    pages: dict[str, list[dict]] = {}
    for path in sorted(runs_dir.glob("*.json")):
        report = json.loads(path.read_text())
        if "categories" not in report:
            continue
        name = report.get("zhiquan", {}).get("page") or re.sub(r"-\d+$", "", path.stem)
        pages.setdefault(name, []).append(report)
    return dict(sorted(pages.items(), key=lambda item: (ORDER + [item[0]]).index(item[0])))


def summarise(pages: dict[str, list[dict]]) -> str:
    if not pages:
        raise SystemExit("no Lighthouse reports found")
    every = [report for reports in pages.values() for report in reports]
    first = every[0]
    chromium = re.search(r"Chrome/(\d+)", first["environment"]["hostUserAgent"])
    loads = [r["zhiquan"]["load"] for r in every if "load" in r.get("zhiquan", {})]
    cores = first.get("zhiquan", {}).get("cores")
    runs = max(len(reports) for reports in pages.values())
    date = max(r["fetchTime"] for r in every)[:10]
    lines = [
        f"Measured {date} by `make lighthouse`: Lighthouse {first['lighthouseVersion']}, mobile preset "
        "(Moto G Power viewport, simulated slow 4G and a 4× slower CPU), Debian's Chromium "
        f"{chromium[1] if chromium else '?'}, headless; {runs} run{'s' if runs > 1 else ''} per page, the "
        "median shown (performance: median, with the lowest and highest run). Machine: "
        f"{cores or '?'} cores shared with other work"
        + (f", load average {min(loads)}–{max(loads)} during the runs" if loads else "")
        + f"; Lighthouse's benchmark index {first['environment'].get('benchmarkIndex', '?')}.",
        "",
        "| page | path | perf | a11y | BP | SEO | FCP | LCP | TBT | CLS | HTML+CSS+JS transferred |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    largest = ("", 0)
    short_lines = []
    for name, reports in pages.items():
        by_perf = sorted(reports, key=lambda r: _score(r, "performance"))
        median_run = by_perf[(len(by_perf) - 1) // 2]
        cells = []
        for key, _label, target in CATEGORIES:
            scores = [_score(r, key) for r in reports]
            value = round(statistics.median(scores))
            text = f"**{value}**" if value >= target else f"{value} ✗"
            if key == "performance" and len(scores) > 1:
                text += f" ({min(scores)}–{max(scores)})"
            cells.append(text)
        audits = median_run["audits"]
        metrics = [
            audits["first-contentful-paint"]["displayValue"],
            audits["largest-contentful-paint"]["displayValue"],
            audits["total-blocking-time"]["displayValue"],
            audits["cumulative-layout-shift"]["displayValue"],
        ]
        size = _text_bytes(median_run)
        if size > largest[1]:
            largest = (name, size)
        path = median_run.get("zhiquan", {}).get("path") or median_run["finalDisplayedUrl"]
        lines.append(
            f"| {LABELS.get(name, name)} | `{path}` | "
            + " | ".join(cells + [m.replace("\xa0", " ") for m in metrics])
            + f" | {size / 1024:.1f} KB |"
        )
        short = _short_of_full_marks(median_run)
        if short:
            short_lines.append(f"- {LABELS.get(name, name)}: " + ", ".join(short))
    verdict = "within" if largest[1] <= BYTES_TARGET else "over"
    lines += [
        "",
        f"Targets: performance ≥ 95, accessibility 100, best practices 100, SEO ≥ 95 (✗ marks a miss). "
        f"Largest page before images: {LABELS.get(largest[0], largest[0])}, **{largest[1]:,} bytes "
        f"({largest[1] / 1024:.1f} KB)** of HTML, CSS and JS transferred compressed, {verdict} the 100 KB target.",
        "",
    ]
    if short_lines:
        lines += ["Scored audits short of full marks (median run):", "", *short_lines]
    else:
        lines.append("Every scored audit of the median runs passed.")
    return "\n".join(lines)


def update_doc(doc: Path, section: str) -> None:
    text = doc.read_text()
    block = f"{BEGIN}\n{section}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## Lighthouse\n\n" + block + "\n"
    doc.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", type=Path, help="folder of `manage.py lighthouse` JSON reports")
    parser.add_argument("--doc", type=Path, help="markdown file whose marked section is replaced")
    args = parser.parse_args(argv)
    section = summarise(load(args.runs))
    print(section)
    if args.doc:
        update_doc(args.doc, section)
        print(f"\n{args.doc}: Lighthouse section updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
