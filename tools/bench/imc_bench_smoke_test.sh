#!/usr/bin/env bash
# Runs imc_bench briefly (figures are meaningless here): every comparison must complete with
# its peers and connector processes reaped, the table, CSV and Google Benchmark's JSON must hold
# every row, and bad flags (ours and Google Benchmark's) must fail.
set -euo pipefail

bench="$1"
out="${TEST_TMPDIR:-$(mktemp -d)}"
timed=(connect_accept connect_accept_send_after connect_accept_confirmed connect_accept_2proc msg_rtt_64B msg_rtt_64KiB
  msg_1desc_rtt msg_8desc_rtt msg_8addr_rtt)
names=("${timed[@]}" pending_connections)
rows=${#names[@]}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$bench" --help >"$out/help.txt" || fail "--help exited $?"
grep -q "NAME OURS BASELINE RATIO" "$out/help.txt" || fail "--help does not explain the table"
for name in "${names[@]}"; do
  grep -q "^  $name\$" "$out/help.txt" || fail "--help does not list $name"
done

"$bench" --reps 3 --min-batch-ms 1 >"$out/table.txt" 2>"$out/stderr.txt" ||
  fail "table run exited $?: $(cat "$out/stderr.txt")"
grep -Eq '^NAME +OURS +BASELINE +RATIO +UNIT$' "$out/table.txt" || fail "no table header"
for name in "${timed[@]}"; do
  grep -Eq "^$name +[0-9.]+ +[0-9.]+ +[0-9.]+x +ns/op$" "$out/table.txt" || fail "no row $name"
done
# A count on both sides: at least one pending connection each, whatever the privileges.
grep -Eq '^pending_connections +[1-9][0-9]* +[1-9][0-9]* +[0-9.]+x +connections$' \
  "$out/table.txt" || fail "no row pending_connections: $(cat "$out/table.txt")"
grep -q 'pending_connections ours: .* stopped by' "$out/stderr.txt" ||
  fail "pending_connections does not say what stopped ours"
grep -q 'pending_connections legacy: .* stopped by' "$out/stderr.txt" ||
  fail "pending_connections does not say what stopped the legacy backlog"
grep 'pending_connections' "$out/stderr.txt"  # What limited the counts here, for the log.

"$bench" --reps 2 --iterations 20 --json --csv "$out/rows.csv" >"$out/rows.json" \
  2>"$out/stderr.txt" || fail "json run exited $?: $(cat "$out/stderr.txt")"
[[ $(wc -l <"$out/rows.csv") -eq $((rows + 1)) ]] || fail "CSV should have a header and $rows rows"
for name in "${timed[@]}"; do
  grep -q "^$name,ns/op," "$out/rows.csv" || fail "no CSV row $name"
done
grep -q "^pending_connections,connections," "$out/rows.csv" || fail "no CSV row pending_connections"
# Google Benchmark's JSON: per row, both repetitions and the aggregates, with both counters.
for name in "${names[@]}"; do
  grep -q "\"run_name\": \"$name/" "$out/rows.json" || fail "no JSON benchmark $name"
done
if command -v python3 >/dev/null; then
  python3 - "$out/rows.json" "${names[@]}" <<'PY' || fail "JSON does not hold every row's repetitions and median"
import json, sys
benchmarks = json.load(open(sys.argv[1]))["benchmarks"]
for name in sys.argv[2:]:
    runs = [b for b in benchmarks if b["run_name"].split("/")[0] == name]
    repetitions = [b for b in runs if b["run_type"] == "iteration"]
    medians = [b for b in runs if b.get("aggregate_name") == "median"]
    assert len(repetitions) == 2 and len(medians) == 1, name
    assert all("ours" in b and "baseline" in b for b in repetitions + medians), name
PY
fi

"$bench" --filter msg_rtt_64B --reps 1 --iterations 5 >"$out/one.txt" 2>/dev/null ||
  fail "filter run"
[[ $(grep -c 'ns/op$' "$out/one.txt") -eq 1 ]] || fail "--filter msg_rtt_64B should run one row"

set +e
"$bench" --no_such_flag >/dev/null 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "an unknown flag should exit 2, not $rc"
set +e
"$bench" --benchmark_no_such_flag=1 >/dev/null 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "an unknown --benchmark_ flag should exit 2, not $rc"
echo PASS
