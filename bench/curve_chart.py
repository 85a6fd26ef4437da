"""The cost curve's table and chart from a `bench/curve.sh` output directory.

Usage: python3 bench/curve_chart.py DIR [DIR ...] OUT.svg

Several directories are read as one curve (e.g. `bench/curve.sh`'s output and a separate run
at 10⁸ in the same layout of files).

Prints a Markdown table (one row per N: ingest events/s, CPU per event, commit p99, bytes per
entry, peak RSS, the batch-verification limit, both rebuilds with their CPU per event and peak
RSS) and writes OUT.svg: throughput (left) and CPU per event (right) against log size, the x
axes logarithmic. A rebuild's rate is over its whole run (open with the log's integrity check,
the digests before and after, the fold, the flush); the fold alone is `stages_s.replay`.
"""

import glob
import json
import math
import os
import re
import sys


def time_file(path):
    """CPU seconds (user + system) and peak RSS (MiB) from `/usr/bin/time -v` output."""
    text = open(path).read()
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", text).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", text).group(1))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return user + system, rss_kb / 1024


def load(directory):
    rows = []
    for path in glob.glob(os.path.join(directory, "ingest-N*.json")):
        match = re.search(r"ingest-N(\d+)\.json$", path)
        if not match:
            continue  # e.g. ingest-N100000-before.json: a reference run, not a point
        n = int(match.group(1))
        try:
            ingest = json.load(open(path))
        except json.JSONDecodeError:
            print(f"skipped {path}: not a finished run", file=sys.stderr)
            continue
        row = {"n": n, "ingest": ingest}
        for kind in ("rebuild", "rebuild-verified"):
            json_path = os.path.join(directory, f"{kind}-N{n}.json")
            time_path = os.path.join(directory, f"{kind}-N{n}.time")
            if os.path.exists(json_path) and os.path.exists(time_path):
                try:
                    report = json.load(open(json_path))
                except json.JSONDecodeError:
                    continue
                cpu_s, rss = time_file(time_path)
                row[kind] = {
                    "rate": report["entries"] / report["seconds"],
                    "fold_rate": report["entries"] / report["stages_s"]["replay"]
                    if "stages_s" in report
                    else None,
                    "cpu_us": cpu_s / report["entries"] * 1e6,
                    "rss": rss,
                }
        rows.append(row)
    return sorted(rows, key=lambda row: row["n"])


def table(rows):
    lines = [
        "| N | ingest events/s | CPU per event | commit p99 | bytes / entry | peak RSS "
        "| batch-verify limit | rebuild, trusting (fold alone) | CPU per event | peak RSS "
        "| rebuild, re-verifying (fold alone) | CPU per event | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ingest = row["ingest"]
        cells = [
            f"{row['n']:,}",
            f"{ingest['events_per_s']:,.0f}",
            f"{ingest['cpu_us_per_event']:.1f} µs",
            f"{ingest['commit_p99_ms']:.0f} ms",
            f"{ingest['bytes_per_event_over_entry']:.2f} ×",
            f"{ingest['peak_rss_mb']:.0f} MiB",
            f"{ingest['batch_verify_per_s']:,.0f}/s",
        ]
        for kind in ("rebuild", "rebuild-verified"):
            run = row.get(kind)
            if run is None:
                cells += ["", "", ""]
                continue
            fold = f" ({run['fold_rate']:,.0f})" if run["fold_rate"] else ""
            cells += [
                f"{run['rate']:,.0f}/s{fold}",
                f"{run['cpu_us']:.1f} µs",
                f"{run['rss']:.0f} MiB",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


WIDTH, HEIGHT = 900, 380
PANEL = 400
LEFT, TOP, BOTTOM = 70, 40, 60
COLOURS = {"ingest": "#1f77b4", "rebuild": "#2ca02c", "rebuild-verified": "#d62728"}
LABELS = {
    "ingest": "ingest",
    "rebuild": "rebuild, trusting",
    "rebuild-verified": "rebuild, re-verifying",
}


def nice(value):
    """The smallest of 1, 2, 2.5, 5 × a power of ten at or above `value`."""
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def panel(x0, title, series, unit):
    """One panel: `series` is {name: [(n, value)]}; returns SVG elements."""
    values = [v for points in series.values() for _, v in points]
    ns = [n for points in series.values() for n, _ in points]
    if not values:
        return []
    top = nice(max(values) * 1.1)
    low_n, high_n = math.log10(min(ns)), math.log10(max(ns))
    span = max(high_n - low_n, 1)
    plot_w, plot_h = PANEL - LEFT, HEIGHT - TOP - BOTTOM

    def x(n):
        return x0 + LEFT + (math.log10(n) - low_n) / span * plot_w

    def y(v):
        return TOP + plot_h - v / top * plot_h

    out = [
        f'<text x="{x0 + LEFT + plot_w / 2}" y="22" text-anchor="middle" '
        f'font-size="14">{title}</text>',
        f'<line x1="{x0 + LEFT}" y1="{TOP + plot_h}" x2="{x0 + LEFT + plot_w}" '
        f'y2="{TOP + plot_h}" stroke="black"/>',
        f'<line x1="{x0 + LEFT}" y1="{TOP}" x2="{x0 + LEFT}" y2="{TOP + plot_h}" stroke="black"/>',
    ]
    for step in range(5):
        value = top * step / 4
        out.append(
            f'<text x="{x0 + LEFT - 6}" y="{y(value) + 4}" text-anchor="end" '
            f'font-size="11">{value:,.0f}</text>'
        )
    for exponent in range(math.ceil(low_n), math.floor(high_n) + 1):
        out.append(
            f'<text x="{x(10 ** exponent)}" y="{TOP + plot_h + 18}" text-anchor="middle" '
            f'font-size="11">10{str(exponent).translate(SUPERSCRIPTS)}</text>'
        )
    out.append(
        f'<text x="{x0 + LEFT + plot_w / 2}" y="{HEIGHT - 20}" text-anchor="middle" '
        f'font-size="12">events in the log</text>'
    )
    out.append(
        f'<text x="{x0 + 14}" y="{TOP + plot_h / 2}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 {x0 + 14} {TOP + plot_h / 2})">{unit}</text>'
    )
    for name, points in series.items():
        points = sorted(points)
        path = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in points)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{COLOURS[name]}" stroke-width="2"/>'
        )
        for n, v in points:
            out.append(f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="3" fill="{COLOURS[name]}"/>')
    return out


def chart(rows, out_path):
    rates = {"ingest": [(r["n"], r["ingest"]["events_per_s"]) for r in rows]}
    cpu = {"ingest": [(r["n"], r["ingest"]["cpu_us_per_event"]) for r in rows]}
    for kind in ("rebuild", "rebuild-verified"):
        rates[kind] = [(r["n"], r[kind]["rate"]) for r in rows if kind in r]
        cpu[kind] = [(r["n"], r[kind]["cpu_us"]) for r in rows if kind in r]
    elements = panel(0, "throughput", rates, "events/s") + panel(
        PANEL + 40, "CPU per event", cpu, "µs of CPU per event"
    )
    for position, name in enumerate(LABELS):
        ly = HEIGHT + 18
        lx = 200 + position * 200
        elements.append(
            f'<rect x="{lx}" y="{ly - 9}" width="12" height="4" fill="{COLOURS[name]}"/>'
        )
        elements.append(f'<text x="{lx + 16}" y="{ly - 4}" font-size="11">{LABELS[name]}</text>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT + 30}" '
        f'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
        + "\n".join(elements)
        + "\n</svg>\n"
    )
    with open(out_path, "w") as f:
        f.write(svg)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    directories, out = sys.argv[1:-1], sys.argv[-1]
    rows = sorted(
        (row for directory in directories for row in load(directory)),
        key=lambda row: row["n"],
    )
    if not rows:
        raise SystemExit(f"no ingest-N*.json in {' '.join(directories)}")
    print(table(rows))
    chart(rows, out)


if __name__ == "__main__":
    main()
