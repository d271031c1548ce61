/* rt_dist.h - the distributions: a sampler and a log density (log pmf for discrete ones)
 * per row of RT_DISTRIBUTIONS, plus lookup by name for the compiler and the tests. */
#ifndef PPL_RT_DIST_H
#define PPL_RT_DIST_H
#include <stdbool.h>
#include <stdint.h>
#include "rt.h"
#include "rt_rng.h"

#include "rt_dist_table.h"

enum rt_dist_kind {
#define RT_DIST_ENUM(name, np, vt, types, ...) RT_DIST_##name,
    RT_DISTRIBUTIONS(RT_DIST_ENUM)
#undef RT_DIST_ENUM
    RT_DIST_COUNT
};

const char *rt_dist_name(int kind);
int rt_dist_lookup(const char *name);          /* -1 if unknown */
int rt_dist_nparams(int kind);
bool rt_dist_is_discrete(int kind);            /* value type INT */
const char *rt_dist_param_types(int kind);     /* e.g. "id" for binomial */
const char *rt_dist_param_names(int kind);     /* e.g. "n, p" for binomial */
int rt_dist_support(int kind);             /* its RT_SUPPORT_ (rt_dist_table.h) */
bool rt_dist_reparameterized(int kind);   /* the table's reparameterized column */

/* Every function takes `loc`, the call's "file:line:col". Invalid parameters (NaN, a
 * scale or rate that is not finite and positive, p outside [0,1], lo >= hi, n < 0, ...)
 * and a NaN value are runtime errors at loc naming the distribution and the parameter.
 * A value outside the support has log density -inf; no function returns NaN. At a
 * support boundary the density may be infinite (beta(0.5, 1) at 0 is +inf). */
/* log(1 + z^2/nu), z = (x - mu) / sigma, finite for all finite arguments (rt_dist.c) */
double rt_log1p_sq(double x, double mu, double sigma, double nu);
double rt_sample_normal(rt_rng *r, double mu, double sigma, const char *loc);
double rt_lpdf_normal(double x, double mu, double sigma, const char *loc);
double rt_sample_lognormal(rt_rng *r, double mu, double sigma, const char *loc);
double rt_lpdf_lognormal(double x, double mu, double sigma, const char *loc);
double rt_sample_uniform(rt_rng *r, double lo, double hi, const char *loc);
double rt_lpdf_uniform(double x, double lo, double hi, const char *loc);   /* support [lo, hi] */
double rt_sample_beta(rt_rng *r, double a, double b, const char *loc);
double rt_lpdf_beta(double x, double a, double b, const char *loc);        /* support [0, 1] */
double rt_sample_gamma(rt_rng *r, double shape, double rate, const char *loc);
double rt_lpdf_gamma(double x, double shape, double rate, const char *loc);
double rt_sample_exponential(rt_rng *r, double rate, const char *loc);
double rt_lpdf_exponential(double x, double rate, const char *loc);
double rt_sample_student_t(rt_rng *r, double nu, double mu, double sigma, const char *loc);
double rt_lpdf_student_t(double x, double nu, double mu, double sigma, const char *loc);
double rt_sample_cauchy(rt_rng *r, double mu, double sigma, const char *loc);
double rt_lpdf_cauchy(double x, double mu, double sigma, const char *loc);
double rt_sample_half_normal(rt_rng *r, double sigma, const char *loc);
double rt_lpdf_half_normal(double x, double sigma, const char *loc);
double rt_sample_half_cauchy(rt_rng *r, double sigma, const char *loc);
double rt_lpdf_half_cauchy(double x, double sigma, const char *loc);

int64_t rt_sample_bernoulli(rt_rng *r, double p, const char *loc);
double rt_lpdf_bernoulli(int64_t y, double p, const char *loc);
/* logit_p may be +-inf (p = 1 or 0); the log pmf never forms p, so it does not underflow. */
int64_t rt_sample_bernoulli_logit(rt_rng *r, double logit_p, const char *loc);
double rt_lpdf_bernoulli_logit(int64_t y, double logit_p, const char *loc);
/* Sampling needs n < 2^32 (GSL's limit). */
int64_t rt_sample_binomial(rt_rng *r, int64_t n, double p, const char *loc);
double rt_lpdf_binomial(int64_t y, int64_t n, double p, const char *loc);
/* Sampling needs rate <= 2^30 (GSL returns an unsigned int); the log pmf has no limit. */
int64_t rt_sample_poisson(rt_rng *r, double rate, const char *loc);
double rt_lpdf_poisson(int64_t y, double rate, const char *loc);
/* log_rate may be -inf (rate 0); exp(log_rate) is only formed where it cannot hurt. */
int64_t rt_sample_poisson_log(rt_rng *r, double log_rate, const char *loc);
double rt_lpdf_poisson_log(int64_t y, double log_rate, const char *loc);
/* probs are weights: non-empty, each finite and >= 0, with a positive finite sum; they
 * are normalized by their sum, so they need not sum to 1. Values are 0-based indices. */
int64_t rt_sample_categorical(rt_rng *r, const rt_array *probs, const char *loc);
double rt_lpdf_categorical(int64_t y, const rt_array *probs, const char *loc);

#endif
