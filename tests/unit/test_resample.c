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

/* Counts agree with the ancestors for every scheme, given the same random stream. */
static void test_counts(void **state) {
    enum { N = 50 };
    double w[N];
    for (int i = 0; i < N; i++) w[i] = (i % 7 == 0) ? 0 : 1.0 + i % 5;
    for (int scheme = 0; scheme < RT_RESAMPLE_COUNT; scheme++) {
        int64_t anc[N], count[N], from_anc[N] = {0};
        rt_rng a, b;
        rt_rng_init(&a, 5, 9);
        rt_rng_init(&b, 5, 9);
        rt_resample(scheme, w, N, &a, anc);
        rt_resample_counts(scheme, w, N, &b, count);
        for (int i = 0; i < N; i++) from_anc[anc[i]]++;
        assert_memory_equal(count, from_anc, sizeof count);
    }
}

/* Systematic counts by blocks (of 1, 7 and all 1000 particles, sums formed as the header
 * asks): they sum to N, zero weights (including the trailing ones) get none, and each lies
 * within 1 of its expectation N w_j / total, as systematic resampling's counts must. */
static void test_systematic_blocks(void **state) {
    enum { N = 1000 };
    double w[N];
    rt_rng r;
    rt_rng_init(&r, 3, 4);
    for (int i = 0; i < N; i++) w[i] = i % 5 == 0 || i > N - 4 ? 0 : pow(rt_rng_uniform(&r), 4);
    const int64_t sizes[3] = {1, 7, N};
    for (int k = 0; k < 3; k++)
        for (int rep = 0; rep < 20; rep++) {
            int64_t size = sizes[k], count[N], total_count = 0;
            double start[N], total = 0;
            for (int64_t lo = 0; lo < N; lo += size) {
                double sum = 0;
                for (int64_t j = lo; j < lo + size && j < N; j++) sum += w[j];
                start[lo / size] = total;
                total += sum;
            }
            rt_systematic sy;
            rt_systematic_init(&sy, w, N, total, rt_rng_uniform(&r));
            for (int64_t lo = 0; lo < N; lo += size)
                rt_systematic_block(&sy, w, lo, lo + size < N ? lo + size : N, start[lo / size], count);
            for (int j = 0; j < N; j++) {
                total_count += count[j];
                if (w[j] == 0) assert_int_equal(count[j], 0);
                assert_true(fabs((double)count[j] - N * w[j] / total) < 1 + 1e-9);
            }
            assert_int_equal(total_count, N);
        }
}

int main(void) {
    GC_INIT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_systematic_known), cmocka_unit_test(test_names),
        cmocka_unit_test(test_valid_ancestors), cmocka_unit_test(test_mean_offspring),
        cmocka_unit_test(test_unnormalized), cmocka_unit_test(test_counts),
        cmocka_unit_test(test_systematic_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
