#!/usr/bin/env python3
"""Turn scripts/bench's raw results into a markdown report and a gnuplot chart.

Inputs (all written by scripts/bench):
  --results TSV   rep, fs, row, status (OK|FAIL), value, note   (one line per run)
  --rows TSV      row id, label, unit, direction (hi|lo)        (table order)
  --fs LIST       filesystems that were benchmarked, in column order
  --notes FILE    markdown appended under the tables
Every figure printed is computed here from the raw per-run values: the median
of the runs; a cell is FAIL when any run of it failed.
"""
import argparse
import math
import os
import statistics
import subprocess
import sys

ENCRYPTED = ["gocryptfs", "securefs", "cryfs", "encfs"]  # peers of byokfs
short = {}  # row id -> short label for the chart


def fmt_value(v, unit):
    if v is None:
        return "—"
    if unit == "s":
        if v >= 100:
            return f"{v:.0f}"
        if v >= 10:
            return f"{v:.1f}"
        if v >= 1:
            return f"{v:.2f}"
        return f"{v:.3f}"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def md_escape(text):
    return text.replace("|", "\\|")


def speedup(ratio, direction):
    """>1 means byokfs better, whatever the unit."""
    if ratio is None or ratio <= 0:
        return None
    return ratio if direction == "hi" else 1.0 / ratio


def fmt_ratio(ratio, direction, vs=None):
    if ratio is None:
        return "—"
    s = speedup(ratio, direction)
    if abs(s - 1.0) < 0.02:
        word = "same"
    elif s > 1:
        word = "better"
    else:
        word = "worse"
    extra = f" vs {vs}" if vs else ""
    return f"{ratio:.2f}{extra} ({word})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--rows", required=True)
    ap.add_argument("--fs", required=True)
    ap.add_argument("--notes")
    ap.add_argument("--title", default="byokfs benchmark")
    ap.add_argument("--out", required=True)
    ap.add_argument("--png")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--all-mode", action="store_true")
    a = ap.parse_args()

    fslist = [f for f in a.fs.split(",") if f]
    rows = []
    global short
    with open(a.rows) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            rid, label, unit, direction = parts[:4]
            short[rid] = parts[4] if len(parts) > 4 and parts[4] else label
            rows.append((rid, label, unit, direction))

    runs = {}  # (fs,row) -> list of (rep, status, value, note)
    if os.path.exists(a.results):
        with open(a.results) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                parts = line.split("\t")
                while len(parts) < 6:
                    parts.append("")
                rep, fs, rid, status, value, note = parts[:6]
                runs.setdefault((fs, rid), []).append((int(rep), status, value, note))

    rows = [r for r in rows if any((fs, r[0]) in runs for fs in fslist)]

    footnotes = []  # (n, text)

    def cell(fs, rid):
        """(median or None, failed?, display text, min, max, n)"""
        rs = runs.get((fs, rid))
        if not rs:
            return None, False, "—", None, None, 0
        fails = [r for r in rs if r[1] != "OK"]
        vals = []
        for r in rs:
            if r[1] == "OK":
                try:
                    vals.append(float(r[2]))
                except ValueError:
                    pass
        if fails:
            reasons = {}
            for rep, _, _, note in fails:
                reasons.setdefault(note or "unknown error", []).append(rep)
            for note, reps in reasons.items():
                footnotes.append(
                    f"{fs}, {rid}: failed in run(s) {', '.join(map(str, sorted(reps)))} of {len(rs)}: {note}")
            n = len(footnotes)
            return None, True, f"**FAIL**[^f{n}]", None, None, len(rs)
        if not vals:
            return None, False, "—", None, None, 0
        med = statistics.median(vals)
        return med, False, None, min(vals), max(vals), len(vals)

    have_byokfs = "byokfs" in fslist
    others_enc = [f for f in fslist if f in ENCRYPTED]
    comps = []  # (header, other fs or "best")
    if have_byokfs:
        if "gocryptfs" in fslist:
            comps.append(("byokfs / gocryptfs", "gocryptfs"))
        if "bindfs" in fslist:
            comps.append(("byokfs / bindfs", "bindfs"))
        if a.all_mode or len(others_enc) > 1:
            if others_enc:
                comps.append(("byokfs / fastest other encrypted FS", "best"))

    table = {}
    for rid, label, unit, direction in rows:
        for fs in fslist:
            table[(fs, rid)] = cell(fs, rid)

    header = ["workload", "unit", "better"] + fslist + [c[0] for c in comps]
    out = []
    out.append("| " + " | ".join(header) + " |")
    out.append("| " + " | ".join(["---", "---", "---"] + ["---:"] * (len(fslist) + len(comps))) + " |")
    chart = []  # (label, [speed ratios])
    for rid, label, unit, direction in rows:
        better = "higher ↑" if direction == "hi" else "lower ↓"
        cells = []
        for fs in fslist:
            med, failed, text, lo, hi, n = table[(fs, rid)]
            cells.append(text if text is not None else fmt_value(med, unit))
        rats = []
        chart_vals = []
        bmed = table.get(("byokfs", rid), (None,))[0]
        for head, other in comps:
            if other == "best":
                cands = [(table[(f, rid)][0], f) for f in others_enc if table[(f, rid)][0] is not None]
                if bmed is None or not cands:
                    rats.append("—")
                    chart_vals.append(None)
                    continue
                if direction == "hi":
                    ov, of = max(cands)
                else:
                    ov, of = min(cands)
                r = bmed / ov if ov else None
                rats.append(fmt_ratio(r, direction, of))
                chart_vals.append(speedup(r, direction))
            else:
                ov = table[(other, rid)][0]
                if bmed is None or ov is None or ov == 0:
                    rats.append("—")
                    chart_vals.append(None)
                    continue
                r = bmed / ov
                rats.append(fmt_ratio(r, direction))
                chart_vals.append(speedup(r, direction))
        out.append("| " + " | ".join([md_escape(label), unit, better] + cells + rats) + " |")
        failed_here = [fs for fs in ["byokfs"] + [c[1] for c in comps] if table.get((fs, rid), (None, False))[1]]
        chart.append((short[rid] + (f" (FAIL: {', '.join(failed_here)})" if failed_here else ""), chart_vals))

    # spread table: min–max per cell and number of runs
    spread = []
    spread.append("| workload | unit | " + " | ".join(fslist) + " |")
    spread.append("| --- | --- | " + " | ".join(["---:"] * len(fslist)) + " |")
    for rid, label, unit, direction in rows:
        cells = []
        for fs in fslist:
            med, failed, text, lo, hi, n = table[(fs, rid)]
            if failed:
                cells.append("FAIL")
            elif med is None:
                cells.append("—")
            elif n == 1:
                cells.append(f"{fmt_value(lo, unit)} (1 run)")
            else:
                cells.append(f"{fmt_value(lo, unit)} – {fmt_value(hi, unit)} (n={n})")
        spread.append("| " + " | ".join([md_escape(label), unit] + cells) + " |")

    md = [f"# {a.title}", ""]
    if not have_byokfs:
        md.append("> byokfs was not benchmarked in this run, so the byokfs ratio columns are absent.")
        md.append("")
    md.append("Median of the runs per cell. Ratios are byokfs's figure divided by the other's, in the row's "
              "unit: for a *higher ↑* row a ratio above 1 is better for byokfs, for a *lower ↓* row (seconds) "
              "a ratio below 1 is better for byokfs; the word in brackets says which.")
    md.append("")
    md.extend(out)
    md.append("")
    md.append("## Spread (min – max over the runs)")
    md.append("")
    md.extend(spread)
    md.append("")
    if a.notes and os.path.exists(a.notes):
        with open(a.notes) as f:
            md.append(f.read().rstrip("\n"))
        md.append("")
    if footnotes:
        md.append("## Failures")
        md.append("")
        for i, t in enumerate(footnotes, 1):
            md.append(f"[^f{i}]: {t}")
        md.append("")

    # chart
    png_note = None
    if a.png:
        if comps:
            series = [c[0] for c in comps]
            chart_rows = chart
            ylabel = "byokfs speed relative to the other (>1: byokfs faster)"
            ctitle = "byokfs speed ratios (log scale; for time rows the inverse ratio, so >1 is always better)"
        else:
            base = "ext4" if "ext4" in fslist else (fslist[0] if fslist else None)
            series = [f"{fs} / {base}" for fs in fslist if fs != base]
            chart_rows = []
            for rid, label, unit, direction in rows:
                bv = table.get((base, rid), (None,))[0]
                vals = []
                for fs in fslist:
                    if fs == base:
                        continue
                    v = table[(fs, rid)][0]
                    if bv and v:
                        vals.append(speedup(v / bv, direction))
                    else:
                        vals.append(None)
                failed_here = [fs for fs in fslist if table[(fs, rid)][1]]
                chart_rows.append((short[rid] + (f" (FAIL: {', '.join(failed_here)})" if failed_here else ""), vals))
            ylabel = f"speed relative to {base} (>1: faster than {base})"
            ctitle = f"byokfs not run: each filesystem's speed relative to {base} (log scale)"
        png_note = write_chart(a, series, chart_rows, ylabel, ctitle)
        if png_note:
            md.append(png_note)
            md.append("")

    with open(a.out, "w") as f:
        f.write("\n".join(md))
    # the tables on stdout
    print("\n".join(out))
    if footnotes:
        print()
        for i, t in enumerate(footnotes, 1):
            print(f"[^f{i}]: {t}")
    return 0


def write_chart(a, series, chart_rows, ylabel, ctitle):
    vals = [v for _, vs in chart_rows for v in vs if v is not None and v > 0]
    if not series or not vals:
        return "Chart: nothing to plot (no ratios)."
    dat = os.path.join(a.workdir, "chart.dat")
    gp = os.path.join(a.workdir, "chart.gp")
    with open(dat, "w") as f:
        f.write("workload\t" + "\t".join(series) + "\n")
        for label, vs in chart_rows:
            lab = label.replace("\t", " ").replace('"', "'")
            f.write(lab + "\t" + "\t".join("NaN" if v is None else f"{v:.4f}" for v in vs) + "\n")
    lo = min(vals + [1.0])
    hi = max(vals + [1.0])
    ymin = 2 ** math.floor(math.log2(lo) - 0.3)
    ymax = 2 ** math.ceil(math.log2(hi) + 0.3)
    n = len(series)
    gap = 1
    labels = []
    for k in range(n):
        off = (k - (n - 1) / 2.0) / (n + gap)
        labels.append(f"'' using ($0+({off:.4f})):(column({k + 2})):(sprintf('%.2f', column({k + 2}))) "
                      f"with labels offset 0,0.7 font ',8' notitle")
    with open(gp, "w") as f:
        f.write(f"""set terminal pngcairo size 1400,760 font "sans,10" noenhanced
set output "{a.png}"
set title "{ctitle}"
set datafile separator "\\t"
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap {gap}
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set yrange [{ymin}:{ymax}]
set grid ytics
set format y "%.3g"
set ylabel "{ylabel}"
set key autotitle columnhead
set xtics rotate by -30 left font ",10"
set xrange [-0.6:{len(chart_rows) - 0.4}]
set bmargin 9
set rmargin 12
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
plot "{dat}" using 2:xtic(1) title columnheader(2)""")
        for k in range(1, n):
            f.write(f", '' using {k + 2} title columnheader({k + 2})")
        for lab in labels:
            f.write(", " + lab)
        f.write("\n")
    try:
        r = subprocess.run(["gnuplot", gp], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"Chart: gnuplot failed: {e}"
    if r.returncode != 0 or not os.path.exists(a.png):
        return "Chart: gnuplot failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    return f"Chart: `{a.png}` ({ctitle})."


if __name__ == "__main__":
    sys.exit(main())
