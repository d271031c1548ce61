/* test_trace.c - cmocka tests for column traces (rt_trace.h): lineages from ancestor vectors
 * against hand-worked ones and against copying whole paths at every resampling. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <cmocka.h>
#include <gc.h>
#include "rt_infer.h"

static double word_double(int64_t w)
{
    double d;
    memcpy(&d, &w, sizeof d);
    return d;
}

/* Four slots. Step 0: all record x = slot. Resample: slot 2 <- 0, slot 3 <- 1. Step 1: all
 * record y = 10 + slot. Resample: slot 0 <- 3, slot 1 <- 3. Step 2: slot 2 records z.
 * Final particle 0 descends from slot 3 at gen 1, which came from slot 1 at gen 0. */
static void test_lineage_by_hand(void **state)
{
    rt_columns *c = rt_columns_new(4);
    rt_trace t;
    for (int s = 0; s < 3; s++) {
        rt_columns_step(c);
        t = rt_trace_recorder(c);
        for (int64_t i = 0; i < 4; i++) {
            rt_trace_particle(&t, i);
            if (s < 2)
                rt_trace_put(&t, s, 0, NULL, 10.0 * s + (double)i);
            else if (i == 2)
                rt_trace_put(&t, 2, 0, NULL, 99.0);
        }
        if (s == 0)
            rt_columns_resample(c, (const int64_t[]){ 0, 1 }, (const int64_t[]){ 2, 3 }, 2);
        if (s == 1)
            rt_columns_resample(c, (const int64_t[]){ 3, 3 }, (const int64_t[]){ 0, 1 }, 2);
    }
    rt_trace_finish(c);
    static const int32_t lin0[4] = { 1, 1, 0, 1 }, lin1[4] = { 3, 3, 2, 3 };
    assert_memory_equal(c->anc[0], lin0, sizeof lin0);
    assert_memory_equal(c->anc[1], lin1, sizeof lin1);
    rt_site_map m = rt_site_map_build(c, NULL);
    assert_int_equal(m.count, 3);
    static const double x[4] = { 1, 1, 0, 1 }, y[4] = { 13, 13, 12, 13 };
    double v;
    for (int64_t i = 0; i < 4; i++) {
        assert_true(rt_site_value(&m, 0, i, &v) && v == x[i]);
        assert_true(rt_site_value(&m, 1, i, &v) && v == y[i]);
        assert_true(rt_site_value(&m, 2, i, &v) == (i == 2));
    }
    int64_t w[9];
    assert_int_equal(rt_trace_path(c, 2, w, 9), 9);
    assert_true(w[0] == 0 && word_double(w[2]) == 0.0 && w[3] == 1 && word_double(w[5]) == 12.0
                && w[6] == 2 && word_double(w[8]) == 99.0);
    /* Particles kept: the order of first appearance skips the others. */
    rt_site_map only2 = rt_site_map_build(c, (const bool[]){ false, false, true, false });
    assert_int_equal(only2.count, 3);
    rt_site_map only0 = rt_site_map_build(c, (const bool[]){ true, false, false, false });
    assert_int_equal(only0.count, 2);
}

/* The reference: every slot's whole path as words, copied at each resampling. */
typedef struct Path { int64_t *w; int64_t len, cap; } Path;

static void path_push(Path *p, int64_t site, int64_t idx, double v)
{
    if (p->len + 4 > p->cap) {
        p->cap = 2 * p->cap + 64;
        p->w = realloc(p->w, 8 * (size_t)p->cap);
    }
    int64_t *r = p->w + p->len, nidx = idx >= 0;
    r[0] = site, r[1] = nidx;
    if (nidx)
        r[2] = idx;
    memcpy(r + 2 + nidx, &v, 8);
    p->len += 3 + nidx;
}

static void path_copy(Path *to, const Path *from)
{
    if (to->cap < from->len) {
        to->cap = from->len;
        to->w = realloc(to->w, 8 * (size_t)to->cap);
    }
    if (from->len)
        memcpy(to->w, from->w, 8 * (size_t)from->len);
    to->len = from->len;
}

/* Records of at most one index as 4 words (site, k, index or value, value or 0), sorted, so
 * that paths compare as sets: within a step, a path lists its records in the order of the
 * step's columns, not necessarily the order the particle made them. */
typedef struct Rec { int64_t w[4]; } Rec;

static int rec_cmp(const void *a, const void *b) { return memcmp(a, b, sizeof(Rec)); }

static void sort_records(int64_t *w, int64_t len)
{
    Rec *r = calloc((size_t)len / 3 + 1, sizeof *r);
    int64_t n = 0;
    for (int64_t o = 0; o < len; o += 3 + w[o + 1], n++)
        memcpy(r[n].w, w + o, 8 * (size_t)(3 + w[o + 1]));
    qsort(r, (size_t)n, sizeof *r, rec_cmp);
    for (int64_t k = 0, o = 0; k < n; o += 3 + r[k].w[1], k++)
        memcpy(w + o, r[k].w, 8 * (size_t)(3 + r[k].w[1]));
    free(r);
}

/* 3 blocks' worth of slots over 30 steps: each slot records a random subset of 3 sites (in
 * one order; some addresses in two steps), and random copies follow each step. Every final particle's records equal the copied reference's. */
static void test_lineage_random(void **state)
{
    enum { N = 2 * RT_TRACE_BLOCK + 123, STEPS = 30 };
    rt_columns *c = rt_columns_new(N);
    Path *ref = calloc(N, sizeof *ref), *tmp = calloc(N, sizeof *tmp);
    int64_t *src = malloc(8 * N), *dst = malloc(8 * N);
    srand(7);
    for (int64_t s = 0; s < STEPS; s++) {
        rt_columns_step(c);
        rt_trace t = rt_trace_recorder(c);
        for (int64_t i = 0; i < N; i++) {
            rt_trace_particle(&t, i);
            int mask = rand() % 8;
            for (int64_t site = 0; site < 3; site++) {
                if (!(mask >> site & 1))
                    continue;
                int64_t idx = site == 2 ? -1 : (s + rand() % 2);
                double v = (double)rand() / RAND_MAX;
                rt_trace_put(&t, site, idx >= 0, &idx, v);
                path_push(&ref[i], site, idx, v);
            }
        }
        /* distinct destinations, sources that are not destinations */
        static bool is_dst[N];
        int64_t m = 0;
        for (int64_t i = 0; i < N; i++)
            if ((is_dst[i] = rand() % 3 == 0))
                dst[m++] = i;
        for (int64_t k = 0; k < m; k++)
            do src[k] = rand() % N; while (is_dst[src[k]]);
        for (int64_t k = 0; k < m; k++) path_copy(&tmp[k], &ref[src[k]]);
        for (int64_t k = 0; k < m; k++) path_copy(&ref[dst[k]], &tmp[k]);
        rt_columns_resample(c, src, dst, m);
    }
    rt_trace_finish(c);
    for (int64_t i = 0; i < N; i++) {
        int64_t need = rt_trace_path(c, i, NULL, 0);
        int64_t *w = malloc(8 * (size_t)(need + 1));
        assert_int_equal(rt_trace_path(c, i, w, need), ref[i].len);
        sort_records(w, need);
        sort_records(ref[i].w, ref[i].len);
        assert_memory_equal(w, ref[i].w, 8 * (size_t)ref[i].len);
        free(w);
    }
    for (int64_t i = 0; i < N; i++) free(ref[i].w), free(tmp[i].w);
    free(ref), free(tmp), free(src), free(dst);
}

/* A dropped particle keeps no records; its block's other particles keep theirs. */
static void test_drop(void **state)
{
    rt_columns *c = rt_columns_new(3);
    rt_columns_step(c);
    rt_trace t = rt_trace_recorder(c);
    for (int64_t i = 0; i < 3; i++) {
        rt_trace_particle(&t, i);
        rt_trace_put(&t, 0, 0, NULL, (double)i);
        if (i == 1)
            rt_trace_drop(&t);
    }
    assert_int_equal(rt_trace_path(c, 0, NULL, 0), 3);
    assert_int_equal(rt_trace_path(c, 1, NULL, 0), 0);
    assert_int_equal(rt_trace_path(c, 2, NULL, 0), 3);
}

int main(void)
{
    GC_INIT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lineage_by_hand),
        cmocka_unit_test(test_lineage_random),
        cmocka_unit_test(test_drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
