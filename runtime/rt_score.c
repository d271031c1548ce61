/* rt_score.c - score mode (rt_score.h): the model's gradient specialization run with its
 * continuous sites taking the coordinates of an unconstrained vector through their
 * supports' transforms, the log-Jacobians joining log p. */
#include <math.h>
#include <string.h>
#include "rt_ad.h"
#include "rt_dist_table.h"
#include "rt_vi_internal.h"

/* log(logistic(u)) + log(1 - logistic(u)) = -|u| - 2 log(1 + exp(-|u|)), without overflow. */
static int64_t log_logistic_jacobian(int64_t u) {
    int64_t a = rt_ad_abs(u);
    int64_t tail = rt_ad_log1p(rt_ad_exp(rt_ad_neg(a)));
    return rt_ad_sub(rt_ad_neg(a), rt_ad_mul(rt_ad_const(2), tail));
}

static int64_t logistic(int64_t u) {
    return rt_ad_div(rt_ad_const(1), rt_ad_add(rt_ad_const(1), rt_ad_exp(rt_ad_neg(u))));
}

/* The site's value from coordinate u, its log-Jacobian in *logj. */
static int64_t constrain(int64_t support, int64_t u, int64_t lo, int64_t hi, int64_t *logj, const char *loc) {
    switch (support) {
    case RT_SUPPORT_REAL: *logj = -1; return u;
    case RT_SUPPORT_POSITIVE: *logj = u; return rt_ad_exp(u);
    case RT_SUPPORT_UNIT: *logj = log_logistic_jacobian(u); return logistic(u);
    case RT_SUPPORT_INTERVAL: {
        if (!(rt_ad_value(lo) < rt_ad_value(hi)))
            rt_failf(loc, "uniform: lo must be below hi, found lo = %g and hi = %g", rt_ad_value(lo), rt_ad_value(hi));
        int64_t width = rt_ad_sub(hi, lo);
        *logj = rt_ad_add(rt_ad_log(width), log_logistic_jacobian(u));
        return rt_ad_add(lo, rt_ad_mul(width, logistic(u)));
    }
    default: return -1;   /* discrete: the caller reports it */
    }
}

int64_t rt_score_site(rt_vi_state *V, int64_t site, int64_t nidx, const int64_t *idx, int64_t support, int64_t lo,
                      int64_t hi, const char *loc) {
    if (V->given) return rt_score_given_site(V, site, nidx, idx, loc);
    int64_t k = V->next_u++;
    int64_t u = V->probing || k >= V->nu ? rt_ad_const(0) : V->u[k];
    int64_t logj, x = constrain(support, u, lo, hi, &logj, loc);
    if (x < 0)
        rt_failf(loc, "score: site '%s' of model '%s' is discrete and has no unconstrained coordinate (give it a "
                 "value, or use a method that samples or enumerates discrete sites)",
                 V->model->site_names[site], V->model->name);
    if (logj >= 0) {
        V->logp = rt_ad_add(V->logp, logj);
        V->part[RT_PART_JACOBIAN] += rt_ad_value(logj);
    }
    V->sites = rt_grow(V->sites, V->nsites, &V->cap, V->nsites + 1, sizeof *V->sites, false);
    V->sites[V->nsites++] = (SiteValue){.site = site, .nidx = 0, .h = x};
    return x;
}

/* One run of the model's specialization in score mode on a fresh tape. */
static int64_t run(const rt_model *m, const void *args, rt_vi_state *V) {
    rt_ctx cx = {.vi = V, .args = args};
    V->model = m;
    V->scoring = true;
    V->logp = rt_ad_const(0);
    V->next_u = V->nsites = 0;
    memset(V->part, 0, sizeof V->part);
    m->model_ad(&cx, args);
    return V->logp;
}

int64_t rt_score_dim(const rt_model *m, const void *args, const char *loc) {
    rt_vi_state V = {.probing = true};
    void *outer = rt_ad_push();
    run(m, args, &V);
    rt_ad_pop(outer);
    return V.next_u;
}

double rt_score(const rt_model *m, const void *args, const double *u, int64_t n, double *grad, double *x,
                rt_score_parts *parts, const char *loc) {
    void *outer = rt_ad_push();
    int64_t *h = rt_alloc(sizeof(int64_t) * (size_t)(n + 1), false);
    for (int64_t k = 0; k < n; k++) h[k] = rt_ad_input(u[k]);
    rt_vi_state V = {.u = h, .nu = n};
    int64_t lp = run(m, args, &V);
    if (V.next_u != n) {
        rt_ad_pop(outer);
        rt_failf(loc, "score: model '%s' met %lld continuous sites where %lld were expected (in score mode the "
                 "sites a run meets must not depend on the values of others)", m->name, (long long)V.next_u,
                 (long long)n);
    }
    if (parts) memcpy(parts->part, V.part, sizeof V.part);
    if (x)
        for (int64_t k = 0; k < n; k++) x[k] = rt_ad_value(V.sites[k].h);
    if (grad) rt_ad_grad(lp, grad, n);
    double v = rt_ad_value(lp);
    rt_ad_pop(outer);
    return v;
}
