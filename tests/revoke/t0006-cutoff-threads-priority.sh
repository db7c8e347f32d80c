# Everything on the path of a cut-off runs at nice -20 when the mount may
# raise its priority (root here): the control thread that serves
# `byokfs revoke` (and the per-connection threads it starts) and the lease
# threads that act on a denial and enforce the deadline. The FUSE workers
# that serve the readers stay at the normal priority, or a revocation
# would again queue behind them.
. "$(dirname "$0")/../lib.sh"
[[ $(id -u) -eq 0 ]] || skip "needs root (or CAP_SYS_NICE) to raise a thread's priority"
vol_setup
echo data > "$PLAIN/f"
pid=$(pgrep -f "byokfs mount .* $PLAIN\$" | head -1)
[[ -n $pid ]] || fail "no mount process for $PLAIN"
# /proc/PID/task/TID/stat: field 19 is the nice value; comm may hold spaces
# but ours do not
declare -A nice=()
workers=0
for t in /proc/$pid/task/*; do
  comm=$(cat "$t/comm")
  n=$(awk '{print $19}' "$t/stat")
  case $comm in
    byokfs-control|byokfs-lease|byokfs-renew) nice[$comm]=$n ;;
    *) [[ $n -eq 0 ]] || fail "thread $comm ($(basename "$t")) runs at nice $n, want 0"
       workers=$((workers + 1)) ;;
  esac
done
for comm in byokfs-control byokfs-lease byokfs-renew; do
  [[ -n ${nice[$comm]:-} ]] || fail "no thread named $comm in the mount ($(cat /proc/$pid/task/*/comm | sort | uniq -c | tr '\n' ' '))"
  [[ ${nice[$comm]} -eq -20 ]] || fail "$comm runs at nice ${nice[$comm]}, want -20"
done
[[ $workers -ge 2 ]] || fail "only $workers other threads: where are the FUSE workers?"
# the mount still serves, and revoke/unlock still work
byokfs revoke "$PLAIN" 2>/dev/null || fail "revoke"
cat "$PLAIN/f" 2>/dev/null && fail "read after revoke"
byokfs unlock "$PLAIN" 2>/dev/null || fail "unlock"
[[ $(cat "$PLAIN/f") == data ]] || fail "read after unlock"
