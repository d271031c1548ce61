/* rt_diagnose.c - honest diagnostics of a posterior: the Pareto-smoothed importance sampling
 * shape k-hat of its weights (Vehtari, Simpson, Gelman, Yao and Gabry), and the warnings a
 * summary and model mode print when the weights, or SMC's lineages, leave few real draws. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "rt_infer.h"

/* ---- the largest m + 1 log weights, by a min-heap (n log m, no full sort) ---- */

static void sift_down(double *h, int64_t n, int64_t i) {
    for (;;) {
        int64_t l = 2 * i + 1, r = l + 1, s = i;
        if (l < n && h[l] < h[s]) s = l;
        if (r < n && h[r] < h[s]) s = r;
        if (s == i) return;
        double t = h[i];
        h[i] = h[s], h[s] = t;
        i = s;
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The k largest of x[0 .. n) (k <= n) into top, ascending. */
static void largest(const double *x, int64_t n, int64_t k, double *top) {
    for (int64_t i = 0; i < k; i++) top[i] = x[i];
    for (int64_t i = k / 2 - 1; i >= 0; i--) sift_down(top, k, i);
    for (int64_t i = k; i < n; i++)
        if (x[i] > top[0]) {
            top[0] = x[i];
            sift_down(top, k, 0);
        }
    qsort(top, (size_t)k, sizeof *top, cmp_double);
}

/* ---- the generalized Pareto fit (Zhang and Stephens 2009, with the weakly informative
 * prior of Vehtari et al.), as the loo and ArviZ packages compute it ---- */

/* The shape k of a generalized Pareto fitted to the exceedances x[0 .. n), ascending. */
static double gpd_shape(const double *x, int64_t n) {
    enum { PRIOR_BS = 3, PRIOR_K = 10 };
    int64_t m = 30 + (int64_t)sqrt((double)n);
    double b[m], l[m], w[m], xq = x[(int64_t)((double)n / 4 + 0.5) - 1];
    for (int64_t j = 0; j < m; j++) {
        b[j] = (1 - sqrt((double)m / ((double)j + 0.5))) / (PRIOR_BS * xq) + 1 / x[n - 1];
        double k = 0;
        for (int64_t i = 0; i < n; i++) k += log1p(-b[j] * x[i]);
        k /= (double)n;
        l[j] = (double)n * (log(-b[j] / k) - k - 1);
    }
    double bpost = 0, wsum = 0;
    for (int64_t j = 0; j < m; j++) {
        double s = 0;
        for (int64_t i = 0; i < m; i++) s += exp(l[i] - l[j]);
        w[j] = 1 / s;
        if (w[j] < 10 * 2.220446049250313e-16) w[j] = 0;   /* negligible weights */
        wsum += w[j];
    }
    for (int64_t j = 0; j < m; j++) bpost += b[j] * w[j] / wsum;
    double k = 0;
    for (int64_t i = 0; i < n; i++) k += log1p(-bpost * x[i]);
    k /= (double)n;
    return ((double)n * k + PRIOR_K * 0.5) / ((double)n + PRIOR_K);
}

double rt_pareto_khat(const double *logw, int64_t n) {
    int64_t tail = (int64_t)ceil(fmin(0.2 * (double)n, 3 * sqrt((double)n)));
    if (tail <= 4 || tail + 1 > n) return NAN;
    double *top = rt_alloc(sizeof(double) * (size_t)(tail + 1), false);
    largest(logw, n, tail + 1, top);
    double max = top[tail], cut = top[0] - max;
    if (max == -INFINITY) return NAN;
    if (cut < log(2.2250738585072014e-308)) cut = log(2.2250738585072014e-308);
    double *x = top + 1, ecut = exp(cut);
    int64_t k = 0;
    for (int64_t i = 0; i < tail; i++)
        if (x[i] - max > cut) x[k++] = exp(x[i] - max) - ecut;   /* still ascending */
    if (k <= 4) return NAN;
    return gpd_shape(x, k);
}

/* ---- warnings ---- */

int rt_post_warnings(const rt_posterior *p, char lines[][RT_WARNING_MAX], int max) {
    int n = 0;
    if (p->dead || !strcmp(p->method, "enumerate")) return 0;
    double part = (double)p->n;
    if (n < max && p->n >= 100 && p->ess < 0.01 * part)
        snprintf(lines[n++], RT_WARNING_MAX, "warning: the ESS is %.3g of %lld particles: the estimates rest on a "
                 "few heavy particles", p->ess, (long long)p->n);
    if (n < max && p->khat > 0.7)
        snprintf(lines[n++], RT_WARNING_MAX, "warning: the Pareto k-hat of the weights is %.2f > 0.7: their tail is "
                 "too heavy for the estimates to be trusted (the proposal misses the posterior's mass)", p->khat);
    if (n < max && p->ancestors >= 0 && p->n >= 100 && (double)p->ancestors < 0.01 * part)
        snprintf(lines[n++], RT_WARNING_MAX, "warning: the %lld particles descend from %lld distinct first-step "
                 "particle%s: the early sites have that many distinct values", (long long)p->n,
                 (long long)p->ancestors, p->ancestors == 1 ? "" : "s");
    if (n < max && p->ancestors >= 0 && p->n >= 100 && p->min_ess < 0.01 * part)
        snprintf(lines[n++], RT_WARNING_MAX, "warning: the ESS fell to %.3g of %lld particles at a step (the final "
                 "ESS is measured after the last resampling)", p->min_ess, (long long)p->n);
    return n;
}
