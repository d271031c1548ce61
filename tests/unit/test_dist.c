/* test_dist.c - cmocka tests for the Philox streams (known answers, reproducibility) and the
 * distributions: log densities against GSL's pdfs, sampler moments, and parameter errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <Random123/philox.h>
#include "rt_dist.h"
#include "test_util.h"

#define LOC "m.ppl:3:6"
#define NDRAWS 200000          /* draws per sampler check */
#define SEED 20240601u         /* the fixed seed of every sampler check */
#define NSE 5.0                /* sampler tolerance, in standard errors */
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

/* An rt_array of doubles on the heap (the tests do not depend on the GC'd allocator);
 * free_probs() releases them all at the end. */
static rt_array *made[64];
static int nmade;

static rt_array *probs_of(int n, const double *ps)
{
    assert_true(nmade < 64);
    rt_array *a = malloc(RT_ARRAY_HEADER + (n > 0 ? n : 1) * sizeof(double));
    assert_non_null(a);
    a->len = n;
    for (int i = 0; i < n; i++)
        a->at.d[i] = ps[i];
    return made[nmade++] = a;
}

static void free_probs(void)
{
    while (nmade > 0)
        free(made[--nmade]);
}

#define PROBS(...) probs_of(NELEMS(((double[]){ __VA_ARGS__ })), (double[]){ __VA_ARGS__ })

/* Log densities must match to relative 1e-10, measured against max(1, |reference|) so a
 * reference near 0 is held to absolute 1e-10. */
static void check_close(double got, double want, const char *what, double x)
{
    if (!(fabs(got - want) <= 1e-10 * fmax(1, fabs(want))))
        fail_msg("%s at %g: got %.17g, want %.17g", what, x, got, want);
}

/* Compares with log(pdf) when the reference pdf is representable; returns 1 if it did. */
static int check_pdf(double got, double pdf, const char *what, double x)
{
    if (!(pdf > 1e-290))
        return 0;
    check_close(got, log(pdf), what, x);
    return 1;
}

/* ---- the Philox streams ---- */

/* Random123's kat_vectors for philox4x32-10: counter words {c0..c3}, key {k0, k1}. The
 * stream maps counter = c1:c0, stream = c3:c2, seed = k1:k0. */
static void check_kat(uint64_t seed, uint64_t stream, uint64_t counter, const uint32_t want[4])
{
    rt_rng r;
    rt_rng_init(&r, seed, stream);
    r.counter = counter;
    for (int i = 0; i < 4; i++)
        assert_int_equal(rt_rng_u32(&r), want[i]);
    assert_int_equal(r.counter, counter + 1);
}

static void test_philox_known_answers(void **state)
{
    check_kat(0, 0, 0, (const uint32_t[]){0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
    check_kat(UINT64_MAX, UINT64_MAX, UINT64_MAX,
              (const uint32_t[]){0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
    check_kat(0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3243f6a88ull,
              (const uint32_t[]){0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

static void test_rng_reproducible(void **state)
{
    rt_rng a, b, c, d;
    rt_rng_init(&a, 7, 3), rt_rng_init(&b, 7, 3);
    rt_rng_init(&c, 7, 4), rt_rng_init(&d, 8, 3);
    int same_c = 0, same_d = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rt_rng_u64(&a);
        assert_int_equal(x, rt_rng_u64(&b));
        same_c += x == rt_rng_u64(&c);
        same_d += x == rt_rng_u64(&d);
    }
    assert_int_equal(same_c, 0);
    assert_int_equal(same_d, 0);
    /* a draw depends only on (seed, stream, counter): restarting at a block repeats it */
    rt_rng_init(&b, 7, 3);
    b.counter = 10;
    rt_rng_init(&a, 7, 3);
    for (int i = 0; i < 40; i++)
        rt_rng_u32(&a);
    assert_int_equal(rt_rng_u32(&a), rt_rng_u32(&b));
}

static void test_rng_u64_and_uniform(void **state)
{
    rt_rng a, b;
    rt_rng_init(&a, 1, 2), rt_rng_init(&b, 1, 2);
    uint64_t lo = rt_rng_u32(&b);
    assert_int_equal(rt_rng_u64(&a), lo | (uint64_t)rt_rng_u32(&b) << 32);
    /* 10^6 uniforms: all in (0,1); mean 1/2 within 5 se = 5 sqrt(1/12 / n) */
    double sum = 0, lo_seen = 1, hi_seen = 0;
    int n = 1000000;
    for (int i = 0; i < n; i++) {
        double u = rt_rng_uniform(&a);
        assert_true(u > 0 && u < 1);
        sum += u, lo_seen = fmin(lo_seen, u), hi_seen = fmax(hi_seen, u);
    }
    assert_true(fabs(sum / n - 0.5) < NSE * sqrt(1.0 / 12 / n));
    assert_true(lo_seen < 1e-5 && hi_seen > 1 - 1e-5);
}

static void test_rng_stream_id(void **state)
{
    uint64_t ids[] = {rt_rng_stream_id(0, 0, 0), rt_rng_stream_id(0, 0, 1),
                      rt_rng_stream_id(0, 1, 0), rt_rng_stream_id(1, 0, 0),
                      rt_rng_stream_id(1, 1, 0), rt_rng_stream_id(2, 0, 0)};
    for (size_t i = 0; i < NELEMS(ids); i++)
        for (size_t j = i + 1; j < NELEMS(ids); j++)
            assert_true(ids[i] != ids[j]);
    assert_int_equal(rt_rng_stream_id(5, 6, 7), rt_rng_stream_id(5, 6, 7));
}

/* Our Philox against Random123's on inputs spread over all bits (splitmix64 of i). */
static void test_philox_reference(void **state)
{
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t seed = rt_rng_stream_id(i, 1, 2), stream = rt_rng_stream_id(i, 3, 4);
        uint64_t counter = i % 2 ? rt_rng_stream_id(i, 5, 6) : i;
        philox4x32_ctr_t ctr = {{(uint32_t)counter, (uint32_t)(counter >> 32), (uint32_t)stream,
                                 (uint32_t)(stream >> 32)}};
        philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
        philox4x32_ctr_t want = philox4x32(ctr, key);
        rt_rng r;
        rt_rng_init(&r, seed, stream);
        r.counter = counter;
        for (int k = 0; k < 4; k++)
            assert_int_equal(rt_rng_u32(&r), want.v[k]);
    }
}

/* Batched blocks are the stream's blocks; a prefix is handed out before the stream. */
static void test_rng_blocks_and_prefix(void **state)
{
    uint32_t out[37][4];
    rt_rng r;
    rt_rng_blocks(7, 123, 1000, 37, out);
    rt_rng_init(&r, 7, 123);
    r.counter = 1000;
    for (int k = 0; k < 37; k++)
        for (int j = 0; j < 4; j++)
            assert_int_equal(out[k][j], rt_rng_u32(&r));
    rt_rng a, b;
    rt_rng_init_prefix(&a, 7, 123, (const uint32_t[2]){11, 22});
    rt_rng_init(&b, 7, 123);
    assert_int_equal(rt_rng_u32(&a), 11);
    assert_int_equal(rt_rng_u32(&a), 22);
    for (int k = 0; k < 10; k++)
        assert_int_equal(rt_rng_u32(&a), rt_rng_u32(&b));
}

static void test_rng_gsl_adapter(void **state)
{
    rt_rng a, b;
    gsl_rng g;
    rt_rng_init(&a, 9, 1), rt_rng_init(&b, 9, 1);
    gsl_rng *gr = rt_rng_gsl(&a, &g);
    assert_ptr_equal(gr, &g);
    assert_int_equal(gsl_rng_max(gr), 0xffffffffUL);
    assert_int_equal(gsl_rng_min(gr), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(gsl_rng_get(gr), rt_rng_u32(&b));
    for (int i = 0; i < 10; i++)
        assert_true(gsl_rng_uniform(gr) == rt_rng_uniform(&b));
    gsl_rng_set(gr, 9);                       /* reseeding restarts the stream */
    rt_rng_init(&b, 9, 1);
    assert_int_equal(gsl_rng_get(gr), rt_rng_u32(&b));
}

/* ---- the table ---- */

static void test_dist_table(void **state)
{
    assert_int_equal(RT_DIST_COUNT, 16);
    for (int k = 0; k < RT_DIST_COUNT; k++) {
        assert_int_equal(rt_dist_lookup(rt_dist_name(k)), k);
        assert_int_equal((int)strlen(rt_dist_param_types(k)), rt_dist_nparams(k));
    }
    assert_int_equal(rt_dist_lookup("normal"), RT_DIST_normal);
    assert_int_equal(rt_dist_lookup("poisson_log"), RT_DIST_poisson_log);
    assert_int_equal(rt_dist_lookup("gaussian"), -1);
    assert_int_equal(rt_dist_nparams(RT_DIST_student_t), 3);
    assert_string_equal(rt_dist_param_names(RT_DIST_binomial), "n, p");
    assert_string_equal(rt_dist_param_types(RT_DIST_binomial), "id");
    assert_false(rt_dist_is_discrete(RT_DIST_gamma));
    assert_true(rt_dist_is_discrete(RT_DIST_categorical));
    assert_true(rt_dist_is_discrete(RT_DIST_bernoulli_logit));
    assert_false(rt_dist_is_discrete(-1));
}

/* ---- log densities against GSL's pdfs (independent code) or closed forms ---- */

static const double real_points[] = {-7.5, -2, -0.3, 0, 0.25, 0.5, 1, 1.7, 3, 12.5, 40};

static void test_lpdf_normal_family(void **state)
{
    const double par[][2] = {{0, 1}, {1.5, 2}, {-3, 0.1}, {10, 50}};
    int n = 0;
    for (size_t i = 0; i < NELEMS(par); i++) {
        double m = par[i][0], s = par[i][1];
        for (size_t j = 0; j < NELEMS(real_points); j++) {
            double x = real_points[j];
            n += check_pdf(rt_lpdf_normal(x, m, s, LOC), gsl_ran_gaussian_pdf(x - m, s), "normal", x);
            n += check_pdf(rt_lpdf_half_normal(fabs(x), s, LOC), 2 * gsl_ran_gaussian_pdf(x, s),
                           "half_normal", x);
            if (x > 0)
                n += check_pdf(rt_lpdf_lognormal(x, m, s, LOC), gsl_ran_lognormal_pdf(x, m, s),
                               "lognormal", x);
        }
    }
    assert_true(n > 100);
    /* far tails, where the pdf underflows: the closed form */
    check_close(rt_lpdf_normal(1e4, 0, 1, LOC), -0.5e8 - 0.5 * log(2 * M_PI), "normal tail", 1e4);
    assert_true(rt_lpdf_lognormal(0, 0, 1, LOC) == -INFINITY);
    assert_true(rt_lpdf_lognormal(-1, 0, 1, LOC) == -INFINITY);
    assert_true(rt_lpdf_lognormal(INFINITY, 0, 1, LOC) == -INFINITY);
    assert_true(rt_lpdf_half_normal(-0.1, 1, LOC) == -INFINITY);
    assert_true(rt_lpdf_normal(INFINITY, 0, 1, LOC) == -INFINITY);
}

static void test_lpdf_uniform(void **state)
{
    const double par[][2] = {{0, 1}, {-2, 3}, {0.25, 0.5}, {-1e6, 1e6}};
    int n = 0;
    for (size_t i = 0; i < NELEMS(par); i++)
        for (size_t j = 0; j < NELEMS(real_points); j++) {
            double x = real_points[j], lo = par[i][0], hi = par[i][1];
            if (x >= lo && x < hi)   /* GSL's flat pdf is 0 at hi; ours includes hi */
                n += check_pdf(rt_lpdf_uniform(x, lo, hi, LOC), gsl_ran_flat_pdf(x, lo, hi),
                               "uniform", x);
            else if (x != hi)
                assert_true(rt_lpdf_uniform(x, lo, hi, LOC) == -INFINITY);
        }
    assert_true(n >= 15);
    check_close(rt_lpdf_uniform(1, 0, 1, LOC), 0, "uniform at hi", 1);
    check_close(rt_lpdf_uniform(0, -DBL_MAX, DBL_MAX, LOC), -log(DBL_MAX) - M_LN2,
                "uniform over all doubles", 0);
}

static void test_lpdf_beta(void **state)
{
    const double par[][2] = {{2, 3}, {0.5, 0.5}, {1, 1}, {0.7, 4}, {20, 30}, {3, 50},
                             {200, 150}, {15, 2.5}};
    const double xs[] = {1e-3, 0.05, 0.2, 0.37, 0.5, 0.57, 0.8, 0.999};
    int n = 0;
    for (size_t i = 0; i < NELEMS(par); i++)
        for (size_t j = 0; j < NELEMS(xs); j++)
            n += check_pdf(rt_lpdf_beta(xs[j], par[i][0], par[i][1], LOC),
                           gsl_ran_beta_pdf(xs[j], par[i][0], par[i][1]), "beta", xs[j]);
    assert_true(n > 50);
    assert_true(rt_lpdf_beta(1.5, 2, 2, LOC) == -INFINITY);
    assert_true(rt_lpdf_beta(-0.1, 2, 2, LOC) == -INFINITY);
    assert_true(rt_lpdf_beta(0, 2, 2, LOC) == -INFINITY);          /* density 0 at the edge */
    check_close(rt_lpdf_beta(0, 1, 3, LOC), log(3), "beta(1,3) at 0", 0);   /* 0 log 0 = 0 */
    assert_true(rt_lpdf_beta(0, 0.5, 2, LOC) == INFINITY);         /* a true pole */
}

static void test_lpdf_gamma_exponential(void **state)
{
    const double par[][2] = {{1, 1}, {3, 2}, {0.5, 1}, {9, 0.5}, {40, 3}, {0.1, 10}};
    int n = 0;
    for (size_t i = 0; i < NELEMS(par); i++)
        for (size_t j = 0; j < NELEMS(real_points); j++) {
            double x = real_points[j], a = par[i][0], rate = par[i][1];
            if (x <= 0)
                continue;
            n += check_pdf(rt_lpdf_gamma(x, a, rate, LOC), gsl_ran_gamma_pdf(x, a, 1 / rate),
                           "gamma", x);
            n += check_pdf(rt_lpdf_exponential(x, rate, LOC),
                           gsl_ran_exponential_pdf(x, 1 / rate), "exponential", x);  /* GSL: mean */
        }
    assert_true(n > 50);
    assert_true(rt_lpdf_gamma(-1, 2, 1, LOC) == -INFINITY);
    assert_true(rt_lpdf_gamma(INFINITY, 2, 1, LOC) == -INFINITY);
    check_close(rt_lpdf_gamma(0, 1, 2.5, LOC), log(2.5), "gamma(1, r) at 0", 0);
    assert_true(rt_lpdf_gamma(0, 3, 1, LOC) == -INFINITY);
    assert_true(rt_lpdf_exponential(-1e-9, 2, LOC) == -INFINITY);
    check_close(rt_lpdf_exponential(0, 2, LOC), log(2), "exponential at 0", 0);
}

static void test_lpdf_student_t_cauchy(void **state)
{
    const double par[][3] = {{1, 0, 1}, {3, 1, 2}, {10, -1, 0.5}, {30, 0, 1}, {2.5, 4, 3},
                             {200, 0, 1}};
    int n = 0;
    for (size_t i = 0; i < NELEMS(par); i++) {
        double nu = par[i][0], m = par[i][1], s = par[i][2];
        for (size_t j = 0; j < NELEMS(real_points); j++) {
            double x = real_points[j], z = (x - m) / s;
            n += check_pdf(rt_lpdf_student_t(x, nu, m, s, LOC), gsl_ran_tdist_pdf(z, nu) / s,
                           "student_t", x);
            n += check_pdf(rt_lpdf_cauchy(x, m, s, LOC), gsl_ran_cauchy_pdf(x - m, s), "cauchy", x);
            n += check_pdf(rt_lpdf_half_cauchy(fabs(x), s, LOC), 2 * gsl_ran_cauchy_pdf(x, s),
                           "half_cauchy", x);
        }
    }
    assert_true(n > 150);
    /* GSL's tdist pdf loses digits at large nu (4e-10 at nu = 1e6); this reference value
     * is from mpmath at 40 digits */
    check_close(rt_lpdf_student_t(-2, 1e6, 0, 1, LOC), -2.9189367832113393871, "student_t", -2);
    /* a large nu approaches the normal */
    check_close(rt_lpdf_student_t(0.5, 1e12, 0, 1, LOC), rt_lpdf_normal(0.5, 0, 1, LOC),
                "student_t, nu = 1e12", 0.5);
    assert_true(rt_lpdf_half_cauchy(-1, 1, LOC) == -INFINITY);
    assert_true(rt_lpdf_cauchy(-INFINITY, 0, 1, LOC) == -INFINITY);
    assert_true(rt_lpdf_student_t(INFINITY, 3, 0, 1, LOC) == -INFINITY);
    /* far in the tails z^2 overflows, but the densities are finite: -log pi - 2 log 1e200,
     * and student_t(3) -2 (2 log 1e200 - log 3) - log(3)/2 - log B(1/2, 3/2) (-922.18, -1840.87) */
    check_close(rt_lpdf_cauchy(1e200, 0, 1, LOC), -log(M_PI) - 400 * log(10), "cauchy", 1e200);
    check_close(rt_lpdf_cauchy(-1e300, 5, 1e-10, LOC), -log(M_PI) + 10 * log(10) - 2 * 310 * log(10), "cauchy", -1e300);
    check_close(rt_lpdf_half_cauchy(1e300, 1, LOC), log(2 / M_PI) - 600 * log(10), "half_cauchy", 1e300);
    check_close(rt_lpdf_student_t(1e200, 3, 0, 1, LOC),
                -2 * (400 * log(10) - log(3)) - 0.5 * log(3) - log(M_PI / 2), "student_t", 1e200);
    check_close(rt_lpdf_student_t(1e200, 3, 0, 1, LOC), -1840.8717386675237, "student_t", 1e200);
}

static void test_lpdf_bernoulli(void **state)
{
    const double ps[] = {0, 0.1, 0.3, 0.5, 0.93, 1};
    for (size_t i = 0; i < NELEMS(ps); i++)
        for (int y = 0; y <= 1; y++) {
            double got = rt_lpdf_bernoulli(y, ps[i], LOC), pdf = gsl_ran_bernoulli_pdf(y, ps[i]);
            if (pdf == 0)
                assert_true(got == -INFINITY);
            else
                check_close(got, log(pdf), "bernoulli", ps[i]);
        }
    assert_true(rt_lpdf_bernoulli(2, 0.5, LOC) == -INFINITY);
    assert_true(rt_lpdf_bernoulli(-1, 0.5, LOC) == -INFINITY);
    /* bernoulli_logit: the closed form where it is safe, the asymptotes where it is not */
    const double xs[] = {-30, -4, -0.8, 0, 0.3, 2, 25};
    for (size_t i = 0; i < NELEMS(xs); i++) {
        double p = 1 / (1 + exp(-xs[i]));
        check_close(rt_lpdf_bernoulli_logit(1, xs[i], LOC), log(p), "bernoulli_logit", xs[i]);
        check_close(rt_lpdf_bernoulli_logit(0, xs[i], LOC), log(1 / (1 + exp(xs[i]))),
                    "bernoulli_logit", xs[i]);
    }
    check_close(rt_lpdf_bernoulli_logit(1, -800, LOC), -800, "bernoulli_logit", -800);
    check_close(rt_lpdf_bernoulli_logit(0, 800, LOC), -800, "bernoulli_logit", 800);
    check_close(rt_lpdf_bernoulli_logit(1, 800, LOC), 0, "bernoulli_logit", 800);
    assert_true(rt_lpdf_bernoulli_logit(0, INFINITY, LOC) == -INFINITY);
    assert_true(rt_lpdf_bernoulli_logit(1, INFINITY, LOC) == 0);
    assert_true(rt_lpdf_bernoulli_logit(2, 0, LOC) == -INFINITY);
}

static void test_lpdf_binomial(void **state)
{
    const struct { int64_t n; double p; } par[] = {{1, 0.5}, {10, 0.3}, {20, 0.9}, {1000, 0.4},
                                                   {57, 0.02}, {5, 0}, {5, 1}, {0, 0.5}};
    int n = 0;
    for (size_t i = 0; i < NELEMS(par); i++)
        for (int64_t k = -1; k <= par[i].n + 1; k += par[i].n > 100 ? 37 : 1) {
            double got = rt_lpdf_binomial(k, par[i].n, par[i].p, LOC);
            if (k < 0 || k > par[i].n) {
                assert_true(got == -INFINITY);
                continue;
            }
            double pdf = gsl_ran_binomial_pdf((unsigned)k, par[i].p, (unsigned)par[i].n);
            if (pdf == 0)   /* 0 exactly (p = 0 or 1) or an underflow far in the tail */
                assert_true(got < -700);
            n += check_pdf(got, pdf, "binomial", (double)k);
        }
    assert_true(n > 50);
    check_close(rt_lpdf_binomial(5, 5, 1, LOC), 0, "binomial(5, 1) at 5", 5);
}

static void test_lpdf_poisson(void **state)
{
    const double rates[] = {0.1, 1, 3.5, 10, 50, 700};
    int n = 0;
    for (size_t i = 0; i < NELEMS(rates); i++)
        for (int64_t k = 0; k < 900; k += k < 20 ? 1 : 23) {
            double pdf = gsl_ran_poisson_pdf((unsigned)k, rates[i]);
            n += check_pdf(rt_lpdf_poisson(k, rates[i], LOC), pdf, "poisson", (double)k);
            n += check_pdf(rt_lpdf_poisson_log(k, log(rates[i]), LOC), pdf, "poisson_log",
                           (double)k);
        }
    assert_true(n > 200);
    assert_true(rt_lpdf_poisson(-1, 2, LOC) == -INFINITY);
    assert_true(rt_lpdf_poisson_log(-1, 2, LOC) == -INFINITY);
    check_close(rt_lpdf_poisson(0, 0, LOC), 0, "poisson(0) at 0", 0);
    assert_true(rt_lpdf_poisson(1, 0, LOC) == -INFINITY);
    /* the log link: exp(-800) underflows to 0, yet the log pmf stays exact */
    check_close(rt_lpdf_poisson_log(1, -800, LOC), -800, "poisson_log", -800);
    check_close(rt_lpdf_poisson_log(3, -800, LOC), -2400 - log(6), "poisson_log", -800);
    assert_true(rt_lpdf_poisson_log(0, 800, LOC) == -INFINITY);      /* rate overflows */
    check_close(rt_lpdf_poisson_log(0, -INFINITY, LOC), 0, "poisson_log rate 0", 0);
    assert_true(rt_lpdf_poisson_log(2, -INFINITY, LOC) == -INFINITY);
}

static void test_lpdf_categorical(void **state)
{
    rt_array *w = PROBS(1, 2, 3, 4), *p = PROBS(0.1, 0.2, 0.3, 0.4), *z = PROBS(0, 0.5, 0, 0.5);
    for (int64_t k = 0; k < 4; k++) {
        check_close(rt_lpdf_categorical(k, w, LOC), log((k + 1) / 10.0), "categorical", (double)k);
        check_close(rt_lpdf_categorical(k, p, LOC), log(p->at.d[k]), "categorical", (double)k);
    }
    assert_true(rt_lpdf_categorical(0, z, LOC) == -INFINITY);
    check_close(rt_lpdf_categorical(3, z, LOC), log(0.5), "categorical", 3);
    assert_true(rt_lpdf_categorical(4, w, LOC) == -INFINITY);
    assert_true(rt_lpdf_categorical(-1, w, LOC) == -INFINITY);
}

/* ---- samplers: moments of NDRAWS draws at seed SEED ----
 * The sample mean must lie within NSE standard errors of the true mean, se = sd / sqrt(n).
 * The sample variance must lie within NSE of its own standard error, from the fourth
 * moment: Var(s^2) ~ (mu4 - sigma^4) / n, so se = sigma^2 sqrt((kurt_excess + 2) / n).
 * Every distribution below has a closed-form excess kurtosis, so no looser fallback is
 * needed; heavy-tailed ones are checked only where their eighth moment exists. Every draw
 * must also lie in the support (log density above -inf). */

typedef struct moments { double mean, var, exkurt; } moments;

static void check_moments(const char *what, const double *xs, int n, moments want)
{
    double sum = 0, ss = 0;
    for (int i = 0; i < n; i++)
        sum += xs[i];
    double mean = sum / n;
    for (int i = 0; i < n; i++)
        ss += (xs[i] - mean) * (xs[i] - mean);
    double var = ss / (n - 1);
    double se_mean = sqrt(want.var / n), se_var = want.var * sqrt((want.exkurt + 2) / n);
    if (fabs(mean - want.mean) > NSE * se_mean)
        fail_msg("%s: mean %.6g, want %.6g (se %.3g)", what, mean, want.mean, se_mean);
    if (fabs(var - want.var) > NSE * se_var)
        fail_msg("%s: variance %.6g, want %.6g (se %.3g)", what, var, want.var, se_var);
}

static double draws[NDRAWS];

/* Fills draws[] from a sampler expression using rng `r`, checking each is in support. */
#define DRAW(r, kind, sample, lpdf) do { \
        rt_rng_init(&(r), SEED, (kind)); \
        for (int i_ = 0; i_ < NDRAWS; i_++) { \
            draws[i_] = (sample); \
            double x = draws[i_]; \
            if (!((lpdf) > -INFINITY)) \
                fail_msg("%s: draw %g outside the support", rt_dist_name(kind), x); \
        } \
    } while (0)

/* The ziggurat (rt_rng_normal) on 20 million draws (half a second): the first four moments,
 * each within NSE standard errors (se of the mean of x^k is sqrt((E x^2k - (E x^k)^2) / n):
 * E x^2 = 1, E x^4 = 3, E x^6 = 15, E x^8 = 105); the share of |x| in bins of width 1/4 up
 * to 4 and beyond, each within NSE binomial standard errors of erfc, which checks the boxes
 * and the wedges beside the curve; and the tail beyond the ziggurat's R = 3.4426 (about 11 500
 * draws), where U = P(|X| > |x|) / P(|X| > R) must be uniform: its mean within NSE standard
 * errors sqrt(1/12 / count) of 1/2. */
static void test_normal_ziggurat(void **state)
{
    enum { N = 20000000, BINS = 17 };
    const double R = 3.442619855899;
    double m[5] = {0}, bins[BINS] = {0}, tail_u = 0;
    int tail = 0;
    rt_rng r;
    rt_rng_init(&r, SEED, 12345);
    for (int i = 0; i < N; i++) {
        double x = rt_rng_normal(&r), p = 1, a = fabs(x);
        assert_true(isfinite(x));
        for (int k = 1; k <= 4; k++)
            m[k] += (p *= x);
        bins[(int)(a * 4) < BINS - 1 ? (int)(a * 4) : BINS - 1]++;
        if (a > R)
            tail++, tail_u += erfc(a / M_SQRT2) / erfc(R / M_SQRT2);
    }
    const double want[5] = {1, 0, 1, 0, 3}, var[5] = {0, 1, 2, 15, 96};
    for (int k = 1; k <= 4; k++)
        if (fabs(m[k] / N - want[k]) > NSE * sqrt(var[k] / N))
            fail_msg("normal: E x^%d = %.6g, want %g", k, m[k] / N, want[k]);
    for (int b = 0; b < BINS; b++) {
        double lo = b / 4.0, hi = b < BINS - 1 ? (b + 1) / 4.0 : INFINITY;
        double p = erfc(lo / M_SQRT2) - erfc(hi / M_SQRT2);
        if (fabs(bins[b] / N - p) > NSE * sqrt(p * (1 - p) / N))
            fail_msg("normal: P(%g <= |x| < %g) = %.6g, want %.6g", lo, hi, bins[b] / N, p);
    }
    if (fabs(tail_u / tail - 0.5) > NSE * sqrt(1.0 / 12 / tail))
        fail_msg("normal: tail beyond R: mean U %.4f over %d draws, want 0.5", tail_u / tail, tail);
}

static void test_sample_continuous(void **state)
{
    rt_rng r;
    double e = exp(0.25);   /* lognormal(0.2, 0.5): e^{sigma^2} */
    DRAW(r, RT_DIST_normal, rt_sample_normal(&r, 1.5, 2, LOC), rt_lpdf_normal(x, 1.5, 2, LOC));
    check_moments("normal", draws, NDRAWS, (moments){1.5, 4, 0});
    DRAW(r, RT_DIST_lognormal, rt_sample_lognormal(&r, 0.2, 0.5, LOC),
         rt_lpdf_lognormal(x, 0.2, 0.5, LOC));
    check_moments("lognormal", draws, NDRAWS, (moments){exp(0.2 + 0.125),
                  (e - 1) * exp(0.4 + 0.25), pow(e, 4) + 2 * pow(e, 3) + 3 * e * e - 6});
    DRAW(r, RT_DIST_uniform, rt_sample_uniform(&r, -1, 3, LOC), rt_lpdf_uniform(x, -1, 3, LOC));
    check_moments("uniform", draws, NDRAWS, (moments){1, 16.0 / 12, -1.2});
    DRAW(r, RT_DIST_exponential, rt_sample_exponential(&r, 2, LOC),
         rt_lpdf_exponential(x, 2, LOC));
    check_moments("exponential", draws, NDRAWS, (moments){0.5, 0.25, 6});
    DRAW(r, RT_DIST_student_t, rt_sample_student_t(&r, 10, 1, 2, LOC),
         rt_lpdf_student_t(x, 10, 1, 2, LOC));
    check_moments("student_t", draws, NDRAWS, (moments){1, 4 * 10.0 / 8, 6.0 / 6});
    DRAW(r, RT_DIST_half_normal, rt_sample_half_normal(&r, 2, LOC),
         rt_lpdf_half_normal(x, 2, LOC));
    check_moments("half_normal", draws, NDRAWS, (moments){2 * sqrt(2 / M_PI), 4 * (1 - 2 / M_PI),
                  8 * (M_PI - 3) / ((M_PI - 2) * (M_PI - 2))});
}

static moments beta_moments(double a, double b)
{
    double s = a + b;
    double ex = 6 * ((a - b) * (a - b) * (s + 1) - a * b * (s + 2)) / (a * b * (s + 2) * (s + 3));
    return (moments){a / s, a * b / (s * s * (s + 1)), ex};
}

/* Shapes on both sides of 1 take different branches inside GSL. */
static void test_sample_beta_gamma(void **state)
{
    rt_rng r;
    const double bp[][2] = {{2, 5}, {0.5, 0.5}, {0.3, 2}, {40, 15}};
    for (size_t i = 0; i < NELEMS(bp); i++) {
        double a = bp[i][0], b = bp[i][1];
        DRAW(r, RT_DIST_beta, rt_sample_beta(&r, a, b, LOC), rt_lpdf_beta(x, a, b, LOC));
        check_moments("beta", draws, NDRAWS, beta_moments(a, b));
    }
    const double gp[][2] = {{3, 2}, {0.5, 1}, {0.1, 4}, {100, 0.5}};
    for (size_t i = 0; i < NELEMS(gp); i++) {
        double a = gp[i][0], rate = gp[i][1];
        DRAW(r, RT_DIST_gamma, rt_sample_gamma(&r, a, rate, LOC), rt_lpdf_gamma(x, a, rate, LOC));
        check_moments("gamma", draws, NDRAWS, (moments){a / rate, a / (rate * rate), 6 / a});
    }
}

static moments bernoulli_moments(double p)
{
    double q = 1 - p;
    return (moments){p, p * q, (1 - 6 * p * q) / (p * q)};
}

static void test_sample_discrete(void **state)
{
    rt_rng r;
    double pl = 1 / (1 + exp(0.8));
    DRAW(r, RT_DIST_bernoulli, rt_sample_bernoulli(&r, 0.3, LOC), rt_lpdf_bernoulli(x, 0.3, LOC));
    check_moments("bernoulli", draws, NDRAWS, bernoulli_moments(0.3));
    DRAW(r, RT_DIST_bernoulli_logit, rt_sample_bernoulli_logit(&r, -0.8, LOC),
         rt_lpdf_bernoulli_logit(x, -0.8, LOC));
    check_moments("bernoulli_logit", draws, NDRAWS, bernoulli_moments(pl));
    const struct { int64_t n; double p; } bp[] = {{20, 0.3}, {1000, 0.4}, {7, 0.95}};
    for (size_t i = 0; i < NELEMS(bp); i++) {
        int64_t n = bp[i].n;
        double p = bp[i].p, q = 1 - p;
        DRAW(r, RT_DIST_binomial, rt_sample_binomial(&r, n, p, LOC),
             rt_lpdf_binomial((int64_t)x, n, p, LOC));
        check_moments("binomial", draws, NDRAWS, (moments){n * p, n * p * q,
                      (1 - 6 * p * q) / (n * p * q)});
    }
    const double rates[] = {0.7, 3.5, 50, 4000};
    for (size_t i = 0; i < NELEMS(rates); i++) {
        double m = rates[i];
        DRAW(r, RT_DIST_poisson, rt_sample_poisson(&r, m, LOC), rt_lpdf_poisson((int64_t)x, m, LOC));
        check_moments("poisson", draws, NDRAWS, (moments){m, m, 1 / m});
        DRAW(r, RT_DIST_poisson_log, rt_sample_poisson_log(&r, log(m), LOC),
             rt_lpdf_poisson_log((int64_t)x, log(m), LOC));
        check_moments("poisson_log", draws, NDRAWS, (moments){m, m, 1 / m});
    }
}

/* Moments of a categorical index, from its (normalized) weights. */
static moments categorical_moments(const rt_array *w)
{
    double total = 0, mean = 0, var = 0, m4 = 0;
    for (int64_t k = 0; k < w->len; k++)
        total += w->at.d[k];
    for (int64_t k = 0; k < w->len; k++)
        mean += k * w->at.d[k] / total;
    for (int64_t k = 0; k < w->len; k++) {
        double d = k - mean, p = w->at.d[k] / total;
        var += p * d * d, m4 += p * d * d * d * d;
    }
    return (moments){mean, var, m4 / (var * var) - 3};
}

static void test_sample_categorical(void **state)
{
    rt_rng r;
    rt_array *w = PROBS(1, 2, 3, 4), *z = PROBS(0, 1, 0, 3, 0);
    DRAW(r, RT_DIST_categorical, rt_sample_categorical(&r, w, LOC),
         rt_lpdf_categorical((int64_t)x, w, LOC));
    check_moments("categorical", draws, NDRAWS, categorical_moments(w));
    /* zero weights are never drawn: the support check inside DRAW fails otherwise */
    DRAW(r, RT_DIST_categorical, rt_sample_categorical(&r, z, LOC),
         rt_lpdf_categorical((int64_t)x, z, LOC));
    check_moments("categorical with zeros", draws, NDRAWS, categorical_moments(z));
    rt_array *one = PROBS(0, 0, 2.5);
    rt_rng_init(&r, SEED, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(rt_sample_categorical(&r, one, LOC), 2);
}

/* Cauchy draws have no moments: check quantiles instead. The sample p-quantile has
 * se = sqrt(p (1 - p) / n) / f(q_p), f the density at the true quantile q_p. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void check_quantile(const char *what, double p, double q, double density)
{
    double got = draws[(int)(p * NDRAWS)], se = sqrt(p * (1 - p) / NDRAWS) / density;
    if (fabs(got - q) > NSE * se)
        fail_msg("%s: %g-quantile %.6g, want %.6g (se %.3g)", what, p, got, q, se);
}

static void test_sample_cauchy_quantiles(void **state)
{
    rt_rng r;
    double m = 1, s = 2;
    DRAW(r, RT_DIST_cauchy, rt_sample_cauchy(&r, m, s, LOC), rt_lpdf_cauchy(x, m, s, LOC));
    qsort(draws, NDRAWS, sizeof(double), cmp_double);
    check_quantile("cauchy", 0.25, m - s, 1 / (2 * M_PI * s));
    check_quantile("cauchy", 0.5, m, 1 / (M_PI * s));
    check_quantile("cauchy", 0.75, m + s, 1 / (2 * M_PI * s));
    s = 1.5;   /* half_cauchy: q_p = s tan(pi p / 2), f(x) = 2 / (pi s (1 + (x/s)^2)) */
    DRAW(r, RT_DIST_half_cauchy, rt_sample_half_cauchy(&r, s, LOC),
         rt_lpdf_half_cauchy(x, s, LOC));
    qsort(draws, NDRAWS, sizeof(double), cmp_double);
    for (double p = 0.25; p < 0.8; p += 0.25) {
        double q = s * tan(M_PI * p / 2);
        check_quantile("half_cauchy", p, q, 2 / (M_PI * s * (1 + (q / s) * (q / s))));
    }
}

static void test_sample_reproducible(void **state)
{
    rt_rng a, b;
    rt_rng_init(&a, 3, 11), rt_rng_init(&b, 3, 11);
    for (int i = 0; i < 100; i++) {
        assert_true(rt_sample_gamma(&a, 2.5, 1, LOC) == rt_sample_gamma(&b, 2.5, 1, LOC));
        assert_true(rt_sample_normal(&a, 0, 1, LOC) == rt_sample_normal(&b, 0, 1, LOC));
        assert_int_equal(rt_sample_binomial(&a, 100, 0.3, LOC), rt_sample_binomial(&b, 100, 0.3, LOC));
    }
    assert_true(a.counter == b.counter && a.avail == b.avail);
}

/* ---- no NaN: every log density and draw over extreme but valid parameters ---- */

static const double pos[] = {4.9e-324, 1e-300, 1e-10, 0.5, 1, 3, 1e10, 1e300, DBL_MAX};
static const double reals_x[] = {-INFINITY, -DBL_MAX, -1e300, -1, -1e-300, 0, 1e-300, 0.5,
                                 1, 2, 1e300, DBL_MAX, INFINITY};
static const double probs_x[] = {0, 1e-300, 0.3, 1 - 1e-16, 1};
static const int64_t ints_x[] = {INT64_MIN, -1, 0, 1, 2, 5, 1000, 4294967295LL, INT64_MAX};

static void no_nan(double v, const char *what, double a, double b)
{
    if (isnan(v))
        fail_msg("%s(%g, %g) gave NaN", what, a, b);
}

static void test_no_nan_real(void **state)
{
    rt_rng r;
    rt_rng_init(&r, SEED, 99);
    for (size_t i = 0; i < NELEMS(pos); i++)
        for (size_t j = 0; j < NELEMS(pos); j++) {
            double a = pos[i], b = pos[j], m = j % 2 ? -1e300 : 2;
            no_nan(rt_sample_normal(&r, m, a, LOC), "sample normal", m, a);
            no_nan(rt_sample_lognormal(&r, m, a, LOC), "sample lognormal", m, a);
            no_nan(rt_sample_beta(&r, a, b, LOC), "sample beta", a, b);
            no_nan(rt_sample_gamma(&r, a, b, LOC), "sample gamma", a, b);
            no_nan(rt_sample_student_t(&r, a, m, b, LOC), "sample student_t", a, b);
            no_nan(rt_sample_cauchy(&r, m, a, LOC), "sample cauchy", m, a);
            no_nan(rt_sample_exponential(&r, a, LOC), "sample exponential", a, 0);
            no_nan(rt_sample_half_normal(&r, a, LOC), "sample half_normal", a, 0);
            no_nan(rt_sample_half_cauchy(&r, a, LOC), "sample half_cauchy", a, 0);
            for (size_t k = 0; k < NELEMS(reals_x); k++) {
                double x = reals_x[k];
                no_nan(rt_lpdf_normal(x, m, a, LOC), "normal", x, a);
                no_nan(rt_lpdf_lognormal(x, m, a, LOC), "lognormal", x, a);
                no_nan(rt_lpdf_uniform(x, -pos[i], pos[j], LOC), "uniform", x, a);
                no_nan(rt_lpdf_beta(x, a, b, LOC), "beta", a, b);
                no_nan(rt_lpdf_gamma(x, a, b, LOC), "gamma", a, b);
                no_nan(rt_lpdf_exponential(x, a, LOC), "exponential", x, a);
                no_nan(rt_lpdf_student_t(x, a, m, b, LOC), "student_t", a, b);
                no_nan(rt_lpdf_cauchy(x, m, a, LOC), "cauchy", x, a);
                no_nan(rt_lpdf_half_normal(x, a, LOC), "half_normal", x, a);
                no_nan(rt_lpdf_half_cauchy(x, a, LOC), "half_cauchy", x, a);
            }
        }
}

static void test_no_nan_discrete(void **state)
{
    rt_rng r;
    rt_rng_init(&r, SEED, 98);
    for (size_t i = 0; i < NELEMS(probs_x); i++)
        for (size_t j = 0; j < NELEMS(ints_x); j++) {
            double p = probs_x[i];
            int64_t y = ints_x[j], n = y < 0 ? -(y + 1) : y;
            no_nan(rt_lpdf_bernoulli(y, p, LOC), "bernoulli", (double)y, p);
            no_nan(rt_lpdf_binomial(y, n, p, LOC), "binomial", (double)y, p);
            no_nan(rt_lpdf_binomial(y / 2, n, p, LOC), "binomial", (double)y, p);
            if (n <= 4294967295LL)
                no_nan((double)rt_sample_binomial(&r, n, p, LOC), "sample binomial", (double)n, p);
        }
    const double lr[] = {-INFINITY, -DBL_MAX, -800, -1, 0, 1, 20, 800, DBL_MAX};
    for (size_t i = 0; i < NELEMS(lr); i++)
        for (size_t j = 0; j < NELEMS(ints_x); j++) {
            int64_t y = ints_x[j];
            double rate = fmin(exp(lr[i]), DBL_MAX);
            no_nan(rt_lpdf_bernoulli_logit(y, lr[i], LOC), "bernoulli_logit", (double)y, lr[i]);
            no_nan(rt_lpdf_poisson_log(y, lr[i], LOC), "poisson_log", (double)y, lr[i]);
            no_nan(rt_lpdf_poisson(y, rate, LOC), "poisson", (double)y, rate);
            if (rate <= 1e9)
                no_nan((double)rt_sample_poisson_log(&r, lr[i], LOC), "sample poisson_log", lr[i], 0);
        }
}

/* ---- invalid parameters: exit 1 with `LOC: error: DIST: ...PARAM...` on stderr ---- */

static rt_rng bad_rng;

#define BAD(id, call) static void bad_##id(void) { rt_rng_init(&bad_rng, 1, 0); (void)(call); }
BAD(normal_scale, rt_sample_normal(&bad_rng, 0, -1, LOC))
BAD(normal_scale_nan, rt_lpdf_normal(0, 0, NAN, LOC))
BAD(normal_loc_inf, rt_lpdf_normal(0, INFINITY, 1, LOC))
BAD(normal_value_nan, rt_lpdf_normal(NAN, 0, 1, LOC))
BAD(lognormal_scale, rt_sample_lognormal(&bad_rng, 0, 0, LOC))
BAD(uniform_order, rt_sample_uniform(&bad_rng, 2, 1, LOC))
BAD(uniform_equal, rt_lpdf_uniform(1, 1, 1, LOC))
BAD(uniform_nan, rt_lpdf_uniform(0, 0, NAN, LOC))
BAD(beta_a, rt_sample_beta(&bad_rng, 0, 1, LOC))
BAD(beta_b, rt_lpdf_beta(0.5, 1, -1, LOC))
BAD(gamma_shape, rt_lpdf_gamma(1, NAN, 1, LOC))
BAD(gamma_rate, rt_sample_gamma(&bad_rng, 1, 0, LOC))
BAD(exponential_rate, rt_sample_exponential(&bad_rng, -2, LOC))
BAD(student_t_nu, rt_sample_student_t(&bad_rng, 0, 0, 1, LOC))
BAD(student_t_scale, rt_lpdf_student_t(0, 3, 0, -1, LOC))
BAD(cauchy_scale, rt_sample_cauchy(&bad_rng, 0, 0, LOC))
BAD(half_normal_scale, rt_lpdf_half_normal(1, -1, LOC))
BAD(half_cauchy_scale, rt_sample_half_cauchy(&bad_rng, INFINITY, LOC))
BAD(bernoulli_p, rt_sample_bernoulli(&bad_rng, 1.5, LOC))
BAD(bernoulli_p_nan, rt_lpdf_bernoulli(1, NAN, LOC))
BAD(bernoulli_logit_nan, rt_lpdf_bernoulli_logit(1, NAN, LOC))
BAD(binomial_n, rt_lpdf_binomial(0, -1, 0.5, LOC))
BAD(binomial_p, rt_sample_binomial(&bad_rng, 3, -0.1, LOC))
BAD(binomial_n_big, rt_sample_binomial(&bad_rng, 1LL << 33, 0.5, LOC))
BAD(poisson_rate, rt_lpdf_poisson(1, -1, LOC))
BAD(poisson_rate_nan, rt_sample_poisson(&bad_rng, NAN, LOC))
BAD(poisson_rate_big, rt_sample_poisson(&bad_rng, 1e10, LOC))
BAD(poisson_log_nan, rt_lpdf_poisson_log(1, NAN, LOC))
BAD(poisson_log_inf, rt_sample_poisson_log(&bad_rng, INFINITY, LOC))
BAD(categorical_negative, rt_sample_categorical(&bad_rng, PROBS(0.5, -0.1, 0.6), LOC))
BAD(categorical_nan, rt_lpdf_categorical(0, PROBS(0.5, NAN), LOC))
BAD(categorical_zero, rt_sample_categorical(&bad_rng, PROBS(0, 0), LOC))
BAD(categorical_empty, rt_lpdf_categorical(0, probs_of(0, NULL), LOC))
BAD(categorical_null, rt_sample_categorical(&bad_rng, NULL, LOC))

static void test_invalid_parameters(void **state)
{
    const struct { void (*fn)(void); const char *dist, *param; } cases[] = {
        {bad_normal_scale, "normal", "scale"}, {bad_normal_scale_nan, "normal", "scale"},
        {bad_normal_loc_inf, "normal", "loc"}, {bad_normal_value_nan, "normal", "value"},
        {bad_lognormal_scale, "lognormal", "scale"}, {bad_uniform_order, "uniform", "lo"},
        {bad_uniform_equal, "uniform", "hi"}, {bad_uniform_nan, "uniform", "hi"},
        {bad_beta_a, "beta", "a "}, {bad_beta_b, "beta", "b "},
        {bad_gamma_shape, "gamma", "shape"}, {bad_gamma_rate, "gamma", "rate"},
        {bad_exponential_rate, "exponential", "rate"}, {bad_student_t_nu, "student_t", "nu"},
        {bad_student_t_scale, "student_t", "scale"}, {bad_cauchy_scale, "cauchy", "scale"},
        {bad_half_normal_scale, "half_normal", "scale"},
        {bad_half_cauchy_scale, "half_cauchy", "scale"},
        {bad_bernoulli_p, "bernoulli", "p "}, {bad_bernoulli_p_nan, "bernoulli", "p "},
        {bad_bernoulli_logit_nan, "bernoulli_logit", "logit_p"},
        {bad_binomial_n, "binomial", "n "}, {bad_binomial_p, "binomial", "p "},
        {bad_binomial_n_big, "binomial", "n "}, {bad_poisson_rate, "poisson", "rate"},
        {bad_poisson_rate_nan, "poisson", "rate"}, {bad_poisson_rate_big, "poisson", "rate"},
        {bad_poisson_log_nan, "poisson_log", "log_rate"},
        {bad_poisson_log_inf, "poisson_log", "log_rate"},
        {bad_categorical_negative, "categorical", "probs[1]"},
        {bad_categorical_nan, "categorical", "probs[1]"},
        {bad_categorical_zero, "categorical", "sum"},
        {bad_categorical_empty, "categorical", "non-empty"},
        {bad_categorical_null, "categorical", "non-empty"},
    };
    for (size_t i = 0; i < NELEMS(cases); i++)
        expect_dist_error(cases[i].fn, LOC, cases[i].dist, cases[i].param, i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_philox_known_answers),
        cmocka_unit_test(test_rng_reproducible),
        cmocka_unit_test(test_rng_u64_and_uniform),
        cmocka_unit_test(test_rng_stream_id),
        cmocka_unit_test(test_philox_reference),
        cmocka_unit_test(test_rng_blocks_and_prefix),
        cmocka_unit_test(test_rng_gsl_adapter),
        cmocka_unit_test(test_dist_table),
        cmocka_unit_test(test_lpdf_normal_family),
        cmocka_unit_test(test_lpdf_uniform),
        cmocka_unit_test(test_lpdf_beta),
        cmocka_unit_test(test_lpdf_gamma_exponential),
        cmocka_unit_test(test_lpdf_student_t_cauchy),
        cmocka_unit_test(test_lpdf_bernoulli),
        cmocka_unit_test(test_lpdf_binomial),
        cmocka_unit_test(test_lpdf_poisson),
        cmocka_unit_test(test_lpdf_categorical),
        cmocka_unit_test(test_normal_ziggurat),
        cmocka_unit_test(test_sample_continuous),
        cmocka_unit_test(test_sample_beta_gamma),
        cmocka_unit_test(test_sample_discrete),
        cmocka_unit_test(test_sample_categorical),
        cmocka_unit_test(test_sample_cauchy_quantiles),
        cmocka_unit_test(test_sample_reproducible),
        cmocka_unit_test(test_no_nan_real),
        cmocka_unit_test(test_no_nan_discrete),
        cmocka_unit_test(test_invalid_parameters),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    free_probs();
    return failed;
}
