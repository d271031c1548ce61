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

static int pair_cmp(const void *a, const void *b)
{
    const rt_wpair *x = a, *y = b;
    if (x->v < y->v)
        return -1;
    if (x->v > y->v)
        return 1;
    if (isnan(x->v) != isnan(y->v))
        return isnan(x->v) ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

void rt_wpairs_sort(rt_wpairs *ps)
{
    if (ps->len > 1)
        qsort(ps->at, (size_t)ps->len, sizeof(rt_wpair), pair_cmp);
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
