#!/usr/bin/env python3
"""Medians and ratios of a data-plane benchmark run (e2e/bench/dataplane), stdlib only.

    python3 e2e/bench/dataplane-report.py OUT_DIR

Reads OUT_DIR/results.tsv (round, path, measure, value), prints a table, and writes
OUT_DIR/dataplane.json, OUT_DIR/dataplane.csv and OUT_DIR/dataplane.svg.
"""
import csv
import json
import statistics
import sys
from pathlib import Path

PATHS = ["direct", "dnat", "haproxy", "userspace", "kernel"]
LABELS = {
    "direct": "direct (pod IP)",
    "dnat": "kernel DNAT",
    "haproxy": "HAProxy, splice",
    "userspace": "ServicePath Userspace",
    "kernel": "ServicePath Kernel",
}
# measure, column title, higher is better
MEASURES = [
    ("bulk1_gbps", "bulk 1 stream Gbit/s", True),
    ("bulk4_gbps", "bulk 4 streams Gbit/s", True),
    ("keepalive_rps", "keep-alive req/s", True),
    ("keepalive_p50_ms", "keep-alive p50 ms", False),
    ("keepalive_p99_ms", "keep-alive p99 ms", False),
    ("newconn_cps", "new conn/s", True),
    ("newconn_p99_ms", "new conn p99 ms", False),
    ("keepalive_cpu_us_per_req", "CPU us/req", False),
    ("newconn_cpu_us_per_conn", "CPU us/conn", False),
    ("bulk1_cpu_us_per_mb", "CPU us/MB", False),
]
PLOTTED = ["bulk1_gbps", "bulk4_gbps", "keepalive_rps", "newconn_cps"]
COLORS = {"direct": "#4c72b0", "dnat": "#8c8c8c", "haproxy": "#dd8452",
          "userspace": "#55a868", "kernel": "#8172b3"}


def load(out):
    values = {}
    with open(out / "results.tsv") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            values.setdefault((row["path"], row["measure"]), []).append(float(row["value"]))
    return values


def summarize(values):
    rounds = max((len(v) for v in values.values()), default=0)
    result = {"rounds": rounds, "paths": {}}
    for path in PATHS:
        # every measure the run recorded for the path (p90, errors, JIT CPU, context switches, ...)
        entry = {measure: {"median": statistics.median(samples), "samples": samples}
                 for (p, measure), samples in sorted(values.items()) if p == path}
        if entry:
            result["paths"][path] = entry
    for path, entry in result["paths"].items():
        for measure, _, _ in MEASURES:
            if measure not in entry:
                continue
            for base in ("direct", "haproxy"):
                ref = result["paths"].get(base, {}).get(measure, {}).get("median")
                if ref:
                    entry[measure]["vs_" + base] = entry[measure]["median"] / ref
    return result


def fmt(measure, value):
    if measure.endswith("_ms"):
        return "%.2f" % value
    if measure.endswith("_gbps") or "_cpu_" in measure:
        return "%.1f" % value
    return "%.0f" % value


def table(result):
    lines = ["Medians of %d round(s); (x direct / x HAProxy); latencies: lower is better"
             % result["rounds"]]
    head = ["path"] + [title for _, title, _ in MEASURES]
    rows = []
    for path in PATHS:
        entry = result["paths"].get(path)
        if not entry:
            continue
        row = [LABELS[path]]
        for measure, _, _ in MEASURES:
            m = entry.get(measure)
            if not m:
                row.append("-")
                continue
            cell = fmt(measure, m["median"])
            if path != "direct" and "vs_direct" in m:
                cell += " (%.2f" % m["vs_direct"]
                cell += "/%.2f)" % m["vs_haproxy"] if path != "haproxy" and "vs_haproxy" in m else ")"
            row.append(cell)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)
    errors = [(p, m, e[m]["median"]) for p, e in result["paths"].items()
              for m in ("keepalive_errors", "newconn_errors") if e.get(m, {}).get("median")]
    for p, m, v in errors:
        lines.append("note: %s had %s (median %d per run)" % (LABELS[p], m.replace("_", " "), v))
    return "\n".join(lines)


def write_csv(result, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "measure", "median", "vs_direct", "vs_haproxy", "samples"])
        for p, entry in result["paths"].items():
            for measure, m in entry.items():
                w.writerow([p, measure, m["median"], m.get("vs_direct", ""), m.get("vs_haproxy", ""),
                            " ".join("%g" % s for s in m["samples"])])


def svg(result):
    """Grouped bars: each plotted measure as % of direct, one bar per path."""
    present = [p for p in PATHS if p in result["paths"]]
    groups = [m for m in PLOTTED if any(m in result["paths"][p] for p in present)]
    titles = {m: t for m, t, _ in MEASURES}
    bar, gap, left, top, height = 22, 34, 60, 40, 260
    legend = sum(14 + 7 * len(LABELS[p]) + 12 for p in present)
    width = max(left + len(groups) * (len(present) * bar + gap) + 20, left + legend)
    top_pct = max([110.0] + [result["paths"][p][m].get("vs_direct", 0) * 100 + 10
                             for p in present for m in groups if m in result["paths"][p]])
    y = lambda pct: top + height - pct / top_pct * height
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="11">' % (width, top + height + 80),
           '<text x="%d" y="18" font-size="13">Data plane, %% of direct (median of %d rounds)</text>'
           % (left, result["rounds"])]
    for pct in range(0, int(top_pct) + 1, 20):
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>'
                   % (left, width - 10, y(pct), y(pct)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%d%%</text>' % (left - 6, y(pct) + 4, pct))
    x = left + gap / 2
    for m in groups:
        for p in present:
            v = result["paths"][p].get(m, {}).get("vs_direct")
            if v is not None:
                out.append('<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s: %s'
                           '</title></rect>' % (x, y(v * 100), bar - 3, y(0) - y(v * 100), COLORS[p],
                                                LABELS[p], titles[m], fmt(m, result["paths"][p][m]["median"])))
                out.append('<text x="%.1f" y="%.1f" text-anchor="middle" font-size="9">%.0f</text>'
                           % (x + (bar - 3) / 2, y(v * 100) - 3, v * 100))
            x += bar
        out.append('<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>'
                   % (x - len(present) * bar / 2, y(0) + 16, titles[m]))
        x += gap
    lx = left
    for p in present:
        out.append('<rect x="%d" y="%.1f" width="10" height="10" fill="%s"/>' % (lx, y(0) + 34, COLORS[p]))
        out.append('<text x="%d" y="%.1f">%s</text>' % (lx + 14, y(0) + 43, LABELS[p]))
        lx += 14 + 7 * len(LABELS[p]) + 12
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "e2e/bench/out")
    result = summarize(load(out))
    env = out / "environment.txt"
    if env.exists():
        result["environment"] = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    (out / "dataplane.json").write_text(json.dumps(result, indent=2) + "\n")
    write_csv(result, out / "dataplane.csv")
    (out / "dataplane.svg").write_text(svg(result))
    print(table(result))
    print("\nwritten: %s/dataplane.json, dataplane.csv, dataplane.svg" % out)


if __name__ == "__main__":
    main()
