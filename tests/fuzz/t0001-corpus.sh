#!/usr/bin/env bash
# The libFuzzer targets (tests/fuzz/fuzz_*.c, every one, whoever wrote it)
# build, run every seed of their committed corpus tests/fuzz/corpus/NAME/
# once (crash reproducers "regress-*" included) without a crash, leak or
# broken invariant, then fuzz from it for a few seconds each (10, less when
# there are many targets, so that the test stays under about two minutes).
# Longer runs: make fuzz FUZZ_SECONDS=600.
. "$(dirname "$0")/../lib.sh"
[[ ${BYOKFS_SANITIZER:-asan} == tsan ]] && skip "the fuzz targets are ASan builds; tests/run without TSan runs them"
command -v "${FUZZ_CC:-clang}" >/dev/null || skip "clang is not installed (scripts/install-deps --test)"
rt=$("${FUZZ_CC:-clang}" -print-file-name=libclang_rt.fuzzer-x86_64.a)
[[ -f $rt ]] || rt=$(find "$("${FUZZ_CC:-clang}" -print-resource-dir)" -name 'libclang_rt.fuzzer*.a' | head -n 1)
[[ -n $rt && -f $rt ]] || skip "no libFuzzer runtime (Debian package libclang-rt-14-dev)"
top=$BYOKFS_TOP
# libFuzzer reports to its own output; the runner's sanitizer log files are
# for the mounted tests
unset ASAN_OPTIONS UBSAN_OPTIONS

make -s -C "$top" -j"$(nproc)" fuzzers >"$T/build.log" 2>&1 ||
  fail "building the fuzz targets failed: $(tail -n 20 "$T/build.log")"
names=()
for b in "$top"/build/fuzz/fuzz_*; do
  [[ -x $b && $b != *.d ]] && names+=("${b##*/fuzz_}")
done
[[ ${#names[@]} -ge 7 ]] || fail "only ${#names[@]} fuzz targets built: ${names[*]}"

# every seed once
for n in "${names[@]}"; do
  seeds=$top/tests/fuzz/corpus/$n
  if [[ ! -d $seeds ]]; then
    note "fuzz_$n has no seed corpus (tests/fuzz/corpus/$n)"
    continue
  fi
  opts=()
  [[ -f $top/tests/fuzz/fuzz_$n.options ]] &&
    mapfile -t opts < <(grep -v '^[[:space:]]*\(#\|$\)' "$top/tests/fuzz/fuzz_$n.options")
  if ! "$top/build/fuzz/fuzz_$n" -runs=0 -error_exitcode=1 -artifact_prefix="$T/seed-$n-" \
      "${opts[@]}" "$seeds" >"$T/seeds-$n.log" 2>&1; then
    grep -a -E 'ERROR|invariant|SUMMARY|Test unit' "$T/seeds-$n.log" | head -n 10 >&2
    fail "fuzz_$n crashes on a seed of tests/fuzz/corpus/$n"
  fi
  note "fuzz_$n: $(ls "$seeds" | wc -l) seeds ($(ls "$seeds" | grep -c '^regress-' || true) regressions) ok"
done

jobs=$(nproc)
secs=$((100 * jobs / ${#names[@]}))
((secs > 10)) && secs=10
((secs < 2)) && secs=2
note "fuzzing ${#names[@]} targets for ${secs}s each, $jobs at a time"
"$top/tests/fuzz/run-fuzzers" -t "$secs" -w "$T/work" -j "$jobs" "${names[@]}" ||
  fail "a fuzz target crashed (inputs in $T/work/artifacts)"
