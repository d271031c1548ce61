/* rt_dist.c - samplers and log densities for RT_DISTRIBUTIONS. Samplers use GSL's tested
 * algorithms on a Philox stream (the normal family our ziggurat, rt_normal.c); log densities
 * are computed in log space from the formula. */
#include <math.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include "rt_dist.h"

#define LOG_SQRT_2PI 0.91893853320467274178   /* log(sqrt(2 pi)) */
#define LOG_PI       1.14472988584940017414   /* log(pi) */
#define POISSON_MAX  1073741824.0             /* 2^30: gsl_ran_poisson returns unsigned int */

/* ---- parameter checks: each failure names the distribution and the parameter ---- */

static void need_finite(const char *dist, const char *param, double v, const char *loc)
{
    if (!isfinite(v))
        rt_failf(loc, "%s: %s must be finite, found %g", dist, param, v);
}

static void need_positive(const char *dist, const char *param, double v, const char *loc)
{
    if (!(v > 0) || isinf(v))
        rt_failf(loc, "%s: %s must be finite and positive, found %g", dist, param, v);
}

static void need_prob(const char *dist, const char *param, double v, const char *loc)
{
    if (!(v >= 0 && v <= 1))
        rt_failf(loc, "%s: %s must be in [0, 1], found %g", dist, param, v);
}

static void need_not_nan(const char *dist, const char *param, double v, const char *loc)
{
    if (isnan(v))
        rt_failf(loc, "%s: %s must not be NaN", dist, param);
}

static void check_loc_scale(const char *dist, double mu, double sigma, const char *loc)
{
    need_finite(dist, "loc", mu, loc);
    need_positive(dist, "scale", sigma, loc);
}

/* ---- log-space helpers ---- */

static double lgam(double x)    /* lgamma without the global signgam (thread-safe) */
{
    int sign;
    return lgamma_r(x, &sign);
}

/* lgamma(z) - Stirling's approximation, for z >= 10 (error below 1e-14 there). */
static double stirling_corr(double z)
{
    double w = 1 / (z * z);
    return (1.0 / 12 + w * (-1.0 / 360 + w * (1.0 / 1260 + w * (-1.0 / 1680 + w / 1188)))) / z;
}

/* log B(a, b) for a, b > 0. Summing lgammas cancels badly when an argument is large, so
 * the Stirling parts are cancelled analytically (as Stan's lbeta does). GSL's lnbeta is
 * not used: at extreme arguments it calls the GSL error handler, which aborts. */
static double lbeta(double a, double b)
{
    double x = fmin(a, b), y = fmax(a, b), s = x + y;
    if (y < 10)
        return lgam(x) + lgam(y) - lgam(s);
    double corr = stirling_corr(y) - stirling_corr(s);
    if (x < 10)
        return lgam(x) + corr + x - x * log(s) - (y - 0.5) * log1p(x / y);
    corr += stirling_corr(x);
    return LOG_SQRT_2PI - 0.5 * log(y) + corr + (x - 0.5) * log(x / s) + y * log1p(-x / s);
}

static double xlogy(double x, double y)      /* x log y, with 0 log 0 = 0 */
{
    return x == 0 ? 0 : x * log(y);
}

static double xlog1py(double x, double y)    /* x log(1 + y), with 0 log 0 = 0 */
{
    return x == 0 ? 0 : x * log1p(y);
}

static double log_inv_logit(double x)        /* log(1 / (1 + exp(-x))) without overflow */
{
    return x < 0 ? x - log1p(exp(x)) : -log1p(exp(-x));
}

static double no_nan(double lp)              /* last guard for overflow at absurd parameters */
{
    return isnan(lp) ? -INFINITY : lp;
}

static double check_value(const char *dist, double x, const char *loc)
{
    need_not_nan(dist, "the value", x, loc);
    return x;
}

/* ---- continuous distributions ---- */

/* log(sigma), remembered per thread: models observe many values under one scale, and the
 * logarithm would otherwise dominate the density's cost. Exact: the same bits either way. */
static double log_scale(double sigma)
{
    static __thread double last_sigma = 1.0, last_log = 0.0;
    if (sigma != last_sigma) {
        last_sigma = sigma;
        last_log = log(sigma);
    }
    return last_log;
}

static double normal_lpdf(double x, double mu, double sigma)
{
    double z = (x - mu) / sigma;
    return -0.5 * z * z - log_scale(sigma) - LOG_SQRT_2PI;
}

double rt_sample_normal(rt_rng *r, double mu, double sigma, const char *loc)
{
    check_loc_scale("normal", mu, sigma, loc);
    return mu + sigma * rt_rng_normal(r);
}

double rt_lpdf_normal(double x, double mu, double sigma, const char *loc)
{
    check_loc_scale("normal", mu, sigma, loc);
    return normal_lpdf(check_value("normal", x, loc), mu, sigma);
}

double rt_sample_lognormal(rt_rng *r, double mu, double sigma, const char *loc)
{
    check_loc_scale("lognormal", mu, sigma, loc);
    return exp(mu + sigma * rt_rng_normal(r));
}

double rt_lpdf_lognormal(double x, double mu, double sigma, const char *loc)
{
    check_loc_scale("lognormal", mu, sigma, loc);
    if (!(check_value("lognormal", x, loc) > 0) || isinf(x))
        return -INFINITY;
    double lx = log(x);
    return normal_lpdf(lx, mu, sigma) - lx;
}

static void check_uniform(double lo, double hi, const char *loc)
{
    need_finite("uniform", "lo", lo, loc);
    need_finite("uniform", "hi", hi, loc);
    if (!(lo < hi))
        rt_failf(loc, "uniform: lo must be less than hi, found lo = %g, hi = %g", lo, hi);
}

double rt_sample_uniform(rt_rng *r, double lo, double hi, const char *loc)
{
    check_uniform(lo, hi, loc);
    double u = rt_rng_uniform(r), w = hi - lo;
    if (isfinite(w))
        return fmin(lo + w * u, hi);
    return fmax(lo, fmin(lo * (1 - u) + hi * u, hi));   /* hi - lo overflowed */
}

double rt_lpdf_uniform(double x, double lo, double hi, const char *loc)
{
    check_uniform(lo, hi, loc);
    if (check_value("uniform", x, loc) < lo || x > hi)
        return -INFINITY;
    double w = hi - lo;
    return isfinite(w) ? -log(w) : -log(0.5 * hi - 0.5 * lo) - M_LN2;
}

static void check_beta(double a, double b, const char *loc)
{
    need_positive("beta", "a", a, loc);
    need_positive("beta", "b", b, loc);
}

/* When both shapes are so small that 1/a and 1/b overflow, GSL's Johnk branch computes
 * -inf - -inf; Beta(a, b) is then Bernoulli(a / (a + b)) to double precision. */
double rt_sample_beta(rt_rng *r, double a, double b, const char *loc)
{
    check_beta(a, b, loc);
    gsl_rng g;
    double x = gsl_ran_beta(rt_rng_gsl(r, &g), a, b);
    if (isnan(x))
        x = rt_rng_uniform(r) < a / (a + b);
    return x;
}

double rt_lpdf_beta(double x, double a, double b, const char *loc)
{
    check_beta(a, b, loc);
    if (check_value("beta", x, loc) < 0 || x > 1)
        return -INFINITY;
    return no_nan(xlogy(a - 1, x) + xlog1py(b - 1, -x) - lbeta(a, b));
}

static void check_gamma(double shape, double rate, const char *loc)
{
    need_positive("gamma", "shape", shape, loc);
    need_positive("gamma", "rate", rate, loc);
}

/* GSL takes a scale; dividing a unit-scale draw by the rate avoids 0 * inf at tiny rates. */
double rt_sample_gamma(rt_rng *r, double shape, double rate, const char *loc)
{
    check_gamma(shape, rate, loc);
    gsl_rng g;
    return gsl_ran_gamma(rt_rng_gsl(r, &g), shape, 1.0) / rate;
}

double rt_lpdf_gamma(double x, double shape, double rate, const char *loc)
{
    check_gamma(shape, rate, loc);
    if (check_value("gamma", x, loc) < 0 || isinf(x))
        return -INFINITY;
    return no_nan(shape * log(rate) - lgam(shape) + xlogy(shape - 1, x) - rate * x);
}

double rt_sample_exponential(rt_rng *r, double rate, const char *loc)
{
    need_positive("exponential", "rate", rate, loc);
    return -log(rt_rng_uniform(r)) / rate;    /* inversion; u < 1 so the draw is > 0 */
}

double rt_lpdf_exponential(double x, double rate, const char *loc)
{
    need_positive("exponential", "rate", rate, loc);
    if (check_value("exponential", x, loc) < 0 || isinf(x))
        return -INFINITY;
    return log(rate) - rate * x;
}

static void check_student_t(double nu, double mu, double sigma, const char *loc)
{
    need_positive("student_t", "nu", nu, loc);
    check_loc_scale("student_t", mu, sigma, loc);
}

double rt_sample_student_t(rt_rng *r, double nu, double mu, double sigma, const char *loc)
{
    check_student_t(nu, mu, sigma, loc);
    gsl_rng g;
    return mu + sigma * gsl_ran_tdist(rt_rng_gsl(r, &g), nu);
}

/* log(1 + z^2/nu) for z = (x - mu) / sigma, without overflow: past 1e300, z^2/nu (or z^2,
 * from |z| ~ 1.3e154, or z itself, or even x - mu) would be inf and the density of a heavy
 * tail -inf. There the 1 is below rounding and the value is 2 log|z| - log nu, with log|z|
 * taken as log|x - mu| - log sigma (halving x and mu when their difference overflows). */
double rt_log1p_sq(double x, double mu, double sigma, double nu)
{
    double z = (x - mu) / sigma, q = z * z / nu;
    if (q < 1e300)
        return log1p(q);
    double d = x - mu;
    double log_d = isinf(d) ? log(fabs(0.5 * x - 0.5 * mu)) + M_LN2 : log(fabs(d));
    return 2 * (log_d - log(sigma)) - log(nu);
}

/* density 1 / (sigma sqrt(nu) B(1/2, nu/2)) * (1 + z^2/nu)^(-(nu+1)/2) */
double rt_lpdf_student_t(double x, double nu, double mu, double sigma, const char *loc)
{
    check_student_t(nu, mu, sigma, loc);
    check_value("student_t", x, loc);
    return no_nan(-0.5 * (nu + 1) * rt_log1p_sq(x, mu, sigma, nu) - 0.5 * log(nu) - lbeta(0.5, 0.5 * nu)
                  - log(sigma));
}

static double cauchy_lpdf(double x, double mu, double sigma)
{
    return -LOG_PI - log(sigma) - rt_log1p_sq(x, mu, sigma, 1);
}

double rt_sample_cauchy(rt_rng *r, double mu, double sigma, const char *loc)
{
    check_loc_scale("cauchy", mu, sigma, loc);
    gsl_rng g;
    return mu + gsl_ran_cauchy(rt_rng_gsl(r, &g), sigma);
}

double rt_lpdf_cauchy(double x, double mu, double sigma, const char *loc)
{
    check_loc_scale("cauchy", mu, sigma, loc);
    return cauchy_lpdf(check_value("cauchy", x, loc), mu, sigma);
}

double rt_sample_half_normal(rt_rng *r, double sigma, const char *loc)
{
    need_positive("half_normal", "scale", sigma, loc);
    return fabs(sigma * rt_rng_normal(r));
}

double rt_lpdf_half_normal(double x, double sigma, const char *loc)
{
    need_positive("half_normal", "scale", sigma, loc);
    if (check_value("half_normal", x, loc) < 0)
        return -INFINITY;
    return M_LN2 + normal_lpdf(x, 0, sigma);
}

double rt_sample_half_cauchy(rt_rng *r, double sigma, const char *loc)
{
    need_positive("half_cauchy", "scale", sigma, loc);
    gsl_rng g;
    return fabs(gsl_ran_cauchy(rt_rng_gsl(r, &g), sigma));
}

double rt_lpdf_half_cauchy(double x, double sigma, const char *loc)
{
    need_positive("half_cauchy", "scale", sigma, loc);
    if (check_value("half_cauchy", x, loc) < 0)
        return -INFINITY;
    return M_LN2 + cauchy_lpdf(x, 0, sigma);
}

/* ---- discrete distributions ---- */

int64_t rt_sample_bernoulli(rt_rng *r, double p, const char *loc)
{
    need_prob("bernoulli", "p", p, loc);
    return rt_rng_uniform(r) < p;
}

double rt_lpdf_bernoulli(int64_t y, double p, const char *loc)
{
    need_prob("bernoulli", "p", p, loc);
    if (y != 0 && y != 1)
        return -INFINITY;
    return y == 1 ? log(p) : log1p(-p);
}

int64_t rt_sample_bernoulli_logit(rt_rng *r, double logit_p, const char *loc)
{
    need_not_nan("bernoulli_logit", "logit_p", logit_p, loc);
    return rt_rng_uniform(r) < 1 / (1 + exp(-logit_p));
}

double rt_lpdf_bernoulli_logit(int64_t y, double logit_p, const char *loc)
{
    need_not_nan("bernoulli_logit", "logit_p", logit_p, loc);
    if (y != 0 && y != 1)
        return -INFINITY;
    return log_inv_logit(y == 1 ? logit_p : -logit_p);
}

static void check_binomial(int64_t n, double p, const char *loc)
{
    if (n < 0)
        rt_failf(loc, "binomial: n must be non-negative, found %lld", (long long)n);
    need_prob("binomial", "p", p, loc);
}

int64_t rt_sample_binomial(rt_rng *r, int64_t n, double p, const char *loc)
{
    check_binomial(n, p, loc);
    if (n > 0xffffffffLL)
        rt_failf(loc, "binomial: n must be below 2^32 to sample, found %lld", (long long)n);
    gsl_rng g;
    return gsl_ran_binomial(rt_rng_gsl(r, &g), p, (unsigned)n);
}

/* log C(n, y) = -log(n + 1) - log B(n - y + 1, y + 1) */
double rt_lpdf_binomial(int64_t y, int64_t n, double p, const char *loc)
{
    check_binomial(n, p, loc);
    if (y < 0 || y > n)
        return -INFINITY;
    double k = (double)y, m = (double)(n - y);
    return -log1p((double)n) - lbeta(m + 1, k + 1) + xlogy(k, p) + xlog1py(m, -p);
}

static int64_t poisson_draw(rt_rng *r, double rate, const char *dist, const char *loc)
{
    if (rate > POISSON_MAX)
        rt_failf(loc, "%s: rate must be at most 2^30 to sample, found %g", dist, rate);
    gsl_rng g;
    return gsl_ran_poisson(rt_rng_gsl(r, &g), rate);
}

static void check_poisson(double rate, const char *loc)
{
    if (!(rate >= 0) || isinf(rate))
        rt_failf(loc, "poisson: rate must be finite and non-negative, found %g", rate);
}

int64_t rt_sample_poisson(rt_rng *r, double rate, const char *loc)
{
    check_poisson(rate, loc);
    return poisson_draw(r, rate, "poisson", loc);
}

double rt_lpdf_poisson(int64_t y, double rate, const char *loc)
{
    check_poisson(rate, loc);
    if (y < 0)
        return -INFINITY;
    return xlogy((double)y, rate) - rate - lgam((double)y + 1);
}

static void check_poisson_log(double log_rate, const char *loc)
{
    if (isnan(log_rate) || log_rate == INFINITY)
        rt_failf(loc, "poisson_log: log_rate must be below +inf and not NaN, found %g", log_rate);
}

int64_t rt_sample_poisson_log(rt_rng *r, double log_rate, const char *loc)
{
    check_poisson_log(log_rate, loc);
    return poisson_draw(r, exp(log_rate), "poisson_log", loc);
}

/* y log_rate - exp(log_rate) - log y!, with rate 0 and an overflowing rate (log pmf -inf)
 * handled first so that no inf - inf arises. */
double rt_lpdf_poisson_log(int64_t y, double log_rate, const char *loc)
{
    check_poisson_log(log_rate, loc);
    if (y < 0)
        return -INFINITY;
    if (log_rate == -INFINITY)
        return y == 0 ? 0 : -INFINITY;
    double rate = exp(log_rate);
    if (isinf(rate))
        return -INFINITY;
    return (double)y * log_rate - rate - lgam((double)y + 1);
}

/* Validates the weights and returns their sum. */
static double categorical_total(const rt_array *probs, const char *loc)
{
    if (!probs || probs->len == 0)
        rt_failf(loc, "categorical: probs must be a non-empty array");
    double total = 0;
    for (int64_t i = 0; i < probs->len; i++) {
        double p = probs->at.d[i];
        if (!(p >= 0) || isinf(p))
            rt_failf(loc, "categorical: probs[%lld] must be finite and non-negative, found %g",
                     (long long)i, p);
        total += p;
    }
    if (!(total > 0) || isinf(total))
        rt_failf(loc, "categorical: probs must have a positive finite sum, found %g", total);
    return total;
}

/* Inversion: the first index whose cumulative weight exceeds u * total; zero weights are
 * never chosen, and rounding at the top end falls back to the last positive weight. */
int64_t rt_sample_categorical(rt_rng *r, const rt_array *probs, const char *loc)
{
    double u = rt_rng_uniform(r) * categorical_total(probs, loc), acc = 0;
    int64_t last = 0;
    for (int64_t i = 0; i < probs->len; i++) {
        if (probs->at.d[i] > 0) {
            acc += probs->at.d[i];
            last = i;
            if (u < acc)
                return i;
        }
    }
    return last;
}

double rt_lpdf_categorical(int64_t y, const rt_array *probs, const char *loc)
{
    double total = categorical_total(probs, loc);
    if (y < 0 || y >= probs->len)
        return -INFINITY;
    return log(probs->at.d[y]) - log(total);
}

/* ---- lookup by kind or name ---- */

#define RT_DIST_INFO(name, np, vt, types, support, reparam, ...) \
    {#name, np, RT_##vt, types, #__VA_ARGS__, RT_SUPPORT_##support, reparam},
static const struct {
    const char *name;
    int nparams, value_kind;
    const char *types, *params;
    int support, reparam;
} rt_dist_info[RT_DIST_COUNT] = { RT_DISTRIBUTIONS(RT_DIST_INFO) };
#undef RT_DIST_INFO

static bool valid_kind(int kind)
{
    return kind >= 0 && kind < RT_DIST_COUNT;
}

const char *rt_dist_name(int kind)
{
    return valid_kind(kind) ? rt_dist_info[kind].name : "?";
}

int rt_dist_lookup(const char *name)
{
    for (int k = 0; k < RT_DIST_COUNT; k++)
        if (strcmp(rt_dist_info[k].name, name) == 0)
            return k;
    return -1;
}

int rt_dist_nparams(int kind)
{
    return valid_kind(kind) ? rt_dist_info[kind].nparams : 0;
}

bool rt_dist_is_discrete(int kind)
{
    return valid_kind(kind) && rt_dist_info[kind].value_kind == RT_INT;
}

const char *rt_dist_param_types(int kind)
{
    return valid_kind(kind) ? rt_dist_info[kind].types : "";
}

const char *rt_dist_param_names(int kind)
{
    return valid_kind(kind) ? rt_dist_info[kind].params : "";
}

int rt_dist_support(int kind)
{
    return valid_kind(kind) ? rt_dist_info[kind].support : RT_SUPPORT_REAL;
}

bool rt_dist_reparameterized(int kind)
{
    return valid_kind(kind) && rt_dist_info[kind].reparam;
}
