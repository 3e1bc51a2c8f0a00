#!/usr/bin/env bash
# Runs the demo and checks that every step reported what it should; then that --help and an
# unknown flag answer at once without running the tour. $1: the demo.
set -uo pipefail
demo=$1
out=$("$demo" 2>&1)
rc=$?
echo "$out"
[[ $rc -eq 0 ]] || { echo "FAIL: demo exited $rc"; exit 1; }
for expected in 'the module echoed "hello, module"' 'reached our pipe: "written through' \
    'it exited with status 0' 'O_RDONLY) = -1 (Permission denied)' \
    'O_CREAT) = -1 (Permission denied)' 'exists on the host: no' 'all steps passed'; do
  grep -qF "$expected" <<<"$out" || { echo "FAIL: missing: $expected"; exit 1; }
done

out=$("$demo" --help 2>&1)
rc=$?
[[ $rc -eq 0 && "$out" == usage:* && "$out" != *launched* ]] || {
  echo "FAIL: demo --help exited $rc and printed: $out"; exit 1; }
out=$("$demo" --no-such-flag 2>&1)
rc=$?
[[ $rc -eq 2 && "$out" == *"unknown option --no-such-flag"* && "$out" != *launched* ]] || {
  echo "FAIL: demo --no-such-flag exited $rc and printed: $out"; exit 1; }
echo PASS
