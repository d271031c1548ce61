# model_mode.sh - end-to-end tests of model mode and the CSV it writes, sourced by
# run_tests.sh (uses its PPL, TMP, TIMEOUT, pass, fail, show and expect_cmd).
# The model: examples/kalman.ppl with examples/kalman.json, whose Kalman filter gives
# log evidence -7.156182 and a filtered mean of x_5 of 0.073596 (variance 0.468033).

echo "== model mode and CSV"
K=examples/kalman.ppl
KD=examples/kalman.json

# csv_rows FILE: the number of draw rows (after the comments and the header)
csv_rows() { grep -v '^#' "$1" | tail -n +2 | wc -l | tr -d ' '; }
csv_header() { grep -v '^#' "$1" | head -n 1; }
# weighted mean of column `value`: sum exp(log_weight__) * value
csv_mean() { grep -v '^#' "$1" | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { w = exp($c["log_weight__"]); s += w * $c["value"]; t += w } END { printf "%.6f", s / t }'; }
csv_comment() { sed -n "s/^# $2 = //p" "$1" | cut -d' ' -f1; }
# within VALUE EXACT TOL: |value - exact| < tol
within() { awk -v v="$1" -v e="$2" -v t="$3" 'BEGIN { d = v - e; if (d < 0) d = -d; exit !(d < t) }'; }

"$PPL" build "$K" -o "$TMP/kalman" > "$TMP/err" 2>&1 || { fail "ppl build $K"; show "$TMP/err"; }

# Each method: the header, one row per particle, and estimates near the Kalman values.
# Tolerances are 4 Monte Carlo standard errors: the value's sd is 0.684, so the mean's
# standard error is 0.684 / sqrt(ESS) (ESS from the file); log Z-hat's is bounded by the
# delta method, sqrt((N / ESS - 1) / N), for IS, and measured below 0.02 for SMC at 5000.
for method in is smc; do
    out=$TMP/draws_$method.csv
    if ! $TIMEOUT "$TMP/kalman" --data "$KD" --method $method --particles 5000 --seed 3 --output "$out" 2> "$TMP/err"; then
        fail "kalman --method $method"; show "$TMP/err"; continue
    fi
    [ "$(csv_header "$out")" = "log_weight__,value,x,x.1,x.2,x.3,x.4,x.5" ] && pass ||
        fail "kalman --method $method: header is '$(csv_header "$out")'"
    [ "$(csv_rows "$out")" = 5000 ] && pass || fail "kalman --method $method: $(csv_rows "$out") rows, want 5000"
    ess=$(csv_comment "$out" ess); lz=$(csv_comment "$out" log_evidence); m=$(csv_mean "$out")
    tol_m=$(awk -v e="$ess" 'BEGIN { print 4 * 0.684 / sqrt(e) }')
    tol_z=$(awk -v e="$ess" -v m=$method 'BEGIN { print (m == "is") ? 4 * sqrt((5000 / e - 1) / 5000) : 0.08 }')
    within "$m" 0.073596 "$tol_m" && pass || fail "kalman --method $method: mean $m (ESS $ess)"
    within "$lz" -7.156182 "$tol_z" && pass || fail "kalman --method $method: log evidence $lz"
    grep -q "^# method = $method" "$out" && grep -q '^# seed = 3$' "$out" && pass ||
        fail "kalman --method $method: the configuration is not in the header"
done

# --method vi fits the file's guide (paired with the model by its sites) and writes 1000
# draws of importance sampling with the fitted guide as the proposal; the fitted params are
# in the header. Tolerances: 4 standard errors of the weighted mean (0.684 / sqrt(ESS)), and
# 0.08 for the log evidence (over seeds 1 to 8 the estimates were within 0.027 of the exact).
out=$TMP/draws_vi.csv
if $TIMEOUT "$TMP/kalman" --data "$KD" --method vi --steps 2000 --seed 3 --output "$out" --quiet 2> "$TMP/err"; then
    [ "$(csv_rows "$out")" = 1000 ] && grep -q '^# fitted log_s = ' "$out" && grep -q '^# guide = filter' "$out" &&
        pass || fail "kalman --method vi: rows or header"
    ess=$(csv_comment "$out" ess); lz=$(csv_comment "$out" log_evidence); m=$(csv_mean "$out")
    within "$m" 0.073596 "$(awk -v e="$ess" 'BEGIN { print 4 * 0.684 / sqrt(e) }')" && within "$lz" -7.156182 0.08 &&
        pass || fail "kalman --method vi: mean $m, log evidence $lz (ESS $ess)"
else
    fail "kalman --method vi"; show "$TMP/err"
fi
# Diagnostics: a degenerate IS run warns on stderr (even with --quiet) and writes k-hat in
# the preamble; SMC writes its distinct ancestors and smallest ESS; enumerate runs a
# finite discrete model exactly (log Z = log(1 - 0.7 * 0.4)).
printf 'model sharp() -> real {\n  let x = sample normal(0, 1)\n  observe 4.0 ~ normal(x, 0.05)\n  x\n}\n' > "$TMP/sharp.ppl"
if $TIMEOUT "$PPL" run "$TMP/sharp.ppl" --method is --particles 2000 --seed 1 --quiet > "$TMP/sharp.csv" 2> "$TMP/sharp.err"; then
    grep -q '^ppl: warning: the ESS is .* of 2000 particles' "$TMP/sharp.err" && grep -q '^ppl: warning: the Pareto k-hat' "$TMP/sharp.err" &&
        grep -q '^# pareto_k = ' "$TMP/sharp.csv" && pass || { fail "model mode: the warnings of a degenerate IS run"; show "$TMP/sharp.err"; }
else
    fail "model mode: a degenerate IS run"; show "$TMP/sharp.err"
fi
$TIMEOUT "$TMP/kalman" --data "$KD" --method smc --particles 500 --seed 1 --quiet > "$TMP/anc.csv" 2>&1 &&
    grep -q '^# ancestors = [0-9]' "$TMP/anc.csv" && grep -q '^# min_ess = ' "$TMP/anc.csv" && pass ||
    { fail "model mode: smc's ancestors and smallest ESS"; show "$TMP/anc.csv"; }
printf 'model coin() -> int {\n  let a = sample bernoulli(0.3)\n  let b = sample bernoulli(0.6)\n  condition a + b >= 1\n  a\n}\n' > "$TMP/coin.ppl"
if $TIMEOUT "$PPL" run "$TMP/coin.ppl" --method enumerate --quiet > "$TMP/coin.csv" 2> "$TMP/coin.err"; then
    [ "$(csv_rows "$TMP/coin.csv")" = 4 ] && within "$(csv_comment "$TMP/coin.csv" log_evidence)" -0.328504067 1e-9 && pass ||
        { fail "model mode: --method enumerate"; show "$TMP/coin.csv"; }
else
    fail "model mode: --method enumerate"; show "$TMP/coin.err"
fi

expect_cmd "model mode: vi flag with smc" 2 "vi only" "$TMP/kalman" --data "$KD" --steps 10
expect_cmd "model mode: unknown guide" 2 "no guide 'nope'" "$TMP/kalman" --data "$KD" --method vi --guide nope
# --objective names an objective without arguments: the prelude's rws fits the same guide
# (forward KL; the filter guide contains the posterior, so the tolerances are the ones above)
out=$TMP/draws_rws.csv
if $TIMEOUT "$TMP/kalman" --data "$KD" --method vi --objective rws --particles 50 --steps 2000 --seed 3 \
        --output "$out" --quiet 2> "$TMP/err"; then
    grep -q '^# objective = rws$' "$out" && pass || fail "kalman --objective rws: not in the header"
    ess=$(csv_comment "$out" ess); lz=$(csv_comment "$out" log_evidence); m=$(csv_mean "$out")
    within "$m" 0.073596 "$(awk -v e="$ess" 'BEGIN { print 4 * 0.684 / sqrt(e) }')" && within "$lz" -7.156182 0.08 &&
        pass || fail "kalman --objective rws: mean $m, log evidence $lz (ESS $ess)"
else
    fail "kalman --objective rws"; show "$TMP/err"
fi
expect_cmd "model mode: unknown objective" 2 "no objective 'iwae' without arguments .available: elbo, rws." \
    "$TMP/kalman" --data "$KD" --method vi --objective iwae
# `ppl run` passes every option flag's value on, --objective's too (from the same table).
expect_cmd "ppl run: --objective NAME" 0 "^# objective = rws$" \
    "$PPL" run "$K" --data "$KD" --method vi --objective rws --steps 5 --seed 1 --quiet

# Array params and the mat type in model mode: bench/logreg.ppl (Bayesian logistic
# regression, N = 1000, D = 5) on the shared benchmark data, against the long NUTS run in
# logreg_reference.json. The fitted params are named like CSV columns (`mu.1` for mu[0]).
# Over seeds 1 to 8 (10 particles, 2000 steps) the fitted means were within 0.26 posterior
# sds of NUTS's means and the fitted sds within 0.97 to 1.12 times NUTS's sds; the
# tolerances are 0.5 sds and 0.8 to 1.25 times. Skipped when the shared folder is absent.
SHARED=${SHARED:-../shared}
if [ -f "$SHARED/bench/logreg.json" ]; then
    out=$TMP/logreg.csv
    if $TIMEOUT "$PPL" run bench/logreg.ppl --data "$SHARED/bench/logreg.json" --method vi --particles 10 \
        --steps 2000 --seed 1 --quiet --output "$out" 2> "$TMP/err"; then
        ref=$(tr -d '\n ' < "$SHARED/bench/logreg_reference.json")
        mean=$(echo "$ref" | sed 's/.*"mean":\[\([^]]*\)\].*/\1/'); sd=$(echo "$ref" | sed 's/.*"sd":\[\([^]]*\)\].*/\1/')
        fit=$(for p in mu log_sd; do for j in 1 2 3 4 5; do csv_comment "$out" "fitted $p.$j"; done; done | tr '\n' ',')
        awk -v m="$mean" -v s="$sd" -v f="$fit" 'BEGIN { split(m, M, ","); split(s, S, ","); split(f, F, ",")
            for (j = 1; j <= 5; j++) { d = (F[j] - M[j]) / S[j]; r = exp(F[j + 5]) / S[j]
                if (d < -0.5 || d > 0.5 || r < 0.8 || r > 1.25) exit 1 } }' && pass ||
            fail "logreg --method vi: fitted ($fit) vs NUTS means ($mean) and sds ($sd)"
    else
        fail "logreg --method vi"; show "$TMP/err"
    fi
else
    echo "   (skipped logreg: no $SHARED/bench/logreg.json)"
fi

# The same seed gives byte-identical CSV from `ppl run` and the binary; another seed differs.
$TIMEOUT "$PPL" run "$K" --data "$KD" --particles 500 --seed 11 --quiet > "$TMP/run.csv" 2>&1
$TIMEOUT "$TMP/kalman" --data "$KD" --particles 500 --seed 11 --quiet > "$TMP/bin.csv" 2>&1
cmp -s "$TMP/run.csv" "$TMP/bin.csv" && [ -s "$TMP/run.csv" ] && pass ||
    fail "model mode: ppl run and the binary differ for one seed"
$TIMEOUT "$TMP/kalman" --data "$KD" --particles 500 --seed 12 --quiet > "$TMP/bin12.csv" 2>&1
cmp -s "$TMP/bin.csv" "$TMP/bin12.csv" && fail "model mode: --seed 12 gives the same draws as 11" || pass
# Threads change nothing.
$TIMEOUT "$TMP/kalman" --data "$KD" --particles 500 --seed 11 --threads 3 --quiet | grep -v '^# threads' > "$TMP/t3.csv"
grep -v '^# threads' "$TMP/bin.csv" | cmp -s - "$TMP/t3.csv" && pass || fail "model mode: --threads 3 changes the draws"
# Without --seed the seed comes from the clock and is still recorded.
$TIMEOUT "$TMP/kalman" --data "$KD" --particles 10 > "$TMP/clock.csv" 2> "$TMP/err"
grep -q '^# seed = [0-9]* (from the clock)$' "$TMP/clock.csv" && grep -q '^seed = ' "$TMP/err" && pass ||
    fail "model mode: the clock seed is not recorded"

# Bad data: each kind gives its message and exit status 1.
echo '{"y": [0.5, -0.3], "a": 0.9, "q": 0.5}' > "$TMP/missing.json"
echo '{"y": [[0.5]], "a": 0.9, "q": 0.5, "r": 1}' > "$TMP/shape.json"
echo '{"y": [0.5, -0.3], "a": "high", "q": 0.5, "r": 1}' > "$TMP/type.json"
echo '{"y": [0.5, -0.3], "a": 0.9,, "q": 0.5}' > "$TMP/malformed.json"
expect_cmd "data: missing variable" 1 "data variable 'r' is missing from" "$TMP/kalman" --data "$TMP/missing.json"
expect_cmd "data: wrong shape" 1 "data variable 'y': element \[0\]: expected real, found an array" "$TMP/kalman" --data "$TMP/shape.json"
expect_cmd "data: wrong type" 1 "data variable 'a': expected real, found string \"high\"" "$TMP/kalman" --data "$TMP/type.json"
expect_cmd "data: malformed JSON" 1 "malformed.json:1:[0-9]*: error: malformed JSON" "$TMP/kalman" --data "$TMP/malformed.json"
expect_cmd "data: unreadable file" 1 "cannot read data file" "$TMP/kalman" --data "$TMP/none.json"
expect_cmd "data: missing variable (ppl run)" 1 "data variable 'r' is missing from" "$PPL" run "$K" --data "$TMP/missing.json"
# The parameter's location is named: the model's line and column.
grep -q "kalman.ppl:[0-9]*:[0-9]*: error" "$TMP/cmd" && pass || fail "data errors in model mode name no location"

# Usage errors: exit 2.
expect_cmd "model mode: --help" 0 "--particles N" "$TMP/kalman" --help
# README.md shows the binary's --help (generated from the table of options): it must be
# exactly what the binary prints.
sed -n '/^\$ \.\/kalman --help$/,/^```$/p' README.md | sed '1d;$d' > "$TMP/readme_help"
(cd "$TMP" && ./kalman --help) > "$TMP/help"
cmp -s "$TMP/readme_help" "$TMP/help" && pass ||
    fail "README.md's kalman --help differs from the binary's" "$(diff "$TMP/readme_help" "$TMP/help" | head -5)"
expect_cmd "model mode: unknown flag" 2 "unknown option" "$TMP/kalman" --frobnicate
expect_cmd "model mode: bad particles" 2 "particles" "$TMP/kalman" --data "$KD" --particles -3
expect_cmd "model mode: unknown method" 2 "method" "$TMP/kalman" --data "$KD" --method mcmc
expect_cmd "model mode: unknown model" 2 "unknown model 'nope'" "$TMP/kalman" --data "$KD" --model nope
expect_cmd "model mode: smc flag with is" 2 "smc only" "$TMP/kalman" --data "$KD" --method is --ess 0.3
# --output naming an input is refused (exit 2) and the input is unchanged; copies, in case.
cp "$K" "$TMP/k_in.ppl"; cp "$KD" "$TMP/k_in.json"; cp "$TMP/kalman" "$TMP/k_bin"
expect_cmd "model mode: --output is the data file" 2 "--output '.*k_in.json' is the data file; refusing to overwrite it" \
    "$PPL" run "$TMP/k_in.ppl" --data "$TMP/k_in.json" --output "$TMP/./k_in.json"
expect_cmd "model mode: --output is the program" 2 "is the program; refusing to overwrite it" \
    "$PPL" run "$TMP/k_in.ppl" --data "$TMP/k_in.json" --output "$TMP/k_in.ppl"
expect_cmd "model mode: --output is the binary" 2 "is the program; refusing to overwrite it" \
    "$TMP/k_bin" --data "$TMP/k_in.json" --output "$TMP/k_bin"
expect_cmd "ppl build -o the source file" 2 "-o '.*k_in.ppl' is the source file; refusing to overwrite it" \
    "$PPL" build "$TMP/k_in.ppl" -o "$TMP/k_in.ppl"
cmp -s "$K" "$TMP/k_in.ppl" && cmp -s "$KD" "$TMP/k_in.json" && cmp -s "$TMP/kalman" "$TMP/k_bin" && pass ||
    fail "--output or -o overwrote an input"
expect_cmd "model mode: --lr inf" 2 "--lr needs a finite positive number, not 'inf'" "$TMP/kalman" --data "$KD" --method vi --lr inf
expect_cmd "model mode: --ess nan" 2 "--ess needs" "$TMP/kalman" --data "$KD" --ess nan

# ppl summary reads the CSV: the value row and the log evidence line.
expect_cmd "ppl summary" 0 "^log evidence -7\.1" "$PPL" summary "$TMP/draws_smc.csv"
grep -q "^value " "$TMP/cmd" && pass || fail "ppl summary: no value row"
expect_cmd "ppl summary, two runs" 0 "se [0-9.]+ \(from 2 files\)" "$PPL" summary "$TMP/draws_smc.csv" "$TMP/draws_is.csv"

# A Stan-ecosystem reader: R's posterior package, when installed (apt-get install r-cran-posterior).
if command -v Rscript > /dev/null && Rscript -e 'library(posterior)' > /dev/null 2>&1; then
    Rscript -e 'suppressMessages(library(posterior))
        d <- read.csv(commandArgs(TRUE)[1], comment.char = "#"); x <- as_draws_df(d)
        stopifnot(ndraws(x) == 5000, "x.5" %in% variables(x))
        m <- sum(exp(d$log_weight__) * d$value); stopifnot(abs(m - 0.073596) < 0.05)
        cat("ok\n")' "$TMP/draws_smc.csv" > "$TMP/r.out" 2>&1
    grep -q '^ok$' "$TMP/r.out" && pass || { fail "R posterior cannot read the CSV"; show "$TMP/r.out"; }
else
    echo "   (skipped: the R reader test needs Rscript with the posterior package)"
fi

# A site named `value` keeps its name and the return value's column becomes `return`; print
# in a model goes to stderr while the CSV has stdout.
printf 'model named() -> real {\n  let value = sample normal(0, 1)\n  print("drew", value)\n  value * 2\n}\n' > "$TMP/named.ppl"
if $TIMEOUT "$PPL" run "$TMP/named.ppl" --particles 3 --seed 1 --quiet > "$TMP/named.csv" 2> "$TMP/named.err"; then
    [ "$(csv_header "$TMP/named.csv")" = "log_weight__,return,value" ] && pass ||
        fail "model mode: a site named value: header $(csv_header "$TMP/named.csv")"
    [ "$(grep -c '^drew ' "$TMP/named.err")" = 3 ] && ! grep -q '^drew' "$TMP/named.csv" && pass ||
        { fail "model mode: print in a model with the CSV on stdout"; show "$TMP/named.err"; }
else
    fail "model mode: a site named value"; show "$TMP/named.err"
fi
