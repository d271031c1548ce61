#!/bin/sh
# tsan.sh - the SMC and VI tests under ThreadSanitizer: `make TSAN=1` builds ppl with it
# (see runtime/rt_pool.c for how the collector is kept from aborting), then
#   sh tests/tsan.sh ./ppl
# runs every tests/run/smc_*.ppl on two threads and every tests/run/vi_*.ppl, and examples/coin.ppl
# by SMC on two threads with a collection at every checkpoint. Each must print its
# `// expect:` lines (results do not depend on the thread count) and TSan must report nothing.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
PPL=${1:-./ppl}
case $PPL in /*) ;; *) PPL=$PWD/$PPL ;; esac
[ -x "$PPL" ] || { echo "tsan.sh: '$PPL' is not an executable" >&2; exit 2; }
export TSAN_OPTIONS="halt_on_error=1 exitcode=66"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ppl-tsan.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
passed=0
failed=0

run() {   # NAME FILE WANT: `ppl run FILE` exits 0 and prints WANT (a file), TSan silent
    local rc
    timeout 300 "$PPL" run "$2" > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -ne 0 ] || ! cmp -s "$3" "$TMP/out" || grep -q ThreadSanitizer "$TMP/err"; then
        failed=$((failed + 1))
        echo "FAIL: $1 (exit $rc)"; diff "$3" "$TMP/out" | head -n 10; sed -n '1,30s/^/    | /p' "$TMP/err"
    else
        passed=$((passed + 1))
    fi
}

for f in tests/run/smc_*.ppl tests/run/vi_*.ppl; do
    sed -n 's|.*// expect:||p' "$f" | sed 's|^ ||' > "$TMP/want"
    sed -E '/threads *=/! s/by smc\(/by smc(threads = 2, /' "$f" > "$TMP/prog.ppl"   # keep a given threads
    run "$f" "$TMP/prog.ppl" "$TMP/want"
done
sed -E 's/particles = [0-9]+/particles = 3000/; s/by is\(/by smc(threads = 2, ess = 0.9, /' examples/coin.ppl > "$TMP/coin.ppl"
"$PPL" run "$TMP/coin.ppl" > "$TMP/coin.want" 2> /dev/null
PPL_GC_STRESS=1 run "examples/coin.ppl (smc, 2 threads, PPL_GC_STRESS=1)" "$TMP/coin.ppl" "$TMP/coin.want"

echo "tsan tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
