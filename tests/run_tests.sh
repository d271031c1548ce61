#!/bin/sh
# run_tests.sh - the end-to-end test suite: programs with expected output, error messages,
# a crash corpus for the front end, and the driver's command line. Usage (from the repo root):
#   sh tests/run_tests.sh ./ppl
#
# Test files carry their expectations as comments (see README.md, "Tests"):
#   // expect: TEXT                       one line of stdout (nothing after ':' = empty line)
#   // args: ARGS                         extra arguments for `ppl run` and the built binary
#   // expect error: L:C: MESSAGE         stderr has `FILE:L:C: error: MESSAGE`, exit 1
#   // expect runtime error: L:C: MESSAGE the same, from `ppl run` and from the built binary
#   // expect stderr: TEXT                 stderr has the line TEXT, exit 1 (errors without a location)
#   // expect line: TEXT                  (examples/ only) stdout has the whole line TEXT, anywhere
# Every ppl invocation runs with sanitizer options that turn findings into failures.

# The script is written for bash (arrays, local); `sh` on Debian is dash, so re-run under bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u

PPL=${1:-./ppl}
case $PPL in /*) ;; *) PPL=$PWD/$PPL ;; esac
ROOT=$PWD
[ -x "$PPL" ] || { echo "run_tests.sh: '$PPL' is not an executable (run 'make' first)" >&2; exit 2; }
[ -d tests/run ] || { echo "run_tests.sh: run from the repository root" >&2; exit 2; }

export ASAN_OPTIONS=detect_leaks=0:exitcode=86
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
# A compiler or program that loops forever is a failure, not a hung suite.
TIMEOUT="timeout 60"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ppl-tests.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

passed=0
failed=0

pass() { passed=$((passed + 1)); }

# fail NAME DETAIL...: counts a failure and prints what went wrong, indented.
fail() {
    failed=$((failed + 1))
    echo "FAIL: $1"
    shift
    for line in "$@"; do printf '    %s\n' "$line"; done
}

# show FILE: the first lines of a captured output, indented, for failure reports.
show() {
    if [ -s "$1" ]; then sed -n '1,15s/^/      | /p' "$1"; else echo "      | (empty)"; fi
}

# The directives of a test file. Text may follow code on the same line (`print(1) // expect: 1`).
expected_stdout() { sed -n 's|.*// expect:||p' "$1" | sed 's|^ ||'; }
test_args() { sed -n 's|.*// args: *||p' "$1" | head -n 1; }
expected_errors() {   # $1 file, $2 "error" or "runtime error": prints `FILE:L:C: error: MSG`
    sed -n "s|.*// expect $2: *\\([0-9]*:[0-9]*\\): *|$1:\\1: error: |p" "$1"
}

# missing_lines WANT GOT: prints each line of WANT that is not a whole line of GOT.
missing_lines() {
    local line
    while IFS= read -r line; do
        grep -Fxq -- "$line" "$2" || echo "$line"
    done < "$1"
}

# ---------------------------------------------------------------------------------------------
# tests/run: stdout must match the `// expect:` lines, from `ppl run` and from the built binary.

run_program_test() {
    local f=$1 args out=$TMP/out rc
    args=$(test_args "$f")
    expected_stdout "$f" > "$TMP/want"
    # shellcheck disable=SC2086
    $TIMEOUT "$PPL" run $args "$f" > "$out" 2> "$TMP/err"; rc=$?
    if [ $rc -ne 0 ] || ! cmp -s "$TMP/want" "$out"; then
        fail "$f (ppl run, exit $rc)" "$(diff "$TMP/want" "$out" | head -n 20)" "stderr:"
        show "$TMP/err"
        return
    fi
    $TIMEOUT "$PPL" build "$f" -o "$TMP/bin" > "$TMP/bout" 2> "$TMP/err"; rc=$?
    if [ $rc -ne 0 ]; then
        fail "$f (ppl build, exit $rc)" "stderr:"; show "$TMP/err"; return
    fi
    # shellcheck disable=SC2086
    $TIMEOUT "$TMP/bin" $args > "$out" 2> "$TMP/err"; rc=$?
    if [ $rc -ne 0 ] || ! cmp -s "$TMP/want" "$out"; then
        fail "$f (built binary, exit $rc)" "$(diff "$TMP/want" "$out" | head -n 20)" "stderr:"
        show "$TMP/err"
        return
    fi
    pass
}

echo "== run tests"
for f in tests/run/*.ppl; do run_program_test "$f"; done

# ---------------------------------------------------------------------------------------------
# tests/errors: exit 1, each expected error line on stderr, stdout exactly the `// expect:` lines.

# check_error_output NAME RC OUT ERR WANT_ERRORS: the shared checks for one invocation.
check_error_output() {
    local name=$1 rc=$2 out=$3 err=$4 want=$5 missing
    missing=$(missing_lines "$want" "$err")
    if [ "$rc" -ne 1 ] || [ -n "$missing" ] || ! cmp -s "$TMP/want" "$out"; then
        fail "$name (exit $rc, want 1)" "missing on stderr:" "$missing" "stderr:"
        show "$err"
        if ! cmp -s "$TMP/want" "$out"; then echo "    stdout differs:"; diff "$TMP/want" "$out" | head -n 10; fi
        return 1
    fi
    return 0
}

error_test() {
    local f=$1 args rc kind=error
    args=$(test_args "$f")
    expected_stdout "$f" > "$TMP/want"
    expected_errors "$f" "error" > "$TMP/want_err"
    sed -n 's|.*// expect stderr: ||p' "$f" >> "$TMP/want_err"
    if [ ! -s "$TMP/want_err" ]; then
        kind="runtime error"
        expected_errors "$f" "runtime error" > "$TMP/want_err"
    fi
    if [ ! -s "$TMP/want_err" ]; then fail "$f" "no '// expect error:', '// expect runtime error:' or '// expect stderr:' line"; return; fi
    # shellcheck disable=SC2086
    $TIMEOUT "$PPL" run $args "$f" > "$TMP/out" 2> "$TMP/err"; rc=$?
    check_error_output "$f (ppl run)" $rc "$TMP/out" "$TMP/err" "$TMP/want_err" || return
    # `ppl build` either reports the same compile errors, or makes a binary that must fail
    # the same way at run time (runtime and data errors).
    rm -f "$TMP/bin"
    $TIMEOUT "$PPL" build "$f" -o "$TMP/bin" > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -ne 0 ]; then
        if [ "$kind" = "runtime error" ]; then
            fail "$f (ppl build, exit $rc)" "a program with a runtime error must build"; show "$TMP/err"; return
        fi
        : > "$TMP/want"   # a failed build prints nothing on stdout
        check_error_output "$f (ppl build)" $rc "$TMP/out" "$TMP/err" "$TMP/want_err" || return
    else
        expected_stdout "$f" > "$TMP/want"
        # shellcheck disable=SC2086
        $TIMEOUT "$TMP/bin" $args > "$TMP/out" 2> "$TMP/err"; rc=$?
        check_error_output "$f (built binary)" $rc "$TMP/out" "$TMP/err" "$TMP/want_err" || return
    fi
    pass
}

echo "== error tests"
for f in tests/errors/*.ppl; do error_test "$f"; done

# ---------------------------------------------------------------------------------------------
# examples/: each runs (with examples/NAME.json as data if there is one), prints something,
# prints every `// expect line: TEXT` of the file as a whole line (examples print summaries
# whose digits depend on the seed, plus check lines), and the built binary prints the same.

example_test() {
    local f=$1 args rc missing
    args=$(test_args "$f")
    [ -f "${f%.ppl}.json" ] && args="$args --data ${f%.ppl}.json"
    # shellcheck disable=SC2086
    $TIMEOUT "$PPL" run $args "$f" > "$TMP/want" 2> "$TMP/err"; rc=$?
    if [ $rc -ne 0 ] || [ ! -s "$TMP/want" ]; then
        fail "$f (ppl run, exit $rc)" "stderr:"; show "$TMP/err"; return
    fi
    sed -n 's|.*// expect line: ||p' "$f" > "$TMP/want_lines"
    missing=$(missing_lines "$TMP/want_lines" "$TMP/want")
    if [ -n "$missing" ]; then
        fail "$f (ppl run: an expected line is missing)" "missing:" "$missing" "stdout:"
        show "$TMP/want"; return
    fi
    $TIMEOUT "$PPL" build "$f" -o "$TMP/bin" > /dev/null 2> "$TMP/err" ||
        { fail "$f (ppl build)" "stderr:"; show "$TMP/err"; return; }
    # shellcheck disable=SC2086
    $TIMEOUT "$TMP/bin" $args > "$TMP/out" 2> "$TMP/err"; rc=$?
    if [ $rc -ne 0 ] || ! cmp -s "$TMP/want" "$TMP/out"; then
        fail "$f (built binary differs from ppl run, exit $rc)" "$(diff "$TMP/want" "$TMP/out" | head -n 10)"
        show "$TMP/err"; return
    fi
    pass
}

echo "== examples"
for f in examples/*.ppl; do example_test "$f"; done

# ---------------------------------------------------------------------------------------------
# Inference runs: reproducible for a seed, different across seeds, unchanged by collecting
# garbage at every checkpoint, unchanged by potentials.

echo "== seeds, collection, potentials"

# --seed N gives the same output from `ppl run` and from the built binary; another seed
# gives another output.
if $TIMEOUT "$PPL" build examples/coin.ppl -o "$TMP/coin" > "$TMP/cmd" 2>&1; then
    $TIMEOUT "$PPL" run --seed 7 examples/coin.ppl > "$TMP/seed7" 2>&1
    $TIMEOUT "$TMP/coin" --seed 7 > "$TMP/seed7bin" 2>&1
    $TIMEOUT "$PPL" run --seed 8 examples/coin.ppl > "$TMP/seed8" 2>&1
    if [ ! -s "$TMP/seed7" ] || ! cmp -s "$TMP/seed7" "$TMP/seed7bin"; then
        fail "--seed 7: ppl run and the built binary differ" "$(diff "$TMP/seed7" "$TMP/seed7bin" | head -n 10)"
    else
        pass
    fi
    if cmp -s "$TMP/seed7" "$TMP/seed8"; then
        fail "--seed 7 and --seed 8 give the same output"; show "$TMP/seed7"
    else
        pass
    fi
else
    fail "ppl build examples/coin.ppl"; show "$TMP/cmd"
fi

# Inference nested in models draws from the streams of the particles that run it: the same
# bytes for any number of threads, from `ppl run` and from the built binary.
nested=tests/nested/nested_infer.ppl
$TIMEOUT "$PPL" run "$nested" > "$TMP/nested1" 2>&1
if [ ! -s "$TMP/nested1" ] || grep -q error "$TMP/nested1"; then
    fail "$nested (threads = 1)"; show "$TMP/nested1"
else
    pass
    for n in 2 4; do
        printf '{"threads": %d}\n' "$n" > "$TMP/threads.json"
        $TIMEOUT "$PPL" run --data "$TMP/threads.json" "$nested" > "$TMP/nested$n" 2>&1
        if cmp -s "$TMP/nested1" "$TMP/nested$n"; then pass; else
            fail "$nested: threads = 1 and threads = $n differ" "$(diff "$TMP/nested1" "$TMP/nested$n" | head -n 6)"
        fi
    done
    if $TIMEOUT "$PPL" build "$nested" -o "$TMP/nested" > "$TMP/cmd" 2>&1 &&
       $TIMEOUT "$TMP/nested" --data "$TMP/threads.json" > "$TMP/nested_bin" 2>&1 && cmp -s "$TMP/nested1" "$TMP/nested_bin"; then
        pass
    else
        fail "$nested: the built binary differs from ppl run" "$(cat "$TMP/cmd"; diff "$TMP/nested1" "$TMP/nested_bin" | head -n 6)"
    fi
fi

# PPL_GC_STRESS=1 collects at every checkpoint; the results must not change. coin.ppl runs
# 100000 particles, which takes minutes under stress, so this runs copies with 300: one by
# importance sampling, one by SMC on two threads (resampling often).
gc_stress_test() {   # NAME FILE
    local rc rc2
    $TIMEOUT "$PPL" run --seed 3 "$2" > "$TMP/nostress" 2>&1; rc=$?
    PPL_GC_STRESS=1 $TIMEOUT "$PPL" run --seed 3 "$2" > "$TMP/stress" 2>&1; rc2=$?
    if [ $rc -ne 0 ] || [ $rc2 -ne 0 ] || [ ! -s "$TMP/nostress" ] || ! cmp -s "$TMP/nostress" "$TMP/stress"; then
        fail "PPL_GC_STRESS=1 changes the output of $1 (exit $rc, $rc2)" \
            "$(diff "$TMP/nostress" "$TMP/stress" | head -n 10)"
    else
        pass
    fi
}
sed -E 's/particles = [0-9]+/particles = 300/' examples/coin.ppl > "$TMP/coin_is.ppl"
gc_stress_test "examples/coin.ppl (300 particles)" "$TMP/coin_is.ppl"
sed -E 's/particles = [0-9]+/particles = 300/; s/by is\(/by smc(threads = 2, ess = 0.9, /' examples/coin.ppl > "$TMP/coin_smc.ppl"
gc_stress_test "examples/coin.ppl (by smc, 300 particles, 2 threads)" "$TMP/coin_smc.ppl"

# Potentials never change what importance sampling computes: the same program and seed with
# and without them (switched by a data input, so the random streams are the same) prints the
# same mean, sd, log evidence and ESS, up to rounding (they are printed to 9 decimals).
cat > "$TMP/potential.ppl" <<'EOF'
data steer: bool = false
data ys: int[] = [1, 0, 1, 1, 0, 1, 1, 1]
model coin(ys: int[]) -> real {
  let p = sample beta(1, 1)
  var ll = 0.0
  for i in 0 .. len(ys) {
    observe ys[i] ~ bernoulli(p)
    ll = ll + lpdf(bernoulli(p), ys[i])
    if steer { potential 2 * ll + p }
  }
  p
}
fn r9(x: real) -> real { floor(x * 1e9 + 0.5) / 1e9 }
let post = infer coin(ys) by is(particles = 2000)
print(r9(mean(post)), r9(sd(post)), r9(post.log_evidence), r9(post.ess))
EOF
printf '{"steer": true}\n' > "$TMP/steer.json"
$TIMEOUT "$PPL" run --seed 5 "$TMP/potential.ppl" > "$TMP/plain" 2>&1; rc=$?
$TIMEOUT "$PPL" run --seed 5 --data "$TMP/steer.json" "$TMP/potential.ppl" > "$TMP/steered" 2>&1; rc2=$?
if [ $rc -ne 0 ] || [ $rc2 -ne 0 ] || [ ! -s "$TMP/plain" ] || ! cmp -s "$TMP/plain" "$TMP/steered"; then
    fail "potentials change the results of importance sampling (exit $rc, $rc2)" \
        "without: $(cat "$TMP/plain")" "with:    $(cat "$TMP/steered")"
else
    pass
fi

# ---------------------------------------------------------------------------------------------
# Crash corpus: `ppl check` on truncated sources and malformed inputs must exit 0 or 1.
# Anything else (a signal, a sanitizer report, a hang, a usage error) is a crash.

CRASH=$TMP/crash
mkdir -p "$CRASH/in"

# Truncations: every .ppl under tests/ and examples/ cut at ~25 evenly spread byte offsets.
for f in $(find tests examples -name '*.ppl' | sort); do
    size=$(wc -c < "$f")
    tag=$(echo "$f" | tr '/' '_')
    prev=-1
    for k in $(seq 1 25); do
        n=$((size * k / 26))
        [ $n -eq $prev ] && continue
        prev=$n
        head -c $n "$f" > "$CRASH/in/$tag@$n.ppl"
    done
done
for f in tests/broken/*; do cp "$f" "$CRASH/in/tests_broken_$(basename "$f")@all.ppl"; done

# Generated inputs too big to keep in the repository.
gen() { awk -v n="$2" -v s="$3" -v e="$4" 'BEGIN { o = ""; for (i = 0; i < n; i++) o = o s; printf "%s%s\n", o, e }' > "$CRASH/in/gen_$1@all.ppl"; }
gen parens 10000 "(" "1"
gen parens_closed 10000 "(" "1)"       # still unbalanced: the closers are missing but one
gen brackets 10000 "[" ""
gen braces 10000 "{" ""
gen unary_minus 10000 "-" "1"
gen not 10000 "!" "true"
gen pow_chain 10000 "2^" "2"
gen ifs 5000 "if true { " "1"
{ printf 'let x = 1'; awk 'BEGIN { for (i = 0; i < 20000; i++) printf " + 1" }'; echo; echo 'print(x)'; } > "$CRASH/in/gen_long_sum@all.ppl"
{ printf 'print("'; head -c 1000000 /dev/zero | tr '\0' 'a'; echo '")'; } > "$CRASH/in/gen_long_string@all.ppl"
{ printf 'let '; head -c 100000 /dev/zero | tr '\0' 'x'; echo ' = 1'; } > "$CRASH/in/gen_long_ident@all.ppl"
{ awk 'BEGIN { for (i = 0; i < 20000; i++) printf "let x%d = %d\n", i, i }'; } > "$CRASH/in/gen_many_lets@all.ppl"
head -c 4096 /dev/urandom > "$CRASH/in/gen_random_bytes@all.ppl"

cat > "$TMP/crash_one.sh" <<'EOF'
# crash_one.sh PPL INPUT: prints a line when `ppl check INPUT` crashes.
timeout 30 "$1" check "$2" > /dev/null 2> "$2.err"
rc=$?
if [ $rc -gt 1 ]; then
    # one write, so that reports from the parallel jobs do not interleave
    msg=$(echo "CRASH exit $rc: $(basename "$2" .ppl)"; sed -n '1,8s/^/      | /p' "$2.err")
    printf '%s\n' "$msg"
fi
EOF

echo "== crash corpus ($(ls "$CRASH/in" | wc -l) inputs)"
# Two at a time (the machines have 2 cores); xargs appends the inputs after SCRIPT and PPL.
ls "$CRASH/in"/*.ppl | xargs -P 2 -n 16 sh -c 'script=$0 ppl=$1; shift; for f; do sh "$script" "$ppl" "$f"; done' \
    "$TMP/crash_one.sh" "$PPL" > "$TMP/crashes" 2>&1
# One test per source file (all its truncations together) and per malformed input.
# To reproduce `tests_run_x.ppl@123`: head -c 123 tests/run/x.ppl > t.ppl && ./ppl check t.ppl
sources=$(ls "$CRASH/in" | sed 's/@[^@]*$//' | sort -u)
for s in $sources; do
    if grep -q "^CRASH exit [0-9]*: $s@" "$TMP/crashes"; then
        fail "crash corpus: $s" "$(awk -v s=": $s@" '/^CRASH/ { on = index($0, s) > 0 } on' "$TMP/crashes" | head -n 30)"
    else
        pass
    fi
done

# ---------------------------------------------------------------------------------------------
# The command line.

# expect_cmd NAME WANT_RC PATTERN CMD...: CMD exits WANT_RC and stdout+stderr match PATTERN.
expect_cmd() {
    local name=$1 want=$2 pattern=$3 rc
    shift 3
    $TIMEOUT "$@" > "$TMP/cmd" 2>&1; rc=$?
    if [ $rc -ne "$want" ]; then
        fail "$name: exit $rc, want $want" "command: $*"; show "$TMP/cmd"
    elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$TMP/cmd"; then
        fail "$name: output does not match /$pattern/" "command: $*"; show "$TMP/cmd"
    else
        pass
    fi
}

. tests/model_mode.sh
. tests/repl.sh
sh tests/summary/run.sh "$PPL" > "$TMP/summary.out" 2>&1 && pass || { fail "tests/summary/run.sh"; show "$TMP/summary.out"; }

echo "== command line"
expect_cmd "--help" 0 "" "$PPL" --help
for word in run build check ir; do
    grep -qw "$word" "$TMP/cmd" && pass || fail "--help does not mention '$word'"
done
expect_cmd "--version" 0 "^ppl " "$PPL" --version
expect_cmd "no arguments: the REPL, which ends at end of input" 0 "" sh -c '"$0" < /dev/null' "$PPL"
expect_cmd "unknown command" 2 "" "$PPL" frobnicate examples/basics.ppl
expect_cmd "missing file" 1 "cannot read" "$PPL" run "$TMP/no-such-file.ppl"
expect_cmd "check ok" 0 "" "$PPL" check examples/basics.ppl
expect_cmd "--dump-tokens" 0 "." "$PPL" check --dump-tokens examples/basics.ppl
expect_cmd "--dump-ast" 0 "." "$PPL" check --dump-ast examples/basics.ppl
expect_cmd "ir before optimization" 0 "before optimization" "$PPL" ir examples/basics.ppl
grep -q "after optimization" "$TMP/cmd" && pass || fail "ppl ir: no 'after optimization' section"

# Output that cannot be written (a full disk) is an error, status 1, for every command.
if [ -w /dev/full ]; then
    for c in "run examples/basics.ppl" "ir examples/basics.ppl" "--help" "--version" "run examples/kalman.ppl --data examples/kalman.json --particles 10"; do
        # shellcheck disable=SC2086
        expect_cmd "ppl $c > /dev/full" 1 "error: cannot write (the CSV to )?standard output" sh -c '"$0" "$@" > /dev/full' "$PPL" $c
    done
    if "$PPL" build examples/basics.ppl -o "$TMP/full" > "$TMP/cmd" 2>&1; then
        expect_cmd "built binary > /dev/full" 1 "error: cannot write standard output" sh -c '"$0" > /dev/full' "$TMP/full"
    else
        fail "ppl build examples/basics.ppl"; show "$TMP/cmd"
    fi
fi

# SIGINT and SIGTERM stop a run with status 130 and 143, keeping what it printed (stdout is a
# file here, fully buffered). timeout runs the program in the foreground, so SIGINT is not
# ignored as it is in a background job.
printf 'print("started")\nvar i = 0\nwhile true { i = i + 1 }\n' > "$TMP/forever.ppl"
stop_test() {   # NAME SIGNAL WANT_RC CMD...
    local name=$1 sig=$2 want=$3 rc
    shift 3
    timeout --preserve-status -s "$sig" 2 "$@" > "$TMP/stop.out" 2> "$TMP/stop.err"; rc=$?
    if [ $rc -ne "$want" ] || [ "$(cat "$TMP/stop.out")" != started ]; then
        fail "$name: SIG$sig gives exit $rc (want $want) and stdout:" "$(cat "$TMP/stop.out")"; show "$TMP/stop.err"
    else
        pass
    fi
}
stop_test "ppl run" INT 130 "$PPL" run "$TMP/forever.ppl"
stop_test "ppl run" TERM 143 "$PPL" run "$TMP/forever.ppl"
if "$PPL" build "$TMP/forever.ppl" -o "$TMP/forever" > "$TMP/cmd" 2>&1; then
    stop_test "built binary" INT 130 "$TMP/forever"
    stop_test "built binary" TERM 143 "$TMP/forever"
else
    fail "ppl build forever.ppl"; show "$TMP/cmd"
fi

# The checker is not quadratic: a type error about an annotation 100000 levels deep names the
# type in a line of reasonable length (spelled out, it took memory quadratic in the depth,
# some 12 GB), and 100000 top-level lets check in well under the timeout (a linear search
# per name took minutes).
awk 'BEGIN { printf "let x: real"; for (i = 0; i < 100000; i++) printf "[]"; print " = 1" }' > "$TMP/deep_type.ppl"
expect_cmd "type error on a 100000-level annotation" 1 "expected real\[\]\.\.\.\[\] \(100000 levels\), found int" \
    timeout 20 "$PPL" check "$TMP/deep_type.ppl"
[ "$(head -n 1 "$TMP/cmd" | wc -c)" -lt 200 ] && pass || fail "the deep annotation's type is spelled out in full"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "let x%d = %d\n", i, i; print "print(x99999)" }' > "$TMP/many_lets.ppl"
expect_cmd "100000 top-level lets" 0 "" timeout 20 "$PPL" check "$TMP/many_lets.ppl"

# Deep nesting is a clean error, not a stack overflow (the crash corpus has more such inputs).
expect_cmd "nesting too deep" 1 "error: nesting too deep" "$PPL" check "$CRASH/in/gen_parens@all.ppl"

# A built binary does not need libLLVM at run time.
if "$PPL" build examples/basics.ppl -o "$TMP/basics" > "$TMP/cmd" 2>&1; then
    if ldd "$TMP/basics" | grep -qi llvm; then fail "built binary links libLLVM" "$(ldd "$TMP/basics")"; else pass; fi
else
    fail "ppl build examples/basics.ppl"; show "$TMP/cmd"
fi

# Data: the default, a value from --data, and a value of the wrong type.
printf 'data n: int = 5\nprint(n)\n' > "$TMP/data.ppl"
printf '{"n": 7}\n' > "$TMP/n7.json"
printf '{"n": "seven"}\n' > "$TMP/nseven.json"
expect_cmd "data default" 0 "^5$" "$PPL" run "$TMP/data.ppl"
expect_cmd "data from --data" 0 "^7$" "$PPL" run --data "$TMP/n7.json" "$TMP/data.ppl"
expect_cmd "data of the wrong type" 1 "'n'" "$PPL" run --data "$TMP/nseven.json" "$TMP/data.ppl"
if "$PPL" build "$TMP/data.ppl" -o "$TMP/databin" > "$TMP/cmd" 2>&1; then
    expect_cmd "built binary: data default" 0 "^5$" "$TMP/databin"
    expect_cmd "built binary: --data" 0 "^7$" "$TMP/databin" --data "$TMP/n7.json"
    expect_cmd "built binary: data of the wrong type" 1 "'n'" "$TMP/databin" --data "$TMP/nseven.json"
else
    fail "ppl build (data program)"; show "$TMP/cmd"
fi

# `make install` into a prefix; the installed ppl works from another directory.
echo "== make install"
if make -s -C "$ROOT" install PREFIX="$TMP/prefix" > "$TMP/cmd" 2>&1; then
    mkdir -p "$TMP/elsewhere"
    printf 'fn twice(x: int) -> int { 2 * x }\nprint(twice(21))\n' > "$TMP/elsewhere/prog.ppl"
    (
        cd "$TMP/elsewhere" || exit 1
        "$TMP/prefix/bin/ppl" run prog.ppl > run.out 2>&1 || exit 1
        "$TMP/prefix/bin/ppl" build prog.ppl -o prog > build.out 2>&1 || exit 1
        ./prog > bin.out 2>&1 || exit 1
        [ "$(cat run.out)" = 42 ] && [ "$(cat bin.out)" = 42 ]
    ) && pass || {
        fail "installed ppl does not run and build from another directory"
        cat "$TMP/elsewhere"/*.out 2>/dev/null | sed 's/^/      | /' | head -n 20
    }
else
    fail "make install PREFIX=$TMP/prefix"; show "$TMP/cmd"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
