#!/bin/sh
# run_bench.sh - end-to-end timing of `ppl run` (compile + JIT + run) and of `ppl build` plus
# running the binary, against `cc -O0` compiling and running the same program in C.
# Usage (from the repo root, or `make bench`): sh bench/run_bench.sh ./ppl
# Targets: `ppl run bench/small.ppl` and `ppl run examples/coin.ppl` (100 000 particles of
# importance sampling) each under 0.5 s end to end.
set -u
PPL=${1:-./ppl}
OUT=build/bench
RUNS=10
mkdir -p "$OUT"

ppl_run() { "$PPL" run bench/small.ppl; }
ppl_coin() { "$PPL" run examples/coin.ppl; }
ppl_build_run() { "$PPL" build bench/small.ppl -o "$OUT/small_ppl" && "$OUT/small_ppl"; }
cc_build_run() { ${CC:-cc} -O0 -o "$OUT/small_c" bench/small.c -lm && "$OUT/small_c"; }

# best_ms CMD: the fastest of $RUNS wall-clock times of CMD, in milliseconds (one decimal).
best_ms() {
    best=""
    i=0
    while [ $i -lt $RUNS ]; do
        t0=$(date +%s%N)
        "$@" > /dev/null || { echo "run_bench.sh: '$*' failed" >&2; exit 1; }
        t1=$(date +%s%N)
        us=$(( (t1 - t0) / 1000 ))
        if [ -z "$best" ] || [ $us -lt "$best" ]; then best=$us; fi
        i=$((i + 1))
    done
    awk -v us="$best" 'BEGIN { printf "%.1f", us / 1000 }'
}

# The three must compute the same thing.
a=$(ppl_run) && b=$(ppl_build_run) && c=$(cc_build_run) || { echo "run_bench.sh: a program failed" >&2; exit 1; }
if [ "$a" != "$b" ] || [ "$a" != "$c" ]; then
    printf 'run_bench.sh: outputs differ\n  ppl run:   %s\n  ppl build: %s\n  cc:        %s\n' "$a" "$b" "$c" >&2
    exit 1
fi

run=$(best_ms ppl_run)
build=$(best_ms ppl_build_run)
cc=$(best_ms cc_build_run)
coin=$(best_ms ppl_coin)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "bench/small.ppl, best of $RUNS wall-clock runs (output: $a)"
printf '  %-34s %8s ms   %5sx cc\n' "ppl run (compile + JIT + run)" "$run" "$(ratio "$run" "$cc")"
printf '  %-34s %8s ms   %5sx cc\n' "ppl build + run the binary" "$build" "$(ratio "$build" "$cc")"
printf '  %-34s %8s ms\n' "cc -O0 bench/small.c + run" "$cc"
printf '  %-34s %8s ms   %5sx cc\n' "ppl run examples/coin.ppl" "$coin" "$(ratio "$coin" "$cc")"
for t in "small.ppl:$run" "coin.ppl:$coin"; do
    if awk -v t="${t#*:}" 'BEGIN { exit !(t < 500) }'; then verdict=met; else verdict="NOT met"; fi
    echo "target: ppl run ${t%%:*} under 500 ms end to end: $verdict"
done
