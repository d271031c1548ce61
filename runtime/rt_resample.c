/* rt_resample.c - systematic, stratified, multinomial and residual resampling.
 * Each walks the cumulative weights once against sorted points in [0, 1), so all are O(n). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gc.h>
#include "rt_resample.h"
#include "rt.h"

static const char *const scheme_names[] = {
#define X(id, name) name,
    RT_RESAMPLE_SCHEMES(X)
#undef X
};

int rt_resample_lookup(const char *name) {
    for (int i = 0; i < RT_RESAMPLE_COUNT; i++)
        if (strcmp(scheme_names[i], name) == 0) return i;
    return -1;
}

const char *rt_resample_name(int scheme) { return scheme_names[scheme]; }

static double total(const double *w, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += w[i];
    return s;
}

/* Ancestors for sorted points u[0..n) in [0, 1): the index whose cumulative-weight interval
 * holds each point. Zero-weight particles are never chosen. */
static void invert_cdf(const double *w, int64_t n, const double *u, int64_t m, int64_t *anc) {
    double scale = 1.0 / total(w, n), cum = w[0] * scale;
    int64_t j = 0;
    for (int64_t i = 0; i < m; i++) {
        while (u[i] >= cum && j < n - 1) cum += w[++j] * scale;
        while (w[j] == 0 && j > 0) j--;   /* rounding at the top end: back to a live one */
        anc[i] = j;
    }
}

static double *points(int64_t n) { return rt_alloc(sizeof(double) * (size_t)(n > 0 ? n : 0), false); }

/* The points (i + u0) / n, generated on the fly: the hot path of SMC at every step. */
void rt_resample_systematic(const double *w, int64_t n, double u0, int64_t *anc) {
    double step = total(w, n) / (double)n, u = u0 * step, cum = w[0];
    int64_t j = 0;
    for (int64_t i = 0; i < n; i++, u += step) {
        while (u >= cum && j < n - 1) cum += w[++j];
        anc[i] = j;
    }
    for (int64_t i = n - 1; i >= 0 && w[anc[i]] == 0; i--)   /* rounding at the top end */
        while (anc[i] > 0 && w[anc[i]] == 0) anc[i]--;
}

static void stratified(const double *w, int64_t n, rt_rng *rng, int64_t *anc) {
    double *u = points(n);
    for (int64_t i = 0; i < n; i++) u[i] = (i + rt_rng_uniform(rng)) / (double)n;
    invert_cdf(w, n, u, n, anc);
}

/* n sorted uniforms in O(n): normalized partial sums of exponential spacings. */
static void sorted_uniforms(rt_rng *rng, int64_t m, double *u) {
    double s = 0;
    for (int64_t i = 0; i < m; i++) {
        s -= log(rt_rng_uniform(rng));
        u[i] = s;
    }
    s -= log(rt_rng_uniform(rng));
    for (int64_t i = 0; i < m; i++) u[i] /= s;
}

static void multinomial(const double *w, int64_t n, rt_rng *rng, int64_t *anc) {
    double *u = points(n);
    sorted_uniforms(rng, n, u);
    invert_cdf(w, n, u, n, anc);
}

/* floor(n w_i) copies of each particle, the remaining r drawn multinomially from the
 * residual weights n w_i - floor(n w_i); the result is merged back into sorted order. */
static void residual(const double *w, int64_t n, rt_rng *rng, int64_t *anc) {
    double scale = (double)n / total(w, n);
    double *res = points(n);
    int64_t *count = rt_alloc(sizeof(int64_t) * (size_t)n, false), r = n;
    for (int64_t i = 0; i < n; i++) {
        double nw = w[i] * scale;
        count[i] = (int64_t)floor(nw);
        res[i] = nw - (double)count[i];
        r -= count[i];
    }
    if (r > 0) {
        double *u = points(r);
        int64_t *extra = rt_alloc(sizeof(int64_t) * (size_t)r, false);
        sorted_uniforms(rng, r, u);
        invert_cdf(res, n, u, r, extra);
        for (int64_t i = 0; i < r; i++) count[extra[i]]++;
    }
    for (int64_t i = 0, k = 0; i < n; i++)
        for (int64_t c = 0; c < count[i] && k < n; c++) anc[k++] = i;
}

/* ---- offspring counts ---- */

void rt_resample_counts(int scheme, const double *w, int64_t n, rt_rng *rng, int64_t *count)
{
    int64_t *anc = rt_alloc(sizeof(int64_t) * (size_t)n, false);
    rt_resample(scheme, w, n, rng, anc);
    memset(count, 0, sizeof(int64_t) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        count[anc[i]]++;
}

/* The number of points (u0 + i) total / n, i < n, below x, as ceil(x n / total - u0): not
 * bit-for-bit the comparisons of rt_resample_systematic, but monotone in x, which is all the
 * counts need to be valid. */
static int64_t points_below(const rt_systematic *sy, double x)
{
    double v = ceil(x * sy->inv_step - sy->u0);
    return v <= 0 ? 0 : v >= (double)sy->n ? sy->n : (int64_t)v;
}

void rt_systematic_init(rt_systematic *sy, const double *w, int64_t n, double total, double u0)
{
    sy->n = n;
    sy->inv_step = (double)n / total;
    sy->u0 = u0;
    sy->last = n - 1;
    while (sy->last > 0 && w[sy->last] == 0)
        sy->last--;
    sy->rest = n - points_below(sy, total);
}

/* The block's cumulative weights are start plus its own running sum from 0, so its last one is
 * exactly the next block's start when the caller's sums are formed the same way. */
void rt_systematic_block(const rt_systematic *sy, const double *w, int64_t lo, int64_t hi,
                         double start, int64_t *count)
{
    double run = 0;
    int64_t below = points_below(sy, start);
    for (int64_t j = lo; j < hi; j++) {
        run += w[j];
        int64_t next = points_below(sy, start + run);
        count[j] = next - below;
        below = next;
    }
    if (sy->last >= lo && sy->last < hi)
        count[sy->last] += sy->rest;
}

void rt_resample(int scheme, const double *w, int64_t n, rt_rng *rng, int64_t *anc) {
    switch (scheme) {
    case RT_RESAMPLE_SYSTEMATIC: rt_resample_systematic(w, n, rt_rng_uniform(rng), anc); break;
    case RT_RESAMPLE_STRATIFIED: stratified(w, n, rng, anc); break;
    case RT_RESAMPLE_MULTINOMIAL: multinomial(w, n, rng, anc); break;
    default: residual(w, n, rng, anc); break;
    }
}
