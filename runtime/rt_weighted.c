/* rt_weighted.c - the weighted draws behind posterior summaries, accessors and plots: one
 * gathering, one sort order and one quantile rule, so that they all agree to the bit. */
#define GC_THREADS
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gc.h>
#include "rt_weighted.h"

void *rt_alloc_atomic(int64_t count, size_t elem, const char *what)
{
    if (count < 0 || (uint64_t)count > SIZE_MAX / 2 / elem)
        rt_failf(NULL, "too many %s (%lld)", what, (long long)count);
    void *q = GC_MALLOC_ATOMIC(count > 0 ? (size_t)count * elem : 1);
    if (!q)
        rt_failf(NULL, "out of memory allocating %lld %s", (long long)count, what);
    return q;
}

/* ---- weights ---- */

double rt_max_logw(const rt_posterior *p)
{
    double max = -INFINITY;
    for (int64_t i = 0; i < p->n; i++)
        if (p->logw[i] > max)
            max = p->logw[i];
    return max;
}

double rt_rel_weight(double logw, double max)
{
    return logw == max ? 1.0 : exp(logw - max);
}

/* ---- running sums ---- */

/* a's sums rescaled to a maximum of max (>= a's). */
static rt_wstats rescaled(rt_wstats a, double max)
{
    double c = a.max == -INFINITY ? 0.0 : a.max == max ? 1.0 : exp(a.max - max);
    return (rt_wstats){max, a.w * c, a.w2 * c * c, a.mean, a.m2 * c};
}

void rt_wstats_add_block(rt_wstats *s, double *logw, const double *x, int64_t n)
{
    rt_wstats b = RT_WSTATS_EMPTY;
    for (int64_t i = 0; i < n; i++)
        if (logw[i] > b.max)
            b.max = logw[i];
    if (b.max == -INFINITY)
        return;
    double swx = 0;
    for (int64_t i = 0; i < n; i++) {
        double w = logw[i] = rt_rel_weight(logw[i], b.max);
        b.w += w, b.w2 += w * w;
        if (w > 0)
            swx += w * x[i];
    }
    b.mean = swx / b.w;
    for (int64_t i = 0; i < n; i++)
        if (logw[i] > 0)
            b.m2 += logw[i] * (x[i] - b.mean) * (x[i] - b.mean);
    double max = s->max > b.max ? s->max : b.max;
    rt_wstats a = rescaled(*s, max);
    b = rescaled(b, max);
    double total = a.w + b.w, d = b.mean - a.mean;
    *s = (rt_wstats){max, total, a.w2 + b.w2, a.mean + d * (b.w / total), a.m2 + b.m2 + d * d * a.w * b.w / total};
}

/* ---- pairs ---- */

void rt_wpairs_push(rt_wpairs *ps, double v, double w)
{
    if (ps->len == ps->cap) {
        int64_t cap = ps->cap > 0 ? 2 * ps->cap : 16;
        rt_wpair *at = rt_alloc_atomic(cap, sizeof(rt_wpair), "weighted values");
        if (ps->len > 0)
            memcpy(at, ps->at, (size_t)ps->len * sizeof(rt_wpair));
        GC_FREE(ps->at);
        ps->at = at;
        ps->cap = cap;
    }
    ps->at[ps->len] = (rt_wpair){ v, w, ps->len };
    ps->len++;
}

void rt_wpairs_free(rt_wpairs *ps)
{
    GC_FREE(ps->at);
    *ps = (rt_wpairs){ NULL, 0, 0 };
}

/* `!(w > 0)` also skips NaN weights. */
rt_wpairs rt_wpairs_of_values(const rt_posterior *p)
{
    rt_post_need_draws(p, NULL, "the draws");
    rt_wpairs ps = { rt_alloc_atomic(p->n, sizeof(rt_wpair), "weighted values"), 0, p->n };
    double max = rt_max_logw(p);
    for (int64_t i = 0; i < p->n; i++) {
        double w = rt_rel_weight(p->logw[i], max);
        if (w > 0)
            rt_wpairs_push(&ps, p->value[i], w);
    }
    return ps;
}

/* ---- statistics ---- */

double rt_wpairs_mean(const rt_wpairs *ps)
{
    double sw = 0.0, swv = 0.0;
    for (int64_t k = 0; k < ps->len; k++) {
        sw += ps->at[k].w;
        swv += ps->at[k].w * ps->at[k].v;
    }
    return swv / sw;
}

double rt_wpairs_sd(const rt_wpairs *ps, double mean)
{
    double sw = 0.0, swd = 0.0;
    for (int64_t k = 0; k < ps->len; k++) {
        double d = ps->at[k].v - mean;
        sw += ps->at[k].w;
        swd += ps->at[k].w * d * d;
    }
    return sqrt(swd / sw);
}

/* A key whose unsigned order is pair_cmp's order of values: -0 and 0 alike, NaN last. */
static uint64_t sort_key(double v)
{
    uint64_t b;
    if (isnan(v))
        return UINT64_MAX;
    if (v == 0)
        v = 0;
    memcpy(&b, &v, sizeof b);
    return b >> 63 ? ~b : b | 1ull << 63;
}

/* By value, ties in insertion order: an LSD radix sort (stable, 16 bits a pass, passes
 * whose digit is the same for every key skipped) of (key, position) pairs, then the pairs
 * gathered in that order; pairs are pushed in insertion order. */
typedef struct Keyed { uint64_t key; int64_t at; } Keyed;

void rt_wpairs_sort(rt_wpairs *ps)
{
    int64_t n = ps->len;
    if (n < 2)
        return;
    Keyed *a = rt_alloc_atomic(2 * n, sizeof(Keyed), "sort keys"), *from = a, *to = a + n;
    int64_t *count = rt_alloc_atomic(4 << 16, sizeof(int64_t), "sort counts");
    memset(count, 0, sizeof(int64_t) * (4 << 16));
    for (int64_t k = 0; k < n; k++) {
        uint64_t key = sort_key(ps->at[k].v);
        a[k] = (Keyed){ key, k };
        for (int d = 0; d < 4; d++)
            count[d << 16 | (key >> 16 * d & 0xffff)]++;
    }
    for (int d = 0; d < 4; d++) {
        int64_t *c = count + (d << 16), shift = 16 * d;
        if (c[from[0].key >> shift & 0xffff] == n)
            continue;
        for (int64_t b = 0, sum = 0; b < 1 << 16; b++) {
            int64_t m = c[b];
            c[b] = sum;
            sum += m;
        }
        for (int64_t k = 0; k < n; k++)
            to[c[from[k].key >> shift & 0xffff]++] = from[k];
        Keyed *t = from; from = to; to = t;
    }
    rt_wpair *sorted = rt_alloc_atomic(n, sizeof(rt_wpair), "weighted values");
    for (int64_t k = 0; k < n; k++)
        sorted[k] = ps->at[from[k].at];
    memcpy(ps->at, sorted, sizeof(rt_wpair) * (size_t)n);
    GC_FREE(sorted);
    GC_FREE(a);
    GC_FREE(count);
}

/* As all weights are positive, q = 0 gives the smallest value. The total is summed in the
 * same order as the running sum, so q = 1 is reached at the last pair at the latest. */
double rt_wpairs_quantile(const rt_wpairs *ps, double q)
{
    if (ps->len == 0)
        return NAN;
    double total = 0.0, cum = 0.0;
    for (int64_t k = 0; k < ps->len; k++)
        total += ps->at[k].w;
    for (int64_t k = 0; k < ps->len; k++) {
        cum += ps->at[k].w;
        if (cum >= q * total)
            return ps->at[k].v;
    }
    return ps->at[ps->len - 1].v;
}
