#!/bin/sh
# run_bench.sh - end-to-end timing of `ppl run` (compile + JIT + run) and of `ppl build` plus
# running the binary, against `cc -O0` compiling and running the same program in C.
# Usage (from the repo root, or `make bench`): sh bench/run_bench.sh ./ppl
# Targets: `ppl run bench/small.ppl` and `ppl run examples/coin.ppl` (100 000 particles of
# importance sampling) each under 0.5 s end to end; further sections (SMC, VI, the REPL)
# state theirs.
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
    jq_free_threads() { sed '$ s/}[[:space:]]*$/, "threads": 2}/' "$SHARED/bench/lgssm.json"; }   # the top-level object's end
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

# cpu_ms CMD: the median of 5 CPU times (user + system) of CMD, in ms; peak_kb CMD: its
# peak resident memory. Runs of the programs compared are interleaved by the callers.
cpu_ms() { /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -n 1 | awk '{ printf "%.0f", ($1 + $2) * 1000 }'; }
peak_kb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
median5() { printf '%s\n' "$@" | sort -n | sed -n 3p; }

# ---- Traces by column: SMC with the default options (resampling when the ESS falls below
# half) on lgssm.json, 100 000 particles, then print(post), which needs every particle's
# path: against the same program with trace = false, in the same run (CPU time, median of 5,
# interleaved). Targets: at most 1.3x the time, and peak memory at most 1.5x the bytes of
# the values and ancestors kept (101 steps x 8 bytes + resamplings x 4 bytes per particle,
# about 120 MB).
if [ -f "$SHARED/bench/lgssm.json" ] && command -v /usr/bin/time > /dev/null; then
    sed 's/smc(particles = 100000)/smc(particles = 100000, trace = false)/' bench/lgssm_post.ppl > "$OUT/lgssm_notrace.ppl"
    "$PPL" build bench/lgssm_post.ppl -o "$OUT/lgssm_trace" && "$PPL" build "$OUT/lgssm_notrace.ppl" -o "$OUT/lgssm_notrace" || exit 1
    D="$SHARED/bench/lgssm.json"
    a=""; b=""
    for i in 1 2 3 4 5; do a="$a $(cpu_ms "$OUT/lgssm_trace" --data "$D")"; b="$b $(cpu_ms "$OUT/lgssm_notrace" --data "$D")"; done
    ta=$(median5 $a); tb=$(median5 $b)
    ma=$(peak_kb "$OUT/lgssm_trace" --data "$D"); mb=$(peak_kb "$OUT/lgssm_notrace" --data "$D")
    kept_mb=$(awk 'BEGIN { printf "%.0f", (101 * 8 + 100 * 4) * 100000 / 1e6 }')   # upper bound: a resampling per step
    echo
    echo "lgssm SMC with traces, 100000 particles, default options, print(post) (CPU, median of 5)"
    printf '  %-34s %8s ms   %6s KB\n' "trace = false" "$tb" "$mb"
    printf '  %-34s %8s ms   %6s KB   %5sx time\n' "traces by column (default)" "$ta" "$ma" "$(ratio "$ta" "$tb")"
    echo "  values and ancestors kept: at most $kept_mb MB; peak is $(awk -v m="$ma" -v k="$kept_mb" 'BEGIN { printf "%.2f", m / 1000 / k }')x that"
    if awk -v r="$(ratio "$ta" "$tb")" 'BEGIN { exit !(r <= 1.3) }'; then verdict=met; else verdict="NOT met"; fi
    echo "target: traces at most 1.3x the time of trace = false: $verdict"
fi

# ---- Importance sampling: the tilted Gaussian (tilt.json) with 10^7 draws (the program reads only
# mean, sd and fields, so neither sites nor draws are kept), against the hand-written is_tilt.c
# (CPU, median of 5, interleaved). Target: at most 1.5x C.
if [ -f "$SHARED/bench/is_tilt.c" ] && command -v /usr/bin/time > /dev/null; then
    ${CC:-cc} -O2 -std=c99 "$SHARED/bench/is_tilt.c" -lm -o "$OUT/is_tilt" || exit 1
    "$PPL" build bench/tilt.ppl -o "$OUT/tilt_ppl" || exit 1
    a=""; b=""
    for i in 1 2 3 4 5; do a="$a $(cpu_ms "$OUT/tilt_ppl")"; b="$b $(cpu_ms "$OUT/is_tilt" "$SHARED/bench/tilt.json" 10000000)"; done
    ta=$(median5 $a); tb=$(median5 $b)
    echo
    echo "IS, tilted Gaussian, 10^7 draws (CPU, median of 5)"
    printf '  %-34s %8s ms   %6s KB\n' "hand-written C (is_tilt.c)" "$tb" "$(peak_kb "$OUT/is_tilt" "$SHARED/bench/tilt.json" 10000000)"
    printf '  %-34s %8s ms   %6s KB   %5sx C\n' "ppl build bench/tilt.ppl" "$ta" "$(peak_kb "$OUT/tilt_ppl")" "$(ratio "$ta" "$tb")"
    if awk -v r="$(ratio "$ta" "$tb")" 'BEGIN { exit !(r <= 1.5) }'; then verdict=met; else verdict="NOT met"; fi
    echo "target: at most 1.5x the C time: $verdict"
fi

# ---- Model mode's CSV: eight schools by importance sampling, 200 000 draws of 11 numbers
# written to a file; rows written per second of CPU time (median of 5).
if command -v /usr/bin/time > /dev/null; then
    "$PPL" build bench/eight_schools.ppl -o "$OUT/schools" || exit 1
    a=""
    for i in 1 2 3 4 5; do a="$a $(cpu_ms "$OUT/schools" --method is --particles 200000 --seed 1 --quiet --output "$OUT/schools.csv")"; done
    t=$(median5 $a)
    echo
    echo "model mode CSV, eight schools, 200000 IS draws: $t ms CPU, $(awk -v t="$t" 'BEGIN { printf "%.0f", 200000 / (t / 1000) }') rows/s (11 numbers a row)"
fi

# ---- VI: Bayesian logistic regression (N = 1000, D = 5, prior N(0, 1)) with a mean-field
# Gaussian guide, the ELBO with 1 particle and Adam: gradient evaluations (= steps) per
# second of `ppl build bench/logreg.ppl` in model mode, against bench/logreg_grad.c, the same
# step with its gradient written by hand. ppl's rate comes from the difference of runs of
# S1 and S2 steps (best of 3 each), which cancels start-up, reading the data and the 1000
# importance-sampling draws after the fit; the C program times its loop itself (best of 3).
# Target: ppl within 2x of the C rate. The fitted means are compared with the long NUTS run
# of logreg_reference.json, in units of its posterior sds.
if [ -f "$SHARED/bench/logreg.json" ]; then
    ${CC:-cc} -O2 -std=c99 -D_GNU_SOURCE bench/logreg_grad.c -ljansson -lm -o "$OUT/logreg_grad" || exit 1
    "$PPL" build bench/logreg.ppl -o "$OUT/logreg_ppl" || exit 1
    S1=2000; S2=22000; RUNS=3
    LR="$SHARED/bench/logreg.json"
    vi_s1() { "$OUT/logreg_ppl" --data "$LR" --method vi --particles 1 --steps $S1 --seed 1 --quiet; }
    vi_s2() { "$OUT/logreg_ppl" --data "$LR" --method vi --particles 1 --steps $S2 --seed 1 --quiet; }
    t1=$(best_ms vi_s1); t2=$(best_ms vi_s2)
    ppl_rate=$(awk -v a="$t1" -v b="$t2" -v n=$((S2 - S1)) 'BEGIN { printf "%.0f", n / ((b - a) / 1000) }')
    c_rate=0
    for i in 1 2 3; do
        r=$("$OUT/logreg_grad" "$LR" $((S2 - S1)) | sed -n 's/^RESULT grad_per_s=\([0-9.]*\).*/\1/p')
        c_rate=$(awk -v a="$c_rate" -v b="$r" 'BEGIN { printf "%.0f", (b > a ? b : a) }')
    done
    ref=$(tr -d '\n ' < "$SHARED/bench/logreg_reference.json")
    mean=$(echo "$ref" | sed 's/.*"mean":\[\([^]]*\)\].*/\1/'); sd=$(echo "$ref" | sed 's/.*"sd":\[\([^]]*\)\].*/\1/')
    fit=$(vi_s2 | sed -n 's/^# fitted mu\.[0-9]* = //p' | tr '\n' ',')
    dev=$(awk -v m="$mean" -v s="$sd" -v f="$fit" 'BEGIN { split(m, M, ","); split(s, S, ","); split(f, F, ",")
        for (j = 1; j <= 5; j++) { d = (F[j] - M[j]) / S[j]; if (d < 0) d = -d; if (d > x) x = d }; printf "%.2f", x }')
    ratio_vi=$(awk -v a="$c_rate" -v b="$ppl_rate" 'BEGIN { printf "%.2f", a / b }')
    echo
    echo "VI, Bayesian logistic regression (N = 1000, D = 5), 1 particle, Adam: gradient evaluations per second"
    printf '  %-34s %8s /s\n' "hand-written C (logreg_grad.c)" "$c_rate"
    printf '  %-34s %8s /s   C is %sx faster\n' "ppl build bench/logreg.ppl" "$ppl_rate" "$ratio_vi"
    echo "  fitted means after $S2 steps: at most $dev posterior sds from NUTS's"
    if awk -v r="$ratio_vi" 'BEGIN { exit !(r <= 2) }'; then verdict=met; else verdict="NOT met"; fi
    echo "target: ppl within 2x of the hand-written gradient: $verdict"
fi

# ---- tensors: an n x n matmul as a tape node (forward, and its backward step of two sgemms)
# against raw OpenBLAS sgemm (bench/tensor_matmul.c, best of 15). Target: the node within
# 1.2x of sgemm forward and of two sgemms backward from n = 256 on.
make -s "$OUT/tensor_matmul" || exit 1
echo
echo "Tensors: n x n matmul, raw sgemm against the AD tape's node"
"$OUT/tensor_matmul" | sed 's/^/  /'

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
