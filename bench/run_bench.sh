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

# ---- SMC: the linear-Gaussian state-space model (T = 100) with 100 000 particles, resampling
# at every step, against the hand-written C bootstrap filter in the shared bench folder.
# Targets: at most 1.5x the C time on one thread; below it with 2 threads.
SHARED=${SHARED:-../shared}
if [ -f "$SHARED/bench/pf_lgssm.c" ]; then
    ${CC:-cc} -O2 -std=c99 "$SHARED/bench/pf_lgssm.c" -lm -o "$OUT/pf_lgssm" || exit 1
    "$PPL" build bench/lgssm.ppl -o "$OUT/lgssm_ppl" || exit 1
    jq_free_threads() { sed 's/}[[:space:]]*$/, "threads": 2}/' "$SHARED/bench/lgssm.json"; }
    jq_free_threads > "$OUT/lgssm2.json"
    RUNS=3
    c_pf() { "$OUT/pf_lgssm" "$SHARED/bench/lgssm.json" 100000; }
    ppl_pf1() { "$OUT/lgssm_ppl" --data "$SHARED/bench/lgssm.json"; }
    ppl_pf2() { "$OUT/lgssm_ppl" --data "$OUT/lgssm2.json"; }
    tc=$(best_ms c_pf); t1=$(best_ms ppl_pf1); t2=$(best_ms ppl_pf2)
    exact=$(grep -o '"log_marginal_likelihood": *[-0-9.e]*' "$SHARED/bench/lgssm.json" | head -n 1 | sed 's/.*: *//')
    cz=$(c_pf | sed 's/.*"log_z":\([-0-9.e]*\).*/\1/'); pz=$(ppl_pf1 | cut -d' ' -f1)
    echo
    echo "lgssm SMC, 100000 particles, T = 100, resampling every step (best of $RUNS, wall clock)"
    printf '  %-34s %8s ms   log Z %s\n' "hand-written C (pf_lgssm.c)" "$tc" "$cz"
    printf '  %-34s %8s ms   %5sx C   log Z %s\n' "ppl build, 1 thread" "$t1" "$(ratio "$t1" "$tc")" "$pz"
    printf '  %-34s %8s ms   %5sx C\n' "ppl build, 2 threads" "$t2" "$(ratio "$t2" "$tc")"
    echo "  exact log Z (Kalman filter): $exact"
    if command -v /usr/bin/time > /dev/null; then
        mc=$(/usr/bin/time -f %M "$OUT/pf_lgssm" "$SHARED/bench/lgssm.json" 100000 2>&1 >/dev/null | tail -n 1)
        mp=$(/usr/bin/time -f %M "$OUT/lgssm_ppl" --data "$SHARED/bench/lgssm.json" 2>&1 >/dev/null | tail -n 1)
        echo "  peak memory: C $mc KB, ppl $mp KB"
    fi
fi

# ---- REPL latency: input to printed result for a one-line function definition, a call,
# and a small model with infer ... by is(particles = 1000), as :time measures them (median
# of 5 sessions). Target: under 50 ms each.
repl_times() {
    printf ':time\nfn sq(x: real) -> real { x * x }\nsq(3.0)\nmodel m() -> real {\n let x = sample normal(0, 1)\n reward -(x - 2)^2 / 2\n x }\nmean(infer m() by is(particles = 1000))\n' |
        "$PPL" 2>&1 | sed -n 's/^time: \([0-9.]*\) ms$/\1/p' | tr '\n' ' '
}
: > "$OUT/repl_times"
for i in 1 2 3 4 5; do repl_times >> "$OUT/repl_times"; echo >> "$OUT/repl_times"; done
echo
echo "REPL latency per cell (median of 5 sessions; target under 50 ms)"
for col in 1 2 4; do
    name=$(case $col in 1) echo "fn definition";; 2) echo "call";; 4) echo "infer, 1000 particles";; esac)
    med=$(awk -v c=$col '{ print $c }' "$OUT/repl_times" | sort -n | sed -n 3p)
    printf '  %-34s %8s ms   %5sx target\n' "$name" "$med" "$(ratio "$med" 50)"
done
