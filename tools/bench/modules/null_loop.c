/*
 * null_loop: batches of NaCl null calls (see batch_io.h). Idle between batches, blocked in
 * read() on stdin, which is what the idle-memory rows measure; run outside sel_ldr it idles
 * the same way.
 */
#include <nacl/syscalls.h>

#include "tools/bench/modules/batch_io.h"

static int NullCall(void) { return nacl_null(); }

int main(void) { return ServeBatches(NullCall); }
