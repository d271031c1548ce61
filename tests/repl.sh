# repl.sh - scripted REPL sessions, sourced by run_tests.sh (uses its PPL, TMP, TIMEOUT,
# pass, fail, show and expect_cmd). Each tests/repl/NAME.in is fed on standard input and
# the transcript (stdout and stderr) must equal NAME.out; plots are drawn 60 columns wide.

echo "== repl"
for f in tests/repl/*.in; do
    COLUMNS=60 $TIMEOUT "$PPL" < "$f" > "$TMP/repl.out" 2>&1
    if cmp -s "$TMP/repl.out" "${f%.in}.out"; then pass; else
        fail "$f: transcript differs" "$(diff "${f%.in}.out" "$TMP/repl.out" | head -n 20)"
    fi
done

# :ir shows a definition's optimized IR; :time reports each cell's time on stderr.
printf 'fn sq(x: real) -> real { x * x }\n:ir sq\n:time\nsq(3)\n' | $TIMEOUT "$PPL" > "$TMP/ir.out" 2>&1
grep -q '^define .*@ppl.sq(ptr [^,]*, double' "$TMP/ir.out" && grep -q 'fmul double' "$TMP/ir.out" && pass ||
    { fail "repl :ir"; show "$TMP/ir.out"; }
grep -q '^timing on$' "$TMP/ir.out" && grep -q '^time: [0-9.]* ms$' "$TMP/ir.out" && pass ||
    { fail "repl :time"; show "$TMP/ir.out"; }
# `ppl repl` is the same session; end of input leaves it with status 0.
printf '1 + 1\n' | $TIMEOUT "$PPL" repl > "$TMP/r.out" 2>&1 && grep -q '^- : int = 2$' "$TMP/r.out" && pass ||
    { fail "ppl repl"; show "$TMP/r.out"; }

# Ctrl-C through a pseudo-terminal stops a running inference and returns to the prompt.
if command -v script > /dev/null; then
    { printf 'model m() -> real { sample normal(0, 1) as "x" }\n'
      printf 'let p = infer m() by is(particles = 1000000000)\n'
      sleep 2; printf '\003'; sleep 1; printf 'print(6 * 7)\n'; sleep 1; printf ':quit\n'; } |
        HOME=$TMP $TIMEOUT script -qfec "$PPL" /dev/null > "$TMP/pty.out" 2>&1
    tr -d '\r' < "$TMP/pty.out" | grep -q 'error: interrupted' && tr -d '\r' < "$TMP/pty.out" | grep -Eq '(^|l)42$' &&
        pass || { fail "repl: Ctrl-C does not stop the inference"; show "$TMP/pty.out"; }
    # and a compiled loop that never ends (every loop turn checks the flag in a cell)
    { printf 'var i = 0\n'; printf 'while true { i = i + 1 }\n'
      sleep 2; printf '\003'; sleep 1; printf 'print(i)\n'; sleep 1; printf ':quit\n'; } |
        HOME=$TMP $TIMEOUT script -qfec "$PPL" /dev/null > "$TMP/loop.out" 2>&1
    # the stopped cell changes no global: i is still 0
    tr -d '\r' < "$TMP/loop.out" | grep -q '<cell 2>:1:1: error: interrupted' &&
        tr -d '\r' < "$TMP/loop.out" | grep -Eq '(^|l)0$' &&
        pass || { fail "repl: Ctrl-C does not stop a loop"; show "$TMP/loop.out"; }
    # readline keeps the history in the home directory
    grep -qx 'print(6 \* 7)' "$TMP/.ppl_history" 2>/dev/null && pass ||
        fail "repl: the history file does not hold the session's cells"
    # Tab completes a builtin: `pri` becomes `print`, and the cell prints 6
    { printf 'let v = 5\n'; printf 'pri\t(v + 1)\n'; sleep 1; printf ':quit\n'; } |
        HOME=$TMP $TIMEOUT script -qfec "$PPL" /dev/null > "$TMP/tab.out" 2>&1
    tr -d '\r' < "$TMP/tab.out" | grep -Eq '(^|l)6$' && pass ||
        { fail "repl: Tab completion"; show "$TMP/tab.out"; }
else
    echo "   (skipped: the Ctrl-C test needs script from util-linux)"
fi
