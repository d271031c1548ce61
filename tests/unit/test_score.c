/* test_score.c - score and replay modes of compiled models (rt_score.h, rt_replay.h): each
 * program below goes through the front end, the code generator and the JIT, and its
 * models' descriptors are driven directly. Checked: score mode against each distribution's
 * lpdf, the unconstrained gradient against central finite differences, the Jacobians by
 * integrating the transformed density, and replays of posterior draws. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "backend.h"
#include "check.h"
#include "codegen.h"
#include "diag.h"
#include "lex.h"
#include "parse.h"
#include "rt_dist.h"
#include "rt_program.h"
#include "rt_replay.h"

extern const char ppl_prelude_source[];
static Arena arena;
static LLVMOrcLLJITRef jit;   /* the last program's */

/* Compiles text as a program and returns its ppl_program. */
static const rt_program *compile(const char *text) {
    Program prog = {0};
    TokenList pre = lex_source(&arena, source_from_string("<prelude>", ppl_prelude_source));
    parse_program(&arena, &pre, &prog);
    TokenList tl = lex_source(&arena, source_from_string("test.ppl", text));
    parse_program(&arena, &tl, &prog);
    assert_int_equal(diag_error_count(), 0);
    assert_true(check_program(&arena, &prog));
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMModuleRef mod = cg_program(LLVMOrcThreadSafeContextGetContext(tsc), &prog, "test.ppl");
    assert_non_null(mod);
    LLVMTargetMachineRef tm = backend_target_machine();
    assert_true(backend_optimize(mod, tm));
    LLVMDisposeTargetMachine(tm);
    jit = backend_jit_session();   /* one per program (each defines ppl_program); kept alive */
    const rt_program *p = (const rt_program *)(uintptr_t)backend_jit_add(jit, mod, tsc, "ppl_program");
    assert_non_null(p);
    return p;
}

static const rt_model *model(const rt_program *p, const char *name) {
    for (int64_t i = 0; i < p->nmodels; i++)
        if (!strcmp(p->models[i].model->name, name)) return p->models[i].model;
    fail_msg("no model %s", name);
    return NULL;
}

/* ---- score mode at given values against lpdf, for every distribution ---- */

/* One model per distribution, its site x with given value v: score = lpdf exactly. */
static void test_score_given_matches_lpdf(void **state) {
    static const struct { const char *dist; double params[3]; double at[3]; } rows[] = {
        {"normal(0.5, 2.0)", {0.5, 2.0}, {-3.0, 0.5, 1e-8}},
        {"lognormal(0.1, 0.7)", {0.1, 0.7}, {1e-6, 1.0, 40.0}},
        {"uniform(-1.0, 3.0)", {-1.0, 3.0}, {-0.999999, 0.0, 2.999999}},
        {"beta(2.0, 3.0)", {2.0, 3.0}, {1e-9, 0.3, 1.0 - 1e-9}},
        {"gamma(2.5, 1.5)", {2.5, 1.5}, {1e-7, 1.0, 30.0}},
        {"exponential(1.5)", {1.5}, {1e-9, 0.5, 20.0}},
        {"student_t(3.0, 0.0, 1.5)", {3.0, 0.0, 1.5}, {-50.0, 0.1, 7.0}},
        {"cauchy(0.0, 2.0)", {0.0, 2.0}, {-100.0, 0.0, 3.0}},
        {"half_normal(1.5)", {1.5}, {1e-9, 1.0, 6.0}},
        {"half_cauchy(0.5)", {0.5}, {1e-9, 1.0, 60.0}},
        {"bernoulli(0.3)", {0.3}, {0, 1, 1}},
        {"bernoulli_logit(-0.4)", {-0.4}, {0, 1, 0}},
        {"binomial(7, 0.4)", {7, 0.4}, {0, 3, 7}},
        {"poisson(2.5)", {2.5}, {0, 2, 15}},
        {"poisson_log(0.9)", {0.9}, {0, 2, 12}},
        {"categorical([0.2, 0.5, 0.3])", {0}, {0, 1, 2}},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        char src[256];
        snprintf(src, sizeof src, "model one() { let x = sample %s }\n", rows[r].dist);
        const rt_model *m = model(compile(src), "one");
        int kind = rt_dist_lookup(m->site_names ? strtok(strcpy((char[64]){0}, rows[r].dist), "(") : "");
        for (int k = 0; k < 3; k++) {
            double v = rows[r].at[k], want;
            const rt_array *names = NULL;
            rt_array *n1 = rt_array_new(1, 1), *v1 = rt_array_new(1, 0);
            n1->at.p[0] = "x";
            v1->at.d[0] = v;
            names = n1;
            const rt_given *g = rt_given_from_names(m, names, v1, "test");
            rt_score_parts parts;
            double got = rt_score_given(m, NULL, g, &parts, "test");
            const double *p = rows[r].params;
            switch (kind) {
            case RT_DIST_normal: want = rt_lpdf_normal(v, p[0], p[1], "t"); break;
            case RT_DIST_lognormal: want = rt_lpdf_lognormal(v, p[0], p[1], "t"); break;
            case RT_DIST_uniform: want = rt_lpdf_uniform(v, p[0], p[1], "t"); break;
            case RT_DIST_beta: want = rt_lpdf_beta(v, p[0], p[1], "t"); break;
            case RT_DIST_gamma: want = rt_lpdf_gamma(v, p[0], p[1], "t"); break;
            case RT_DIST_exponential: want = rt_lpdf_exponential(v, p[0], "t"); break;
            case RT_DIST_student_t: want = rt_lpdf_student_t(v, p[0], p[1], p[2], "t"); break;
            case RT_DIST_cauchy: want = rt_lpdf_cauchy(v, p[0], p[1], "t"); break;
            case RT_DIST_half_normal: want = rt_lpdf_half_normal(v, p[0], "t"); break;
            case RT_DIST_half_cauchy: want = rt_lpdf_half_cauchy(v, p[0], "t"); break;
            case RT_DIST_bernoulli: want = rt_lpdf_bernoulli((int64_t)v, p[0], "t"); break;
            case RT_DIST_bernoulli_logit: want = rt_lpdf_bernoulli_logit((int64_t)v, p[0], "t"); break;
            case RT_DIST_binomial: want = rt_lpdf_binomial((int64_t)v, (int64_t)p[0], p[1], "t"); break;
            case RT_DIST_poisson: want = rt_lpdf_poisson((int64_t)v, p[0], "t"); break;
            case RT_DIST_poisson_log: want = rt_lpdf_poisson_log((int64_t)v, p[0], "t"); break;
            default: want = log((double[]){0.2, 0.5, 0.3}[(int)v]); break;
            }
            if (fabs(got - want) > 1e-12 * fmax(1, fabs(want)))
                fail_msg("%s at %g: score %.17g, lpdf %.17g", rows[r].dist, v, got, want);
            assert_true(got == parts.part[RT_PART_PRIOR]);
            assert_true(parts.part[RT_PART_LIK] == 0 && parts.part[RT_PART_JACOBIAN] == 0);
        }
    }
}

/* ---- the unconstrained gradient ---- */

static const char hierarchical[] =
    "model hier(y: real[]) -> real {\n"
    "  let mu = sample normal(0, 5)\n"
    "  let tau = sample half_normal(2)\n"
    "  let p = sample beta(2, 3)\n"
    "  let s = sample uniform(-1, 3)\n"
    "  let g = sample gamma(2, 1.5)\n"
    "  for j in 0 .. len(y) {\n"
    "    let th = sample normal(mu, tau)\n"
    "    observe y[j] ~ normal(th, g)\n"
    "  }\n"
    "  reward -p * s\n"
    "  mu\n"
    "}\n"
    "model pos() -> real {\n"
    "  let a = sample lognormal(0.3, 0.5)\n"
    "  let b = sample exponential(a)\n"
    "  observe 1.5 ~ gamma(a, b)\n"
    "  a\n"
    "}\n";

static void *args_of(const double *y, int64_t n) {
    rt_array *a = rt_array_new(n, 0);
    memcpy(a->at.d, y, sizeof(double) * (size_t)n);
    void **block = rt_frame_new(8);
    block[0] = a;
    return block;
}

static void check_gradient(const rt_model *m, const void *args, const double *u0, int64_t n) {
    double u[16], grad[16], x[16];
    memcpy(u, u0, sizeof(double) * (size_t)n);
    rt_score(m, args, u, n, grad, x, NULL, "test");
    for (int64_t k = 0; k < n; k++) {
        double h = 1e-5, save = u[k];
        u[k] = save + h;
        double up = rt_score(m, args, u, n, NULL, NULL, NULL, "test");
        u[k] = save - h;
        double down = rt_score(m, args, u, n, NULL, NULL, NULL, "test");
        u[k] = save;
        double fd = (up - down) / (2 * h);
        if (fabs(fd - grad[k]) > 1e-6 * fmax(1, fabs(fd)))
            fail_msg("%s: d/du[%lld] = %.10g, finite difference %.10g", m->name, (long long)k, grad[k], fd);
    }
}

static void test_unconstrained_gradient(void **state) {
    const rt_program *p = compile(hierarchical);
    const rt_model *h = model(p, "hier"), *pm = model(p, "pos");
    double y[3] = {0.3, -1.2, 2.5};
    void *args = args_of(y, 3);
    assert_int_equal(rt_score_dim(h, args, "test"), 8);
    assert_int_equal(rt_score_dim(pm, NULL, "test"), 2);
    double u[8] = {0.4, -0.3, 0.8, -1.1, 0.2, 0.5, -0.7, 1.3};
    check_gradient(h, args, u, 8);
    double v[8] = {-2.0, 1.5, -3.0, 2.5, -0.5, 0.0, 0.1, -0.2};
    check_gradient(h, args, v, 8);
    check_gradient(pm, NULL, u, 2);
    check_gradient(pm, NULL, v + 3, 2);
}

/* The terms of the score at u, each recomputed from the constrained values. */
static void test_score_parts(void **state) {
    const rt_model *h = model(compile(hierarchical), "hier");
    double y[2] = {0.3, -1.2}, u[7] = {0.4, -0.3, 0.8, -1.1, 0.2, 0.5, -0.7}, x[7];
    rt_score_parts parts;
    double total = rt_score(h, args_of(y, 2), u, 7, NULL, x, &parts, "test");
    double mu = x[0], tau = x[1], p = x[2], s = x[3], g = x[4];
    assert_true(mu == u[0] && fabs(tau - exp(u[1])) < 1e-15);
    double prior = rt_lpdf_normal(mu, 0, 5, "t") + rt_lpdf_half_normal(tau, 2, "t") + rt_lpdf_beta(p, 2, 3, "t")
                 + rt_lpdf_uniform(s, -1, 3, "t") + rt_lpdf_gamma(g, 2, 1.5, "t")
                 + rt_lpdf_normal(x[5], mu, tau, "t") + rt_lpdf_normal(x[6], mu, tau, "t");
    double lik = rt_lpdf_normal(0.3, x[5], g, "t") + rt_lpdf_normal(-1.2, x[6], g, "t");
    double jac = u[1] + log(p) + log(1 - p) + log(4.0) + log((s + 1) / 4) + log(1 - (s + 1) / 4) + u[4];
    assert_true(fabs(parts.part[RT_PART_PRIOR] - prior) < 1e-12);
    assert_true(fabs(parts.part[RT_PART_LIK] - lik) < 1e-12);
    assert_true(fabs(parts.part[RT_PART_REWARD] - (-p * s)) < 1e-15);
    assert_true(fabs(parts.part[RT_PART_JACOBIAN] - jac) < 1e-12);
    assert_true(fabs(total - (prior + lik - p * s + jac)) < 1e-12);
}

/* A density moved to the real line by its transform still integrates to 1. */
static void test_jacobians_integrate_to_one(void **state) {
    static const char *const dists[] = {"beta(2.0, 3.0)", "beta(0.7, 0.9)", "gamma(2.5, 1.5)", "uniform(-1.0, 3.0)",
                                        "lognormal(0.1, 0.7)", "exponential(2.0)", "half_cauchy(0.5)", "normal(1.0, 0.5)"};
    for (size_t d = 0; d < sizeof dists / sizeof dists[0]; d++) {
        char src[128];
        snprintf(src, sizeof src, "model one() { let x = sample %s }\n", dists[d]);
        const rt_model *m = model(compile(src), "one");
        /* the trapezoid rule on [-35, 35] (beyond, logistic(u) rounds to 1 and the tails
         * are below 1e-9 for these) */
        double sum = 0, h = 1e-3;
        for (double u = -35; u <= 35; u += h) sum += exp(rt_score(m, NULL, &u, 1, NULL, NULL, NULL, "test")) * h;
        if (fabs(sum - 1) > 1e-6) fail_msg("%s: the transformed density integrates to %.9f", dists[d], sum);
    }
}

/* ---- replay mode ---- */

static const char replayed[] =
    "model rw(y: real[]) -> real {\n"
    "  var x = sample normal(0, 1)\n"
    "  let k = sample poisson(2.0)\n"
    "  for t in 0 .. len(y) {\n"
    "    x = sample normal(0.8 * x, 1)\n"
    "    observe y[t] ~ normal(x, 0.5 + k)\n"
    "    potential -x * x / 10\n"
    "  }\n"
    "  reward -x / 4\n"
    "  x\n"
    "}\n";

static void test_replay_reproduces_weights(void **state) {
    const rt_model *m = model(compile(replayed), "rw");
    double y[4] = {0.5, -0.2, 1.1, 0.7};
    void *args = args_of(y, 4);
    rt_posterior *post = rt_infer_is(rt_root_ctx(), m, args, &(rt_infer_opts){.particles = 200, .trace = 1}, "test");
    for (int64_t i = 0; i < post->n; i++) {
        double ret, w = rt_replay(m, args, rt_given_from_draw(post, i, "test"), 12345 + (uint64_t)i, &ret, NULL, "t");
        assert_true(w == post->logw[i]);
        assert_true(ret == post->value[i]);
    }
}

/* Moving x[2] changes the weight only through what depends on it: the observes of steps 2
 * and 3 (x[3] is given, so it does not move), the potentials (removed at the end) and not
 * the reward, which reads x[3]. */
static void test_replay_with_a_site_moved(void **state) {
    const rt_model *m = model(compile(replayed), "rw");
    double y[4] = {0.5, -0.2, 1.1, 0.7};
    void *args = args_of(y, 4);
    rt_posterior *post = rt_infer_is(rt_root_ctx(), m, args, &(rt_infer_opts){.particles = 5, .trace = 1}, "test");
    rt_given *g = rt_given_from_draw(post, 2, "test");
    int64_t idx = 2;
    double x2 = 0, x3 = 0, k = 0, before = rt_replay(m, args, g, 1, NULL, NULL, "t");
    assert_true(rt_given_lookup(g, 0, 0, NULL, &(double){0}));
    for (int64_t s = 0; s < g->n; s++) {
        if (g->sites[s].site == 2 && g->sites[s].idx[0] == 2) x2 = g->sites[s].value, g->sites[s].value += 0.5;
        if (g->sites[s].site == 2 && g->sites[s].idx[0] == 3) x3 = g->sites[s].value;
        if (g->sites[s].site == 1) k = g->sites[s].value;
    }
    (void)idx;
    double after = rt_replay(m, args, g, 1, NULL, NULL, "t");
    double sd = 0.5 + k;
    double change = rt_lpdf_normal(1.1, x2 + 0.5, sd, "t") - rt_lpdf_normal(1.1, x2, sd, "t");
    assert_true(fabs((after - before) - change) < 1e-12);
    (void)x3;
}

int main(void) {
    rt_options opt = {0};
    rt_init(&opt);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score_given_matches_lpdf),
        cmocka_unit_test(test_unconstrained_gradient),
        cmocka_unit_test(test_score_parts),
        cmocka_unit_test(test_jacobians_integrate_to_one),
        cmocka_unit_test(test_replay_reproduces_weights),
        cmocka_unit_test(test_replay_with_a_site_moved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
