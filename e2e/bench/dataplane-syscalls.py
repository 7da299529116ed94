#!/usr/bin/env python3
"""System calls per request and per new connection, HAProxy against the agent.

Reads OUT_DIR/syscalls/<measure>-<path>-r<round>.txt (`perf trace -s` of the proxy process, all
its threads) and the .requests file next to each (the requests nginx logged in the same window),
written by `e2e/bench/dataplane --syscalls`, and prints one table per measure.

    dataplane-syscalls.py OUT_DIR
"""
import collections
import pathlib
import re
import sys

PATHS = ["haproxy", "userspace"]
TITLES = {"haproxy": "HAProxy", "userspace": "ServicePath"}
MEASURES = {"keepalive": "per keep-alive request", "newconn": "per new connection"}
THREAD = re.compile(r"^ (\S.*?) \((\d+)\), (\d+) events")
SYSCALL = re.compile(r"^\s+(\w+)\s+(\d+)\s+(\d+)\s+[\d.]+")


def read_trace(path):
    """(calls, errors) per system call name, summed over the process's threads."""
    calls, errors = collections.Counter(), collections.Counter()
    for line in path.read_text().splitlines():
        if THREAD.match(line):
            continue
        m = SYSCALL.match(line)
        if m and m.group(1) != "syscall":
            calls[m.group(1)] += int(m.group(2))
            errors[m.group(1)] += int(m.group(3))
    return calls, errors


def main(out):
    traces = out / "syscalls"
    if not traces.is_dir():
        sys.exit("no %s: run e2e/bench/dataplane --syscalls" % traces)
    for measure, title in MEASURES.items():
        per_op = {}
        for path in PATHS:
            calls, errors = collections.Counter(), collections.Counter()
            requests = 0
            for trace in sorted(traces.glob("%s-%s-r*.txt" % (measure, path))):
                c, e = read_trace(trace)
                calls.update(c)
                errors.update(e)
                requests += int(pathlib.Path(str(trace) + ".requests").read_text())
            if requests:
                per_op[path] = ({n: v / requests for n, v in calls.items()},
                                {n: v / requests for n, v in errors.items()}, requests)
        if not per_op:
            continue
        print("System calls %s (perf trace -s of the whole process; requests as nginx logged them)" % title)
        names = sorted({n for calls, _, _ in per_op.values() for n in calls},
                       key=lambda n: -max(per_op[p][0].get(n, 0) for p in per_op))
        print("%-16s" % "system call" + "".join("%22s" % TITLES[p] for p in per_op))
        for name in names:
            if max(per_op[p][0].get(name, 0) for p in per_op) < 0.01:
                continue
            cells = []
            for p in per_op:
                calls, errors, _ = per_op[p]
                cell = "%.2f" % calls.get(name, 0)
                if errors.get(name, 0) >= 0.01:
                    cell += " (%.2f failed)" % errors[name]
                cells.append("%22s" % cell)
            print("%-16s" % name + "".join(cells))
        print("%-16s" % "total" + "".join("%22.2f" % sum(per_op[p][0].values()) for p in per_op))
        print("%-16s" % "requests traced" + "".join("%22d" % per_op[p][2] for p in per_op))
        print()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(pathlib.Path(sys.argv[1]))
