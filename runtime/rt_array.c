/* rt_array.c - runtime arrays: allocation through the GC (atomic for numbers, traced for
 * arrays of pointers) and the reductions generated code calls (sum, mean, min, max, logsumexp). */
#include <math.h>
#include <string.h>
#include <gc.h>
#include "rt.h"

void *rt_alloc(size_t bytes, bool traced)
{
    size_t n = bytes ? bytes : 1;
    void *p = traced ? GC_MALLOC(n) : GC_MALLOC_ATOMIC(n);
    if (!p)
        rt_failf(NULL, "out of memory allocating %zu bytes", bytes);
    if (!traced)
        memset(p, 0, n);   /* GC_MALLOC zeroes; GC_MALLOC_ATOMIC does not */
    return p;
}

/* count elements of elem bytes: a count whose size does not fit (it would wrap around) is a
 * runtime error at loc that names what was being allocated, not a small allocation. */
void *rt_alloc_n(int64_t count, size_t elem, bool traced, const char *what, const char *loc)
{
    size_t bytes;
    if (count < 0 || __builtin_mul_overflow((size_t)count, elem, &bytes) || bytes > PTRDIFF_MAX)
        rt_failf(loc, "too many %s (%lld of %zu bytes each)", what, (long long)count, elem);
    return rt_alloc(bytes, traced);
}

void *rt_grow(void *p, int64_t len, int64_t *cap, int64_t need, size_t elem, bool traced)
{
    if (need <= *cap)
        return p;
    int64_t c = *cap > 0 ? *cap : 4;
    while (c < need)
        c = c > INT64_MAX / 2 ? need : 2 * c;
    void *q = rt_alloc_n(c, elem, traced, "elements", NULL);
    if (len)
        memcpy(q, p, elem * (size_t)len);
    *cap = c;
    return q;
}

/* Allocates an array of `len` zeroed 8-byte elements; a negative length counts as 0.
 * Arrays whose elements are pointers must be traced by the collector, others need not be. */
rt_array *rt_array_new(int64_t len, int64_t has_pointers)
{
    if (len < 0)
        len = 0;
    if (len > (INT64_MAX - RT_ARRAY_HEADER) / 8 / 2)
        rt_failf(NULL, "array of length %lld is too large", (long long)len);
    size_t size = RT_ARRAY_HEADER + 8 * (size_t)len;
    rt_array *a = has_pointers ? GC_MALLOC(size) : GC_MALLOC_ATOMIC(size);
    if (!a)
        rt_failf(NULL, "out of memory allocating an array of length %lld", (long long)len);
    if (!has_pointers)
        memset(a, 0, size);   /* GC_malloc zeroes; GC_malloc_atomic does not */
    a->len = len;
    return a;
}

/* The length of a comprehension over lo .. hi (0 when hi <= lo). hi - lo can exceed
 * INT64_MAX (it would wrap to a small or negative length, and the loop would write past the
 * array), so it is computed unsigned and checked against the longest array there can be. */
int64_t rt_range_len(int64_t lo, int64_t hi, const char *loc)
{
    if (hi <= lo)
        return 0;
    uint64_t n = (uint64_t)hi - (uint64_t)lo;
    if (n > (uint64_t)(INT64_MAX - RT_ARRAY_HEADER) / 8 / 2)
        rt_failf(loc, "the range %lld .. %lld has %llu elements, too many for an array", (long long)lo,
                 (long long)hi, (unsigned long long)n);
    return (int64_t)n;
}

rt_array *rt_array_copy(const rt_array *a, int64_t has_pointers)
{
    rt_array *b = rt_array_new(a->len, has_pointers);
    memcpy(b->at.i, a->at.i, 8 * (size_t)a->len);
    return b;
}

/* Left to right, so the result is the same on every run and thread count. */
double rt_sum_real(const rt_array *a)
{
    double s = 0.0;
    for (int64_t k = 0; k < a->len; k++)
        s += a->at.d[k];
    return s;
}

/* Wraps on overflow, like ppl's integer `+` (unsigned arithmetic keeps it defined). */
int64_t rt_sum_int(const rt_array *a)
{
    uint64_t s = 0;
    for (int64_t k = 0; k < a->len; k++)
        s += (uint64_t)a->at.i[k];
    return (int64_t)s;
}

static void need_nonempty(const rt_array *a, const char *what, const char *loc)
{
    if (a->len == 0)
        rt_failf(loc, "%s of an empty array", what);
}

double rt_mean_real(const rt_array *a, const char *loc)
{
    need_nonempty(a, "mean", loc);
    return rt_sum_real(a) / (double)a->len;
}

/* Sums in 128 bits so the mean of large ints does not overflow. */
double rt_mean_int(const rt_array *a, const char *loc)
{
    need_nonempty(a, "mean", loc);
    __int128 s = 0;
    for (int64_t k = 0; k < a->len; k++)
        s += a->at.i[k];
    return (double)s / (double)a->len;
}

/* min and max of reals propagate NaN: a NaN anywhere makes the result NaN. */
double rt_min_real(const rt_array *a, const char *loc)
{
    need_nonempty(a, "min", loc);
    double m = a->at.d[0];
    for (int64_t k = 1; k < a->len && !isnan(m); k++)
        if (a->at.d[k] < m || isnan(a->at.d[k]))
            m = a->at.d[k];
    return m;
}

double rt_max_real(const rt_array *a, const char *loc)
{
    need_nonempty(a, "max", loc);
    double m = a->at.d[0];
    for (int64_t k = 1; k < a->len && !isnan(m); k++)
        if (a->at.d[k] > m || isnan(a->at.d[k]))
            m = a->at.d[k];
    return m;
}

int64_t rt_min_int(const rt_array *a, const char *loc)
{
    need_nonempty(a, "min", loc);
    int64_t m = a->at.i[0];
    for (int64_t k = 1; k < a->len; k++)
        if (a->at.i[k] < m)
            m = a->at.i[k];
    return m;
}

int64_t rt_max_int(const rt_array *a, const char *loc)
{
    need_nonempty(a, "max", loc);
    int64_t m = a->at.i[0];
    for (int64_t k = 1; k < a->len; k++)
        if (a->at.i[k] > m)
            m = a->at.i[k];
    return m;
}

/* log(sum(exp(x))) computed as m + log1p(sum over the others of exp(x - m)), m = max x.
 * Empty or all -inf gives -inf; any +inf gives +inf; any NaN gives NaN. */
double rt_logsumexp(const rt_array *a)
{
    if (a->len == 0)
        return -INFINITY;
    int64_t arg = 0;
    for (int64_t k = 0; k < a->len; k++) {
        if (isnan(a->at.d[k]))
            return a->at.d[k];
        if (a->at.d[k] > a->at.d[arg])
            arg = k;
    }
    double m = a->at.d[arg];
    if (isinf(m))
        return m;
    double s = 0.0;
    for (int64_t k = 0; k < a->len; k++)
        if (k != arg)
            s += exp(a->at.d[k] - m);
    return m + log1p(s);
}
