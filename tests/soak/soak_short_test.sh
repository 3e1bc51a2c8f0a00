#!/usr/bin/env bash
# The soak's short version for CI: 20,000 mixed operations through one module, sel_ldr's fds,
# threads and RSS within the soak's bounds (soak.cc).
set -euo pipefail
"$1" --ops 20000 --report-every 5000
