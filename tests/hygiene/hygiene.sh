# Helpers for the key-hygiene tests (sourced after tests/lib.sh).
#   need_keytools            skips without python3-cryptography
#   snap_headers             keeps the 104-byte header of every backing file
#                            in $T/hdrs/, so that the data keys of files later
#                            deleted or truncated can still be computed
#   key_list OUT [KEYFILE..] every key of $CIPHER (volume, derived, the data
#                            keys of every header snapped, the master key
#                            $KEY and any other key file given) as LABEL HEX
#   assert_no_keys KEYS WHAT PATH...   fails if keyscan.py finds a key
#   assert_finds_keys KEYS WHAT PATH...  positive control: it must
#   hyg_workload DIR         lots of operations on a mounted DIR, errors too
HYG=$BYOKFS_TOP/tests/hygiene
KEYS_PY=$BYOKFS_TOP/tests/format/keys.py
MEMSCAN=$BYOKFS_TOP/tests/tools/memscan.py

need_keytools() {
  /usr/bin/python3 -c 'import cryptography' 2>/dev/null ||
    skip "python3-cryptography (Debian) is not installed"
}

snap_headers() { # [backing dir]
  local b=${1:-$CIPHER} f n
  mkdir -p "$T/hdrs"
  while IFS= read -r -d '' f; do
    [[ $(stat -c %s "$f") -ge 104 ]] || continue
    n=$(head -c 104 "$f" | sha256sum | cut -c1-16)
    head -c 104 "$f" >"$T/hdrs/$n"
  done < <(find "$b" -type f ! -name '.byokfs.*' ! -name '*.name' -print0)
}

key_list() { # out [extra key files...]
  local out=$1 k; shift
  local hdrs=()
  [[ -d $T/hdrs ]] && hdrs=("$T"/hdrs/*)
  /usr/bin/python3 "$KEYS_PY" --key "$KEY" "$CIPHER" "${hdrs[@]}" >"$out" ||
    fail "keys.py could not compute the keys of $CIPHER"
  for k in "$KEY" "$@"; do
    echo "master-$(basename "$k") $(od -An -tx1 -v "$k" | tr -d ' \n')" >>"$out"
  done
  grep -q '^volume ' "$out" || fail "no volume key in $out"
}

assert_no_keys() { # keys what paths...
  local keys=$1 what=$2 hits; shift 2
  if hits=$(/usr/bin/python3 "$HYG/keyscan.py" "$keys" "$@"); then
    fail "key material in $what: $(echo "$hits" | head -n 5)"
  fi
  return 0
}

assert_finds_keys() { # keys what paths...
  local keys=$1 what=$2; shift 2
  /usr/bin/python3 "$HYG/keyscan.py" "$keys" "$@" >/dev/null ||
    fail "positive control: keyscan.py found no key in $what"
}

# Runs a command that may fail; appends its exit code and output to $T/cmdout.
record() {
  local rc=0 out
  out=$("$@" 2>&1) || rc=$?
  printf '$ %s\n%s\n(exit %s)\n' "$*" "$out" "$rc" >>"$T/cmdout"
  return 0
}

# Many operations, successful and failing, on a mounted directory.
hyg_workload() { # dir
  local d=$1 long
  long=$(printf 'n%.0s' $(seq 200))
  mkdir -p "$d/a/b"
  echo "$MARKER one" >"$d/a/b/small"
  head -c 300000 /dev/urandom >"$d/big"
  cp "$d/big" "$d/big.copy"
  for i in $(seq 20); do echo "$MARKER line $i" >>"$d/log.jsonl"; done
  dd if=/dev/urandom of="$d/big" bs=777 count=3 seek=100 conv=notrunc status=none
  truncate -s 5000 "$d/big.copy"; truncate -s 0 "$d/big.copy"; truncate -s 70000 "$d/big.copy"
  echo "$MARKER long" >"$d/$long"
  ln "$d/log.jsonl" "$d/hard"
  ln -s "a/b/small" "$d/link"
  readlink "$d/link" >/dev/null
  record setfattr -n user.hyg -v "$MARKER xattr" "$d/a/b/small"
  record getfattr -d "$d/a/b/small"
  record setfattr -n trusted.hyg -v x "$d/a/b/small"
  mv "$d/a/b/small" "$d/a/moved"
  mkfifo "$d/fifo"
  chmod 600 "$d/hard"; touch -d '2001-01-01' "$d/hard"
  fallocate -p -o 4096 -l 8192 "$d/big" 2>/dev/null || true
  truncate -s 10000000 "$d/sparse"
  ls -laR "$d" >/dev/null; du -s "$d" >/dev/null; stat "$d/big" >/dev/null
  cat "$d/a/moved" "$d/log.jsonl" "$d/$long" >/dev/null
  # failures
  record cat "$d/missing"
  record mkdir "$d/a"
  record rmdir "$d/a"
  record mv "$d/big" "$d/a"
  record ln -s x "$d/link"
  record touch "$d/$long$long"
  record rm "$d/fifo" "$d/missing"
  rm -f "$d/big.copy"
}
