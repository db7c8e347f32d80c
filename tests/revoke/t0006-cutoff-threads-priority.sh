# Everything on the path of a cut-off runs at nice -20 when the mount may
# raise its priority (root with CAP_SYS_NICE here): the control thread that
# serves `byokfs revoke` and the lease threads that act on a denial and
# enforce the deadline. The FUSE workers that serve the readers keep the
# mount's own priority, or a revocation would again queue behind them.
# Not covered here: the short-lived per-connection threads (they inherit
# the control thread's priority) and `byokfs revoke`'s own priority
# (scripts/bench-revoke measures both).
. "$(dirname "$0")/../lib.sh"
[[ $(id -u) -eq 0 ]] || skip "needs root (or CAP_SYS_NICE) to raise a thread's priority"
(renice -n -1 -p $BASHPID) >/dev/null 2>&1 || skip "cannot raise a priority here (no CAP_SYS_NICE)"
vol_setup
head -c 8000000 /dev/urandom > "$PLAIN/big"
pid=$(pgrep -f "byokfs mount .* $PLAIN\$" | head -1)
[[ -n $pid ]] || fail "no mount process for $PLAIN"

# fields after "pid (comm) ": state is the 1st, nice (field 19) the 17th
nice_of() { sed 's/.*) //' "$1/stat" | awk '{print $17}'; }
base=$(nice_of /proc/$pid)

# concurrent reads make libfuse start more workers
for i in 1 2 3 4; do
  ( for _ in 1 2 3; do echo 3 > /proc/sys/vm/drop_caches; cat "$PLAIN/big" >/dev/null; done ) &
done
wait

# the lease and control threads name themselves once their priority is set,
# and start just after the mount returns: give them a moment
declare -A nice=()
for _ in $(seq 40); do
  nice=() workers=0 others=""
  for t in /proc/$pid/task/*; do
    comm=$(cat "$t/comm" 2>/dev/null) || continue
    n=$(nice_of "$t")
    case $comm in
      byokfs-control|byokfs-lease|byokfs-renew) nice[$comm]=$n ;;
      *) workers=$((workers + 1)); [[ $n -eq $base ]] || others+=" $comm/$(basename "$t")=$n" ;;
    esac
  done
  [[ ${#nice[@]} -eq 3 ]] && break
  sleep 0.05
done
[[ -z $others ]] || fail "threads not at the mount's priority ($base):$others"
for comm in byokfs-control byokfs-lease byokfs-renew; do
  [[ -n ${nice[$comm]:-} ]] || fail "no thread named $comm in the mount ($(cat /proc/$pid/task/*/comm | sort | uniq -c | tr '\n' ' '))"
  [[ ${nice[$comm]} -eq -20 ]] || fail "$comm runs at nice ${nice[$comm]}, want -20"
done
[[ $workers -ge 3 ]] || fail "only $workers other threads after concurrent reads: where are the FUSE workers?"
# the mount still serves, and revoke/unlock still work
echo data > "$PLAIN/f"
byokfs revoke "$PLAIN" 2>/dev/null || fail "revoke"
cat "$PLAIN/f" 2>/dev/null && fail "read after revoke"
byokfs unlock "$PLAIN" 2>/dev/null || fail "unlock"
[[ $(cat "$PLAIN/f") == data ]] || fail "read after unlock"
