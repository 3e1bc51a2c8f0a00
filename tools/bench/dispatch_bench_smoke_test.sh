#!/usr/bin/env bash
# Runs dispatch_bench briefly (figures are meaningless here): the comparison completes and
# prints its row, and a bad flag fails.
set -euo pipefail

bench="$1"
out="${TEST_TMPDIR:-$(mktemp -d)}"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$bench" --help >"$out/help.txt" || fail "--help exited $?"
grep -q "null_syscall_dispatch" "$out/help.txt" || fail "--help does not list the comparison"

"$bench" --reps=3 --min-batch-ms=1 >"$out/table.txt" 2>"$out/stderr.txt" ||
  fail "table run exited $?: $(cat "$out/stderr.txt")"
grep -Eq '^NAME +OURS +BASELINE +RATIO +UNIT$' "$out/table.txt" || fail "no table header"
grep -Eq '^null_syscall_dispatch +[0-9.]+ +[0-9.]+ +[0-9.]+x +ns/op$' "$out/table.txt" ||
  fail "no row null_syscall_dispatch: $(cat "$out/table.txt")"

set +e
"$bench" --no_such_flag >/dev/null 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "an unknown flag should exit 2, not $rc"
echo PASS
