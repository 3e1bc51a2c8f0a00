#!/usr/bin/env bash
# Runs dispatch_bench briefly (figures are meaningless here): the comparison completes and
# prints its row, Google Benchmark's flags reach it, and a bad flag fails.
set -euo pipefail

bench="$1"
out="${TEST_TMPDIR:-$(mktemp -d)}"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$bench" --help >"$out/help.txt" || fail "--help exited $?"
grep -q "null_syscall_dispatch" "$out/help.txt" || fail "--help does not list the comparison"

"$bench" --reps=3 --benchmark_repetitions=2 --benchmark_min_time=0.001 >"$out/table.txt" 2>"$out/stderr.txt" ||
  fail "table run exited $?: $(cat "$out/stderr.txt")"
grep -Eq '^NAME +OURS +BASELINE +RATIO +UNIT$' "$out/table.txt" || fail "no table header"
grep -Eq '^null_syscall_dispatch +[0-9.]+ +[0-9.]+ +[0-9.]+x +ns/op$' "$out/table.txt" ||
  fail "no row null_syscall_dispatch: $(cat "$out/table.txt")"
# Google Benchmark's own --benchmark_repetitions wins over --reps: a median of 2.
grep -Eq '^null_syscall_dispatch/manual_time_median +[0-9.]+ ns +[0-9.]+ ns +2 ' \
  "$out/stderr.txt" || fail "no median of 2 in Google Benchmark's report: $(cat "$out/stderr.txt")"
grep -q '^# figures: medians of 2 repetitions' "$out/table.txt" || fail "the table's context"

set +e
"$bench" --no_such_flag >/dev/null 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "an unknown flag should exit 2, not $rc"

# Interleaving would hold every row's set-up at once: refused.
set +e
"$bench" --benchmark_enable_random_interleaving >/dev/null 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "--benchmark_enable_random_interleaving should exit 2, not $rc"
echo PASS
