/* test_site_reads.c - the checker's pass that lets trace default to false for infer calls
 * whose posterior the program reads no site of (lang/site_reads.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "arena.h"
#include "ast.h"
#include "check.h"
#include "diag.h"
#include "lex.h"
#include "parse.h"

static Arena arena;

static Program check(const char *text) {
    Program prog = {0};
    diag_reset();
    TokenList tl = lex_source(&arena, source_from_string("test.ppl", text));
    parse_program(&arena, &tl, &prog);
    assert_true(check_program(&arena, &prog));
    assert_int_equal(diag_error_count(), 0);
    return prog;
}

/* The infer that initializes the top-level `let NAME`. */
static Node *infer_of(Program *p, const char *name) {
    for (int i = 0; i < p->items.len; i++) {
        Node *n = p->items.items[i];
        if (n->kind == N_LET && !strcmp(n->let.name, name) && n->let.init && n->let.init->kind == N_INFER)
            return n->let.init;
    }
    fail_msg("no let %s = infer ...", name);
    return NULL;
}

static const char model[] =
    "model m() -> real { let x = sample normal(0, 1)\n observe 1.0 ~ normal(x, 1)\n x }\n";

static void test_statistics_read_no_sites(void **state) {
    char src[1024];
    snprintf(src, sizeof src, "%s"
             "let a = infer m() by is(particles = 10)\n"
             "print(mean(a), sd(a), quantile(a, 0.5), a.log_evidence, a.ess)\n"
             "plot(a)\n", model);
    Program p = check(src);
    assert_true(infer_of(&p, "a")->infer.drop_sites);
    assert_false(infer_of(&p, "a")->infer.drop_draws);   /* quantile and plot need them */
}

static void test_running_sums_suffice(void **state) {
    char src[1024];
    snprintf(src, sizeof src, "%s"
             "let a = infer m() by is(particles = 10)\n"
             "print(mean(a), sd(a), a.log_evidence, a.ess)\n", model);
    Program p = check(src);
    assert_true(infer_of(&p, "a")->infer.drop_sites);
    assert_true(infer_of(&p, "a")->infer.drop_draws);
}

static void test_printing_reads_sites(void **state) {
    char src[1024];
    snprintf(src, sizeof src, "%s"
             "let a = infer m() by is(particles = 10)\n"
             "let b = infer m() by smc(particles = 10)\n"
             "let c = infer m() by is(particles = 10)\n"
             "let d = infer m() by is(particles = 10)\n"
             "let e = infer m() by is(particles = 10)\n"
             "print(mean(a))\nprint(a)\n"
             "print(predict(m(), b).ess)\n"
             "print(logp(m(), c, 0))\n"
             "let ds = [d]\n"
             "let f = infer m() by is(particles = 10)\n"
             "model gated() -> real { condition logp(m(), f, 0) < 0.0\n 1.0 }\n"
             "fn later() -> real { mean(e) }\n"
             "print(later())\n", model);
    Program p = check(src);
    assert_false(infer_of(&p, "a")->infer.drop_sites);
    assert_false(infer_of(&p, "b")->infer.drop_sites);
    assert_false(infer_of(&p, "c")->infer.drop_sites);
    assert_false(infer_of(&p, "d")->infer.drop_sites);
    assert_false(infer_of(&p, "f")->infer.drop_sites);   /* read inside a condition */
    assert_true(infer_of(&p, "e")->infer.drop_sites);   /* only a statistic, in a fn */
}

static void test_unbound_infer(void **state) {
    char src[1024];
    snprintf(src, sizeof src, "%s"
             "let a = mean(infer m() by is(particles = 10))\n"
             "let b = if true { infer m() by is(particles = 10) } else { infer m() by is(particles = 5) }\n"
             "print(a, b.ess)\n", model);
    Program p = check(src);
    Node *let_a = NULL;
    for (int i = 0; i < p.items.len; i++) {
        Node *n = p.items.items[i];
        if (n->kind == N_LET && !strcmp(n->let.name, "a")) let_a = n;
    }
    assert_non_null(let_a);
    assert_true(((Node *)let_a->let.init->call.args.items[0])->infer.drop_sites);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statistics_read_no_sites),
        cmocka_unit_test(test_running_sums_suffice),
        cmocka_unit_test(test_printing_reads_sites),
        cmocka_unit_test(test_unbound_infer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
