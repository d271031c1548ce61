/* rt_weighted.h - weighted draws: (value, weight) pairs gathered from a posterior, sorted by
 * value, with their weighted mean, sd and quantiles; summaries and plots share them. */
#ifndef PPL_RT_WEIGHTED_H
#define PPL_RT_WEIGHTED_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "rt_infer.h"

/* i is the order of insertion: the tie-break that makes sorting deterministic. */
typedef struct rt_wpair { double v, w; int64_t i; } rt_wpair;
typedef struct rt_wpairs { rt_wpair *at; int64_t len, cap; } rt_wpairs;

/* GC_malloc_atomic of count elements (at least one byte); too many, or out of memory, is a
 * runtime error naming `what`. */
void *rt_alloc_atomic(int64_t count, size_t elem, const char *what);

/* The largest log weight of a posterior (-inf when there are no particles). */
double rt_max_logw(const rt_posterior *p);
/* exp(logw - max): exactly 1 at the maximum (so a +inf log weight gives 1, not NaN), 0 for
 * a dead particle (unless every particle is dead), NaN for a NaN log weight. */
double rt_rel_weight(double logw, double max);

/* Running weighted sums of (value, log weight) pairs, for a posterior that keeps no draws:
 * weights relative to the largest log weight so far (the sums rescaled when it grows), the
 * weighted mean and the sum of squared deviations from it. A block of pairs is summed in two
 * passes (its own maximum and mean first) and merged by Chan's formula for combining them. */
typedef struct rt_wstats { double max, w, w2, mean, m2; } rt_wstats;
#define RT_WSTATS_EMPTY ((rt_wstats){.max = -INFINITY})
void rt_wstats_add_block(rt_wstats *s, double *logw, const double *x, int64_t n);   /* overwrites logw */

void rt_wpairs_push(rt_wpairs *ps, double v, double w);
void rt_wpairs_free(rt_wpairs *ps);
/* (return value, weight) of every particle with positive weight, in particle order. */
rt_wpairs rt_wpairs_of_values(const rt_posterior *p);

/* Summed in the order of the pairs, so equal inputs give equal bits; NaN with no pairs. */
double rt_wpairs_mean(const rt_wpairs *ps);
/* The sd of the normalized weighted draws, without a bias correction. */
double rt_wpairs_sd(const rt_wpairs *ps, double mean);
/* By value, then insertion order; NaN values last. */
void rt_wpairs_sort(rt_wpairs *ps);
/* Of sorted pairs: the first value whose cumulative weight reaches q of the total; NaN
 * with no pairs. */
double rt_wpairs_quantile(const rt_wpairs *ps, double q);
#endif
