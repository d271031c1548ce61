/* test_smc.c - the SMC engine on models written by hand as resume functions: exact answers
 * for a linear-Gaussian state-space model, threads, finished particles that wait, traces
 * rebuilt from ancestry, and the errors. */
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
#include "rt_dist.h"
#include "rt_infer.h"
#include "rt_resample.h"
#include "test_util.h"

#define LOC "t.ppl:1:1"

/* The frame of every model here: state, return value, then variables (no parameters). */
typedef struct frame { int64_t state; double ret; double x; int64_t t; } frame;

static const char *const site_x[] = {"x"};
static const int64_t nidx_1[] = {1}, kind_real[] = {RT_REAL};

/* lgssm with y = [0.5, -0.3, 1.2, 0.8, -0.5]: x0 ~ N(0, 1); x_t = 0.9 x_{t-1} + N(0, 0.5);
 * observe y_t ~ N(x_t, 1). Kalman: log Z -7.156182, x_5 has mean 0.073596, var 0.468033. */
static const double ys[5] = {0.5, -0.3, 1.2, 0.8, -0.5};

static int32_t lgssm_resume(void *fr, rt_particle *p) {
    frame *f = fr;
    if (f->state == 0) {
        f->x = rt_sample_normal((rt_rng *)p, 0, 1, LOC);
        f->t = 0;
    }
    if (f->t == 5) {
        f->ret = f->x;
        return 0;
    }
    f->x = rt_sample_normal((rt_rng *)p, 0.9 * f->x, sqrt(0.5), LOC);
    rt_record(p, 0, 1, &f->t, f->x);
    p->logw += rt_lpdf_normal(ys[f->t], f->x, 1, LOC);
    f->t++;
    f->state = 1;
    return 1;
}
static const rt_model lgssm = {"lgssm", lgssm_resume, sizeof(frame), RT_REAL, 1, site_x, nidx_1, kind_real, 0};

static rt_posterior *run(const rt_model *m, int64_t n, int scheme, double ess, int64_t threads, int record) {
    rt_infer_opts o = { .particles = n, .resample = scheme, .ess = ess, .threads = threads, .trace = record };
    return rt_infer_smc(rt_root_ctx(), m, NULL, &o, LOC);
}

/* R independent runs: the mean of the log-evidence estimates is within 4 standard errors
 * (estimated from the runs' spread) of the Kalman value, plus the O(1/n) downward bias of
 * log Z-hat, which is at most its variance / 2 (bounded here by the spread's variance). */
static void test_lgssm_exact(void **state) {
    enum { R = 20, N = 20000 };
    for (int scheme = 0; scheme < RT_RESAMPLE_COUNT; scheme++) {
        double lz[R], m[R], s = 0, s2 = 0, ms = 0, ms2 = 0;
        for (int r = 0; r < R; r++) {
            rt_posterior *post = run(&lgssm, N, scheme, 0.5, 1, 0);
            lz[r] = post->log_evidence;
            m[r] = rt_post_mean(post, NULL);
            s += lz[r], s2 += lz[r] * lz[r], ms += m[r], ms2 += m[r] * m[r];
        }
        double mean_lz = s / R, var_lz = (s2 - R * mean_lz * mean_lz) / (R - 1);
        double mean_m = ms / R, var_m = (ms2 - R * mean_m * mean_m) / (R - 1);
        assert_true(fabs(mean_lz + 7.156182) < 4 * sqrt(var_lz / R) + var_lz / 2);
        assert_true(fabs(mean_m - 0.073596) < 4 * sqrt(var_m / R) + 1e-3);   /* 1e-3: O(1/N) bias */
    }
}

/* Bit-identical results for any number of threads (blocks of particles, fixed-order sums). */
static void test_threads_identical(void **state) {
    rt_posterior *a[3];
    int64_t threads[3] = {1, 2, 5};
    for (int k = 0; k < 3; k++) {
        rt_infer_count = 40;
        a[k] = run(&lgssm, 10000, RT_RESAMPLE_SYSTEMATIC, 1, threads[k], 1);
    }
    for (int k = 1; k < 3; k++) {
        assert_memory_equal(&a[0]->log_evidence, &a[k]->log_evidence, sizeof(double));
        assert_memory_equal(a[0]->value, a[k]->value, 10000 * sizeof(double));
        for (int64_t i = 0; i < 10000; i++) {
            int64_t w0[32], wk[32];
            assert_int_equal(rt_trace_path(a[0]->sites, i, w0, 32), rt_trace_path(a[k]->sites, i, wk, 32));
            assert_memory_equal(w0, wk, 5 * 4 * 8);
        }
    }
}

/* Every particle's rebuilt trace holds x[0] .. x[4] in order, and its last value is the
 * particle's return value: paths come from the ancestry, not from copies. */
static void test_paths(void **state) {
    rt_posterior *post = run(&lgssm, 3000, RT_RESAMPLE_RESIDUAL, 1, 1, 1);
    assert_int_equal(post->resamples, 5);   /* after each of the 5 observations */
    for (int64_t i = 0; i < post->n; i++) {
        int64_t w[5 * 4];
        assert_int_equal(rt_trace_path(post->sites, i, w, 5 * 4), 5 * 4);
        for (int64_t t = 0; t < 5; t++) {
            assert_int_equal(w[4 * t], 0);
            assert_int_equal(w[4 * t + 1], 1);
            assert_int_equal(w[4 * t + 2], t);
        }
        double last;
        memcpy(&last, &w[4 * 4 + 3], sizeof last);
        assert_true(last == post->value[i]);
    }
}

/* A data-dependent number of checkpoints: k ~ bernoulli(.5); then k + 1 observations
 * of 1.0 ~ N(k, 1). Particles that finish early wait. Exact by enumeration:
 * Z = .5 N(1; 0, 1) + .5 N(1; 1, 1)^2, P(k = 1) = .5 N(1; 1, 1)^2 / Z. */
static int32_t varying_resume(void *fr, rt_particle *p) {
    frame *f = fr;
    if (f->state == 0) {
        f->x = (double)rt_sample_bernoulli((rt_rng *)p, 0.5, LOC);
        f->t = 0;
    }
    if (f->t > (int64_t)f->x) {
        f->ret = f->x;
        return 0;
    }
    p->logw += rt_lpdf_normal(1.0, f->x, 1, LOC);
    f->t++;
    f->state = 1;
    return 1;
}
static const rt_model varying = {"varying", varying_resume, sizeof(frame), RT_REAL, 0, NULL, NULL, NULL, 0};

/* The estimate of P(k = 1) is a weighted mean of 0/1 values: its standard error is below
 * 0.5 / sqrt(ESS); log Z-hat's spread over R runs gives its tolerance as above. */
static void test_varying_checkpoints(void **state) {
    double n1 = exp(rt_lpdf_normal(1, 0, 1, LOC)), n2 = exp(rt_lpdf_normal(1, 1, 1, LOC));
    double z = 0.5 * n1 + 0.5 * n2 * n2, p1 = 0.5 * n2 * n2 / z;
    enum { R = 10 };
    double s = 0, s2 = 0;
    for (int r = 0; r < R; r++) {
        rt_posterior *post = run(&varying, 20000, RT_RESAMPLE_SYSTEMATIC, 1, 1, 0);
        assert_true(fabs(rt_post_mean(post, NULL) - p1) < 4 * 0.5 / sqrt(post->ess) + 4 * 0.5 / sqrt(20000));
        s += post->log_evidence;
        s2 += post->log_evidence * post->log_evidence;
    }
    double mean = s / R, var = (s2 - R * mean * mean) / (R - 1);
    assert_true(fabs(mean - log(z)) < 4 * sqrt(var / R) + var / 2 + 1e-9);
}

/* potential then finish: the last potential is removed, so the weights equal the
 * unsteered model's: x ~ N(0, 1); potential 3x; reward -(x - 2)^2 / 2; x. */
static int32_t steered_resume(void *fr, rt_particle *p) {
    frame *f = fr;
    switch (f->state) {
    case 0:
        f->x = rt_sample_normal((rt_rng *)p, 0, 1, LOC);
        p->logw += 3 * f->x - p->potential;
        p->potential = 3 * f->x;
        f->state = 1;
        return 1;
    case 1:
        p->logw += -(f->x - 2) * (f->x - 2) / 2;
        f->state = 2;
        return 1;
    default:
        f->ret = f->x;
        return 0;
    }
}
static const rt_model steered = {"steered", steered_resume, sizeof(frame), RT_REAL, 0, NULL, NULL, NULL, 0, 1};

/* Target N(1, 1/2), log Z = -1.346574: over R runs within 4 standard errors. */
static void test_potential_exact(void **state) {
    enum { R = 20 };
    double s = 0, s2 = 0, ms = 0, ms2 = 0;
    for (int r = 0; r < R; r++) {
        rt_posterior *post = run(&steered, 20000, RT_RESAMPLE_STRATIFIED, 0.5, 1, 0);
        s += post->log_evidence, s2 += post->log_evidence * post->log_evidence;
        double m = rt_post_mean(post, NULL);
        ms += m, ms2 += m * m;
    }
    double mean = s / R, var = (s2 - R * mean * mean) / (R - 1);
    double mm = ms / R, vm = (ms2 - R * mm * mm) / (R - 1);
    assert_true(fabs(mean + 1.346574) < 4 * sqrt(var / R) + var / 2);
    assert_true(fabs(mm - 1.0) < 4 * sqrt(vm / R) + 1e-3);
}

/* ---- errors: each in a child process, checking the exit status and stderr ---- */

static int32_t dead_resume(void *fr, rt_particle *p) {
    p->logw = -INFINITY;
    return 1;
}
static const rt_model dead = {"doomed", dead_resume, sizeof(frame), RT_REAL, 0, NULL, NULL, NULL, 0};
static void run_dead(void) { rt_post_sd(run(&dead, 100, 0, 0.5, 1, 0), LOC); }
static void run_no_particles(void) { run(&lgssm, 0, 0, 0.5, 1, 0); }
static void run_bad_ess(void) { run(&lgssm, 10, 0, 1.5, 1, 0); }
static void run_bad_threads(void) { run(&lgssm, 10, 0, 0.5, 0, 0); }

static void test_errors(void **state) {
    expect_child_failure(run_dead, 1,
                         LOC ": error: sd: all 100 particles of model 'doomed' have zero weight");
    expect_child_failure(run_no_particles, 1, "smc: particles must be at least 1, found 0");
    expect_child_failure(run_bad_ess, 1, "smc: ess must be between 0 and 1, found 1.5");
    expect_child_failure(run_bad_threads, 1, "smc: threads must be between 1 and 256, found 0");
}

/* PPL_TEST_SEED=N reruns the statistical tests on another seed (tolerances are meant to
 * hold for any seed, not only the default). */
int main(void) {
    GC_INIT();
    if (getenv("PPL_TEST_SEED")) rt_seed = strtoull(getenv("PPL_TEST_SEED"), NULL, 10);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lgssm_exact), cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_paths), cmocka_unit_test(test_varying_checkpoints),
        cmocka_unit_test(test_potential_exact), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
