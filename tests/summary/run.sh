#!/bin/sh
# run.sh - `ppl summary` end to end: the fixtures' output, errors and exit statuses, then
# (when Rscript and R's posterior package are installed) compare.R against summarise_draws.
# Usage, from the repository root: sh tests/summary/run.sh ./ppl   (exit 1 after a failure)

if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u

PPL=${1:-./ppl}
case $PPL in /*) ;; *) PPL=$PWD/$PPL ;; esac
[ -x "$PPL" ] || { echo "run.sh: '$PPL' is not an executable (run 'make' first)" >&2; exit 2; }
D=tests/summary
[ -d $D ] || { echo "run.sh: run from the repository root" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ppl-summary.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
passed=0
failed=0

fail() {
    failed=$((failed + 1))
    echo "FAIL: $1"
    shift
    for line in "$@"; do printf '    %s\n' "$line"; done
}

# expect STATUS STDERR-LINE ARGS...: `ppl summary ARGS` exits with STATUS and its stderr
# has the line STDERR-LINE (any stderr when it is empty).
expect() {
    local want=$1 line=$2 rc
    shift 2
    "$PPL" summary "$@" > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -ne "$want" ]; then
        fail "ppl summary $* exited $rc, not $want" "$(head -n 5 "$TMP/err")"
    elif [ -n "$line" ] && ! grep -Fxq -- "$line" "$TMP/err"; then
        fail "ppl summary $*: stderr lacks the line" "$line" "stderr:" "$(head -n 5 "$TMP/err")"
    else
        passed=$((passed + 1))
    fi
}

# Weighted draws: the exact table, worked out by hand in tests/unit/test_summary.c.
expect 0 "" $D/w1.csv $D/w2.csv
if cmp -s "$TMP/out" $D/weighted.expect; then passed=$((passed + 1))
else fail "ppl summary $D/w1.csv $D/w2.csv" "$(diff $D/weighted.expect "$TMP/out")"; fi

# The diagnostics' comments: rows of SMC that descend from 2 first-step particles, weights
# with k-hat 0.93; the fixtures above have none and get no warning.
expect 0 "" $D/degenerate.csv
grep -Fxq "warning: $D/degenerate.csv: its 300 draws descend from 2 distinct first-step particles (smc): the ESS and mcse above count rows that repeat the same values" "$TMP/out" &&
    grep -Fxq "warning: $D/degenerate.csv: the Pareto k-hat of its weights is 0.93 > 0.7: the estimates are not to be trusted" "$TMP/out" &&
    passed=$((passed + 1)) || fail "ppl summary $D/degenerate.csv: the warnings" "$(cat "$TMP/out")"

expect 1 "$D/bad_cells.csv:4: error: wrong number of cells: 2, but the header has 3" \
    $D/bad_cells.csv
expect 1 "$D/bad_number.csv:3: error: cell 3 (column 'x') is not a number: 'two'" \
    $D/w1.csv $D/bad_number.csv
expect 1 "$D/other_columns.csv:2: error: columns differ from $D/w1.csv's (column 3 is 'y', 'x' there)" \
    $D/w1.csv $D/other_columns.csv
expect 1 "$D/chain3.csv: error: 3 draws, but $D/chain4.csv has 4 (chains of unweighted draws must be equally long)" \
    $D/chain4.csv $D/chain3.csv
expect 1 "$D/nonexistent.csv: error: cannot read the file: No such file or directory" \
    $D/nonexistent.csv
# Log weights: all -inf (no weighted draw) and nan are errors, not a table of nan.
expect 1 "$D/zero_weights.csv: error: every draw has log_weight__ -inf (weight 0): there are no weighted draws to summarize" \
    $D/zero_weights.csv
expect 1 "$D/nan_weight.csv:3: error: log_weight__ is nan; a log weight must be a number below +inf" \
    $D/nan_weight.csv
# Quoted column names (RFC 4180, as ppl writes them): a comma, a doubled quote, a line break.
expect 0 "" $D/quoted.csv
grep -q '^a,b  *3 ' "$TMP/out" && grep -q '^say "hi"  *4 ' "$TMP/out" && passed=$((passed + 1)) ||
    fail "ppl summary $D/quoted.csv: the quoted names' rows" "$(cat "$TMP/out")"
expect 1 "$D/unclosed_quote.csv:1: error: header: a quoted column name is not closed" $D/unclosed_quote.csv
# ... and a CSV that ppl itself wrote with such site names reads back.
printf 'model m() -> real {\n  let a = sample normal(0, 1) as "a,b"\n  let b = sample normal(a, 1) as "q\\"uote"\n  observe 1 ~ normal(b, 1)\n  a\n}\n' > "$TMP/quoted.ppl"
"$PPL" run "$TMP/quoted.ppl" --particles 100 --seed 1 --quiet > "$TMP/quoted.csv" 2> "$TMP/err" ||
    fail "ppl run quoted.ppl" "$(cat "$TMP/err")"
expect 0 "" "$TMP/quoted.csv"
grep -q '^a,b ' "$TMP/out" && grep -q '^q"uote ' "$TMP/out" && passed=$((passed + 1)) ||
    fail "ppl summary on ppl's own CSV with quoted names" "$(cat "$TMP/out")"
expect 2 "ppl: error: 'ppl summary' needs a FILE.csv"
expect 2 "ppl: error: '--bogus' is not a flag of 'ppl summary'" --bogus $D/w1.csv
expect 0 "" --help
grep -q "^usage: ppl summary" "$TMP/out" || fail "ppl summary --help prints no usage line"

if command -v Rscript > /dev/null && Rscript -e 'library(posterior)' > /dev/null 2>&1; then
    if Rscript $D/compare.R "$PPL" "$TMP" > "$TMP/r.out" 2>&1; then passed=$((passed + 1))
    else fail "compare.R: ppl summary against posterior::summarise_draws" "$(cat "$TMP/r.out")"; fi
else
    echo "run.sh: skipping the comparison with R (Rscript with the posterior package not found)"
fi

echo "summary tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
