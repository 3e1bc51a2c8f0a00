#!/usr/bin/env bash
# Runs sandbox_bench briefly (figures are meaningless here, and ASan-built when the test is):
# every comparison starts sel_ldr with its modules, completes, reaps every process it started
# and prints its row; the CSV holds every row.
set -euo pipefail

bench="$1"
out="${TEST_TMPDIR:-$(mktemp -d)}"
time_rows=(null_syscall null_syscall_cross_cpu module_ping_pong module_ping_pong_one_cpu
  launch_hello launch_hello_launcher launch_floor_forked_loader launch_floor_two_processes
  density_connect_echo)
memory_rows=(idle_supervisor_rss idle_supervisor_pss density_pss_per_module)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$bench" --help >"$out/help.txt" || fail "--help exited $?"
for name in "${time_rows[@]}" "${memory_rows[@]}" density_pss_total; do
  grep -q "^  $name$" "$out/help.txt" || fail "--help does not list $name"
done
grep -q -- "--density-modules N" "$out/help.txt" || fail "--help does not tell --density-modules"
rc=0
"$bench" --density-modules 0 --list >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "--density-modules 0 exited $rc, not 2"

# Ten echo modules (and ten plain echo processes) for the density rows, not a thousand.
run=("$bench" --reps 1 --iterations 5 --density-modules 10 --csv "$out/rows.csv")
if command -v python3 >/dev/null; then
  # Under a child subreaper: whatever the benchmark started and did not reap (sel_ldr, a
  # module, a baseline peer) is reparented to it, and found there afterwards.
  python3 - "$out" "${run[@]}" <<'PY' || fail "table run: $(cat "$out/stderr.txt")"
import ctypes, os, subprocess, sys, time

PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
out, command = sys.argv[1], sys.argv[2:]
with open(out + "/table.txt", "w") as table, open(out + "/stderr.txt", "w") as err:
    rc = subprocess.call(command, stdout=table, stderr=err)
if rc != 0:
    sys.exit("the benchmark exited %d" % rc)
time.sleep(0.5)  # Whatever died with the benchmark (PR_SET_PDEATHSIG) is a zombie by now.
try:
    pid, _ = os.waitpid(-1, os.WNOHANG)
except ChildProcessError:
    sys.exit(0)  # No descendant of the benchmark is left.
sys.exit("the benchmark left a process behind: " +
         ("pid %d, unreaped" % pid if pid else "still running"))
PY
else
  "${run[@]}" >"$out/table.txt" 2>"$out/stderr.txt" ||
    fail "table run exited $?: $(cat "$out/stderr.txt")"
fi
grep -Eq '^NAME +OURS +BASELINE +RATIO +UNIT$' "$out/table.txt" || fail "no table header"
for name in "${time_rows[@]}"; do
  grep -Eq "^$name +[0-9.]+ +[0-9.]+ +[0-9.]+x +ns/op$" "$out/table.txt" ||
    fail "no row $name: $(cat "$out/table.txt")"
done
for name in "${memory_rows[@]}"; do
  grep -Eq "^$name +[0-9.]+ +[0-9.]+ +[0-9.]+x +KiB$" "$out/table.txt" ||
    fail "no row $name: $(cat "$out/table.txt")"
done
grep -Eq "^density_pss_total +[0-9.]+ +[0-9.]+ +[0-9.]+x +MiB$" "$out/table.txt" ||
  fail "no row density_pss_total: $(cat "$out/table.txt")"
[[ $(wc -l <"$out/rows.csv") -eq 14 ]] || fail "CSV should have a header and 13 rows"

echo PASS
