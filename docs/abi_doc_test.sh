#!/usr/bin/env bash
# Checks docs/abi.md against syscalls/nacl_abi.h: every NACL_* constant of the header appears
# in the document with the same value.
set -uo pipefail
root="$TEST_SRCDIR/sel_ldr_imc"
header="$root/syscalls/nacl_abi.h"
doc="$root/docs/abi.md"
missing=0
checked=0
while read -r name value; do
  checked=$((checked + 1))
  if grep -qE "\`$name\`( = \`$value\`| \| \`$value\`)" "$doc"; then
    continue
  fi
  echo "docs/abi.md: $name = $value is missing or has another value"
  missing=$((missing + 1))
done < <(awk '$1 == "#define" && $2 ~ /^NACL_(ABI|sys)_/ && $3 ~ /^(0x)?[0-9]/ {print $2, $3}' "$header")
echo "$checked constants checked, $missing missing"
[[ $checked -gt 50 && $missing -eq 0 ]]
