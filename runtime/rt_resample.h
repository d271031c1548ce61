/* rt_resample.h - resampling schemes for SMC: from weights to ancestor indices.
 * Every scheme gives each particle i an expected N * w_i / sum(w) offspring. */
#ifndef PPL_RT_RESAMPLE_H
#define PPL_RT_RESAMPLE_H
#include <stdint.h>
#include "rt_rng.h"

/* X(id, name): the schemes, by the names programs use (`resample = "stratified"`). */
#define RT_RESAMPLE_SCHEMES(X) \
    X(SYSTEMATIC, "systematic") X(STRATIFIED, "stratified") \
    X(MULTINOMIAL, "multinomial") X(RESIDUAL, "residual")

enum rt_resample_scheme {
#define X(id, name) RT_RESAMPLE_##id,
    RT_RESAMPLE_SCHEMES(X)
#undef X
    RT_RESAMPLE_COUNT
};

int rt_resample_lookup(const char *name);   /* -1 when unknown */
const char *rt_resample_name(int scheme);

/* Fills anc[0..n) with ancestor indices in increasing order, drawn from the non-negative
 * weights w[0..n) (their sum must be positive and finite), using uniforms from rng. */
void rt_resample(int scheme, const double *w, int64_t n, rt_rng *rng, int64_t *anc);

/* The same draw as offspring counts: count[i] copies of particle i (the counts sum to n). */
void rt_resample_counts(int scheme, const double *w, int64_t n, rt_rng *rng, int64_t *count);

/* Systematic resampling by blocks of particles, which may run on different threads: the
 * points are (u0 + i) total / n for i < n, and particle j gets the points between the
 * cumulative weights before and through it. A block [lo, hi) needs only its weights and
 * `start`, the sum of the weights before lo; the caller must form each block's sum from 0 in
 * index order and the starts and total as running sums of those, so that blocks meet exactly.
 * Points that rounding leaves at or beyond the total go to the last particle of positive
 * weight. Zero weights get no offspring. */
typedef struct rt_systematic {
    int64_t n, last, rest;   /* last positive weight's index and the points it gets extra */
    double inv_step, u0;     /* n / total, and the uniform */
} rt_systematic;
void rt_systematic_init(rt_systematic *sy, const double *w, int64_t n, double total, double u0);
void rt_systematic_block(const rt_systematic *sy, const double *w, int64_t lo, int64_t hi,
                         double start, int64_t *count);

/* Systematic resampling with the single uniform u in [0, 1) given: the deterministic core,
 * exposed for tests (weights [.1, .2, .3, .4] with u = .5 give [1, 2, 3, 3]). */
void rt_resample_systematic(const double *w, int64_t n, double u, int64_t *anc);

#endif
