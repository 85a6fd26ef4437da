"""Draws ingest throughput against log size from recorded `skill-ledger bench ingest --json`
outputs, as a plain SVG (no plotting library needed).

Usage: python3 bench/chart.py OUT.svg INGEST.json [INGEST.json ...]
       python3 bench/chart.py OUT.svg --series LABEL INGEST.json ... [--series LABEL ...]

Each input is one `bench ingest --json` object (N in "events", the rate in "events_per_s");
several runs at the same N are drawn as separate points. With --series, each group of files
is drawn in its own colour under its label (a legend), e.g. two heads of the code side by
side. The x axis is logarithmic.
"""

import json
import math
import sys

WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 80, 30, 40, 60


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out, arguments = sys.argv[1], sys.argv[2:]
    series = []  # (label, [(n, rate)])
    position = 0
    while position < len(arguments):
        if arguments[position] == "--series":
            if position + 1 >= len(arguments):
                raise SystemExit("--series needs a label")
            series.append((arguments[position + 1], []))
            position += 2
            continue
        if not series:
            series.append(("", []))
        with open(arguments[position]) as f:
            run = json.load(f)
        series[-1][1].append((run["events"], run["events_per_s"]))
        position += 1
    points = sorted(point for _, runs in series for point in runs)
    if not points:
        raise SystemExit("no bench ingest outputs given")
    x_low = 10 ** math.floor(math.log10(min(n for n, _ in points)))
    x_high = 10 ** math.ceil(math.log10(max(n for n, _ in points)))
    if x_high == x_low:
        x_high *= 10
    y_high = max(rate for _, rate in points) * 1.15
    step = 10 ** math.floor(math.log10(y_high / 2))
    y_high = math.ceil(y_high / step) * step

    # Whole decades on the axis, with a little room either side of the outer points.
    log_low, log_high = math.log10(x_low) - 0.15, math.log10(x_high) + 0.15

    def x(n):
        fraction = (math.log10(n) - log_low) / (log_high - log_low)
        return LEFT + fraction * (WIDTH - LEFT - RIGHT)

    def y(rate):
        return HEIGHT - BOTTOM - rate / y_high * (HEIGHT - TOP - BOTTOM)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="14">'
        "skill-ledger bench ingest: events/s against log size (fsync per batch)</text>",
    ]
    exponent = round(math.log10(x_low))
    while 10**exponent <= x_high:
        px = x(10**exponent)
        parts.append(
            f'<line x1="{px:.1f}" y1="{TOP}" x2="{px:.1f}" y2="{HEIGHT - BOTTOM}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{px:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
            f"10<tspan dy='-6' font-size='9'>{exponent}</tspan></text>"
        )
        exponent += 1
    tick = 0
    while tick <= y_high:
        py = y(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{py:.1f}" x2="{WIDTH - RIGHT}" y2="{py:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{LEFT - 8}" y="{py + 4:.1f}" text-anchor="end">{tick:,.0f}</text>'
        )
        tick += step
    parts.append(
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 15}" text-anchor="middle">events in the log (N)</text>'
    )
    parts.append(
        f'<text x="18" y="{HEIGHT / 2}" text-anchor="middle" '
        f'transform="rotate(-90 18 {HEIGHT / 2})">events/s</text>'
    )
    colours = ["#1f6fb4", "#d95f02", "#1b9e77", "#7570b3"]
    for number, (label, runs) in enumerate(series):
        colour = colours[number % len(colours)]
        # One line through the mean at each N, and every run as a point.
        means = {}
        for n, rate in runs:
            means.setdefault(n, []).append(rate)
        line = " ".join(f"{x(n):.1f},{y(sum(r) / len(r)):.1f}" for n, r in sorted(means.items()))
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for n, rate in runs:
            parts.append(
                f'<circle cx="{x(n):.1f}" cy="{y(rate):.1f}" r="4" fill="{colour}">'
                f"<title>{label} N = {n:,}: {rate:,.0f} events/s</title></circle>"
            )
            parts.append(
                f'<text x="{x(n):.1f}" y="{y(rate) - 10:.1f}" text-anchor="middle" '
                f'font-size="11" fill="{colour}">{rate:,.0f}</text>'
            )
        if label:
            legend_y = TOP + 14 + 16 * number
            parts.append(
                f'<rect x="{LEFT + 10}" y="{legend_y - 9}" width="12" height="10" fill="{colour}"/>'
            )
            parts.append(f'<text x="{LEFT + 28}" y="{legend_y}">{label}</text>')
    parts.append("</svg>")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
