#!/usr/bin/env python3
"""Markdown tables of the FUSE requests traced by scripts/bench --requests.

Input: requests.tsv, one line per (rep, fs, row, opcode):
rep fs row opcode count units mean_latency_us lost_events
"""
import argparse
import collections
import statistics

UNIT = {
    "seqwrite": "MiB", "seqread_cold": "MiB", "seqread_warm": "MiB",
    "randread": "I/O", "randwrite": "I/O",
    "create": "file", "readsmall": "file", "ls_cold": "file", "ls_warm": "file", "rm": "file",
    "append1": "line", "append4": "line", "untar": "file", "tarc": "file",
}
# asynchronous: the caller does not wait for them (FORGET and INTERRUPT
# are not seen by the tracepoints at all)
ASYNC = {"RELEASE", "RELEASEDIR"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tsv", required=True)
    ap.add_argument("--rows", required=True, help="rows.tsv of scripts/bench: id, label, ...")
    ap.add_argument("--fs", required=True, help="comma-separated, in column order")
    a = ap.parse_args()

    fss = [f for f in a.fs.split(",") if f != "ext4"]
    rows = []
    labels = {}
    with open(a.rows) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= 2:
                rows.append(p[0])
                labels[p[0]] = p[1].replace("|", "\\|")  # a pipe would end the table cell
    # (fs, row) -> rep -> {op: (count, units, lat)}
    data = collections.defaultdict(lambda: collections.defaultdict(dict))
    lost = 0
    with open(a.tsv) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) != 8:
                continue
            rep, fs, row, op, n, units, lat, lo = p
            data[(fs, row)][rep][op] = (int(n), float(units), float(lat))
            lost = max(lost, int(lo))

    def per_unit(fs, row, op=None, sync_only=False):
        vals = []
        for ops in data[(fs, row)].values():
            tot = 0.0
            units = 0.0
            for o, (n, u, _) in ops.items():
                units = u
                if op is not None and o != op:
                    continue
                if sync_only and o in ASYNC:
                    continue
                tot += n
            if units > 0:
                vals.append(tot / units)
        return statistics.median(vals) if vals else None

    def fmt(x):
        if x is None:
            return "–"
        return f"{x:.2f}" if x < 100 else f"{x:,.0f}"

    out = []
    out.append("## FUSE requests per operation")
    out.append("")
    out.append("Counted by the kernel (tracepoints `fuse:fuse_request_send` and "
               "`fuse:fuse_request_end`, only the measured mount's connection) "
               "from right before each measured command to right after it; "
               "median over the runs. Requests the caller waits for; in "
               "brackets the asynchronous RELEASE and RELEASEDIR. FORGET and "
               "INTERRUPT take another path and are not counted.")
    out.append("")
    out.append("| workload | per | " + " | ".join(fss) + " |")
    out.append("| --- | --- | " + " | ".join("---:" for _ in fss) + " |")
    for row in rows:
        if not any(data.get((fs, row)) for fs in fss):
            continue
        cells = []
        for fs in fss:
            s = per_unit(fs, row, sync_only=True)
            t = per_unit(fs, row)
            cells.append("–" if s is None else f"{fmt(s)} ({fmt(t - s)})")
        out.append(f"| {labels.get(row, row)} | {UNIT.get(row, '?')} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("By request: count per unit, and in brackets the mean time from "
               "the request's send to its answer in µs (the daemon's work plus "
               "the wait for a free daemon thread).")
    out.append("")
    for row in rows:
        if not any(data.get((fs, row)) for fs in fss):
            continue
        out.append(f"- **{labels.get(row, row)}** (per {UNIT.get(row, '?')}):")
        for fs in fss:
            reps = data.get((fs, row))
            if not reps:
                continue
            ops = sorted({o for r in reps.values() for o in r if o != "-"},
                         key=lambda o: -(per_unit(fs, row, o) or 0))
            parts = []
            for o in ops:
                c = per_unit(fs, row, o)
                if c is None or c < 0.005:
                    continue
                lats = [r[o][2] for r in reps.values() if o in r and r[o][2] >= 0]
                lat = f" ({statistics.median(lats):.0f})" if lats else ""
                parts.append(f"{o} {fmt(c)}{lat}")
            out.append(f"  - {fs}: " + (", ".join(parts) if parts else "no requests"))
    if lost:
        out.append("")
        out.append(f"**Warning:** the trace buffer overran ({lost} events lost): "
                   "some counts above are too low.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
