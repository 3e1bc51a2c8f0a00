#!/usr/bin/env bash
# Builds modules with tools/nacl-cc and tools/nacl-c++ (the SDK is built from the runfiles
# into TEST_TMPDIR) and runs them under sel_ldr:
# - tests/modules/nacl_headers.c, a NaCl-era module that uses environ and
#   PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP without defining _GNU_SOURCE: every case it reports
#   must come out as expected;
# - the same source with -DNACL_NO_GNU_SOURCE must not compile (the default is what helps);
# - a source with its own `#define _GNU_SOURCE` compiles warning-free under -Werror;
# - a C++ module includes <sys/nacl_syscalls.h> and NaCl's ABI headers.
set -uo pipefail
root="$TEST_SRCDIR/sel_ldr_imc"
sel_ldr="$root/sel_ldr/sel_ldr"
work="$TEST_TMPDIR/nacl_cc_test"
rm -rf "$work" && mkdir -p "$work"
export NACL_SDK_DIR="$work/sdk"
fail() { echo "FAIL: $*"; exit 1; }

"$root/tools/nacl-cc" -O2 -Wall -Wextra -Werror -o "$work/nacl_headers.nexe" \
  "$root/tests/modules/nacl_headers.c" || fail "nacl-cc could not build nacl_headers.c"
out=$("$sel_ldr" -E NACL_HEADERS=yes "$work/nacl_headers.nexe" 2>"$work/err")
rc=$?
echo "$out"
[[ $rc -eq 0 ]] || fail "nacl_headers exited $rc: $(cat "$work/err")"
[[ "$(tail -n 1 <<<"$out")" == DONE ]] || fail "nacl_headers did not finish"
cases=$(grep -c '^CASE ' <<<"$out")
[[ $cases -ge 14 ]] || fail "only $cases cases reported"
while read -r _ name expected actual; do
  [[ "${expected#expected=}" == "${actual#actual=}" ]] || fail "$name: $expected $actual"
done < <(grep '^CASE ' <<<"$out")

if "$root/tools/nacl-cc" -DNACL_NO_GNU_SOURCE -c -o "$work/no_gnu.o" \
    "$root/tests/modules/nacl_headers.c" 2>"$work/no_gnu.err"; then
  fail "nacl_headers.c compiled without _GNU_SOURCE: the test does not show the default"
fi
grep -q environ "$work/no_gnu.err" || fail "unexpected error without _GNU_SOURCE: $(cat "$work/no_gnu.err")"

cat >"$work/own_define.c" <<'C'
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
int main(void) { return environ == NULL; }
C
"$root/tools/nacl-cc" -Wall -Wextra -Werror -o "$work/own_define.nexe" "$work/own_define.c" ||
  fail "a source that defines _GNU_SOURCE itself does not compile"
"$sel_ldr" "$work/own_define.nexe" || fail "own_define.nexe exited $?"

cat >"$work/module.cc" <<'CC'
#include <sys/nacl_syscalls.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "native_client/src/trusted/service_runtime/include/sys/errno.h"
#include "native_client/src/trusted/service_runtime/include/sys/stat.h"

int main() {
  null_syscall();
  NaClHandle pair[2];
  if (imc_socketpair(pair) != 0) return 1;
  struct nacl_abi_stat st;
  if (nacl_fstat(pair[0], &st) != 0 || !NACL_ABI_S_ISDSOCK(st.nacl_abi_st_mode)) return 2;
  if (imc_mem_obj_create(0) != -1 || errno != NACL_ABI_ENOMEM) return 3;
  std::string first = environ[0] != nullptr ? environ[0] : "";
  std::printf("c++ %s\n", first.c_str());
  return 0;
}
CC
"$root/tools/nacl-c++" -Wall -Wextra -Werror -o "$work/module.nexe" "$work/module.cc" ||
  fail "nacl-c++ could not build module.cc"
out=$("$sel_ldr" -E X=1 "$work/module.nexe") || fail "module.nexe exited $?"
[[ "$out" == "c++ X=1" ]] || fail "module.nexe printed: $out"
echo PASS
