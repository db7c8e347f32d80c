# shellcheck shell=bash
# scripts/bench --requests: which FUSE requests each workload costs, per
# filesystem, counted by the kernel itself (tracepoints fuse:fuse_request_send
# and fuse:fuse_request_end), so every FUSE filesystem is measured the same
# way, whatever its own logging. Sourced by scripts/bench; uses its TMPD,
# CUR_REP, CUR_FS and die().
#
# A step is traced from ensure_mounted (right before the measured command)
# to req_stop (right after it); record() then files what was traced under
# the row. Only requests of the measured mount's connection are counted.
# FORGET and INTERRUPT reach the daemon by another path and are not seen.
# The tracing happens in a trace instance of its own, so nothing of the
# system-wide tracer (its buffer, clock, events) is touched.

REQ_T=""
REQ_TSV=$TMPD/requests.tsv

req_setup() {
	local top=/sys/kernel/tracing
	[[ -d $top/events/fuse/fuse_request_send && -d $top/events/fuse/fuse_request_end ]] ||
		die "--requests needs the kernel's fuse tracepoints ($top/events/fuse/fuse_request_{send,end}); this kernel ($(uname -r)) has none"
	REQ_T=$top/instances/byokfs-bench-$$
	mkdir "$REQ_T" || die "--requests: cannot create the trace instance $REQ_T"
	# per-CPU local clocks would skew a request sent on one CPU and ended on another
	echo mono >"$REQ_T/trace_clock" || die "--requests: cannot set $REQ_T/trace_clock"
	echo 65536 >"$REQ_T/buffer_size_kb" || die "--requests: cannot size the trace buffer"
	echo 1 >"$REQ_T/tracing_on"
	: >"$REQ_TSV"
}

req_restore() {
	[[ -n $REQ_T && -d $REQ_T ]] || return 0
	echo 0 >"$REQ_T/events/fuse/enable" 2>/dev/null
	rmdir "$REQ_T" 2>/dev/null || say "bench: could not remove the trace instance $REQ_T"
	REQ_T=""
	return 0
}

req_start() { # mnt
	((REQUESTS)) || return 0
	local mm
	# the connection is the mount's device as the kernel encodes it: major << 20 | minor
	mm=$(findmnt -n -o MAJ:MIN --mountpoint "$1" 2>/dev/null | head -1)
	mm=${mm//[[:space:]]/} # findmnt pads the column
	echo 0 >"$REQ_T/events/fuse/enable"
	echo >"$REQ_T/trace"
	rm -f "$TMPD/req.conn"
	[[ $mm =~ ^[0-9]+:[0-9]+$ ]] || return 0
	echo $(((${mm%%:*} << 20) | ${mm#*:})) >"$TMPD/req.conn"
	echo 1 >"$REQ_T/events/fuse/enable"
}

req_stop() {
	((REQUESTS)) || return 0
	echo 0 >"$REQ_T/events/fuse/enable"
}

# the traced step failed: nothing to file
req_drop() {
	((REQUESTS)) || return 0
	req_stop
	rm -f "$TMPD/req.conn"
}

# req_harvest ROW UNITS: files the traced step's requests under ROW, per unit
req_harvest() {
	((REQUESTS)) || return 0
	[[ -s $TMPD/req.conn ]] || return 0
	req_stop
	local lost
	lost=$(awk '/^overrun:/ { s += $2 } END { print s + 0 }' "$REQ_T"/per_cpu/cpu*/stats)
	awk -v conn="$(<"$TMPD/req.conn")" -v rep="$CUR_REP" -v fs="$CUR_FS" -v row="$1" \
		-v units="$2" -v lost="$lost" '
		function ts(   i) { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) return substr($i, 1, length($i) - 1) + 0; return -1 }
		function field(name,   i) { for (i = 1; i < NF; i++) if ($i == name) return $(i + 1); return "" }
		/fuse_request_send:/ {
			if (field("connection") != conn) next
			id = field("req"); op = ""
			if (match($0, /\(FUSE_[A-Z_0-9]+\)/)) op = substr($0, RSTART + 6, RLENGTH - 7)
			sent[id] = ts(); opof[id] = op; n[op]++
			next
		}
		/fuse_request_end:/ {
			if (field("connection") != conn) next
			id = field("req")
			if (!(id in sent)) next
			t = ts() - sent[id]; op = opof[id]
			if (t >= 0) { sum[op] += t; done[op]++ }
			delete sent[id]
		}
		END {
			# one line even for a step without requests, so that it counts as 0
			printf "%s\t%s\t%s\t-\t0\t%s\t-1\t%d\n", rep, fs, row, units, lost
			for (op in n)
				printf "%s\t%s\t%s\t%s\t%d\t%s\t%.1f\t%d\n", rep, fs, row, op, n[op], units,
					done[op] ? 1e6 * sum[op] / done[op] : -1, lost
		}' "$REQ_T/trace" >>"$REQ_TSV"
	echo >"$REQ_T/trace"
	rm -f "$TMPD/req.conn"
}
