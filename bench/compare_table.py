"""Turns the result files of bench/compare.sh into one table (Markdown and JSON).

Each result file holds {"system", "events", "ingest": {...}, "rebuild": {...}}; the ratios
are to skill-ledger's figure (above 1 means more of it: faster for the rates, larger for
bytes and memory).
"""

import argparse
import datetime
import json
import os
import platform


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(memory_gib, 1),
        "kernel": platform.release(),
    }


def ratio(value, base):
    return value / base if base else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+")
    parser.add_argument("--out", required=True, help="path without extension")
    parser.add_argument("--workload-info")
    parser.add_argument("--load-before", default="")
    parser.add_argument("--load-after", default="")
    parser.add_argument("--commit", default="")
    args = parser.parse_args()
    results = [json.load(open(path)) for path in args.results]
    base = next((r for r in results if r["system"] == "skill-ledger"), None)

    rows = []
    for r in results:
        row = {
            "system": r["system"],
            "events": r["events"],
            "appends_per_s": r["ingest"]["events_per_s"],
            "rebuild_events_per_s": r["rebuild"]["events_per_s"],
            "bytes_per_event": r["ingest"]["bytes_per_event"],
            "peak_rss_mb": r["ingest"]["peak_rss_mb"],
            "rebuild_peak_rss_mb": r["rebuild"]["peak_rss_mb"],
        }
        if base:
            for key in (
                "appends_per_s",
                "rebuild_events_per_s",
                "bytes_per_event",
                "peak_rss_mb",
                "rebuild_peak_rss_mb",
            ):
                base_value = {
                    "appends_per_s": base["ingest"]["events_per_s"],
                    "rebuild_events_per_s": base["rebuild"]["events_per_s"],
                    "bytes_per_event": base["ingest"]["bytes_per_event"],
                    "peak_rss_mb": base["ingest"]["peak_rss_mb"],
                    "rebuild_peak_rss_mb": base["rebuild"]["peak_rss_mb"],
                }[key]
                row[key + "_ratio"] = ratio(row[key], base_value)
        rows.append(row)

    def cell(row, key, fmt):
        text = fmt.format(row[key])
        r = row.get(key + "_ratio")
        if r is not None and row["system"] != "skill-ledger":
            text += f" ({r:.2f} ×)"
        return text

    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info = machine()
    lines = [
        f"N = {rows[0]['events']:,} events; {when}; commit {args.commit}; "
        f"{info['cores']} cores ({info['cpu']}), {info['memory_gib']} GiB; "
        f"load average before {args.load_before}, after {args.load_after}",
        "",
        "| system | appends/s | rebuild events/s | bytes on disk per event "
        "| peak RSS ingest | peak RSS rebuild |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            "| "
            + " | ".join(
                [
                    row["system"],
                    cell(row, "appends_per_s", "{:,.0f}"),
                    cell(row, "rebuild_events_per_s", "{:,.0f}"),
                    cell(row, "bytes_per_event", "{:,.0f}"),
                    cell(row, "peak_rss_mb", "{:,.0f} MiB"),
                    cell(row, "rebuild_peak_rss_mb", "{:,.0f} MiB"),
                ]
            )
            + " |"
        )
    lines.append("")
    lines.append("(ratio) = the system's figure over skill-ledger's.")
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    with open(args.out + ".md", "w", encoding="utf-8") as f:
        f.write(markdown)
    workload = json.load(open(args.workload_info)) if args.workload_info else None
    with open(args.out + ".json", "w", encoding="utf-8") as f:
        json.dump(
            {
                "date": when,
                "commit": args.commit,
                "machine": info,
                "load_average_before": args.load_before,
                "load_average_after": args.load_after,
                "workload": workload,
                "rows": rows,
                "results": results,
            },
            f,
            indent=2,
        )
        f.write("\n")


if __name__ == "__main__":
    main()
