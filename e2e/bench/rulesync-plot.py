#!/usr/bin/env python3
"""The rule sync curve: full sync and one path changed against the number of paths.

Reads the CSV that RuleSyncBenchmark appends to with -Dcsv=FILE (backend, paths, entries, full_ms,
one_path_ms, one_path_apply_ms, canary_ms; several runs of a backend and size are medianed) and
writes an SVG with two panels, each with the target as a dashed line (TARGETS.md: a full sync of
10,000 paths x 10 endpoints within 3 s, one path changed within 150 ms).

    rulesync-plot.py RULESYNC_CSV OUT_SVG
"""
import collections
import csv
import math
import statistics
import sys

COLORS = {"nftables": "#55a868", "iptables": "#c44e52"}
PANELS = [  # CSV column, title, unit divisor, unit, target (in that unit) at 10,000 paths
    ("full_ms", "Full sync", 1000.0, "s", 3.0),
    ("one_path_ms", "One path changed", 1.0, "ms", 150.0),
]
WIDTH, HEIGHT, LEFT, TOP, GAP = 300, 220, 55, 45, 70


def load(path):
    """{backend: {paths: {column: median}}}"""
    samples = collections.defaultdict(lambda: collections.defaultdict(lambda: collections.defaultdict(list)))
    with open(path) as f:
        for row in csv.DictReader(f):
            for column, _, _, _, _ in PANELS:
                samples[row["backend"]][int(row["paths"])][column].append(float(row[column]))
    return {b: {n: {c: statistics.median(v) for c, v in cols.items()} for n, cols in sizes.items()}
            for b, sizes in samples.items()}


def decades(low, high):
    """The powers of ten around [low, high], for a logarithmic axis."""
    bottom = 10 ** math.floor(math.log10(low))
    top = 10 ** math.ceil(math.log10(high))
    return bottom, top


def panel(curves, column, title, divisor, unit, target, x0):
    sizes = sorted({n for sizes in curves.values() for n in sizes})
    x_max = max(sizes)
    values = [target] + [by_size[n][column] / divisor for by_size in curves.values() for n in by_size]
    bottom, top = decades(min(values), max(values))
    span = math.log10(top) - math.log10(bottom)
    x = lambda n: x0 + n / x_max * WIDTH
    y = lambda v: TOP + HEIGHT - (math.log10(v) - math.log10(bottom)) / span * HEIGHT
    out = ['<text x="%d" y="%d" font-size="12">%s (%s, log scale)</text>' % (x0, TOP - 10, title, unit)]
    tick = bottom
    while tick <= top * 1.0001:
        for step in (1, 2, 5):
            v = tick * step
            if v > top * 1.0001:
                break
            out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>'
                       % (x0, x0 + WIDTH, y(v), y(v), "#ccc" if step == 1 else "#eee"))
            out.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>' % (x0 - 5, y(v) + 4, v))
        tick *= 10
    for n in sizes:
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                   % (x(n), TOP + HEIGHT + 15, "%dk" % (n // 1000) if n >= 1000 else n))
    out.append('<text x="%d" y="%d" text-anchor="middle">paths (10 endpoints each)</text>'
               % (x0 + WIDTH / 2, TOP + HEIGHT + 32))
    out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#333" stroke-dasharray="4 3"/>'
               % (x0, x0 + WIDTH, y(target), y(target)))
    out.append('<text x="%d" y="%.1f" font-size="10">target at 10k: %g %s</text>'
               % (x0 + 4, y(target) - 4, target, unit))
    for backend, by_size in sorted(curves.items()):
        points = [(x(n), y(by_size[n][column] / divisor)) for n in sorted(by_size)]
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                   % (COLORS.get(backend, "#4c72b0"), " ".join("%.1f,%.1f" % p for p in points)))
        for (px, py), n in zip(points, sorted(by_size)):
            value = by_size[n][column] / divisor
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s, %d paths: %g %s</title></circle>'
                       % (px, py, COLORS.get(backend, "#4c72b0"), backend, n, round(value, 3), unit))
            out.append('<text x="%.1f" y="%.1f" font-size="9" text-anchor="middle">%.3g</text>'
                       % (px, py - 6, value))
    return out


def svg(curves):
    width = LEFT + len(PANELS) * (WIDTH + GAP) + 10
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="11">' % (width, TOP + HEIGHT + 70),
           '<text x="%d" y="16" font-size="13">Rule sync, end to end (RuleSyncBenchmark)</text>' % LEFT]
    for i, (column, title, divisor, unit, target) in enumerate(PANELS):
        out += panel(curves, column, title, divisor, unit, target, LEFT + i * (WIDTH + GAP))
    lx = LEFT
    for backend in sorted(curves):
        out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>'
                   % (lx, TOP + HEIGHT + 45, COLORS.get(backend, "#4c72b0")))
        out.append('<text x="%d" y="%d">%s</text>' % (lx + 14, TOP + HEIGHT + 54, backend))
        lx += 100
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    curves = load(sys.argv[1])
    if not curves:
        sys.exit("no rows in %s" % sys.argv[1])
    with open(sys.argv[2], "w") as f:
        f.write(svg(curves))
    print("written: %s" % sys.argv[2])


if __name__ == "__main__":
    main()
