# Helpers for the key-provider tests in tests/kms/ (sourced after ../lib.sh).
#   kms_setup            hermetic environment: HOME=$T/home, BYOKFS_CONFIG=$T/byokfs.conf
#                        (empty), no AWS_*/VAULT_* from the caller, IMDS off;
#                        skips when node is missing
#   start_aws [--tls] [-- ARGS]    AWS KMS test server: KMS_AWS_URL, _PID, _LOG, [_CA]
#   start_vault [--tls] [-- ARGS]  Vault test server: KMS_VAULT_URL, ...
#   kmsctl ..., vaultctl ...       admin clients of those servers
#   aws_env              AWS env for the server: region, endpoint, CA, default credentials
#   vault_env TOKEN      Vault env: VAULT_ADDR, VAULT_CACERT, ~/.vault-token = TOKEN
#   vault_token POLICY   prints a new token with that policy
#   vault_policy_byokfs  policy "byokfs": encrypt, decrypt, rewrap on transit/byokfs
#   kmscall ARGS         tests/kms/kmscall.c, built once per test against build/asan
#                        (build/tsan under BYOKFS_SANITIZER=tsan)
#   counter OP           the server's request count of OP (AWS op or Vault op)
#   mstatus FIELD [MP]   a field of byokfs status --json
#   wait_state STATE SECONDS [MP]   waits until the mount is in STATE
#   no_secret WHAT SECRET FILES...  fails if SECRET is in any of FILES
#   check_appended FILE ACKFILE     the appender's lines are all there and intact
# Servers are killed by PID in the EXIT trap, after the mounts are gone.
KMSDIR=$BYOKFS_TOP/tests/kms
_kms_pids=()

_kms_cleanup() {
  _cleanup
  local p
  for p in "${_kms_pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap _kms_cleanup EXIT

kms_setup() {
  command -v node >/dev/null || skip "node is not installed (scripts/install-deps --test installs it)"
  command -v curl >/dev/null || skip "curl is not installed"
  local v
  for v in $(env | grep -oE '^(AWS|VAULT)_[A-Z0-9_]*' || true); do unset "$v"; done
  unset NODE_EXTRA_CA_CERTS
  export HOME=$T/home BYOKFS_CONFIG=$T/byokfs.conf AWS_EC2_METADATA_DISABLED=true
  export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
  mkdir -p "$HOME"
  : >"$BYOKFS_CONFIG"
  chmod 0600 "$BYOKFS_CONFIG"
}

start_aws() {
  local out
  out=$("$KMSDIR/start-server" aws --dir "$T/aws" "$@") || fail "cannot start the AWS KMS test server"
  eval "$out"
  _kms_pids+=("$KMS_AWS_PID")
  export KMS_AWS_URL KMS_AWS_CA=${KMS_AWS_CA:-}
}

start_vault() {
  local out
  out=$("$KMSDIR/start-server" vault --dir "$T/vault" "$@") || fail "cannot start the Vault test server"
  eval "$out"
  _kms_pids+=("$KMS_VAULT_PID")
  export KMS_VAULT_URL KMS_VAULT_CA=${KMS_VAULT_CA:-}
}

kmsctl() { ADMINCTL_CACERT=${KMS_AWS_CA:-} "$KMSDIR/kmsctl" "$@" >/dev/null || fail "kmsctl $*"; }
vaultctl() { ADMINCTL_CACERT=${KMS_VAULT_CA:-} "$KMSDIR/vaultctl" "$@" >/dev/null || fail "vaultctl $*"; }
kmsctl_out() { ADMINCTL_CACERT=${KMS_AWS_CA:-} "$KMSDIR/kmsctl" "$@"; }
vaultctl_out() { ADMINCTL_CACERT=${KMS_VAULT_CA:-} "$KMSDIR/vaultctl" "$@"; }

AWS_TEST_AKID=AKIDEXAMPLE
AWS_TEST_SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

aws_env() {
  export AWS_REGION=us-east-1 AWS_ENDPOINT_URL_KMS=$KMS_AWS_URL
  export AWS_ACCESS_KEY_ID=$AWS_TEST_AKID AWS_SECRET_ACCESS_KEY=$AWS_TEST_SECRET
  [[ -n ${KMS_AWS_CA:-} ]] && export AWS_CA_BUNDLE=$KMS_AWS_CA
  return 0
}

# A temporary credential with a session token, random each test, in the env.
aws_temp_creds() {
  AWS_TEST_AKID=ASIA$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
  AWS_TEST_SECRET=$(head -c 30 /dev/urandom | base64 | tr -d '\n')
  AWS_TEST_TOKEN=$(head -c 300 /dev/urandom | base64 | tr -d '\n')
  kmsctl add-credential accessKeyId="$AWS_TEST_AKID" secretAccessKey="$AWS_TEST_SECRET" \
    sessionToken="$AWS_TEST_TOKEN" expiresIn=3600
  aws_env
  export AWS_SESSION_TOKEN=$AWS_TEST_TOKEN
}

vault_policy_byokfs() {
  vaultctl put-policy '{"name":"byokfs","policy":{"path":{"transit/encrypt/byokfs":{"capabilities":["update"]},"transit/decrypt/byokfs":{"capabilities":["update"]},"transit/rewrap/byokfs":{"capabilities":["update"]}}}}'
}

vault_token() { # policy
  vaultctl_out create-token policies="$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' ||
    fail "cannot create a Vault token"
}

vault_env() { # token
  export VAULT_ADDR=$KMS_VAULT_URL
  [[ -n ${KMS_VAULT_CA:-} ]] && export VAULT_CACERT=$KMS_VAULT_CA
  printf '%s\n' "$1" >"$HOME/.vault-token"
  chmod 0600 "$HOME/.vault-token"
}

# Vault API as root (admin verbs the control API lacks, e.g. keys/NAME/config).
vault_root() { # path json
  curl -sS --noproxy '*' ${KMS_VAULT_CA:+--cacert "$KMS_VAULT_CA"} -H 'X-Vault-Token: root' \
    -X POST --data-binary "$2" "$KMS_VAULT_URL/v1/$1" >/dev/null || fail "vault_root $1"
}

kmscall() {
  local bin=$T/kmscall objs san
  if [[ ! -x $bin ]]; then
    # against the objects of the build under test, with its sanitizer
    case ${BYOKFS_SANITIZER:-asan} in
      tsan) objs=$BYOKFS_TOP/build/tsan/obj san=-fsanitize=thread ;;
      *) objs=$BYOKFS_TOP/build/asan/obj san="-fsanitize=address,undefined -fno-sanitize-recover=all" ;;
    esac
    [[ -d $objs/kms ]] || fail "missing $objs (make ${BYOKFS_SANITIZER:-asan})"
    # shellcheck disable=SC2046,SC2086
    cc -std=c11 -D_GNU_SOURCE -I"$BYOKFS_TOP" $(pkg-config --cflags libsodium libcurl jansson inih) \
      $san -g "$KMSDIR/kmscall.c" \
      "$objs"/kms/*.o "$objs"/crypto/*.o $(pkg-config --libs libsodium jansson inih) -lpthread -ldl -lm \
      -o "$bin" || fail "cannot build kmscall"
  fi
  "$bin" "$@"
}

# Runs kmscall, expects exit code $1 and (if given) text $2 in its output.
kmscall_expect() { # code pattern args...
  local code=$1 pat=$2 out rc=0
  shift 2
  out=$(kmscall "$@" 2>&1) || rc=$?
  [[ $rc -eq $code ]] || fail "kmscall $*: exit $rc, want $code: $out"
  [[ -z $pat || $out == *"$pat"* ]] || fail "kmscall $*: want '$pat' in: $out"
  printf '%s\n' "$out"
}

counter() { # op [aws|vault]
  local which=${2:-aws} out
  if [[ $which == aws ]]; then out=$(kmsctl_out counters); else out=$(vaultctl_out counters); fi
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])["counters"]["ops"].get(sys.argv[2], 0))' "$out" "$1"
}

mstatus() { # field [mountpoint]
  "$BYOKFS" status --json "${2:-$PLAIN}" | python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(v)' "$1"
}

wait_state() { # state seconds [mountpoint]
  local end=$((SECONDS + $2)) st
  while :; do
    st=$(mstatus state "${3:-$PLAIN}" 2>/dev/null || echo "?")
    [[ $st == "$1" ]] && return 0
    [[ $SECONDS -ge $end ]] && fail "mount not $1 after $2 s (state $st, last error: $(mstatus last_error "${3:-$PLAIN}" 2>/dev/null))"
    sleep 0.1
  done
}

no_secret() { # what secret files...
  local what=$1 secret=$2 f
  shift 2
  [[ ${#secret} -ge 8 ]] || fail "no_secret: '$what' is too short to search for"
  for f in "$@"; do
    [[ -e $f ]] || continue
    if grep -r -a -q -F -- "$secret" "$f"; then fail "$what found in $f"; fi
  done
  return 0
}

check_appended() { # file ackfile ("ACKED [PARTIAL]")
  python3 - "$1" $(cat "$2") <<'PY' || fail "appended lines"
import sys
def line(seq):  # exactly what revoke-harness and io-loop.py write
    body = b"line %08d payload-%060d" % (seq, seq * 7919)
    h = 5381
    for c in body:
        h = (h * 33 + c) & 0xFFFFFFFFFFFFFFFF
    return body + b" %08x\n" % (h & 0xFFFFFFFF)
data = open(sys.argv[1], "rb").read()
acked = int(sys.argv[2])
partial = int(sys.argv[3]) if len(sys.argv) > 3 else 0
want = b"".join(line(i) for i in range(1, acked + 1)) + line(acked + 1)[:partial]
assert data == want, "on disk %d bytes; acknowledged %d lines and %d bytes of the next" % (
    len(data), acked, partial)
print("%d appended lines intact%s" % (acked, " and %d bytes of a short write" % partial if partial else ""))
PY
}

# Checks a revoke-harness report: every reader cut off with EKEYREVOKED
# within max_ms of the command's start.
check_cutoff() { # json max_ms what
  python3 - "$1" "$2" "$3" <<'PY' || fail "$3: $1"
import json, sys
r = json.loads(sys.argv[1]); limit = float(sys.argv[2])
assert r["cmd_rc"] == 0, "command exited %d" % r["cmd_rc"]
assert r["all_cut_off"] and r["violations"] == 0, "not all cut off"
assert all(x["errno"] == "EKEYREVOKED" for x in r["readers"]), "wrong errors"
assert all(x["last_ok_start_ms"] > -1000 for x in r["readers"]), "a reader never read"
assert r["cutoff_ms"] <= limit, "cut off after %.1f ms > %.0f ms" % (r["cutoff_ms"], limit)
print("%s: cut off %.1f ms after the command started (limit %.0f ms)" % (sys.argv[3], r["cutoff_ms"], limit))
PY
}

# Injects a fault (CTL fault ARGS...) about 1 s before the mount's next
# renewal, so that the renewal runs into it. CTL: kmsctl or vaultctl.
fault_before_renewal() { # ctl lease fault-args...
  local ctl=$1 lease=$2 end ago
  shift 2
  end=$((SECONDS + 3 * ${lease%.*} + 5))
  while :; do
    ago=$(mstatus last_renewal_ago)
    python3 -c 'import sys; a, l = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if l / 2 - 1.3 <= a <= l / 2 - 0.8 else 1)' \
      "$ago" "$lease" && break
    [[ $SECONDS -lt $end ]] || fail "no renewal rhythm (last renewal $ago s ago)"
    sleep 0.05
  done
  $ctl fault "$@"
}

# Waits until a renewal succeeded after the one counted in $1 (renewals_ok).
wait_renewal_after() { # ok_count seconds
  local end=$((SECONDS + $2))
  while [[ $(mstatus renewals_ok) -le $1 ]]; do
    [[ $SECONDS -lt $end ]] || fail "no successful renewal within $2 s (last error: $(mstatus last_error))"
    sleep 0.1
  done
}

# Outages shorter than the lease, one per fault type, each placed so that a
# renewal runs into it: reads, writes, creates and listings go on without a
# single error, every outage was seen by a renewal, and the mount never left
# "unlocked". $PLAIN mounted with lease=10. CTL: kmsctl or vaultctl.
ride_outages() { # ctl lease fault-types...
  local ctl=$1 lease=$2 f failed0 ok1 st iopid
  shift 2
  head -c 2000000 /dev/urandom >"$PLAIN/big"
  python3 "$KMSDIR/io-loop.py" "$PLAIN" 150 "$T/acked" "$T/stop" >"$T/io.json" &
  iopid=$!
  for f in "$@"; do
    failed0=$(mstatus renewals_failed)
    fault_before_renewal "$ctl" "$lease" type="$f" seconds=3
    local t_end=$((SECONDS + 4))
    while [[ $SECONDS -lt $t_end ]]; do
      st=$(mstatus state)
      [[ $st == unlocked ]] || fail "during a 3 s '$f' outage the mount went $st: $(mstatus last_error)"
      sleep 0.2
    done
    $ctl release-hung
    ok1=$(mstatus renewals_ok)
    [[ $(mstatus renewals_failed) -gt $failed0 ]] || fail "no renewal ran into the '$f' outage"
    wait_renewal_after "$ok1" "$lease"
    [[ $(mstatus state) == unlocked ]] || fail "state after the '$f' outage: $(mstatus state)"
    note "'$f' outage ridden through: $(mstatus renewals_failed) failed renewals so far"
  done
  touch "$T/stop"
  wait "$iopid" || fail "I/O failed during outages shorter than the lease: $(cat "$T/io.json")"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ops"] > 500, r; print("%d operations, none failed" % r["ops"])' "$T/io.json" ||
    fail "too little I/O: $(cat "$T/io.json")"
  check_appended "$PLAIN/appended.log" "$T/acked"
}

# An outage longer than the lease: readers (descriptors opened before) and
# an appender run while CTL injects a lasting FAULT; every reader is cut off
# with EKEYREVOKED no later than lease + 100 ms after the outage began (the
# deadline holds even while a renewal hangs), the mount is "locked" (not
# revoked); once the server is back it unlocks by itself within the lease,
# the data reads back, and every line the appender was told it wrote is
# there, intact. $PLAIN mounted with lease=$2; files f1 f2 of >= 64 KiB.
outage_past_lease() { # ctl lease fault-type want-in-last-error
  local ctl=$1 lease=$2 f=$3 want=$4 out st err t0
  local harness=$BYOKFS_TOP/build/tools/revoke-harness
  rm -f "$PLAIN/appended-$f.log"
  out=$("$harness" -e -r "$PLAIN/f1" -r "$PLAIN/f2" -a "$PLAIN/appended-$f.log" -A "$T/acked-$f" -w 400 \
    -t $((lease * 1000 + 5000)) -- bash -c '"$0" fault type="$1" >/dev/null' "$KMSDIR/$ctl" "$f") ||
    fail "harness ($f): $out"
  check_cutoff "$out" $((lease * 1000 + 100)) "'$f' outage past the lease"
  # the appender is cut off too, unless the harness stopped it first (it
  # stops everything once every reader is cut off: "EOF"); cut off between
  # the two requests the kernel makes of a line across a page boundary, it
  # sees a short write, whose prefix check_appended finds on disk
  python3 -c 'import json,sys; a=json.loads(sys.argv[1])["appender"]; assert a["errno"] in ("EKEYREVOKED", "EOF", "short write") and a["acked"] > 10, a' "$out" ||
    fail "appender during the '$f' outage: $out"
  st=$(mstatus state)
  [[ $st == locked ]] || fail "state during the '$f' outage: $st, want locked"
  err=$(mstatus last_error)
  [[ $err == *"$want"* ]] || fail "last_error during the '$f' outage: $err (want '$want')"
  expect_errno "Key has been revoked" cat "$PLAIN/f1"
  sleep 1
  [[ $(mstatus state) == locked ]] || fail "unlocked while the server is still out"
  t0=$SECONDS
  $ctl clear-faults
  $ctl release-hung
  wait_state unlocked "$lease"
  note "'$f': unlocked by itself $((SECONDS - t0)) s after the server came back"
  cmp "$PLAIN/f1" "$T/ref1" || fail "f1 differs after the '$f' outage"
  check_appended "$PLAIN/appended-$f.log" "$T/acked-$f"
}

# 30 s of I/O at lease=10: the provider is called for lease renewals only,
# never for a read, write, open or create. Counts the server's requests of
# OP (Decrypt / decrypt) between two moments just after a renewal, and
# compares them with the mount's renewal counters over the same span.
calls_per_io() { # ctl op which(aws|vault) wrap-op
  local ctl=$1 op=$2 which=$3 wrapop=$4 r0 r1 calls
  wait_fresh_renewal() {
    local end=$((SECONDS + 15))
    while python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)' "$(mstatus last_renewal_ago)"; do
      sleep 0.05 # let a just-finished renewal pass first
      [[ $SECONDS -lt $end ]] || break
    done
    while ! python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.5 else 1)' "$(mstatus last_renewal_ago)"; do
      [[ $SECONDS -lt $end ]] || fail "no renewal within 15 s"
      sleep 0.05
    done
  }
  head -c 3000000 /dev/urandom >"$PLAIN/big"
  wait_fresh_renewal
  r0=$(($(mstatus renewals_ok) + $(mstatus renewals_failed)))
  $ctl reset-counters
  python3 "$KMSDIR/io-loop.py" "$PLAIN" 30 "$T/acked" >"$T/io.json" || fail "I/O failed: $(cat "$T/io.json")"
  wait_fresh_renewal
  calls=$(counter "$op" "$which")
  r1=$(($(mstatus renewals_ok) + $(mstatus renewals_failed)))
  python3 - "$T/io.json" "$calls" "$((r1 - r0))" "$(counter "$wrapop" "$which")" "$op" <<'PY' || fail "provider calls"
import json, sys
io = json.load(open(sys.argv[1])); calls, renewals, wraps, op = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
assert io["ops"] > 1000, "too little I/O: %r" % io
assert renewals >= 5, "only %d renewals in 30 s at lease=10" % renewals
assert calls == renewals, "%d %s calls for %d renewals during %d operations" % (calls, op, renewals, io["ops"])
assert wraps == 0, "%d wrap calls during I/O" % wraps
print("%d file operations, %d renewals, %d %s calls: zero per operation" % (io["ops"], renewals, calls, op))
PY
  check_appended "$PLAIN/appended.log" "$T/acked"
}
