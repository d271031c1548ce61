/* rt_observe.c - observations of whole arrays (`observe ys ~ normal(mus, sigma)`): the sum of
 * the elements' log densities, as one weight term, or as one tape node in gradient code. */
#include "rt.h"
#include "rt_ad.h"
#include "rt_dist.h"

/* A parameter given as an array must have the values' length. */
static void check_length(const rt_array *y, const rt_array *param, const char *name, const char *loc)
{
    if (param && param->len != y->len)
        rt_failf(loc, "observe: the observed array has %lld elements, but '%s' has %lld",
                 (long long)y->len, name, (long long)param->len);
}

/* ---- ordinary code: a parameter is an array of doubles, or NULL and the scalar ---- */

double rt_obs_normal(const rt_array *y, const rt_array *mu, double mu1, double sigma, const char *loc)
{
    check_length(y, mu, "loc", loc);
    double s = 0;
    for (int64_t k = 0; k < y->len; k++)
        s += rt_lpdf_normal(y->at.d[k], mu ? mu->at.d[k] : mu1, sigma, loc);
    return s;
}

double rt_obs_bernoulli_logit(const rt_array *y, const rt_array *eta, double eta1, const char *loc)
{
    check_length(y, eta, "logit_p", loc);
    double s = 0;
    for (int64_t k = 0; k < y->len; k++)
        s += rt_lpdf_bernoulli_logit(y->at.i[k], eta ? eta->at.d[k] : eta1, loc);
    return s;
}

/* ---- gradient specializations: reals are tape handles ---- */

/* The handles of an array parameter, or n copies of the scalar's (the node adds up the
 * partials of repeated operands, so a broadcast scalar gets the sum). */
static const int64_t *handles(const rt_array *a, int64_t h, int64_t n)
{
    if (a)
        return a->at.i;
    int64_t *hs = rt_alloc(sizeof(int64_t) * (size_t)(n + 1), false);
    for (int64_t k = 0; k < n; k++)
        hs[k] = h;
    return hs;
}

/* One rt_ad_sum_lpdf_normal node when the observed values are constants (data), as they
 * nearly always are; otherwise a node per element, so gradients reach the values too. */
int64_t rt_vi_obs_normal(const rt_array *y, const rt_array *mu, int64_t mu1, int64_t sigma, const char *loc)
{
    check_length(y, mu, "loc", loc);
    int64_t n = y->len;
    const int64_t *m = handles(mu, mu1, n);
    bool constant = true;
    for (int64_t k = 0; k < n && constant; k++)
        constant = rt_ad_is_const(y->at.i[k]);
    if (!constant) {
        int64_t *terms = rt_alloc(sizeof(int64_t) * (size_t)(n + 1), false);
        for (int64_t k = 0; k < n; k++)
            terms[k] = rt_ad_lpdf_normal(y->at.i[k], m[k], sigma, loc);
        return rt_ad_sum(terms, n);
    }
    double *ys = rt_alloc(sizeof(double) * (size_t)(n + 1), false);
    for (int64_t k = 0; k < n; k++)
        ys[k] = rt_ad_value(y->at.i[k]);
    return rt_ad_sum_lpdf_normal(ys, m, n, sigma, loc);
}

int64_t rt_vi_obs_bernoulli_logit(const rt_array *y, const rt_array *eta, int64_t eta1, const char *loc)
{
    check_length(y, eta, "logit_p", loc);
    return rt_ad_sum_lpmf_bernoulli_logit(y->at.i, handles(eta, eta1, y->len), y->len, loc);
}
