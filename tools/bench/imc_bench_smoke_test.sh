#!/usr/bin/env bash
# Runs imc_bench briefly (figures are meaningless here): every comparison must complete with
# its peers reaped, the table, CSV and JSON must hold every row, and bad flags must fail.
set -euo pipefail

bench="$1"
out="${TEST_TMPDIR:-$(mktemp -d)}"
names=(message_ping_pong_64B message_64B message_with_fd connect_accept bulk_128KiB)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$bench" --help >"$out/help.txt" || fail "--help exited $?"
grep -q "NAME OURS BASELINE RATIO" "$out/help.txt" || fail "--help does not explain the table"

"$bench" --reps 3 --min_batch_ms 1 >"$out/table.txt" 2>"$out/stderr.txt" ||
  fail "table run exited $?: $(cat "$out/stderr.txt")"
grep -Eq '^NAME +OURS +BASELINE +RATIO +UNIT$' "$out/table.txt" || fail "no table header"
for name in "${names[@]}"; do
  grep -Eq "^$name +[0-9.]+ +[0-9.]+ +[0-9.]+x +ns/op$" "$out/table.txt" || fail "no row $name"
done

"$bench" --reps 2 --iterations 20 --json --csv "$out/rows.csv" >"$out/rows.json" \
  2>"$out/stderr.txt" || fail "json run exited $?: $(cat "$out/stderr.txt")"
[[ $(wc -l <"$out/rows.csv") -eq 6 ]] || fail "CSV should have a header and 5 rows"
for name in "${names[@]}"; do
  grep -q "^$name,ns/op," "$out/rows.csv" || fail "no CSV row $name"
  grep -q "\"name\": \"$name\"" "$out/rows.json" || fail "no JSON row $name"
done
if command -v python3 >/dev/null; then
  python3 -c 'import json, sys; assert len(json.load(open(sys.argv[1]))["rows"]) == 5' \
    "$out/rows.json" || fail "JSON does not parse"
fi

"$bench" --filter ping --reps 1 --iterations 5 >"$out/one.txt" 2>/dev/null || fail "filter run"
[[ $(grep -c 'ns/op$' "$out/one.txt") -eq 1 ]] || fail "--filter ping should run one row"

set +e
"$bench" --no_such_flag >/dev/null 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "an unknown flag should exit 2, not $rc"
echo PASS
