/* rt_dist_table.h - the one list of distributions, shared by the runtime and the compiler.
 * An X-macro header with one enum and no declarations, so the front end can include it freely. */
#ifndef PPL_RT_DIST_TABLE_H
#define PPL_RT_DIST_TABLE_H

/* X(name, number of parameters, value type, parameter types, support, reparameterized,
 *   parameter names...).
 * Value type REAL or INT (RT_REAL / RT_INT of rt.h): the sampler returns, and the log
 * density takes, a double or an int64_t. Parameter types use rt_abi.h's letters:
 * d double, i int64_t, p pointer (a `const rt_array *` of doubles). The support is one of
 * RT_SUPPORT_'s names below: it picks a continuous site's transform to the real line in
 * score mode (log, logit, scaled logit by the first two parameters) and tells which sites
 * can be enumerated (the finite ones). Reparameterized: 1 when a guide's draw is a
 * differentiable function of its parameters (VI's default estimator for the site). The
 * names are the ppl-level parameter names. Scales are standard deviations; gamma is
 * (shape, rate).
 * Adding a distribution: one row here plus rt_sample_D and rt_lpdf_D in rt_dist.h and
 * rt_dist.c, and for its gradients (variational inference) the partials in rt_ad.c: a
 * continuous row needs rt_ad_lpdf_D's d_D, a discrete one rt_ad_lpmf_D. */
#define RT_DISTRIBUTIONS(X) \
    X(normal,          2, REAL, "dd",  REAL,     1, loc, scale) \
    X(lognormal,       2, REAL, "dd",  POSITIVE, 1, loc, scale) \
    X(uniform,         2, REAL, "dd",  INTERVAL, 0, lo, hi) \
    X(beta,            2, REAL, "dd",  UNIT,     0, a, b) \
    X(gamma,           2, REAL, "dd",  POSITIVE, 0, shape, rate) \
    X(exponential,     1, REAL, "d",   POSITIVE, 0, rate) \
    X(student_t,       3, REAL, "ddd", REAL,     0, nu, loc, scale) \
    X(cauchy,          2, REAL, "dd",  REAL,     0, loc, scale) \
    X(half_normal,     1, REAL, "d",   POSITIVE, 0, scale) \
    X(half_cauchy,     1, REAL, "d",   POSITIVE, 0, scale) \
    X(bernoulli,       1, INT,  "d",   BINARY,   0, p) \
    X(bernoulli_logit, 1, INT,  "d",   BINARY,   0, logit_p) \
    X(binomial,        2, INT,  "id",  UPTO_N,   0, n, p) \
    X(poisson,         1, INT,  "d",   NATURAL,  0, rate) \
    X(poisson_log,     1, INT,  "d",   NATURAL,  0, log_rate) \
    X(categorical,     1, INT,  "p",   CATEGORY, 0, probs)

/* Supports: the real line, (0, inf), (0, 1), (lo, hi) from the first two parameters; for
 * ints {0, 1}, {0, ..., n} (n the first parameter), {0, 1, 2, ...}, and {0, ..., len - 1}
 * for a probability vector. The last three int ones but NATURAL are finite. */
#define RT_SUPPORTS(X) X(REAL) X(POSITIVE) X(UNIT) X(INTERVAL) X(BINARY) X(UPTO_N) X(NATURAL) X(CATEGORY)
#define RT_SUPPORT_ENUM(s) RT_SUPPORT_##s,
enum rt_support { RT_SUPPORTS(RT_SUPPORT_ENUM) RT_SUPPORT_COUNT };
#undef RT_SUPPORT_ENUM
#define RT_SUPPORT_FINITE(s) ((s) == RT_SUPPORT_BINARY || (s) == RT_SUPPORT_UPTO_N || (s) == RT_SUPPORT_CATEGORY)

#endif
