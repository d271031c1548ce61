/* test_estimators.c - the gradient estimators VI uses, on a case with a known answer:
 * d/dp E_{b ~ Bernoulli(p)} [b ? 0 : -p/2] = p - 1/2 (0.2 at p = 0.7), where naive
 * differentiation of the integrand alone gives -P(b = 0)/2 = -0.15. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <gc.h>
#include "rt_ad.h"
#include "rt_dist.h"

#define LOC "t.ppl:1:1"

/* f(b, p) on the tape, for a drawn b and the input p */
static int64_t integrand(int64_t b, int64_t p) {
    return b ? rt_ad_const(0) : rt_ad_mul(rt_ad_const(-0.5), p);
}

/* Enumeration: the expectation as a sum over b of q(b) f(b, p), differentiated exactly. */
static void test_enumeration(void **state) {
    rt_ad_begin();
    int64_t p = rt_ad_input(0.7), sum = rt_ad_const(0);
    for (int64_t b = 0; b < 2; b++) {
        int64_t q = rt_ad_exp(rt_ad_lpmf_bernoulli(b, p, LOC));
        sum = rt_ad_add(sum, rt_ad_mul(q, integrand(b, p)));
    }
    double g;
    rt_ad_grad(sum, &g, 1);
    assert_true(fabs(g - 0.2) < 1e-12);
}

/* The score-function estimator as rt_vi.c builds it: per draw f + (stop(f) - baseline)
 * (s - stop(s)) with s = log q(b), the leave-one-out baseline over a batch. Averaged over
 * N batches of K draws its gradient is unbiased for 0.2. Per-draw gradients are bounded
 * (|f| <= 0.35, |d log q / dp| <= 1/0.3), so the standard error of the average over
 * N * K = 200000 draws is below 0.5 * 3.4 / sqrt(200000) = 0.004; the tolerance is 0.02. */
static void test_score_function(void **state) {
    enum { N = 20000, K = 10 };
    rt_rng r;
    rt_rng_init(&r, 7, 3);
    double total = 0, naive = 0;
    for (int n = 0; n < N; n++) {
        rt_ad_begin();
        int64_t p = rt_ad_input(0.7), fs[K], ss[K], sum = rt_ad_const(0);
        double fsum = 0;
        for (int k = 0; k < K; k++) {
            int64_t b = rt_sample_bernoulli(&r, 0.7, LOC);
            fs[k] = integrand(b, p);
            ss[k] = rt_ad_lpmf_bernoulli(b, p, LOC);
            fsum += rt_ad_value(fs[k]);
        }
        for (int k = 0; k < K; k++) {
            double f = rt_ad_value(fs[k]), base = (fsum - f) / (K - 1);
            int64_t surrogate = rt_ad_mul(rt_ad_const(f - base), rt_ad_sub(ss[k], rt_ad_stop_grad(ss[k])));
            sum = rt_ad_add(sum, rt_ad_add(fs[k], surrogate));
        }
        double g, gn;
        rt_ad_grad(rt_ad_div(sum, rt_ad_const(K)), &g, 1);
        total += g;
        int64_t plain = rt_ad_const(0);
        for (int k = 0; k < K; k++) plain = rt_ad_add(plain, fs[k]);
        rt_ad_grad(rt_ad_div(plain, rt_ad_const(K)), &gn, 1);
        naive += gn;
    }
    assert_true(fabs(total / N - 0.2) < 0.02);
    assert_true(fabs(naive / N - -0.15) < 0.02);   /* what differentiating f alone gives */
}

int main(void) {
    GC_INIT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumeration),
        cmocka_unit_test(test_score_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
