#!/usr/bin/env bash
# Runs the demo and checks that every step reported what it should.
set -uo pipefail
out=$("$TEST_SRCDIR/sel_ldr_imc/tools/demo/demo" 2>&1)
rc=$?
echo "$out"
[[ $rc -eq 0 ]] || { echo "FAIL: demo exited $rc"; exit 1; }
for expected in 'the module echoed "hello, module"' 'reached our pipe: "written through' \
    'it exited with status 0' 'O_RDONLY) = -1 (Permission denied)' \
    'O_CREAT) = -1 (Permission denied)' 'exists on the host: no' 'all steps passed'; do
  grep -qF "$expected" <<<"$out" || { echo "FAIL: missing: $expected"; exit 1; }
done
