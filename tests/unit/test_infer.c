/* test_infer.c - cmocka tests for frames, traces, importance sampling and posteriors, on
 * models written by hand as resume functions (what the compiler emits, DESIGN.md section 3). */
#define GC_THREADS
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gc.h>
#include "rt.h"
#include "rt_dist.h"
#include "rt_infer.h"
#include "test_util.h"

#define LOC "t.ppl:1:1"

/* ---- hand-written models ---- */

/* The frame of most models below: state, return value, one parameter, two locals. */
typedef struct frame {
    int64_t state;
    double ret;
    int64_t param;
    double x;
    int64_t t;
} frame;

static const char *const site_x[] = { "x" };
static const int64_t nidx_0[] = { 0 };
static const int64_t kind_real[] = { RT_REAL };

#define MODEL(name, fn, ret) { name, fn, sizeof(frame), ret, 1, site_x, nidx_0, kind_real }

static double sample_x(frame *f, rt_particle *p)
{
    f->x = rt_sample_normal((rt_rng *)p, 0, 1, "t:1:1");
    rt_record(p, 0, 0, NULL, f->x);
    return f->x;
}

/* x ~ normal(0, 1); reward -(x - 2)^2 / 2; x. */
static int32_t tilted_resume(void *fr, rt_particle *p)
{
    frame *f = fr;
    switch (f->state) {
    case 0:
        sample_x(f, p);
        p->logw += -(f->x - 2) * (f->x - 2) / 2;
        f->state = 1;
        return 1;
    default:
        f->ret = f->x;
        return 0;
    }
}
static const rt_model tilted = MODEL("tilted", tilted_resume, RT_REAL);

/* p ~ beta(1, 1); for t in 0 .. 20 { observe coin_y[t] ~ bernoulli(p) }; p. 14 heads. */
static const int64_t coin_y[20] = { 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0 };
static const char *const site_p[] = { "p" };

static int32_t coin_resume(void *fr, rt_particle *p)
{
    frame *f = fr;
    switch (f->state) {
    case 0:
        f->x = rt_sample_beta((rt_rng *)p, 1, 1, LOC);
        rt_record(p, 0, 0, NULL, f->x);
        f->t = 0;
        /* fall through */
    default:
        if (f->t < 20) {
            p->logw += rt_lpdf_bernoulli(coin_y[f->t], f->x, LOC);
            f->t++;
            f->state = 1;
            return 1;
        }
        f->ret = f->x;
        return 0;
    }
}
static const rt_model coin = { "coin", coin_resume, sizeof(frame), RT_REAL, 1, site_p, nidx_0,
                               kind_real };

/* x ~ normal(0, 1); reward (x >= 0 ? 0 : -inf); x. Counts resumes of dead particles. */
static int resumed_dead;

static int32_t half_resume(void *fr, rt_particle *p)
{
    frame *f = fr;
    switch (f->state) {
    case 0:
        sample_x(f, p);
        p->logw += f->x >= 0 ? 0.0 : -INFINITY;
        f->state = 1;
        return 1;
    default:
        resumed_dead += p->logw == -INFINITY;
        f->ret = f->x;
        return 0;
    }
}
static const rt_model half = MODEL("half", half_resume, RT_REAL);

/* x ~ normal(0, 1); observe 1 ~ bernoulli(0); x. */
static int32_t impossible_resume(void *fr, rt_particle *p)
{
    frame *f = fr;
    if (f->state == 0) {
        sample_x(f, p);
        p->logw += rt_lpdf_bernoulli(1, 0.0, LOC);
        f->state = 1;
        return 1;
    }
    f->ret = f->x;
    return 0;
}
static const rt_model impossible = MODEL("impossible", impossible_resume, RT_REAL);

/* reward nan */
static int32_t nan_resume(void *fr, rt_particle *p)
{
    p->logw += NAN;
    return 0;
}
static const rt_model nanny = MODEL("nanny", nan_resume, -1);

/* The generated code for `potential v`: adds v - the previous potential, remembers v. */
static void potential(rt_particle *p, double v)
{
    p->logw += v - p->potential;
    p->potential = v;
}

/* x ~ normal(0, 1); reward -(x - 2)^2 / 2; if param { potential 3 x; potential x^2 }; x. */
static int32_t steered_resume(void *fr, rt_particle *p)
{
    frame *f = fr;
    switch (f->state) {
    case 0:
        sample_x(f, p);
        p->logw += -(f->x - 2) * (f->x - 2) / 2;
        f->state = 1;
        return 1;
    case 1:
        if (!f->param)
            break;
        potential(p, 3 * f->x);
        f->state = 2;
        return 1;
    case 2:
        potential(p, f->x * f->x);
        f->state = 3;
        return 1;
    }
    f->ret = f->x;
    return 0;
}
static const rt_model steered = MODEL("steered", steered_resume, RT_REAL);

/* Returns the int 7 (read back as RT_INT or RT_BOOL, or ignored for -1). */
static int32_t seven_resume(void *fr, rt_particle *p)
{
    int64_t seven = 7;
    memcpy((char *)fr + RT_FRAME_RETURN, &seven, sizeof seven);
    return 0;
}

/* Keeps an array in its frame across six checkpoints and allocates garbage at each one; a
 * frame hidden from the collector would let the array be freed and overwritten. */
typedef struct alloc_frame { int64_t state; double ret; rt_array *a; int64_t t; } alloc_frame;
static int corrupted;

static void make_garbage(void)
{
    for (int k = 0; k < 8; k++) {
        rt_array *g = rt_array_new(64, 0);
        for (int j = 0; j < 64; j++)
            g->at.d[j] = -1.0;
    }
}

static int32_t alloc_resume(void *fr, rt_particle *p)
{
    alloc_frame *f = fr;
    if (f->state == 0) {
        f->a = rt_array_new(64, 0);
        for (int j = 0; j < 64; j++)
            f->a->at.d[j] = j;
        f->state = 1;
        return 1;
    }
    make_garbage();
    for (int j = 0; j < 64; j++)
        corrupted += f->a->at.d[j] != j;
    if (++f->t < 5)
        return 1;
    f->ret = rt_sum_real(f->a);
    return 0;
}
static const rt_model alloc_model = { "alloc", alloc_resume, sizeof(alloc_frame), RT_REAL, 0,
                                      NULL, NULL, NULL };

static rt_posterior *run_is(const rt_model *m, int64_t param, int64_t n)
{
    frame *proto = rt_frame_new(m->frame_size);
    if (m->frame_size >= (int64_t)sizeof(frame))
        proto->param = param;
    return rt_infer_is(rt_root_ctx(), m, proto, &(rt_infer_opts){ .particles = n, .trace = 1 }, LOC);
}

/* ---- frames and traces ---- */

static void test_frame_new(void **state)
{
    unsigned char *f = rt_frame_new(100);
    for (int k = 0; k < 100; k++)
        assert_int_equal(f[k], 0);
}

static double word_double(int64_t w)
{
    double d;
    memcpy(&d, &w, sizeof d);
    return d;
}

/* A particle's records come back as [site, k, index_1 .. index_k, value bits], in the order
 * it made them; another particle's records are its own; columns grow past the first few. */
static void test_record_layout(void **state)
{
    rt_posterior *post = rt_post_new(&tilted, "is", 2);
    rt_particle p = { .trace = rt_post_trace(post) };
    rt_trace_particle(p.trace, 0);
    rt_record(&p, 3, 2, (const int64_t[]){ 5, 7 }, 1.5);
    rt_record(&p, 0, 0, NULL, -2.0);
    rt_trace_particle(p.trace, 1);
    for (int64_t k = 0; k < 10000; k++)
        rt_record(&p, 1, 1, &k, (double)k);
    int64_t t[8];
    assert_int_equal(rt_trace_path(post->sites, 0, t, 8), 8);
    assert_int_equal(t[0], 3);
    assert_int_equal(t[1], 2);
    assert_int_equal(t[2], 5);
    assert_int_equal(t[3], 7);
    assert_true(word_double(t[4]) == 1.5);
    assert_int_equal(t[5], 0);
    assert_int_equal(t[6], 0);
    assert_true(word_double(t[7]) == -2.0);
    int64_t *w = malloc(8 * 4 * 10000);
    assert_int_equal(rt_trace_path(post->sites, 1, w, 4 * 10000), 4 * 10000);
    for (int64_t k = 0; k < 10000; k++) {
        const int64_t *r = w + 4 * k;
        assert_true(r[0] == 1 && r[1] == 1 && r[2] == k && word_double(r[3]) == (double)k);
    }
    free(w);
    rt_site_map m = rt_site_map_build(post->sites, NULL);
    assert_int_equal(m.count, 2 + 10000);
    double v;
    assert_true(rt_site_value(&m, 1, 0, &v) && v == -2.0);
    assert_false(rt_site_value(&m, 1, 1, &v));
    assert_true(rt_site_value(&m, 2 + 9999, 1, &v) && v == 9999.0);
    rt_particle none = { .trace = NULL };
    rt_record(&none, 0, 0, NULL, 1.0);   /* no trace: nothing recorded, no crash */
}

/* ---- importance sampling: exact targets ---- */

/* Target N(1, 1/2), evidence exp(-1) / sqrt(2), log -1.346574. Seed 0, 200000 particles:
 * the ESS is about 0.445 n = 89000 (E[w]^2 / E[w^2] = sqrt(3)/2 exp(-2/3)), so the mean's
 * MC se is sqrt(0.5 / 89000) = 0.0024 (tolerance 0.01, 4 se) and the log evidence's is
 * sqrt((n/ESS - 1) / n) = 0.0025 (tolerance 0.02, 8 se). */
static void test_is_tilted_gaussian(void **state)
{
    rt_seed = 0;
    rt_posterior *post = run_is(&tilted, 0, 200000);
    assert_string_equal(post->method, "is");
    assert_int_equal(post->n, 200000);
    assert_true(fabs(rt_post_mean(post, NULL) - 1.0) < 0.01);
    assert_true(fabs(rt_post_log_evidence(post) - (-1.0 - 0.5 * log(2.0))) < 0.02);
    assert_true(fabs(rt_post_sd(post, NULL) - sqrt(0.5)) < 0.01);
    assert_true(fabs(rt_post_ess(post) / 200000 - sqrt(3.0) / 2 * exp(-2.0 / 3)) < 0.01);
    assert_true(fabs(rt_post_quantile(post, 0.5, LOC) - 1.0) < 0.02);
}

/* Beta(1,1) prior, 14 heads in 20: posterior Beta(15, 7), mean 15/22, evidence
 * B(15, 7) / B(1, 1). Tolerances are 3 MC standard errors: sd / sqrt(ESS) for the mean, and
 * for log Z-hat = log mean(w) the delta method, Var(mean w) / E[w]^2 = (E[w^2]/E[w]^2 - 1)/n
 * = (n/ESS - 1)/n. */
static void test_is_beta_bernoulli(void **state)
{
    rt_seed = 0;
    int64_t n = 100000;
    rt_posterior *post = run_is(&coin, 0, n);
    double ess = rt_post_ess(post);
    double se_mean = rt_post_sd(post, NULL) / sqrt(ess);
    double se_logz = sqrt((n / ess - 1) / n);
    double logz = lgamma(15) + lgamma(7) - lgamma(22);
    assert_true(ess > 0.1 * n);
    assert_true(fabs(rt_post_mean(post, NULL) - 15.0 / 22) < 3 * se_mean);
    assert_true(fabs(rt_post_log_evidence(post) - logz) < 3 * se_logz);
    assert_true(fabs(rt_post_sd(post, NULL) - sqrt(15.0 * 7 / (22 * 22 * 23))) < 0.005);
}

/* ---- dead particles ---- */

/* Half the particles die: they keep -inf, value 0 and no records, are never resumed, and
 * the rest are a half-normal (mean sqrt(2/pi), median 0.6745; 100000 particles, seed 0,
 * ESS about 50000, se of the mean 0.0027 and of the median 0.0035: tolerance 0.015). */
static void test_is_some_dead(void **state)
{
    rt_seed = 0;
    resumed_dead = 0;
    int64_t n = 100000, dead = 0;
    rt_posterior *post = run_is(&half, 0, n);
    for (int64_t i = 0; i < n; i++) {
        int64_t records = rt_trace_path(post->sites, i, NULL, 0);   /* words */
        if (post->logw[i] == -INFINITY) {
            dead++;
            assert_true(post->value[i] == 0.0 && records == 0);
        } else
            assert_true(post->logw[i] == 0.0 && post->value[i] >= 0 && records == 3);
    }
    assert_int_equal(resumed_dead, 0);
    assert_true(dead > 0.45 * n && dead < 0.55 * n);
    assert_true(post->ess == (double)(n - dead));
    assert_true(fabs(rt_post_log_evidence(post) - log((double)(n - dead) / n)) < 1e-12);
    assert_true(fabs(rt_post_mean(post, NULL) - sqrt(2 / M_PI)) < 0.015);
    assert_true(fabs(rt_post_quantile(post, 0.5, LOC) - 0.6745) < 0.015);
    assert_true(rt_post_quantile(post, 0.0, LOC) >= 0.0);
}

static void all_dead(void) { rt_post_mean(run_is(&impossible, 0, 100), LOC); }
static void nan_weight(void) { run_is(&nanny, 0, 10); }
static void no_particles(void) { run_is(&tilted, 0, 0); }

static void test_is_errors(void **state)
{
    /* every particle dead: a posterior of log evidence -inf, ESS 0, whose values are an error */
    rt_posterior *post = run_is(&impossible, 0, 100);
    assert_true(post->dead && rt_post_log_evidence(post) == -INFINITY && rt_post_ess(post) == 0);
    expect_child_failure(all_dead, 1, LOC ": error: mean: all 100 particles of model 'impossible' "
                         "have zero weight (every run hit an impossible observation or a reward "
                         "of -inf), so the posterior has no values\n");
    expect_child_failure(nan_weight, 1,
                         LOC ": error: model 'nanny' produced a NaN log weight\n");
    expect_child_failure(no_particles, 1,
                         LOC ": error: is: particles must be at least 1, found 0\n");
}

/* ---- potentials, return kinds, reproducibility ---- */

/* The last potential is removed at the end: with and without the two potentials the
 * particles (same seed and call number) get the same values and, up to rounding, weights. */
static void test_is_potential_removed(void **state)
{
    rt_seed = 5;
    rt_infer_count = 7;
    rt_posterior *plain = run_is(&steered, 0, 1000);
    rt_infer_count = 7;
    rt_posterior *steer = run_is(&steered, 1, 1000);
    for (int64_t i = 0; i < 1000; i++) {
        assert_true(plain->value[i] == steer->value[i]);
        assert_true(fabs(plain->logw[i] - steer->logw[i]) < 1e-9);
    }
    assert_true(fabs(plain->log_evidence - steer->log_evidence) < 1e-9);
}

static void test_is_return_kinds(void **state)
{
    rt_model m = MODEL("seven", seven_resume, RT_INT);
    assert_true(run_is(&m, 0, 3)->value[2] == 7.0);
    m.ret_kind = RT_BOOL;
    assert_true(run_is(&m, 0, 3)->value[0] == 7.0);
    m.ret_kind = -1;
    rt_posterior *post = run_is(&m, 0, 3);
    assert_true(post->value[1] == 0.0);
    assert_true(post->log_evidence == 0.0 && post->ess == 3.0);
}

/* Every particle's records, as words, equal to the bit. */
static bool same_paths(const rt_posterior *a, const rt_posterior *b)
{
    if (!a->sites || !b->sites)
        return !a->sites && !b->sites;
    for (int64_t i = 0; i < a->n; i++) {
        int64_t wa[64], wb[64];
        int64_t la = rt_trace_path(a->sites, i, wa, 64), lb = rt_trace_path(b->sites, i, wb, 64);
        if (la != lb || la > 64 || memcmp(wa, wb, 8 * (size_t)la) != 0)
            return false;
    }
    return true;
}

static bool same_bits(const rt_posterior *a, const rt_posterior *b)
{
    return a->n == b->n && memcmp(a->logw, b->logw, 8 * a->n) == 0
           && memcmp(a->value, b->value, 8 * a->n) == 0
           && same_paths(a, b)
           && memcmp(&a->log_evidence, &b->log_evidence, 8) == 0;
}

/* Particle i of infer call c draws from stream (c, i, 0) under rt_seed: the same seed and
 * call number give the same bits; another seed or the next call give others. The proto
 * frame is copied, never changed. */
static void test_is_reproducible(void **state)
{
    rt_seed = 42;
    rt_infer_count = 0;
    frame *proto = rt_frame_new(sizeof(frame));
    rt_posterior *a = rt_infer_is(rt_root_ctx(), &tilted, proto, &(rt_infer_opts){ .particles = 500, .trace = 1 }, LOC);
    assert_int_equal(rt_infer_count, 1);
    rt_posterior *next = rt_infer_is(rt_root_ctx(), &tilted, proto, &(rt_infer_opts){ .particles = 500, .trace = 1 }, LOC);
    assert_int_equal(proto->state, 0);
    rt_infer_count = 0;
    rt_posterior *b = rt_infer_is(rt_root_ctx(), &tilted, proto, &(rt_infer_opts){ .particles = 500, .trace = 1 }, LOC);
    rt_seed = 43;
    rt_infer_count = 0;
    rt_posterior *c = rt_infer_is(rt_root_ctx(), &tilted, proto, &(rt_infer_opts){ .particles = 500, .trace = 1 }, LOC);
    assert_true(same_bits(a, b));
    assert_false(same_bits(a, c));
    assert_false(same_bits(a, next));
    rt_seed = 0;
}

/* draws = false: the running sums give the statistics of the kept draws of the same run
 * (the same streams), to rounding; 10000 particles make several blocks of sums to merge. */
static void test_is_streamed_statistics(void **state)
{
    frame *proto = rt_frame_new(sizeof(frame));
    rt_infer_count = 0;
    rt_posterior *kept = rt_infer_is(rt_root_ctx(), &tilted, proto, &(rt_infer_opts){ .particles = 10000, .draws = 1 }, LOC);
    rt_infer_count = 0;
    rt_posterior *sums = rt_infer_is(rt_root_ctx(), &tilted, proto, &(rt_infer_opts){ .particles = 10000 }, LOC);
    assert_true(sums->streamed && !kept->streamed && sums->logw == NULL);
    assert_int_equal(sums->n, 10000);
    assert_true(fabs(rt_post_mean(sums, LOC) - rt_post_mean(kept, LOC)) < 1e-12);
    assert_true(fabs(rt_post_sd(sums, LOC) - rt_post_sd(kept, LOC)) < 1e-12);
    assert_true(fabs(sums->log_evidence - kept->log_evidence) < 1e-12);
    assert_true(fabs(sums->ess - kept->ess) < 1e-9 * kept->ess);
}

/* PPL_GC_STRESS=1 (read at each infer call, so the test sets and clears it in-process)
 * collects after every resume: 50 particles x 6 resumes is at least 300 collections, and
 * the arrays the frames hold survive them. */
static void test_gc_stress(void **state)
{
    assert_int_equal(rt_gc_stress(), 0);
    setenv("PPL_GC_STRESS", "0", 1);
    assert_int_equal(rt_gc_stress(), 0);
    setenv("PPL_GC_STRESS", "1", 1);
    assert_int_equal(rt_gc_stress(), 1);
    corrupted = 0;
    size_t before = GC_get_gc_no();
    frame *proto = rt_frame_new(alloc_model.frame_size);
    rt_posterior *post = rt_infer_is(rt_root_ctx(), &alloc_model, proto, &(rt_infer_opts){ .particles = 50, .trace = 1 }, LOC);
    size_t collections = GC_get_gc_no() - before;
    unsetenv("PPL_GC_STRESS");
    assert_true(collections >= 300);
    assert_int_equal(corrupted, 0);
    for (int64_t i = 0; i < 50; i++)
        assert_true(post->value[i] == 2016.0);
}

/* ---- posterior statistics and printing on a hand-made posterior ---- */

static const char *const hand_sites[] = { "p", "x", "y" };
static const int64_t hand_nidx[] = { 0, 1, 2 };
static const int64_t hand_kind[] = { RT_REAL, RT_INT, RT_REAL };
static const rt_model hand = { "hand", NULL, 16, RT_REAL, 3, hand_sites, hand_nidx, hand_kind };

/* Weights 1:2:3:4:0 (normalized 0.1, 0.2, 0.3, 0.4, 0), values 3, 1, 4, 2, -10. Sorted:
 * 1 (0.2), 2 (0.4), 3 (0.1), 4 (0.3), cumulative 0.2, 0.6, 0.7, 1. Mean 2.5, sd sqrt(1.25).
 * Records: p 0.5, 0.25, 0.75, 0.5; x[0] 1, 0, 1, 0; x[1] 0 and 1 in particles 0 and 2;
 * y[1, 2] 7 in particle 2; the dead particle's z[9] must not show. */
static rt_posterior *hand_posterior(void)
{
    static const double logw[5] = { 0, M_LN2, 1.0986122886681098, 2 * M_LN2, -INFINITY };
    static const double value[5] = { 3, 1, 4, 2, -10 }, pv[4] = { 0.5, 0.25, 0.75, 0.5 };
    rt_posterior *post = rt_post_new(&hand, "is", 5);
    rt_particle p = { .trace = rt_post_trace(post) };
    for (int64_t i = 0; i < 5; i++) {
        post->logw[i] = logw[i], post->value[i] = value[i];
        rt_trace_particle(p.trace, i);
        if (i < 4) {
            rt_record(&p, 0, 0, NULL, pv[i]);
            rt_record(&p, 1, 1, (const int64_t[]){ 0 }, i % 2 == 0);
        }
        if (i == 0 || i == 2)
            rt_record(&p, 1, 1, (const int64_t[]){ 1 }, i == 2);
        if (i == 2)
            rt_record(&p, 2, 2, (const int64_t[]){ 1, 2 }, 7);
        if (i == 4)
            rt_record(&p, 1, 1, (const int64_t[]){ 9 }, 5);
    }
    rt_post_summarize(post, LOC);
    return post;
}

static void test_post_stats_exact(void **state)
{
    rt_posterior *post = hand_posterior();
    assert_true(fabs(rt_post_mean(post, NULL) - 2.5) < 1e-12);
    assert_true(fabs(rt_post_sd(post, NULL) - sqrt(1.25)) < 1e-12);
    assert_true(fabs(rt_post_log_evidence(post) - M_LN2) < 1e-12);   /* log(2.5 * 4 / 5) */
    assert_true(fabs(rt_post_ess(post) - 6.25 / 1.875) < 1e-12);
    static const double q[] = { 0, 0.05, 0.19, 0.5, 0.59, 0.61, 0.65, 0.69, 0.71, 0.95, 1 };
    static const double want[] = { 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4 };
    for (size_t k = 0; k < sizeof q / sizeof q[0]; k++)
        assert_true(rt_post_quantile(post, q[k], LOC) == want[k]);
}

static void bad_quantile(void) { rt_post_quantile(hand_posterior(), 1.5, LOC); }
static void nan_quantile(void) { rt_post_quantile(hand_posterior(), NAN, LOC); }

static void test_post_quantile_errors(void **state)
{
    expect_child_failure(bad_quantile, 1,
                         LOC ": error: quantile: q must be between 0 and 1, found 1.5\n");
    expect_child_failure(nan_quantile, 1,
                         LOC ": error: quantile: q must be between 0 and 1, found nan\n");
}

static void print_post(const void *post) { rt_print_posterior(post); }

static void test_print_posterior(void **state)
{
    char out[4096];
    capture_stdout(print_post, hand_posterior(), out, sizeof out);
    assert_string_equal(out,
        "posterior of hand by is: 5 particles, ESS 3.3, log evidence 0.693\n"
        "                mean         sd         5%        50%        95%\n"
        "  value          2.5      1.118          1          2          4\n"
        "  p            0.525      0.175       0.25        0.5       0.75\n"
        "  x[0]           0.4     0.4899          0          0          1\n"
        "  x[1]          0.75      0.433          0          1          1\n"
        "  y[1, 2]          7          0          7          7          7");
}

/* 25 addresses x[0] .. x[24] with values 0 .. 24 and no return value: 20 rows, then a count. */
static rt_posterior *many_sites(void)
{
    static const rt_model many = { "many", NULL, 16, -1, 3, hand_sites, hand_nidx, hand_kind };
    rt_posterior *post = rt_post_new(&many, "is", 1);
    rt_particle p = { .trace = rt_post_trace(post) };
    post->logw[0] = -3.0;
    rt_trace_particle(p.trace, 0);
    for (int64_t t = 0; t < 25; t++)
        rt_record(&p, 1, 1, &t, (double)t);
    rt_post_summarize(post, LOC);
    return post;
}

static void test_print_many_sites(void **state)
{
    char out[8192];
    capture_stdout(print_post, many_sites(), out, sizeof out);
    const char *head =
        "posterior of many by is: 1 particle, ESS 1.0, log evidence -3.000\n"
        "              mean         sd         5%        50%        95%\n"
        "  x[0]           0          0          0          0          0\n"
        "  x[1]           1          0          1          1          1\n";
    assert_memory_equal(out, head, strlen(head));
    assert_non_null(strstr(out, "\n  x[19]         19          0         19         19         19\n"
                                "  ... and 5 more sites"));
    assert_null(strstr(out, "x[20]"));
    int lines = 0;
    for (const char *c = out; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 2 + 20);   /* no newline after the last line: print adds it */
}

/* The printed summary of a real run: the return value row and the site row agree. */
static void test_print_is_run(void **state)
{
    rt_seed = 0;
    rt_infer_count = 0;
    char out[4096];
    capture_stdout(print_post, run_is(&tilted, 0, 1000), out, sizeof out);
    assert_true(strncmp(out, "posterior of tilted by is: 1000 particles, ESS ", 47) == 0);
    char *value = strstr(out, "\n  value "), *x = strstr(out, "\n  x     ");
    assert_non_null(value);
    assert_non_null(x);
    assert_memory_equal(value + 9, x + 9, 54);   /* the five columns */
}

/* ---- diagnostics ---- */

/* Pareto k-hat of weights that are the quantiles of a generalized Pareto of shape k
 * (w = u^-k at u = (i + 1/2) / n): the fit finds k, shrunk toward 0.5 by the prior of
 * Vehtari et al. over the tail's 190 weights, (190 k + 5) / 200. Too few weights give NaN;
 * equal ones (no tail) a shape at or below 0. Order does not matter. */
static void test_pareto_khat(void **state)
{
    enum { N = 4000 };
    static double lw[N];
    const double shapes[] = { 0.2, 0.5, 0.9, 1.5 };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int i = 0; i < N; i++)
            lw[(i * 7919) % N] = -shapes[s] * log((i + 0.5) / N);   /* a permutation of the quantiles */
        double k = rt_pareto_khat(lw, N), want = (190 * shapes[s] + 5) / 200;
        if (!(fabs(k - want) < 0.03))
            fail_msg("k-hat %g for shape %g", k, shapes[s]);
    }
    assert_true(isnan(rt_pareto_khat(lw, 20)));
    for (int i = 0; i < N; i++)
        lw[i] = i % 3 == 0 ? -INFINITY : 0.0;
    assert_true(isnan(rt_pareto_khat(lw, N)) || rt_pareto_khat(lw, N) <= 0);
}

int main(void)
{
    GC_INIT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_new),
        cmocka_unit_test(test_record_layout),
        cmocka_unit_test(test_is_tilted_gaussian),
        cmocka_unit_test(test_is_beta_bernoulli),
        cmocka_unit_test(test_is_some_dead),
        cmocka_unit_test(test_is_errors),
        cmocka_unit_test(test_is_potential_removed),
        cmocka_unit_test(test_is_return_kinds),
        cmocka_unit_test(test_is_reproducible),
        cmocka_unit_test(test_is_streamed_statistics),
        cmocka_unit_test(test_gc_stress),
        cmocka_unit_test(test_post_stats_exact),
        cmocka_unit_test(test_post_quantile_errors),
        cmocka_unit_test(test_print_posterior),
        cmocka_unit_test(test_print_many_sites),
        cmocka_unit_test(test_print_is_run),
        cmocka_unit_test(test_pareto_khat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
