/* test_resample.c - the resampling schemes: the known systematic answer, sorted valid
 * ancestors, and mean offspring counts N * w for every scheme. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <gc.h>
#include "rt_resample.h"

static void test_systematic_known(void **state) {
    const double w[4] = {.1, .2, .3, .4};
    int64_t anc[4];
    rt_resample_systematic(w, 4, 0.5, anc);
    assert_int_equal(anc[0], 1);
    assert_int_equal(anc[1], 2);
    assert_int_equal(anc[2], 3);
    assert_int_equal(anc[3], 3);
}

static void test_names(void **state) {
    assert_int_equal(rt_resample_lookup("systematic"), RT_RESAMPLE_SYSTEMATIC);
    assert_int_equal(rt_resample_lookup("residual"), RT_RESAMPLE_RESIDUAL);
    assert_int_equal(rt_resample_lookup("bogus"), -1);
    assert_string_equal(rt_resample_name(RT_RESAMPLE_STRATIFIED), "stratified");
}

/* Ancestors are sorted, in range, and never a zero-weight particle. */
static void test_valid_ancestors(void **state) {
    const double w[6] = {0, 3, 0, 1e-300, 2, 0};
    int64_t anc[6];
    rt_rng r;
    rt_rng_init(&r, 11, 0);
    for (int scheme = 0; scheme < RT_RESAMPLE_COUNT; scheme++)
        for (int rep = 0; rep < 200; rep++) {
            rt_resample(scheme, w, 6, &r, anc);
            for (int i = 0; i < 6; i++) {
                assert_true(anc[i] >= 0 && anc[i] < 6);
                assert_true(w[anc[i]] > 0);
                if (i) assert_true(anc[i - 1] <= anc[i]);
            }
        }
}

/* Over R repetitions the mean number of copies of particle i is N w_i. Each count lies in
 * [0, N], so its sd is at most N/2 and the mean of R copies has standard error at most
 * N / (2 sqrt(R)); the tolerance is 5 of those (for systematic the sd is below 1). */
static void test_mean_offspring(void **state) {
    enum { N = 5, R = 20000 };
    const double w[N] = {0.05, 0.4, 0.15, 0.3, 0.1};
    int64_t anc[N];
    rt_rng r;
    rt_rng_init(&r, 2024, 7);
    for (int scheme = 0; scheme < RT_RESAMPLE_COUNT; scheme++) {
        double copies[N] = {0};
        for (int rep = 0; rep < R; rep++) {
            rt_resample(scheme, w, N, &r, anc);
            for (int i = 0; i < N; i++) copies[anc[i]] += 1.0 / R;
        }
        for (int i = 0; i < N; i++)
            assert_true(fabs(copies[i] - N * w[i]) < 5 * N / (2 * sqrt(R)));
    }
}

/* Weights need not be normalized: scaling them changes nothing. */
static void test_unnormalized(void **state) {
    const double w[4] = {1, 2, 3, 4}, v[4] = {.1, .2, .3, .4};
    int64_t a[4], b[4];
    rt_resample_systematic(w, 4, 0.25, a);
    rt_resample_systematic(v, 4, 0.25, b);
    assert_memory_equal(a, b, sizeof a);
}

/* The copy plan agrees with the ancestors for every scheme, given the same random stream:
 * applied to the identity it leaves particle j in count_j slots (count_j from the ancestors),
 * survivors keep their slots, copies only overwrite particles without offspring, and src and
 * dst are sorted. */
static void test_plan(void **state) {
    enum { N = 50 };
    double w[N], sum = 0;
    for (int i = 0; i < N; i++) sum += w[i] = (i % 7 == 0 || i == N - 1) ? 0 : 1.0 + i % 5;
    for (int scheme = 0; scheme < RT_RESAMPLE_COUNT; scheme++) {
        int64_t anc[N], src[N], dst[N], slot[N], want[N] = {0}, got[N] = {0};
        rt_rng a, b;
        rt_rng_init(&a, 5, 9);
        rt_rng_init(&b, 5, 9);
        rt_resample(scheme, w, N, &a, anc);
        int64_t m = rt_resample_plan(scheme, w, N, sum, &b, src, dst);
        for (int i = 0; i < N; i++) want[anc[i]]++, slot[i] = i;
        for (int64_t k = 0; k < m; k++) {
            assert_true(want[dst[k]] == 0 && want[src[k]] > 1);
            if (k) assert_true(src[k - 1] <= src[k] && dst[k - 1] < dst[k]);
            slot[dst[k]] = src[k];
        }
        for (int i = 0; i < N; i++) got[slot[i]]++;
        assert_memory_equal(got, want, sizeof got);
    }
}

int main(void) {
    GC_INIT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_systematic_known), cmocka_unit_test(test_names),
        cmocka_unit_test(test_valid_ancestors), cmocka_unit_test(test_mean_offspring),
        cmocka_unit_test(test_unnormalized), cmocka_unit_test(test_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
