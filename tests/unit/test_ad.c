/* test_ad.c - cmocka tests for reverse-mode AD (rt_ad.c): every operation and log density
 * against central finite differences, vectorized nodes against their compositions, the tape. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rt.h"
#include "rt_ad.h"
#include "rt_dist.h"
#include "rt_repl.h"
#include "rt_rng.h"
#include "test_util.h"

#define LOC "m.ppl:4:2"
#define SEED 20240917u        /* the fixed seed of every random point */
#define NPOINTS 300           /* random points per operation or density */
#define MAXIN 16              /* inputs of one finite-difference check */
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define C(v) rt_ad_const(v)

/* ---- finite differences ----
 * The derivative is compared with (f(x+h) - f(x-h)) / (x+h - (x-h)), h = 1e-6 max(1, |x|);
 * dividing by the step actually taken removes the rounding of x +- h. Its error:
 *  - truncation, f'''(xi) h^2 / 6: points are drawn at least a few percent of max(1,|x|)
 *    away from singularities, kinks and support edges, so f''' / f' is at most ~1e4 /
 *    max(1,|x|)^2 and the relative error at most ~1e-12 * 1e4 / 6 < 2e-9;
 *  - rounding: each f carries an absolute error of some ulps of the terms it sums, which the
 *    quotient divides by 2h. Relative to |f| that is at most ~100 ulps (ROUND = 1e-13) /
 *    step; terms cancelling to a small f (a log density near 0 made of -z^2/2, log sigma
 *    and constants) are covered by ATOL = 1e-7, i.e. terms up to ~50 at h = 1e-6.
 * RTOL = 1e-5 leaves a margin of about 1e4 over the truncation error, yet catches any
 * wrong formula, whose error is O(1) at most points. */
#define RTOL 1e-5
#define ATOL 1e-7
#define ROUND 1e-13

typedef int64_t (*build_fn)(const int64_t *in, const void *ctx);

static rt_rng rng;

static double unif(double lo, double hi)
{
    return lo + (hi - lo) * rt_rng_uniform(&rng);
}

static int64_t unif_int(int64_t lo, int64_t hi)   /* in [lo, hi] */
{
    return lo + (int64_t)(rt_rng_uniform(&rng) * (double)(hi - lo + 1));
}

/* Builds f on a fresh tape with inputs v; returns the output's handle. */
static int64_t build_at(build_fn f, const double *v, int n, const void *ctx)
{
    int64_t in[MAXIN];
    rt_ad_begin();
    for (int k = 0; k < n; k++)
        in[k] = rt_ad_input(v[k]);
    return f(in, ctx);
}

static double eval_at(build_fn f, const double *v, int n, const void *ctx)
{
    return rt_ad_value(build_at(f, v, n, ctx));
}

static double grad_at(build_fn f, const double *v, int n, const void *ctx, double *g)
{
    int64_t out = build_at(f, v, n, ctx);
    rt_ad_grad(out, g, n);
    return rt_ad_value(out);
}

static const char *show(const double *v, int n)
{
    static char buf[512];
    int len = 0;
    for (int k = 0; k < n && len < 400; k++)
        len += snprintf(buf + len, sizeof buf - len, "%s%.17g", k ? ", " : "", v[k]);
    return buf;
}

/* The central difference of f in v[k] and the allowed error (see above). */
static double central(build_fn f, const double *v, int n, const void *ctx, int k, double *tol)
{
    double w[MAXIN];
    memcpy(w, v, n * sizeof *v);
    double h = 1e-6 * fmax(1, fabs(v[k]));
    w[k] = v[k] + h;
    double fp = eval_at(f, w, n, ctx), xp = w[k];
    w[k] = v[k] - h;
    double fm = eval_at(f, w, n, ctx), xm = w[k];
    double fd = (fp - fm) / (xp - xm);
    *tol = RTOL * fabs(fd) + ATOL + ROUND * fmax(fabs(fp), fabs(fm)) / (xp - xm);
    return fd;
}

/* Checks every partial derivative of f at v against central differences. */
static void check_fd(build_fn f, const double *v, int n, const void *ctx, const char *what)
{
    double g[MAXIN], tol;
    grad_at(f, v, n, ctx, g);
    for (int k = 0; k < n; k++) {
        double fd = central(f, v, n, ctx, k, &tol);
        if (!(fabs(g[k] - fd) <= tol))
            fail_msg("%s: d/dv%d at (%s): AD %.17g, FD %.17g", what, k, show(v, n), g[k], fd);
    }
}

static void check_rel(double got, double want, double rtol, const char *what)
{
    if (!(got == want || fabs(got - want) <= rtol * fmax(1e-300, fabs(want))))
        fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

/* ---- unary operations: every row of RT_AD_UNARY ---- */

static double ref_neg(double x) { return -x; }
static double ref_lgamma(double x) { return rt_lgamma(x); }
static double ref_softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double ref_inv_logit(double x) { return 1 / (1 + exp(-x)); }

typedef struct unary_case {
    const char *name;
    int64_t (*ad)(int64_t);
    double (*ref)(double);
    double lo, hi;
    double exact;    /* 1: the value must equal ref's bits; else its relative tolerance */
} unary_case;

/* Domains keep FD points away from poles and kinks: lgamma's negative row is shifted
 * off the integers by the sampler, abs avoids |x| < 0.01. */
static const unary_case unary_cases[] = {
    {"neg", rt_ad_neg, ref_neg, -10, 10, 1},
    {"exp", rt_ad_exp, exp, -10, 10, 1},
    {"log", rt_ad_log, log, 0.05, 100, 1},
    {"sqrt", rt_ad_sqrt, sqrt, 0.05, 100, 1},
    {"sin", rt_ad_sin, sin, -10, 10, 1},
    {"cos", rt_ad_cos, cos, -10, 10, 1},
    {"tan", rt_ad_tan, tan, -1.4, 1.4, 1},
    {"atan", rt_ad_atan, atan, -10, 10, 1},
    {"tanh", rt_ad_tanh, tanh, -5, 5, 1},
    {"lgamma", rt_ad_lgamma, ref_lgamma, 0.05, 50, 1},
    {"lgamma", rt_ad_lgamma, ref_lgamma, -5, 0, 1},
    {"log1p", rt_ad_log1p, log1p, -0.9, 10, 1},
    {"expm1", rt_ad_expm1, expm1, -10, 10, 1},
    {"abs", rt_ad_abs, fabs, -10, 10, 1},
    {"softplus", rt_ad_softplus, ref_softplus, -30, 30, 1},
    {"inv_logit", rt_ad_inv_logit, ref_inv_logit, -30, 30, 1e-14},
};

static int64_t build_unary(const int64_t *in, const void *ctx)
{
    return ((const unary_case *)ctx)->ad(in[0]);
}

static double unary_point(const unary_case *c)
{
    double x = unif(c->lo, c->hi);
    if (c->lo < 0 && c->ref == ref_lgamma)          /* 0.05 or more from the poles */
        x = floor(x) + unif(0.05, 0.95);
    if (c->ad == rt_ad_abs && fabs(x) < 0.01)
        x = x < 0 ? x - 0.01 : x + 0.01;
    return x;
}

static void test_unary_covered(void **state)
{
#define NAME_OF(name, ...) #name,
    static const char *const names[] = { RT_AD_UNARY(NAME_OF) };
#undef NAME_OF
    for (size_t i = 0; i < NELEMS(names); i++) {
        size_t j = 0;
        while (j < NELEMS(unary_cases) && strcmp(unary_cases[j].name, names[i]) != 0)
            j++;
        if (j == NELEMS(unary_cases))
            fail_msg("unary operation %s has no test row", names[i]);
    }
}

static void test_unary(void **state)
{
    rt_rng_init(&rng, SEED, 1);
    for (size_t i = 0; i < NELEMS(unary_cases); i++) {
        const unary_case *c = &unary_cases[i];
        for (int p = 0; p < NPOINTS; p++) {
            double x = unary_point(c);
            double v = eval_at(build_unary, &x, 1, c);
            if (c->exact == 1 && !(v == c->ref(x)))
                fail_msg("%s(%.17g) = %.17g, want %.17g", c->name, x, v, c->ref(x));
            check_rel(v, c->ref(x), c->exact == 1 ? 0 : c->exact, c->name);
            check_fd(build_unary, &x, 1, c, c->name);
        }
    }
}

static double d_of(int64_t (*op)(int64_t), double x)
{
    double g;
    rt_ad_begin();
    rt_ad_grad(op(rt_ad_input(x)), &g, 1);
    return g;
}

/* Where finite differences cannot look: tails, kinks, poles. */
static void test_unary_edges(void **state)
{
    check_rel(d_of(rt_ad_inv_logit, 30), exp(-30) / ((1 + exp(-30)) * (1 + exp(-30))), 1e-14,
              "inv_logit'(30)");
    check_rel(d_of(rt_ad_inv_logit, -30), exp(-30) / ((1 + exp(-30)) * (1 + exp(-30))), 1e-14,
              "inv_logit'(-30)");
    assert_true(d_of(rt_ad_inv_logit, -800) == 0 && d_of(rt_ad_inv_logit, 800) == 0);
    check_rel(d_of(rt_ad_tanh, 30), 4 * exp(-60), 1e-12, "tanh'(30)");
    assert_true(d_of(rt_ad_tanh, 400) == 0);
    assert_true(d_of(rt_ad_softplus, 800) == 1 && d_of(rt_ad_softplus, -800) == 0);
    rt_ad_begin();
    assert_true(rt_ad_value(rt_ad_softplus(C(800))) == 800);
    assert_true(rt_ad_value(rt_ad_inv_logit(C(-800))) == 0);
    check_rel(rt_ad_value(rt_ad_inv_logit(C(-40))), exp(-40), 1e-14, "inv_logit(-40)");
    assert_true(d_of(rt_ad_abs, 0) == 0 && d_of(rt_ad_abs, -2) == -1 && d_of(rt_ad_abs, 2) == 1);
    assert_true(isnan(d_of(rt_ad_lgamma, 0)) && isnan(d_of(rt_ad_lgamma, -3)));
    assert_true(isnan(d_of(rt_ad_lgamma, -INFINITY)));
    assert_true(d_of(rt_ad_lgamma, INFINITY) == INFINITY);
    check_rel(d_of(rt_ad_lgamma, 1), -0.57721566490153286, 1e-14, "digamma(1)");
    assert_true(d_of(rt_ad_sqrt, 0) == INFINITY);
    check_rel(d_of(rt_ad_expm1, 1e-10), 1 + 1e-10, 1e-15, "expm1'");
}

/* ---- binary operations: every row of RT_AD_BINARY ---- */

static double ref_add(double x, double y) { return x + y; }
static double ref_sub(double x, double y) { return x - y; }
static double ref_mul(double x, double y) { return x * y; }
static double ref_div(double x, double y) { return x / y; }
static double ref_min(double x, double y) { return x < y ? x : y; }
static double ref_max(double x, double y) { return x < y ? y : x; }

typedef struct binary_case {
    const char *name;
    int64_t (*ad)(int64_t, int64_t);
    double (*ref)(double, double);
    double xlo, xhi, ylo, yhi;
} binary_case;

static const binary_case binary_cases[] = {
    {"add", rt_ad_add, ref_add, -10, 10, -10, 10},
    {"sub", rt_ad_sub, ref_sub, -10, 10, -10, 10},
    {"mul", rt_ad_mul, ref_mul, -10, 10, -10, 10},
    {"div", rt_ad_div, ref_div, -10, 10, 0.2, 10},   /* y's sign is drawn separately */
    {"pow", rt_ad_pow, pow, 0.1, 10, -3, 3},
    {"min", rt_ad_min, ref_min, -10, 10, -10, 10},
    {"max", rt_ad_max, ref_max, -10, 10, -10, 10},
};

static int64_t build_binary(const int64_t *in, const void *ctx)
{
    return ((const binary_case *)ctx)->ad(in[0], in[1]);
}

static void binary_point(const binary_case *c, double *v)
{
    do {
        v[0] = unif(c->xlo, c->xhi), v[1] = unif(c->ylo, c->yhi);
        if (c->ad == rt_ad_div && unif(0, 1) < 0.5)
            v[1] = -v[1];
    } while ((c->ad == rt_ad_min || c->ad == rt_ad_max) && fabs(v[0] - v[1]) < 0.01);
}

static void test_binary_covered(void **state)
{
#define NAME_OF(name, ...) #name,
    static const char *const names[] = { RT_AD_BINARY(NAME_OF) };
#undef NAME_OF
    assert_int_equal(NELEMS(names), NELEMS(binary_cases));
    for (size_t i = 0; i < NELEMS(names); i++)
        assert_string_equal(names[i], binary_cases[i].name);
}

static void test_binary(void **state)
{
    rt_rng_init(&rng, SEED, 2);
    double v[2];
    for (size_t i = 0; i < NELEMS(binary_cases); i++) {
        const binary_case *c = &binary_cases[i];
        for (int p = 0; p < NPOINTS; p++) {
            binary_point(c, v);
            double got = eval_at(build_binary, v, 2, c);
            if (!(got == c->ref(v[0], v[1])))
                fail_msg("%s(%s) = %.17g", c->name, show(v, 2), got);
            check_fd(build_binary, v, 2, c, c->name);
        }
    }
}

/* pow(x, y) at (x, y): value and both partials. */
static double pow_at(double x, double y, double *g)
{
    return grad_at(build_binary, (double[]){x, y}, 2, &binary_cases[4], g);
}

static int64_t build_pow_const_y(const int64_t *in, const void *ctx)
{
    return rt_ad_pow(in[0], C(*(const double *)ctx));
}

static void test_pow_edges(void **state)
{
    double g[2];
    rt_rng_init(&rng, SEED, 3);
    for (int p = 0; p < NPOINTS; p++) {            /* x < 0, integral y: d/dx by FD, d/dy 0 */
        double x = unif(-5, -0.1), y = (double)unif_int(-4, 4);
        assert_true(pow_at(x, y, g) == pow(x, y) && g[1] == 0);
        check_fd(build_pow_const_y, &x, 1, &y, "pow, x < 0");
        check_rel(g[0], y == 0 ? 0 : y * pow(x, y - 1), 1e-15, "pow dx, x < 0");
    }
    assert_true(isnan(pow_at(-2, 0.5, g)) && isnan(g[0]) && isnan(g[1]));
    assert_true(pow_at(-2, 3, g) == -8 && g[0] == 12 && g[1] == 0);
    assert_true(pow_at(-2, -2, g) == 0.25 && g[0] == 0.25 && g[1] == 0);
    assert_true(pow_at(0, 2, g) == 0 && g[0] == 0 && g[1] == 0);
    assert_true(pow_at(0, 1, g) == 0 && g[0] == 1 && g[1] == 0);
    assert_true(pow_at(0, 0, g) == 1 && g[0] == 0 && g[1] == 0);
    assert_true(pow_at(0, 0.5, g) == 0 && g[0] == INFINITY && g[1] == 0);
    assert_true(pow_at(0, -1, g) == INFINITY && !isnan(g[0]) && g[1] == 0);
    assert_true(pow_at(-3, 0, g) == 1 && g[0] == 0 && g[1] == 0);
    assert_true(pow_at(2, 3, g) == 8 && g[0] == 12);
    check_rel(g[1], 8 * log(2), 1e-15, "pow dy");
    assert_true(pow_at(1e-300, 5, g) == 0 && g[1] == 0);          /* underflow: 0 log x */
}

/* Ties and NaN select as compiled code does; the derivative follows the selection. */
static void test_min_max_select(void **state)
{
    double g[2];
    const binary_case *mn = &binary_cases[5], *mx = &binary_cases[6];
    assert_true(grad_at(build_binary, (double[]){1, 1}, 2, mn, g) == 1 && g[0] == 0 && g[1] == 1);
    assert_true(grad_at(build_binary, (double[]){1, 1}, 2, mx, g) == 1 && g[0] == 1 && g[1] == 0);
    assert_true(grad_at(build_binary, (double[]){NAN, 2}, 2, mn, g) == 2 && g[1] == 1);
    assert_true(isnan(grad_at(build_binary, (double[]){NAN, 2}, 2, mx, g)) && g[0] == 1);
}

/* ---- continuous log densities: every REAL row of RT_DISTRIBUTIONS ---- */

/* ad_D builds rt_ad_lpdf_D on handles, ref_D calls rt_lpdf_D on values. */
#define TW_1(name) \
    static int64_t ad_##name(const int64_t *h, const void *c) \
    { return rt_ad_lpdf_##name(h[0], h[1], LOC); } \
    static double ref_##name(const double *v) { return rt_lpdf_##name(v[0], v[1], LOC); }
#define TW_2(name) \
    static int64_t ad_##name(const int64_t *h, const void *c) \
    { return rt_ad_lpdf_##name(h[0], h[1], h[2], LOC); } \
    static double ref_##name(const double *v) { return rt_lpdf_##name(v[0], v[1], v[2], LOC); }
#define TW_3(name) \
    static int64_t ad_##name(const int64_t *h, const void *c) \
    { return rt_ad_lpdf_##name(h[0], h[1], h[2], h[3], LOC); } \
    static double ref_##name(const double *v) \
    { return rt_lpdf_##name(v[0], v[1], v[2], v[3], LOC); }
#define TW_REAL(name, np) TW_##np(name)
#define TW_INT(name, np)
#define TW(name, np, vt, types, ...) TW_##vt(name, np)
RT_DISTRIBUTIONS(TW)

/* pt_D: a random point (x, params...) inside the support, x a few percent from its edges. */
static void pt_normal(double *v) { v[0] = unif(-5, 5), v[1] = unif(-3, 3), v[2] = unif(0.3, 3); }
static void pt_lognormal(double *v) { v[0] = unif(0.1, 10), v[1] = unif(-1, 1), v[2] = unif(0.3, 2); }
static void pt_uniform(double *v)
{
    v[1] = unif(-5, 0), v[2] = v[1] + unif(0.5, 5);
    v[0] = v[1] + (v[2] - v[1]) * unif(0.02, 0.98);
}
static void pt_beta(double *v) { v[0] = unif(0.05, 0.95), v[1] = unif(0.3, 5), v[2] = unif(0.3, 5); }
static void pt_gamma(double *v) { v[0] = unif(0.1, 10), v[1] = unif(0.3, 8), v[2] = unif(0.2, 5); }
static void pt_exponential(double *v) { v[0] = unif(0.01, 10), v[1] = unif(0.2, 5); }
static void pt_student_t(double *v)
{
    v[0] = unif(-5, 5), v[1] = unif(0.5, 30), v[2] = unif(-2, 2), v[3] = unif(0.3, 3);
}
static void pt_cauchy(double *v) { v[0] = unif(-10, 10), v[1] = unif(-3, 3), v[2] = unif(0.3, 3); }
static void pt_half_normal(double *v) { v[0] = unif(0.01, 5), v[1] = unif(0.3, 3); }
static void pt_half_cauchy(double *v) { v[0] = unif(0.01, 10), v[1] = unif(0.3, 3); }

typedef struct density_case {
    const char *name;
    int nargs;                                   /* x and the parameters */
    build_fn ad;
    double (*ref)(const double *);
    void (*point)(double *);
} density_case;

/* A continuous distribution without a pt_D above fails to compile: all are tested. */
#define ROW_REAL(name, np) {#name, np + 1, ad_##name, ref_##name, pt_##name},
#define ROW_INT(name, np)
#define ROW(name, np, vt, types, ...) ROW_##vt(name, np)
static const density_case continuous[] = { RT_DISTRIBUTIONS(ROW) };

static void test_lpdf_continuous(void **state)
{
    rt_rng_init(&rng, SEED, 4);
    double v[4];
    for (size_t i = 0; i < NELEMS(continuous); i++) {
        const density_case *c = &continuous[i];
        for (int p = 0; p < NPOINTS; p++) {
            c->point(v);
            double got = eval_at(c->ad, v, c->nargs, NULL);
            if (!(got == c->ref(v)))   /* the same bits as rt_lpdf_D */
                fail_msg("%s at (%s): %.17g, want %.17g", c->name, show(v, c->nargs), got,
                         c->ref(v));
            check_fd(c->ad, v, c->nargs, NULL, c->name);
        }
    }
}

/* Outside the support the value is rt_lpdf_D's -inf and every derivative 0. */
static void test_lpdf_outside(void **state)
{
    const struct { const char *name; double v[4]; } cases[] = {
        {"lognormal", {-1, 0, 1}}, {"lognormal", {0, 0, 1}}, {"uniform", {3, 0, 1}},
        {"uniform", {-0.5, 0, 1}}, {"beta", {1.5, 2, 2}}, {"gamma", {-1, 2, 1}},
        {"exponential", {-1, 1}}, {"half_normal", {-1, 1}}, {"half_cauchy", {-2, 1}},
    };
    double g[4];
    for (size_t i = 0; i < NELEMS(cases); i++) {
        size_t j = 0;
        while (strcmp(continuous[j].name, cases[i].name) != 0)
            j++;
        const density_case *c = &continuous[j];
        assert_true(grad_at(c->ad, cases[i].v, c->nargs, NULL, g) == -INFINITY);
        for (int k = 0; k < c->nargs; k++)
            assert_true(g[k] == 0);
    }
}

/* Far in the heavy tails (z^2 overflows) the value is rt_lpdf_D's, finite, and so is every
 * partial: d/dx tends to 0, d/dsigma to nu/sigma (1/sigma for cauchy). */
static void test_lpdf_far_tails(void **state)
{
    const struct { const char *name; double v[4]; } cases[] = {
        {"cauchy", {1e200, 0, 1}}, {"cauchy", {-1e300, 0, 2}}, {"half_cauchy", {1e300, 1}},
        {"student_t", {1e200, 3, 0, 1}}, {"student_t", {-1e250, 0.5, 1, 3}},
    };
    double g[4];
    for (size_t i = 0; i < NELEMS(cases); i++) {
        size_t j = 0;
        while (strcmp(continuous[j].name, cases[i].name) != 0)
            j++;
        const density_case *c = &continuous[j];
        double lp = grad_at(c->ad, cases[i].v, c->nargs, NULL, g);
        if (!isfinite(lp) || lp != c->ref(cases[i].v))
            fail_msg("%s at (%s): %.17g, want %.17g", c->name, show(cases[i].v, c->nargs), lp, c->ref(cases[i].v));
        for (int k = 0; k < c->nargs; k++)
            if (!isfinite(g[k]))
                fail_msg("%s at (%s): partial %d is %g", c->name, show(cases[i].v, c->nargs), k, g[k]);
    }
}

/* uniform: flat inside, so d/dx = 0 exactly; d/dlo = -d/dhi = 1/(hi - lo). */
static void test_lpdf_uniform_partials(void **state)
{
    double g[3];
    assert_true(grad_at(continuous[2].ad, (double[]){0.5, 0, 4}, 3, NULL, g) == -log(4));
    assert_true(g[0] == 0 && g[1] == 0.25 && g[2] == -0.25);
    assert_true(grad_at(continuous[2].ad, (double[]){0, 0, 4}, 3, NULL, g) == -log(4));
    assert_true(g[0] == 0 && g[1] == 0.25);           /* at the edge: the inside's values */
    grad_at(continuous[2].ad, (double[]){0, -1e308, 1e308}, 3, NULL, g);   /* hi - lo overflows */
    check_rel(g[1], 0.5e-308, 1e-6, "uniform 1/(hi - lo)");   /* subnormal */
}

/* ---- discrete log densities: every INT row of RT_DISTRIBUTIONS ---- */

typedef struct dctx { int64_t y, n; } dctx;   /* the value, and binomial's or categorical's n */

static rt_array *probs_array(const double *w, int64_t n)
{
    rt_array *a = malloc(RT_ARRAY_HEADER + (n + 1) * sizeof(double));
    a->len = n;
    memcpy(a->at.d, w, n * sizeof *w);
    return a;
}

#define DW(name) \
    static int64_t ad_##name(const int64_t *h, const void *c) \
    { return rt_ad_lpmf_##name(((const dctx *)c)->y, h[0], LOC); } \
    static double ref_##name(const double *v, const dctx *c) \
    { return rt_lpdf_##name(c->y, v[0], LOC); }
RT_AD_LPMF1(DW)

static int64_t ad_binomial(const int64_t *h, const void *c)
{
    return rt_ad_lpmf_binomial(((const dctx *)c)->y, ((const dctx *)c)->n, h[0], LOC);
}
static double ref_binomial(const double *v, const dctx *c)
{
    return rt_lpdf_binomial(c->y, c->n, v[0], LOC);
}
static int64_t ad_categorical(const int64_t *h, const void *c)
{
    return rt_ad_lpmf_categorical(((const dctx *)c)->y, h, ((const dctx *)c)->n, LOC);
}
static double ref_categorical(const double *v, const dctx *c)
{
    rt_array *a = probs_array(v, c->n);
    double lp = rt_lpdf_categorical(c->y, a, LOC);
    free(a);
    return lp;
}

/* dp_D: a random value in the support and parameters inside their domain; returns the
 * number of real parameters. */
static int dp_bernoulli(double *v, dctx *c) { c->y = unif_int(0, 1), v[0] = unif(0.05, 0.95); return 1; }
static int dp_bernoulli_logit(double *v, dctx *c) { c->y = unif_int(0, 1), v[0] = unif(-8, 8); return 1; }
static int dp_poisson(double *v, dctx *c) { c->y = unif_int(0, 30), v[0] = unif(0.1, 20); return 1; }
static int dp_poisson_log(double *v, dctx *c) { c->y = unif_int(0, 30), v[0] = unif(-3, 3); return 1; }
static int dp_binomial(double *v, dctx *c)
{
    c->n = unif_int(0, 30), c->y = unif_int(0, c->n), v[0] = unif(0.05, 0.95);
    return 1;
}
static int dp_categorical(double *v, dctx *c)
{
    c->n = unif_int(1, 8), c->y = unif_int(0, c->n - 1);
    for (int k = 0; k < c->n; k++)
        v[k] = unif(0.1, 3);
    return (int)c->n;
}

typedef struct discrete_case {
    const char *name;
    build_fn ad;
    double (*ref)(const double *, const dctx *);
    int (*point)(double *, dctx *);
} discrete_case;

#define DROW(name) {#name, ad_##name, ref_##name, dp_##name},
static const discrete_case discrete[] = {
    RT_AD_LPMF1(DROW) DROW(binomial) DROW(categorical)
};

static void test_lpmf_covered(void **state)
{
    for (int k = 0; k < RT_DIST_COUNT; k++) {
        size_t j = 0;
        while (j < NELEMS(discrete) && strcmp(discrete[j].name, rt_dist_name(k)) != 0)
            j++;
        if (rt_dist_is_discrete(k) != (j < NELEMS(discrete)))
            fail_msg("discrete distribution %s: no AD test", rt_dist_name(k));
    }
}

static void test_lpmf(void **state)
{
    rt_rng_init(&rng, SEED, 5);
    double v[MAXIN];
    dctx c;
    for (size_t i = 0; i < NELEMS(discrete); i++) {
        const discrete_case *d = &discrete[i];
        for (int p = 0; p < NPOINTS; p++) {
            int n = d->point(v, &c);
            double got = eval_at(d->ad, v, n, &c);
            if (!(got == d->ref(v, &c)))
                fail_msg("%s(%lld | %s) = %.17g, want %.17g", d->name, (long long)c.y, show(v, n),
                         got, d->ref(v, &c));
            check_fd(d->ad, v, n, &c, d->name);
        }
    }
}

/* Values outside the support: -inf with zero derivatives; and the boundaries. */
static void test_lpmf_edges(void **state)
{
    double g[3];
    dctx c = {2, 0};
    assert_true(grad_at(ad_bernoulli, (double[]){0.3}, 1, &c, g) == -INFINITY && g[0] == 0);
    c = (dctx){-1, 0};
    assert_true(grad_at(ad_poisson, (double[]){2}, 1, &c, g) == -INFINITY && g[0] == 0);
    c = (dctx){3, 3};
    assert_true(grad_at(ad_categorical, (double[]){1, 2, 3}, 3, &c, g) == -INFINITY);
    assert_true(g[0] == 0 && g[1] == 0 && g[2] == 0);
    c = (dctx){1, 2};
    assert_true(grad_at(ad_categorical, (double[]){0, 2}, 2, &c, g) == 0);
    assert_true(g[0] == -0.5 && g[1] == 0);          /* a zero weight: no 0/0 */
    c = (dctx){0, 4};
    assert_true(grad_at(ad_binomial, (double[]){0}, 1, &c, g) > -1e-15 && g[0] == -4);
    c = (dctx){0, 0};
    assert_true(grad_at(ad_poisson, (double[]){0}, 1, &c, g) == 0 && g[0] == -1);
    assert_true(grad_at(ad_poisson_log, (double[]){-INFINITY}, 1, &c, g) == 0 && g[0] == 0);
    c = (dctx){1, 0};
    assert_true(grad_at(ad_bernoulli_logit, (double[]){-800}, 1, &c, g) == -800 && g[0] == 1);
    assert_true(grad_at(ad_bernoulli_logit, (double[]){800}, 1, &c, g) == 0 && g[0] == 0);
}

/* ---- reductions and vectorized nodes against their compositions ---- */

typedef struct vec_ctx { int64_t n; const double *a; const int64_t *y; const double *ys; } vec_ctx;

static int64_t build_lse(const int64_t *in, const void *ctx)
{
    return rt_ad_logsumexp(in, ((const vec_ctx *)ctx)->n);
}

static int64_t build_lse_composed(const int64_t *in, const void *ctx)
{
    int64_t s = rt_ad_exp(in[0]);
    for (int64_t k = 1; k < ((const vec_ctx *)ctx)->n; k++)
        s = rt_ad_add(s, rt_ad_exp(in[k]));
    return rt_ad_log(s);
}

/* f and g at v: values within rtol, every partial within rtol (relative to max(1, |.|)). */
static void check_same(build_fn f, build_fn g, const double *v, int n, const void *ctx,
                       double rtol, const char *what)
{
    double gf[MAXIN], gg[MAXIN];
    double vf = grad_at(f, v, n, ctx, gf), vg = grad_at(g, v, n, ctx, gg);
    if (!(fabs(vf - vg) <= rtol * fmax(1, fabs(vg))))
        fail_msg("%s at (%s): %.17g vs %.17g", what, show(v, n), vf, vg);
    for (int k = 0; k < n; k++)
        if (!(fabs(gf[k] - gg[k]) <= rtol * fmax(1, fabs(gg[k]))))
            fail_msg("%s: d/dv%d at (%s): %.17g vs %.17g", what, k, show(v, n), gf[k], gg[k]);
}

static void test_logsumexp(void **state)
{
    rt_rng_init(&rng, SEED, 6);
    double v[MAXIN];
    for (int p = 0; p < NPOINTS; p++) {
        vec_ctx c = {unif_int(1, 10)};
        for (int k = 0; k < c.n; k++)
            v[k] = unif(-10, 10);
        rt_array *a = probs_array(v, c.n);
        assert_true(eval_at(build_lse, v, (int)c.n, &c) == rt_logsumexp(a));
        free(a);
        check_same(build_lse, build_lse_composed, v, (int)c.n, &c, 1e-13, "logsumexp");
        check_fd(build_lse, v, (int)c.n, &c, "logsumexp");
    }
}

static void test_logsumexp_edges(void **state)
{
    double g[3];
    vec_ctx c = {3};
    assert_true(grad_at(build_lse, (double[]){1000, 999, -1000}, 3, &c, g) ==
                1000 + log1p(exp(-1.0)));
    check_rel(g[0], 1 / (1 + exp(-1.0)), 1e-15, "softmax 0");
    check_rel(g[1], exp(-1.0) / (1 + exp(-1.0)), 1e-15, "softmax 1");
    assert_true(g[2] == 0);
    assert_true(grad_at(build_lse, (double[]){-INFINITY, -INFINITY, -INFINITY}, 3, &c, g)
                == -INFINITY && g[0] == 0 && g[2] == 0);
    assert_true(grad_at(build_lse, (double[]){1, INFINITY, 2}, 3, &c, g) == INFINITY && g[1] == 0);
    assert_true(isnan(grad_at(build_lse, (double[]){1, NAN, 2}, 3, &c, g)) && isnan(g[0]));
    c.n = 1;
    assert_true(grad_at(build_lse, (double[]){-3}, 1, &c, g) == -3 && g[0] == 1);
    rt_ad_begin();
    assert_true(rt_ad_value(rt_ad_logsumexp(NULL, 0)) == -INFINITY);
    assert_true(rt_ad_value(rt_ad_sum(NULL, 0)) == 0);
}

static int64_t build_dot(const int64_t *in, const void *ctx)
{
    return rt_ad_dot_const(((const vec_ctx *)ctx)->a, in, ((const vec_ctx *)ctx)->n);
}

static int64_t build_dot_composed(const int64_t *in, const void *ctx)
{
    const vec_ctx *c = ctx;
    int64_t s = C(0);
    for (int64_t k = 0; k < c->n; k++)
        s = rt_ad_add(s, rt_ad_mul(C(c->a[k]), in[k]));
    return s;
}

static int64_t build_sum(const int64_t *in, const void *ctx)
{
    return rt_ad_mul(rt_ad_sum(in, ((const vec_ctx *)ctx)->n), in[0]);
}

static int64_t build_sum_composed(const int64_t *in, const void *ctx)
{
    int64_t s = C(0);
    for (int64_t k = 0; k < ((const vec_ctx *)ctx)->n; k++)
        s = rt_ad_add(s, in[k]);
    return rt_ad_mul(s, in[0]);
}

static void test_dot_and_sum(void **state)
{
    rt_rng_init(&rng, SEED, 7);
    double v[MAXIN], a[MAXIN];
    for (int p = 0; p < NPOINTS; p++) {
        vec_ctx c = {unif_int(1, MAXIN), a};
        for (int k = 0; k < c.n; k++)
            v[k] = unif(-5, 5), a[k] = unif(-3, 3);
        assert_true(eval_at(build_dot, v, (int)c.n, &c) ==
                    eval_at(build_dot_composed, v, (int)c.n, &c));
        check_same(build_dot, build_dot_composed, v, (int)c.n, &c, 0, "dot_const");
        check_same(build_sum, build_sum_composed, v, (int)c.n, &c, 1e-14, "sum");
        check_fd(build_dot, v, (int)c.n, &c, "dot_const");
        check_fd(build_sum, v, (int)c.n, &c, "sum");
    }
}

static int64_t build_sum_bl(const int64_t *in, const void *ctx)
{
    const vec_ctx *c = ctx;
    return rt_ad_sum_lpmf_bernoulli_logit(c->y, in, c->n, LOC);
}

static int64_t build_sum_bl_composed(const int64_t *in, const void *ctx)
{
    const vec_ctx *c = ctx;
    int64_t s = rt_ad_lpmf_bernoulli_logit(c->y[0], in[0], LOC);
    for (int64_t k = 1; k < c->n; k++)
        s = rt_ad_add(s, rt_ad_lpmf_bernoulli_logit(c->y[k], in[k], LOC));
    return s;
}

/* inputs mu[0..n) then sigma */
static int64_t build_sum_normal(const int64_t *in, const void *ctx)
{
    const vec_ctx *c = ctx;
    return rt_ad_sum_lpdf_normal(c->ys, in, c->n, in[c->n], LOC);
}

static int64_t build_sum_normal_composed(const int64_t *in, const void *ctx)
{
    const vec_ctx *c = ctx;
    int64_t s = rt_ad_lpdf_normal(C(c->ys[0]), in[0], in[c->n], LOC);
    for (int64_t k = 1; k < c->n; k++)
        s = rt_ad_add(s, rt_ad_lpdf_normal(C(c->ys[k]), in[k], in[c->n], LOC));
    return s;
}

/* The vectorized observations: the same value bits as adding the scalar densities in
 * order, the same gradient up to the order of summation, and finite differences. */
static void test_vectorized_densities(void **state)
{
    rt_rng_init(&rng, SEED, 8);
    double v[MAXIN], ys[MAXIN];
    int64_t y[MAXIN];
    for (int p = 0; p < NPOINTS; p++) {
        vec_ctx c = {unif_int(1, MAXIN - 1), NULL, y, ys};
        for (int k = 0; k < c.n; k++)
            v[k] = unif(-6, 6), y[k] = unif_int(0, 1), ys[k] = unif(-5, 5);
        assert_true(eval_at(build_sum_bl, v, (int)c.n, &c) ==
                    eval_at(build_sum_bl_composed, v, (int)c.n, &c));
        check_same(build_sum_bl, build_sum_bl_composed, v, (int)c.n, &c, 0, "sum bernoulli_logit");
        check_fd(build_sum_bl, v, (int)c.n, &c, "sum bernoulli_logit");
        v[c.n] = unif(0.3, 3);
        assert_true(eval_at(build_sum_normal, v, (int)c.n + 1, &c) ==
                    eval_at(build_sum_normal_composed, v, (int)c.n + 1, &c));
        check_same(build_sum_normal, build_sum_normal_composed, v, (int)c.n + 1, &c, 1e-13,
                   "sum normal");
        check_fd(build_sum_normal, v, (int)c.n + 1, &c, "sum normal");
    }
    rt_ad_begin();          /* no observations: 0, and sigma is an operand with partial 0 */
    double g;
    int64_t s = rt_ad_input(-1);
    rt_ad_grad(rt_ad_sum_lpdf_normal(NULL, NULL, 0, s, LOC), &g, 1);
    assert_true(g == 0);
}

/* ---- whole-array observations (rt_observe.c), as gradient code calls them ----
 * Against the composition of scalar densities: observed values that are inputs (the
 * per-element form), a broadcast scalar mean, and an array of means with constant values
 * (one rt_ad_sum_lpdf_normal node); bernoulli_logit with a broadcast logit. */

static rt_array *handle_array(const int64_t *h, int64_t n)
{
    rt_array *a = rt_array_new(n, 0);
    for (int64_t k = 0; k < n; k++)
        a->at.i[k] = h[k];
    return a;
}

/* inputs y[0..n), mu, sigma */
static int64_t build_obs_y(const int64_t *in, const void *ctx)
{
    int64_t n = ((const vec_ctx *)ctx)->n;
    return rt_vi_obs_normal(handle_array(in, n), NULL, in[n], in[n + 1], LOC);
}

static int64_t build_obs_y_composed(const int64_t *in, const void *ctx)
{
    int64_t n = ((const vec_ctx *)ctx)->n, s = rt_ad_lpdf_normal(in[0], in[n], in[n + 1], LOC);
    for (int64_t k = 1; k < n; k++)
        s = rt_ad_add(s, rt_ad_lpdf_normal(in[k], in[n], in[n + 1], LOC));
    return s;
}

/* inputs mu[0..n), sigma; constant values ys */
static int64_t build_obs_mu(const int64_t *in, const void *ctx)
{
    const vec_ctx *c = ctx;
    int64_t ys[MAXIN];
    for (int64_t k = 0; k < c->n; k++)
        ys[k] = C(c->ys[k]);
    return rt_vi_obs_normal(handle_array(ys, c->n), handle_array(in, c->n), 0, in[c->n], LOC);
}

/* input: one logit for every y */
static int64_t build_obs_bl(const int64_t *in, const void *ctx)
{
    const vec_ctx *c = ctx;
    rt_array *y = rt_array_new(c->n, 0);
    memcpy(y->at.i, c->y, sizeof(int64_t) * (size_t)c->n);
    return rt_vi_obs_bernoulli_logit(y, NULL, in[0], LOC);
}

static int64_t build_obs_bl_composed(const int64_t *in, const void *ctx)
{
    const vec_ctx *c = ctx;
    int64_t s = rt_ad_lpmf_bernoulli_logit(c->y[0], in[0], LOC);
    for (int64_t k = 1; k < c->n; k++)
        s = rt_ad_add(s, rt_ad_lpmf_bernoulli_logit(c->y[k], in[0], LOC));
    return s;
}

static void test_observe_arrays(void **state)
{
    rt_rng_init(&rng, SEED, 12);
    double v[MAXIN], ys[MAXIN];
    int64_t y[MAXIN];
    for (int p = 0; p < NPOINTS; p++) {
        vec_ctx c = {unif_int(1, MAXIN - 3), NULL, y, ys};
        for (int k = 0; k < c.n; k++)
            v[k] = unif(-5, 5), y[k] = unif_int(0, 1), ys[k] = unif(-5, 5);
        v[c.n] = unif(-3, 3), v[c.n + 1] = unif(0.3, 3);
        check_same(build_obs_y, build_obs_y_composed, v, (int)c.n + 2, &c, 1e-13, "observe normal, values");
        check_fd(build_obs_y, v, (int)c.n + 2, &c, "observe normal, values");
        v[c.n] = v[c.n + 1];
        check_same(build_obs_mu, build_sum_normal_composed, v, (int)c.n + 1, &c, 1e-13, "observe normal, means");
        check_fd(build_obs_mu, v, (int)c.n + 1, &c, "observe normal, means");
        check_same(build_obs_bl, build_obs_bl_composed, v, 1, &c, 1e-13, "observe bernoulli_logit");
        check_fd(build_obs_bl, v, 1, &c, "observe bernoulli_logit");
    }
    rt_ad_begin();   /* constant values make one node */
    rt_array *vals = handle_array((int64_t[]){C(1), C(2)}, 2);
    int64_t mu = C(0), sigma = C(1), before = rt_ad_size();
    rt_vi_obs_normal(vals, NULL, mu, sigma, LOC);
    assert_int_equal(rt_ad_size() - before, 1);
}

static void bad_length(void)
{
    rt_ad_begin();
    rt_vi_obs_bernoulli_logit(rt_array_new(3, 0), handle_array((int64_t[]){C(0), C(0)}, 2), 0, LOC);
}

static void test_observe_length(void **state)
{
    char err[1024];
    int status = run_child(bad_length, err, sizeof err);
    if (status != 1 || !strstr(err, LOC ": error: observe: the observed array has 3 elements, but 'logit_p' has 2"))
        fail_msg("status %d, stderr: %s", status, err);
}

/* ---- matrix-vector products ---- */

typedef struct mv_ctx { int64_t rows, cols; const double *X, *c; } mv_ctx;

/* sum_i c_i sin((X w)_i): nonlinear, so each output's adjoint differs */
static int64_t build_matvec(const int64_t *in, const void *ctx)
{
    const mv_ctx *m = ctx;
    int64_t out[64], s[64];
    rt_ad_matvec(m->X, m->rows, m->cols, in, out);
    for (int64_t i = 0; i < m->rows; i++)
        s[i] = rt_ad_sin(out[i]);
    return rt_ad_dot_const(m->c, s, m->rows);
}

static void test_matvec_fd(void **state)
{
    rt_rng_init(&rng, SEED, 9);
    double X[64 * MAXIN], c[64], w[MAXIN], g[MAXIN];
    for (int p = 0; p < 100; p++) {
        mv_ctx m = {unif_int(1, 64), unif_int(1, MAXIN), X, c};
        for (int64_t k = 0; k < m.rows * m.cols; k++)
            X[k] = unif(-1, 1);
        for (int64_t i = 0; i < m.rows; i++)
            c[i] = unif(-1, 1);
        for (int64_t j = 0; j < m.cols; j++)
            w[j] = unif(-2, 2);
        check_fd(build_matvec, w, (int)m.cols, &m, "matvec");
        grad_at(build_matvec, w, (int)m.cols, &m, g);   /* against X^T (c .* cos(X w)) */
        for (int64_t j = 0; j < m.cols; j++) {
            double want = 0;
            for (int64_t i = 0; i < m.rows; i++) {
                double xw = 0;
                for (int64_t k = 0; k < m.cols; k++)
                    xw += X[i * m.cols + k] * w[k];
                want += X[i * m.cols + j] * c[i] * cos(xw);
            }
            assert_true(fabs(g[j] - want) <= 1e-12 * (1 + fabs(want)));
        }
    }
}

/* Outputs' values; two chained products; a handle used twice; an empty matrix; an
 * output in the middle as the function differentiated. */
static void test_matvec_shapes(void **state)
{
    const double A[6] = {1, 2, 3, 4, 5, 6}, B[4] = {1, -1, 2, 0.5};
    int64_t out[3], out2[2], w[3];
    double g[2];
    rt_ad_begin();
    int64_t a = rt_ad_input(2), b = rt_ad_input(-3);
    w[0] = a, w[1] = b, w[2] = a;                      /* one handle used twice */
    rt_ad_matvec(A, 2, 3, w, out);                     /* [1 2 3; 4 5 6] (a, b, a) */
    assert_true(rt_ad_value(out[0]) == 2 && rt_ad_value(out[1]) == 5);
    rt_ad_matvec(B, 2, 2, out, out2);                  /* [1 -1; 2 .5] (2, 5) = (-3, 6.5) */
    assert_true(rt_ad_value(out2[0]) == -3 && rt_ad_value(out2[1]) == 6.5);
    rt_ad_grad(out[1], g, 2);                          /* 4a + 5b + 6a */
    assert_true(g[0] == 10 && g[1] == 5);
    rt_ad_grad(rt_ad_add(out2[0], out2[1]), g, 2);     /* 3 out0 - 0.5 out1 */
    assert_true(g[0] == 3 * 4 - 0.5 * 10 && g[1] == 3 * 2 - 0.5 * 5);
    int64_t none[2];
    rt_ad_matvec(NULL, 2, 0, NULL, none);
    assert_true(rt_ad_value(none[0]) == 0 && rt_ad_value(none[1]) == 0);
    rt_ad_grad(rt_ad_add(none[1], a), g, 2);
    assert_true(g[0] == 1 && g[1] == 0);
    int64_t size = rt_ad_size();
    rt_ad_matvec(A, 0, 3, w, NULL);                    /* no rows: nothing appended */
    assert_int_equal(rt_ad_size(), size);
}

/* A bigger product (X 500 x 40) against the closed form X^T c. */
static void test_matvec_large(void **state)
{
    enum { R = 500, K = 40 };
    static double X[R * K], c[R];
    double w[K], g[K];
    int64_t in[K], out[R];
    rt_rng_init(&rng, SEED, 10);
    for (int k = 0; k < R * K; k++)
        X[k] = unif(-1, 1);
    for (int i = 0; i < R; i++)
        c[i] = unif(-1, 1);
    rt_ad_begin();
    for (int j = 0; j < K; j++)
        in[j] = rt_ad_input(w[j] = unif(-1, 1));
    rt_ad_matvec(X, R, K, in, out);
    rt_ad_grad(rt_ad_dot_const(c, out, R), g, K);
    for (int j = 0; j < K; j++) {
        double want = 0;
        for (int i = 0; i < R; i++)
            want += X[i * K + j] * c[i];
        check_rel(g[j], want, 1e-12, "X^T c");
    }
    for (int i = 0; i < R; i += 37) {
        double want = 0;
        for (int j = 0; j < K; j++)
            want += X[i * K + j] * w[j];
        assert_true(fabs(rt_ad_value(out[i]) - want) <= 1e-13 * K);
    }
}

/* ---- the tape: stop_grad, gradients' API, reuse, growth, threads ---- */

static void test_stop_grad(void **state)
{
    double g[2];
    rt_ad_begin();
    int64_t x = rt_ad_input(3);
    int64_t f = rt_ad_mul(x, rt_ad_stop_grad(x));      /* x * [x]: value 9, derivative 3 */
    rt_ad_grad(f, g, 1);
    assert_true(rt_ad_value(f) == 9 && g[0] == 3);
    rt_ad_grad(rt_ad_stop_grad(f), g, 1);
    assert_true(g[0] == 0);
    /* DiCE: exp(lp - [lp]) is 1 with derivative d lp */
    int64_t lp = rt_ad_lpdf_normal(C(1), x, C(2), LOC);
    int64_t dice = rt_ad_exp(rt_ad_sub(lp, rt_ad_stop_grad(lp)));
    rt_ad_grad(dice, g, 1);
    assert_true(rt_ad_value(dice) == 1 && g[0] == -0.5);   /* d/dmu log N(1; mu, 2) at 3 */
}

/* rt_ad_affine: +, -, sums and products or quotients by constants keep a function affine in
 * the chosen nodes; anything else, or a product of two of them, does not. A node that does
 * not depend on them (a constant, another input, stop_grad) is a constant. */
static void test_affine(void **state)
{
    rt_ad_begin();
    int64_t p = rt_ad_input(2);
    int64_t h[3] = {rt_ad_mul(p, C(3)), rt_ad_exp(p), rt_ad_const(1)};   /* nodes to test in */
    int64_t mean = rt_ad_div(rt_ad_sum(h, 3), C(3));
    int64_t affine = rt_ad_sub(rt_ad_mul(C(2), mean), rt_ad_neg(rt_ad_mul(h[1], rt_ad_stop_grad(h[0]))));
    assert_true(rt_ad_affine(affine, h, 3));
    assert_true(rt_ad_affine(rt_ad_add(affine, rt_ad_exp(p)), h, 3));   /* p is not one of h */
    assert_false(rt_ad_affine(rt_ad_mul(h[0], h[1]), h, 3));
    assert_false(rt_ad_affine(rt_ad_div(C(1), h[2]), h, 3));
    assert_false(rt_ad_affine(rt_ad_logsumexp(h, 3), h, 3));
    assert_false(rt_ad_affine(rt_ad_add(mean, rt_ad_exp(h[0])), h, 3));
    assert_true(rt_ad_affine(h[1], h, 3));
}

static void test_grad_api(void **state)
{
    double g[4] = {7, 7, 7, 7};
    rt_ad_begin();
    assert_int_equal(rt_ad_ninputs(), 0);
    int64_t a = rt_ad_input(2), b = rt_ad_input(5);
    int64_t f = rt_ad_mul(a, a);
    int64_t c = rt_ad_input(1);                         /* created after f */
    int64_t h = rt_ad_mul(rt_ad_add(f, b), c);
    assert_int_equal(rt_ad_ninputs(), 3);
    rt_ad_grad(f, g, 4);                                /* extra entries are 0 */
    assert_true(g[0] == 4 && g[1] == 0 && g[2] == 0 && g[3] == 0);
    rt_ad_grad(h, g, 3);                                /* a second output, same tape */
    assert_true(g[0] == 4 && g[1] == 1 && g[2] == 9);
    rt_ad_grad(a, g, 2);
    assert_true(g[0] == 1 && g[1] == 0);
    rt_ad_grad(h, g, 0);                                /* nothing written */
}

/* A model-like function using every kind of node, rebuilt on a reused tape. */
static double busy(int64_t n, double *g, int64_t *size)
{
    static const double X[6] = {0.5, -1, 2, 1, 0.25, -0.5};
    static const int64_t y[3] = {1, 0, 1};
    int64_t w[2], eta[3], terms[4], probs[3];
    rt_ad_begin();
    w[0] = rt_ad_input(0.3), w[1] = rt_ad_input(-0.7);
    int64_t sigma = rt_ad_exp(rt_ad_input(0.1));
    rt_ad_matvec(X, 3, 2, w, eta);
    terms[0] = rt_ad_sum_lpmf_bernoulli_logit(y, eta, 3, LOC);
    terms[1] = rt_ad_sum_lpdf_normal((const double[]){1, 2, 3}, eta, 3, sigma, LOC);
    terms[2] = rt_ad_lpdf_student_t(w[0], C(4), w[1], sigma, LOC);
    for (int k = 0; k < 3; k++)
        probs[k] = rt_ad_softplus(eta[k]);
    terms[3] = rt_ad_lpmf_categorical(2, probs, 3, LOC);
    int64_t s = rt_ad_logsumexp(terms, 4);
    for (int64_t k = 0; k < n; k++)
        s = rt_ad_add(s, rt_ad_mul(C(1e-3), rt_ad_tanh(w[k % 2])));
    rt_ad_grad(s, g, 3);
    *size = rt_ad_size();
    return rt_ad_value(s);
}

static void test_tape_reuse(void **state)
{
    double g0[3], g[3];
    int64_t size0, size;
    double v0 = busy(10, g0, &size0);
    for (int run = 0; run < 5; run++) {
        busy(run * 20000, g, &size);                  /* a bigger tape between */
        assert_true(busy(10, g, &size) == v0 && size == size0);
        assert_memory_equal(g, g0, sizeof g);
    }
    rt_ad_free();                                      /* a fresh tape gives the same */
    assert_true(busy(10, g, &size) == v0 && size == size0);
    assert_memory_equal(g, g0, sizeof g);
    rt_ad_free();
    rt_ad_free();                                      /* twice: harmless */
}

/* 10^6 nodes in a chain: d/dx of sin(sin(...sin(x))) against forward-mode in doubles. */
static void test_growth(void **state)
{
    enum { N = 1000000 };
    for (int run = 0; run < 2; run++) {
        rt_ad_begin();
        int64_t x = rt_ad_input(0.5), s = x;
        double v = 0.5, dv = 1, g;
        for (int k = 0; k < N; k++) {
            s = rt_ad_sin(s);
            dv *= cos(v), v = sin(v);
        }
        assert_int_equal(rt_ad_size(), N + 1);
        assert_true(rt_ad_value(s) == v);
        rt_ad_grad(s, &g, 1);
        check_rel(g, dv, 1e-9, "d sin^(10^6)");
        int64_t t = x;                                 /* and a sum of 10^6 + 1 copies */
        for (int k = 0; k < N; k++)
            t = rt_ad_add(t, x);
        rt_ad_grad(t, &g, 1);
        assert_true(g == N + 1);
    }
}

/* Threads have their own tapes: each computes its own gradient many times, at once. */
static void *thread_work(void *arg)
{
    intptr_t id = (intptr_t)arg;
    for (int it = 0; it < 200; it++) {
        rt_ad_begin();
        double av = id + 1, bv = it * 0.01;
        int64_t a = rt_ad_input(av), b = rt_ad_input(bv), s = C(0);
        int64_t len = 100 * (id + 1);
        for (int64_t k = 0; k < len; k++)
            s = rt_ad_add(s, rt_ad_mul(a, b));
        double g[2];
        rt_ad_grad(s, g, 2);
        if (fabs(g[0] - len * bv) > 1e-9 * len || fabs(g[1] - len * av) > 1e-9 * len
            || rt_ad_size() != 3 + 2 * len)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(void **state)
{
    pthread_t t[4];
    for (intptr_t i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_work, (void *)i), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
}

/* ---- the end-to-end check for variational inference ----
 * q = N(m, s) reparameterized as x = m + s eps, eps = 0.7, and
 *   f(m, s) = log N(x; 0, 1) + log N(1; x, 1) - log N(x; m, s).
 * d/dx log N(x; 0, 1) = -x and d/dx log N(1; x, 1) = 1 - x, while
 *   log N(x; m, s) = -((x - m)/s)^2 / 2 - log s - log sqrt(2 pi) = -eps^2/2 - log s - c
 * along the path, so its total derivative is 0 in m and -1/s in s. With dx/dm = 1 and
 * dx/ds = eps:
 *   df/dm = 1 - 2x,   df/ds = (1 - 2x) eps + 1/s.
 * At (m, s) = (0, 1): x = 0.7, df/dm = -0.4, df/ds = -0.28 + 1 = 0.72. */
static void vi_gradient(double m, double s, double *g)
{
    rt_ad_begin();
    int64_t hm = rt_ad_input(m), hs = rt_ad_input(s);
    int64_t x = rt_ad_add(hm, rt_ad_mul(hs, C(0.7)));
    int64_t f = rt_ad_add(rt_ad_lpdf_normal(x, C(0), C(1), LOC),
                          rt_ad_lpdf_normal(C(1), x, C(1), LOC));
    f = rt_ad_sub(f, rt_ad_lpdf_normal(x, hm, hs, LOC));
    rt_ad_grad(f, g, 2);
}

static void test_vi_reparameterized(void **state)
{
    double g[2];
    vi_gradient(0, 1, g);
    assert_true(fabs(g[0] - -0.4) < 1e-14 && fabs(g[1] - 0.72) < 1e-14);
    const double ms[3][2] = {{0.3, 2}, {-1, 0.5}, {2, 0.1}};
    for (int i = 0; i < 3; i++) {
        double m = ms[i][0], s = ms[i][1], x = m + s * 0.7;
        vi_gradient(m, s, g);
        check_rel(g[0], 1 - 2 * x, 1e-13, "df/dm");
        check_rel(g[1], (1 - 2 * x) * 0.7 + 1 / s, 1e-13, "df/ds");
    }
}

/* ---- errors: exit 1 with `LOC: error: DIST: ...PARAM...`, as rt_lpdf_D ---- */

static const int64_t bad_y[2] = {1, 0};
static const double bad_ys[2] = {0, 1};

#define BAD(id, ...) static void bad_##id(void) { rt_ad_begin(); (void)(__VA_ARGS__); }
BAD(normal, rt_ad_lpdf_normal(C(0), C(0), C(-1), LOC))
BAD(normal_value, rt_ad_lpdf_normal(C(NAN), C(0), C(1), LOC))
BAD(lognormal, rt_ad_lpdf_lognormal(C(1), C(INFINITY), C(1), LOC))
BAD(uniform, rt_ad_lpdf_uniform(C(0), C(1), C(1), LOC))
BAD(beta, rt_ad_lpdf_beta(C(0.5), C(0), C(1), LOC))
BAD(gamma, rt_ad_lpdf_gamma(C(1), C(1), C(-2), LOC))
BAD(exponential, rt_ad_lpdf_exponential(C(1), C(0), LOC))
BAD(student_t, rt_ad_lpdf_student_t(C(0), C(-1), C(0), C(1), LOC))
BAD(cauchy, rt_ad_lpdf_cauchy(C(0), C(0), C(NAN), LOC))
BAD(half_normal, rt_ad_lpdf_half_normal(C(1), C(-1), LOC))
BAD(half_cauchy, rt_ad_lpdf_half_cauchy(C(1), C(INFINITY), LOC))
BAD(bernoulli, rt_ad_lpmf_bernoulli(1, C(1.5), LOC))
BAD(bernoulli_logit, rt_ad_lpmf_bernoulli_logit(1, C(NAN), LOC))
BAD(binomial, rt_ad_lpmf_binomial(0, -1, C(0.5), LOC))
BAD(poisson, rt_ad_lpmf_poisson(1, C(-1), LOC))
BAD(poisson_log, rt_ad_lpmf_poisson_log(1, C(INFINITY), LOC))
BAD(categorical, rt_ad_lpmf_categorical(0, (int64_t[]){C(0.5), C(-0.1)}, 2, LOC))
BAD(categorical_empty, rt_ad_lpmf_categorical(0, NULL, 0, LOC))
BAD(sum_bernoulli_logit, rt_ad_sum_lpmf_bernoulli_logit(bad_y, (int64_t[]){C(0), C(NAN)}, 2, LOC))
BAD(sum_normal, rt_ad_sum_lpdf_normal(bad_ys, (int64_t[]){C(0), C(0)}, 2, C(0), LOC))

static void test_invalid_parameters(void **state)
{
    const struct { void (*fn)(void); const char *dist, *param; } cases[] = {
        {bad_normal, "normal", "scale"}, {bad_normal_value, "normal", "value"},
        {bad_lognormal, "lognormal", "loc"}, {bad_uniform, "uniform", "lo"},
        {bad_beta, "beta", "a "}, {bad_gamma, "gamma", "rate"},
        {bad_exponential, "exponential", "rate"}, {bad_student_t, "student_t", "nu"},
        {bad_cauchy, "cauchy", "scale"}, {bad_half_normal, "half_normal", "scale"},
        {bad_half_cauchy, "half_cauchy", "scale"}, {bad_bernoulli, "bernoulli", "p "},
        {bad_bernoulli_logit, "bernoulli_logit", "logit_p"}, {bad_binomial, "binomial", "n "},
        {bad_poisson, "poisson", "rate"}, {bad_poisson_log, "poisson_log", "log_rate"},
        {bad_categorical, "categorical", "probs[1]"},
        {bad_categorical_empty, "categorical", "non-empty"},
        {bad_sum_bernoulli_logit, "bernoulli_logit", "logit_p"},
        {bad_sum_normal, "normal", "scale"},
    };
    for (size_t i = 0; i < NELEMS(cases); i++)
        expect_dist_error(cases[i].fn, LOC, cases[i].dist, cases[i].param, i);
}

static void bad_handle(void) { rt_ad_begin(); rt_ad_value(5); }
static void bad_operand(void) { rt_ad_begin(); rt_ad_exp(rt_ad_const(1) + 1); }
static void bad_grad(void) { rt_ad_begin(); rt_ad_grad(-1, NULL, 0); }
static void bad_stale(void)
{
    rt_ad_begin();
    int64_t h = rt_ad_add(C(1), C(2));
    rt_ad_begin();
    rt_ad_neg(h);
}

/* A handle not on the tape is an internal error, not a crash. */
static void test_invalid_handles(void **state)
{
    void (*fns[])(void) = {bad_handle, bad_operand, bad_grad, bad_stale};
    char err[1024];
    for (size_t i = 0; i < NELEMS(fns); i++) {
        int status = run_child(fns[i], err, sizeof err);
        if (status != 1 || !strstr(err, "error: internal error: gradient handle"))
            fail_msg("case %zu: status %d, stderr: %s", i, status, err);
    }
}

/* In the REPL an error returns to the prompt: the failing call must not have left a node
 * (the child exits 0 if every tape was unchanged, 3 if not). */
static jmp_buf recover_to;

static void failing_calls(void)
{
    static volatile int64_t size;     /* static volatile: kept across longjmp */
    static volatile int which;
    int64_t eta[2];
    rt_set_recovery(&recover_to);
    setjmp(recover_to);
    if (which > 0 && rt_ad_size() != size)
        _exit(3);
    rt_ad_begin();
    eta[0] = C(0), eta[1] = C(NAN);
    int64_t sigma = C(0), probs[2] = {C(1), C(-1)};
    size = rt_ad_size();
    switch (which++) {
    case 0: rt_ad_sum_lpmf_bernoulli_logit(bad_y, eta, 2, LOC); break;
    case 1: rt_ad_sum_lpdf_normal(bad_ys, eta, 1, sigma, LOC); break;
    case 2: rt_ad_lpmf_categorical(0, probs, 2, LOC); break;
    case 3: rt_ad_lpdf_gamma(eta[0], sigma, sigma, LOC); break;
    }
    _exit(which == 5 ? 0 : 4);
}

static void test_error_leaves_tape(void **state)
{
    char err[4096];
    int status = run_child(failing_calls, err, sizeof err);
    if (status != 0 || !strstr(err, "normal: scale") || !strstr(err, "gamma: shape"))
        fail_msg("status %d, stderr: %s", status, err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary_covered),
        cmocka_unit_test(test_unary),
        cmocka_unit_test(test_unary_edges),
        cmocka_unit_test(test_binary_covered),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_pow_edges),
        cmocka_unit_test(test_min_max_select),
        cmocka_unit_test(test_lpdf_continuous),
        cmocka_unit_test(test_lpdf_outside),
        cmocka_unit_test(test_lpdf_far_tails),
        cmocka_unit_test(test_lpdf_uniform_partials),
        cmocka_unit_test(test_lpmf_covered),
        cmocka_unit_test(test_lpmf),
        cmocka_unit_test(test_lpmf_edges),
        cmocka_unit_test(test_logsumexp),
        cmocka_unit_test(test_logsumexp_edges),
        cmocka_unit_test(test_dot_and_sum),
        cmocka_unit_test(test_vectorized_densities),
        cmocka_unit_test(test_observe_arrays),
        cmocka_unit_test(test_observe_length),
        cmocka_unit_test(test_matvec_fd),
        cmocka_unit_test(test_matvec_shapes),
        cmocka_unit_test(test_matvec_large),
        cmocka_unit_test(test_stop_grad),
        cmocka_unit_test(test_affine),
        cmocka_unit_test(test_grad_api),
        cmocka_unit_test(test_tape_reuse),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_vi_reparameterized),
        cmocka_unit_test(test_invalid_parameters),
        cmocka_unit_test(test_invalid_handles),
        cmocka_unit_test(test_error_leaves_tape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
