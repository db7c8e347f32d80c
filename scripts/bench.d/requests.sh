# shellcheck shell=bash
# scripts/bench --requests: which FUSE requests each workload costs, per
# filesystem, counted by the kernel itself (tracepoints fuse:fuse_request_send
# and fuse:fuse_request_end), so every FUSE filesystem is measured the same
# way, whatever its own logging. Sourced by scripts/bench; uses its TMPD,
# RESULTS-style rows and say().
#
# A step is traced from ensure_mounted (right before the measured command)
# to req_stop (right after it); record() then files what was traced under
# the row. Only requests of the measured mount's connection are counted.

REQ_T=/sys/kernel/tracing
REQ_TSV=$TMPD/requests.tsv
REQ_SAVED_CLOCK="" REQ_SAVED_KB="" REQ_CONN=""

req_setup() {
	[[ -d $REQ_T/events/fuse/fuse_request_send && -d $REQ_T/events/fuse/fuse_request_end ]] ||
		die "--requests needs the kernel's fuse tracepoints ($REQ_T/events/fuse/fuse_request_{send,end}); this kernel ($(uname -r)) has none"
	REQ_SAVED_CLOCK=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$REQ_T/trace_clock")
	REQ_SAVED_KB=$(<"$REQ_T/buffer_size_kb")
	# per-CPU local clocks would skew a request sent on one CPU and ended on another
	echo mono >"$REQ_T/trace_clock" || die "--requests: cannot set $REQ_T/trace_clock"
	echo 65536 >"$REQ_T/buffer_size_kb" || die "--requests: cannot size the trace buffer"
	: >"$REQ_TSV"
}

req_restore() {
	[[ -n $REQ_SAVED_CLOCK ]] || return 0
	echo 0 >"$REQ_T/events/fuse/enable" 2>/dev/null
	echo >"$REQ_T/trace" 2>/dev/null
	echo "$REQ_SAVED_CLOCK" >"$REQ_T/trace_clock" 2>/dev/null
	echo "$REQ_SAVED_KB" >"$REQ_T/buffer_size_kb" 2>/dev/null
	REQ_SAVED_CLOCK=""
	return 0
}

req_start() { # mnt
	((REQUESTS)) || return 0
	# the connection is the mount's anonymous device (0:N): N
	REQ_CONN=$(findmnt -n -o MAJ:MIN --mountpoint "$1" 2>/dev/null | head -1 | cut -d: -f2)
	echo 0 >"$REQ_T/events/fuse/enable"
	echo >"$REQ_T/trace"
	echo "$REQ_CONN" >"$TMPD/req.conn"
	echo 1 >"$REQ_T/events/fuse/enable"
}

req_stop() {
	((REQUESTS)) || return 0
	echo 0 >"$REQ_T/events/fuse/enable"
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
			for (op in n)
				printf "%s\t%s\t%s\t%s\t%d\t%s\t%.1f\t%d\n", rep, fs, row, op, n[op], units,
					done[op] ? 1e6 * sum[op] / done[op] : -1, lost
		}' "$REQ_T/trace" >>"$REQ_TSV"
	echo >"$REQ_T/trace"
	rm -f "$TMPD/req.conn"
}
