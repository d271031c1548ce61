/* rt_dist_table.h - the one list of distributions, shared by the runtime and the compiler.
 * A pure X-macro header: no declarations, so the front end can include it freely. */
#ifndef PPL_RT_DIST_TABLE_H
#define PPL_RT_DIST_TABLE_H

/* X(name, number of parameters, value type, parameter types, parameter names...).
 * Value type REAL or INT (RT_REAL / RT_INT of rt.h): the sampler returns, and the log
 * density takes, a double or an int64_t. Parameter types use rt_abi.h's letters:
 * d double, i int64_t, p pointer (a `const rt_array *` of doubles). The names are the
 * ppl-level parameter names. Scales are standard deviations; gamma is (shape, rate).
 * Adding a distribution: one row here plus rt_sample_D and rt_lpdf_D in rt_dist.h and
 * rt_dist.c, and for its gradients (variational inference) the partials in rt_ad.c: a
 * continuous row needs rt_ad_lpdf_D's d_D, a discrete one rt_ad_lpmf_D. */
#define RT_DISTRIBUTIONS(X) \
    X(normal,          2, REAL, "dd",  loc, scale) \
    X(lognormal,       2, REAL, "dd",  loc, scale) \
    X(uniform,         2, REAL, "dd",  lo, hi) \
    X(beta,            2, REAL, "dd",  a, b) \
    X(gamma,           2, REAL, "dd",  shape, rate) \
    X(exponential,     1, REAL, "d",   rate) \
    X(student_t,       3, REAL, "ddd", nu, loc, scale) \
    X(cauchy,          2, REAL, "dd",  loc, scale) \
    X(half_normal,     1, REAL, "d",   scale) \
    X(half_cauchy,     1, REAL, "d",   scale) \
    X(bernoulli,       1, INT,  "d",   p) \
    X(bernoulli_logit, 1, INT,  "d",   logit_p) \
    X(binomial,        2, INT,  "id",  n, p) \
    X(poisson,         1, INT,  "d",   rate) \
    X(poisson_log,     1, INT,  "d",   log_rate) \
    X(categorical,     1, INT,  "p",   probs)

#endif
