#!/usr/bin/env bash
# Scripted use of imc_client against a real sandboxed echo module.
set -uo pipefail
root="$TEST_SRCDIR/sel_ldr_imc"
client="$root/tools/imc_client/imc_client"
module="$root/tools/launcher/test_module.nexe"
export SEL_LDR="$root/sel_ldr/sel_ldr"
failures=0

check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" != "$3" ]]; then
    echo "FAIL: $1"
    echo "  expected: $(printf '%q' "$2")"
    echo "  actual:   $(printf '%q' "$3")"
    failures=$((failures + 1))
  else
    echo "ok: $1"
  fi
}

# Lines are messages; replies print with '< '.
out=$(printf 'hello\nworld\n' | "$client" --module "$module" -- echo 2>&1)
check "echo two lines" $'< hello\n< world' "$out"

# A host file travels to the module as HostIo and comes back.
tmp=$(mktemp)
echo content > "$tmp"
out=$(printf '/fd %s\n' "$tmp" | "$client" --module "$module" -- echo 2>&1)
check "host file round trip" $'< fd '"$tmp"$'\n< [HostIo '"$tmp"']' "$out"

# Shared memory travels and keeps its contents.
out=$(printf '/shm shared words\n' | "$client" --module "$module" -- echo 2>&1)
check "shared memory round trip" $'< shm\n< [SharedMemory 65536 bytes: "shared words"]' "$out"

# A file as one message.
printf 'file body' > "$tmp"
out=$("$client" --module "$module" --send-file "$tmp" -- echo </dev/null 2>&1)
check "--send-file" "< file body" "$out"
rm -f "$tmp"

# Errors: usage (2), missing module (1, named), a module that breaks the policy (1).
"$client" --bogus >/dev/null 2>&1
check "unknown flag exits 2" 2 $?
out=$("$client" --module /nonexistent.nexe </dev/null 2>&1)
check "missing module exits 1" 1 $?
[[ "$out" == *"module not found: /nonexistent.nexe"* ]] || { echo "FAIL: message: $out"; failures=$((failures + 1)); }
out=$(echo x | "$client" --module "$module" -- violate 2>&1)
check "policy violation exits 1" 1 $?
[[ "$out" == *"policy violation"* ]] || { echo "FAIL: violation message: $out"; failures=$((failures + 1)); }

# --fd with something that is not an IMC socket.
out=$("$client" --fd 0 </dev/null 2>&1)
check "--fd on a non-socket exits 1" 1 $?

# Interactive use, on a terminal (script(1) gives the client a pty): a prompt before each
# line, and /quit ends the session; the echo server then ends too, since nobody can reach it.
echo_server="$root/tools/modules/echo_server.nexe"
out=$( (sleep 0.5; echo "typed line"; sleep 0.5; echo "/quit") |
  script -q -e -c "$client --module $echo_server" /dev/null 2>&1 | tr -d '\r')
check "interactive exit status" 0 $?
[[ "$out" == *"> typed line"*"< typed line"*"> /quit"* ]] || {
  echo "FAIL: interactive transcript: $out"; failures=$((failures + 1)); }
[[ "$out" == *"echo_server: served 1 connections"* ]] || {
  echo "FAIL: the echo server did not end: $out"; failures=$((failures + 1)); }

# One style of long options: --name=VALUE as well as --name VALUE; a missing value is usage.
out=$(printf 'eq\n' | "$client" --module="$module" --timeout=5 -- echo 2>&1)
check "--name=VALUE" "< eq" "$out"
"$client" --module "$module" --timeout >/dev/null 2>&1
check "missing value exits 2" 2 $?
"$client" --module "$module" stray </dev/null >/dev/null 2>&1
check "an argument before -- exits 2" 2 $?

"$client" --help | grep -q "Usage: imc_client"
check "--help" 0 $?

echo "$failures failures"
[[ $failures -eq 0 ]]
