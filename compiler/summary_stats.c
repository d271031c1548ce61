/* summary_stats.c - the statistics of `ppl summary`: weighted moments and quantiles, and
 * rank-normalized split R-hat, bulk- and tail-ESS written to agree with R's `posterior`. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fft_halfcomplex.h>
#include <gsl/gsl_fft_real.h>
#include "summary.h"

/* m chains of n draws each: c[k][i]. Split halves point into the caller's draws. */
typedef struct Chains { double *const *c; int m, n; } Chains;

static Chains fresh_chains(Arena *a, int m, int n) {
    double **c = arena_alloc(a, (size_t)m * sizeof *c);
    double *cells = arena_alloc(a, (size_t)m * n * sizeof *cells);
    for (int k = 0; k < m; k++) c[k] = cells + (size_t)k * n;
    return (Chains){c, m, n};
}

/* ---- small helpers over plain arrays ---- */

/* Ascending, NaNs last. */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y)) return (isnan(x) != 0) - (isnan(y) != 0);
    return (x > y) - (x < y);
}

/* Two passes with a long double sum, as R's mean() and var() do. */
static double mean_of(const double *x, int n) {
    long double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return (double)(s / n);
}

static double var_of(const double *x, int n) {
    double m = mean_of(x, n);
    long double s = 0;
    for (int i = 0; i < n; i++) s += (long double)(x[i] - m) * (x[i] - m);
    return (double)(s / (n - 1));
}

/* R's quantile(type = 7): (1 - h) x[lo] + h x[lo + 1] at index (n - 1) p. */
double summary_quantile7(const double *sorted, int n, double p) {
    if (n == 0) return NAN;
    double index = (n - 1) * p;
    int lo = (int)floor(index);
    double h = index - lo, q = sorted[lo];
    if (h > 0 && sorted[lo + 1] != q) q = (1 - h) * q + h * sorted[lo + 1];
    return q;
}

/* All draws of x, sorted. */
static double *sorted_draws(Arena *a, Chains x) {
    double *s = arena_alloc(a, (size_t)x.m * x.n * sizeof *s);
    for (int k = 0; k < x.m; k++) memcpy(s + (size_t)k * x.n, x.c[k], x.n * sizeof *s);
    qsort(s, (size_t)x.m * x.n, sizeof *s, cmp_double);
    return s;
}

/* ---- posterior's building blocks ---- */

static bool any_nan(Chains x) {
    for (int k = 0; k < x.m; k++)
        for (int i = 0; i < x.n; i++)
            if (isnan(x.c[k][i])) return true;
    return false;
}

/* posterior's should_return_NA: a non-finite draw, or max - min below DBL_EPSILON. */
static bool degenerate(Chains x) {
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < x.m; k++)
        for (int i = 0; i < x.n; i++) {
            double v = x.c[k][i];
            if (!isfinite(v)) return true;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    return fabs(hi - lo) < DBL_EPSILON;
}

/* Each chain's first and last floor(n/2) draws as two chains; an odd chain's middle draw
 * is dropped (posterior's .split_chains). A chain of one draw stays whole. */
static Chains split(Arena *a, Chains x) {
    if (x.n < 2) return x;
    int h = x.n / 2;
    double **c = arena_alloc(a, 2 * (size_t)x.m * sizeof *c);
    for (int k = 0; k < x.m; k++) {
        c[k] = x.c[k];
        c[x.m + k] = x.c[k] + (x.n - h);
    }
    return (Chains){c, 2 * x.m, h};
}

typedef struct Ranked { double v; int k, i; } Ranked;

static int cmp_ranked(const void *a, const void *b) {
    return cmp_double(&((const Ranked *)a)->v, &((const Ranked *)b)->v);
}

/* Rank normalization: the pooled rank r of each draw (ties get their average rank), then
 * the normal quantile of (r - 3/8) / (S + 1/4) for S draws in all. */
static Chains z_scale(Arena *a, Chains x) {
    int S = x.m * x.n;
    Ranked *r = arena_alloc(a, (size_t)S * sizeof *r);
    for (int k = 0, j = 0; k < x.m; k++)
        for (int i = 0; i < x.n; i++) r[j++] = (Ranked){x.c[k][i], k, i};
    qsort(r, (size_t)S, sizeof *r, cmp_ranked);
    Chains z = fresh_chains(a, x.m, x.n);
    for (int lo = 0, hi; lo < S; lo = hi) {
        for (hi = lo + 1; hi < S && r[hi].v == r[lo].v;) hi++;
        double rank = (lo + 1 + hi) / 2.0;   /* the average of ranks lo+1 .. hi */
        double u = (rank - 0.375) / (S + 0.25);
        for (int j = lo; j < hi; j++) z.c[r[j].k][r[j].i] = gsl_cdf_ugaussian_Pinv(u);
    }
    return z;
}

/* |x - median|, the median taken over all draws (posterior's fold_draws). */
static Chains fold(Arena *a, Chains x) {
    double med = summary_quantile7(sorted_draws(a, x), x.m * x.n, 0.5);
    Chains f = fresh_chains(a, x.m, x.n);
    for (int k = 0; k < x.m; k++)
        for (int i = 0; i < x.n; i++) f.c[k][i] = fabs(x.c[k][i] - med);
    return f;
}

static Chains indicator(Arena *a, Chains x, double q) {
    Chains f = fresh_chains(a, x.m, x.n);
    for (int k = 0; k < x.m; k++)
        for (int i = 0; i < x.n; i++) f.c[k][i] = x.c[k][i] <= q;
    return f;
}

/* ---- autocovariance and Geyer's initial monotone sequence ---- */

/* Adds (1/n) sum_i (x_i - mean)(x_{i+t} - mean), t = 0 .. n-1, to acov: the real FFT of
 * the centred chain padded with zeros to M >= 2n points (GSL's half-complex layout: work[j]
 * and work[M - j] are the real and imaginary parts of coefficient j), its power spectrum,
 * the FFT back. A chain of equal draws adds nothing (as in posterior's autocovariance). */
static void add_autocovariance(const double *x, int n, double *work, size_t M, double *acov) {
    double mu = mean_of(x, n);
    bool constant = true;
    memset(work, 0, M * sizeof *work);
    for (int i = 0; i < n; i++) {
        work[i] = x[i] - mu;
        constant = constant && x[i] == x[0];
    }
    if (constant) return;
    gsl_fft_real_radix2_transform(work, 1, M);
    work[0] *= work[0];
    work[M / 2] *= work[M / 2];
    for (size_t j = 1; j < M / 2; j++) {
        work[j] = work[j] * work[j] + work[M - j] * work[M - j];
        work[M - j] = 0;
    }
    gsl_fft_halfcomplex_radix2_backward(work, 1, M);   /* unnormalized: M times the sums */
    for (int t = 0; t < n; t++) acov[t] += work[t] / ((double)M * n);
}

/* The autocovariances averaged over chains. */
static double *mean_autocovariance(Arena *a, Chains x) {
    size_t M = 2;
    while (M < 2 * (size_t)x.n) M *= 2;
    double *work = arena_alloc(a, M * sizeof *work);
    double *acov = arena_alloc(a, (size_t)x.n * sizeof *acov);
    for (int k = 0; k < x.m; k++) add_autocovariance(x.c[k], x.n, work, M, acov);
    for (int t = 0; t < x.n; t++) acov[t] /= x.m;
    return acov;
}

/* The within-chain variance plus the variance of the chain means (posterior's var_plus). */
static double var_plus(Arena *a, Chains x, double mean_var) {
    double v = mean_var * (x.n - 1) / x.n;
    if (x.m < 2) return v;
    double *means = arena_alloc(a, (size_t)x.m * sizeof *means);
    for (int k = 0; k < x.m; k++) means[k] = mean_of(x.c[k], x.n);
    return v + var_of(means, x.m);
}

/* Autocorrelations rho[0..] summed in pairs while a pair's sum stays positive (Geyer's
 * initial positive sequence); returns max_t, the index of the first pair left out. */
static int positive_sequence(const double *acov, int n, double mean_var, double vp, double *rho) {
    int t = 0;
    double even = 1, odd = 1 - (mean_var - acov[1]) / vp;
    rho[0] = even;
    rho[1] = odd;
    while (t < n - 5 && !isnan(even + odd) && even + odd > 0) {
        t += 2;
        even = 1 - (mean_var - acov[t]) / vp;
        odd = 1 - (mean_var - acov[t + 1]) / vp;
        if (even + odd >= 0) {
            rho[t] = even;
            rho[t + 1] = odd;
        }
    }
    if (even > 0) rho[t] = even;
    return t;
}

/* Geyer's initial monotone sequence: no pair sum exceeds the one before it. */
static void make_monotone(double *rho, int max_t) {
    for (int t = 2; t <= max_t - 2; t += 2)
        if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
            rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
            rho[t + 1] = rho[t];
        }
}

/* posterior's .ess: S / tau for S draws, tau = -1 + 2 sum rho[0 .. max_t-1] + rho[max_t],
 * tau at least 1 / log10(S). (With max_t = 0 the sum is rho[0]: R's rho[1:0].) */
static double ess_raw(Arena *a, Chains x) {
    if (x.n < 3 || degenerate(x)) return NAN;
    double *acov = mean_autocovariance(a, x);
    double mean_var = acov[0] * x.n / (x.n - 1);
    double *rho = arena_alloc(a, (size_t)x.n * sizeof *rho);
    int max_t = positive_sequence(acov, x.n, mean_var, var_plus(a, x, mean_var), rho);
    make_monotone(rho, max_t);
    double sum = max_t == 0 ? rho[0] : 0, S = (double)x.m * x.n;
    for (int t = 0; t < max_t; t++) sum += rho[t];
    double tau = -1 + 2 * sum + rho[max_t];
    return S / fmax(tau, 1 / log10(S));
}

/* posterior's .rhat: sqrt((B/W + n - 1) / n), B = n var(chain means), W = mean chain var. */
static double rhat_raw(Arena *a, Chains x) {
    if (x.n < 2 || degenerate(x)) return NAN;
    double *means = arena_alloc(a, (size_t)x.m * sizeof *means), w = 0;
    for (int k = 0; k < x.m; k++) {
        means[k] = mean_of(x.c[k], x.n);
        w += var_of(x.c[k], x.n) / x.m;
    }
    double b = x.m > 1 ? x.n * var_of(means, x.m) : NAN;
    return sqrt((b / w + x.n - 1) / x.n);
}

/* ---- the diagnostics ---- */

double summary_ess_bulk(double *const *chains, int nchains, int ndraws) {
    Chains x = {chains, nchains, ndraws};
    if (any_nan(x)) return NAN;
    Arena a = {0};
    double ess = ess_raw(&a, z_scale(&a, split(&a, x)));
    arena_free(&a);
    return ess;
}

double summary_ess_basic(double *const *chains, int nchains, int ndraws) {
    Arena a = {0};
    double ess = ess_raw(&a, split(&a, (Chains){chains, nchains, ndraws}));
    arena_free(&a);
    return ess;
}

/* The ESS of the indicator draws I(x <= q05) and I(x <= q95), whichever is smaller. */
double summary_ess_tail(double *const *chains, int nchains, int ndraws) {
    Chains x = {chains, nchains, ndraws};
    if (degenerate(x)) return NAN;
    Arena a = {0};
    double *s = sorted_draws(&a, x);
    int S = nchains * ndraws;
    double lo = ess_raw(&a, split(&a, indicator(&a, x, summary_quantile7(s, S, 0.05))));
    double hi = ess_raw(&a, split(&a, indicator(&a, x, summary_quantile7(s, S, 0.95))));
    arena_free(&a);
    return isnan(lo) || isnan(hi) ? NAN : fmin(lo, hi);
}

/* The larger of the rank-normalized split R-hat of the draws and of the folded draws. */
double summary_rhat(double *const *chains, int nchains, int ndraws) {
    Chains x = {chains, nchains, ndraws};
    if (any_nan(x)) return NAN;
    Arena a = {0};
    double bulk = rhat_raw(&a, z_scale(&a, split(&a, x)));
    double tail = rhat_raw(&a, z_scale(&a, split(&a, fold(&a, x))));
    arena_free(&a);
    return isnan(bulk) || isnan(tail) ? NAN : fmax(bulk, tail);
}

/* ---- the rows of the table ---- */

/* Mean, sd (n - 1) and quantiles of the n sorted values s. */
static void pooled_moments(const double *s, int n, SummaryStats *st) {
    st->mean = mean_of(s, n);
    st->sd = n > 1 ? sqrt(var_of(s, n)) : NAN;
    st->q05 = summary_quantile7(s, n, 0.05);
    st->q50 = summary_quantile7(s, n, 0.5);
    st->q95 = summary_quantile7(s, n, 0.95);
}

SummaryStats summary_unweighted(double *const *chains, int nchains, int ndraws) {
    SummaryStats st;
    Arena a = {0};
    double *s = sorted_draws(&a, (Chains){chains, nchains, ndraws});
    int n = nchains * ndraws;
    while (n > 0 && isnan(s[n - 1])) n--;   /* NaNs sort last */
    pooled_moments(s, n, &st);
    arena_free(&a);
    st.ess = summary_ess_bulk(chains, nchains, ndraws);
    st.ess_tail = summary_ess_tail(chains, nchains, ndraws);
    st.rhat = summary_rhat(chains, nchains, ndraws);
    st.mcse = st.sd / sqrt(summary_ess_basic(chains, nchains, ndraws));
    return st;
}

/* ---- weighted draws ---- */

typedef struct WDraw { double v, w; int order; } WDraw;

static int cmp_wdraw(const void *a, const void *b) {
    const WDraw *x = a, *y = b;
    int c = cmp_double(&x->v, &y->v);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Appends a file's draws that have a value and a positive weight, their weights
 * exp(logw - max) scaled to sum to 1, and adds the file's Kish ESS to *ess. */
static int add_file(const double *x, const double *lw, int n, WDraw *out, int len, double *ess) {
    double max = -INFINITY, sw = 0, sw2 = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i]) && lw[i] > max) max = lw[i];
    if (max == -INFINITY) return len;
    int first = len;
    for (int i = 0; i < n; i++) {
        double w = isnan(x[i]) ? 0 : exp(lw[i] - max);
        if (!(w > 0)) continue;             /* also a NaN log weight */
        out[len] = (WDraw){x[i], w, len};
        len++;
        sw += w, sw2 += w * w;
    }
    if (len == first) return len;
    for (int j = first; j < len; j++) out[j].w /= sw;
    *ess += sw * sw / sw2;
    return len;
}

/* The first value whose cumulative weight reaches q of the total (as rt_posterior.c). */
static double weighted_quantile(const WDraw *d, int n, double total, double q) {
    double cum = 0;
    for (int j = 0; j < n; j++) {
        cum += d[j].w;
        if (cum >= q * total) return d[j].v;
    }
    return n ? d[n - 1].v : NAN;
}

/* Weighted mean and sd (without a bias correction), then quantiles; sorts d. */
static void weighted_moments(WDraw *d, int n, SummaryStats *st) {
    double sw = 0, swv = 0, swd = 0;
    for (int j = 0; j < n; j++) sw += d[j].w, swv += d[j].w * d[j].v;
    st->mean = swv / sw;
    for (int j = 0; j < n; j++) swd += d[j].w * (d[j].v - st->mean) * (d[j].v - st->mean);
    st->sd = sqrt(swd / sw);
    qsort(d, (size_t)n, sizeof *d, cmp_wdraw);
    st->q05 = weighted_quantile(d, n, sw, 0.05);
    st->q50 = weighted_quantile(d, n, sw, 0.5);
    st->q95 = weighted_quantile(d, n, sw, 0.95);
}

SummaryStats summary_weighted(double *const *x, double *const *logw, const int *ndraws,
                              int nfiles) {
    SummaryStats st = {.ess = 0, .ess_tail = NAN, .rhat = NAN};
    Arena a = {0};
    size_t total = 0;
    for (int f = 0; f < nfiles; f++) total += ndraws[f];
    WDraw *d = arena_alloc(&a, (total ? total : 1) * sizeof *d);
    int n = 0;
    for (int f = 0; f < nfiles; f++) n = add_file(x[f], logw[f], ndraws[f], d, n, &st.ess);
    weighted_moments(d, n, &st);
    st.mcse = st.sd / sqrt(st.ess);
    arena_free(&a);
    return st;
}
