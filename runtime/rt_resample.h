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

/* The same draw as a plan for resampling in place, given sum, the weights' total (sum of w in
 * index order for the same ancestors as rt_resample): particle src[k] is to be copied over
 * particle dst[k], for k below the returned number of copies. A particle with c >= 1 offspring
 * keeps its slot and sends its c - 1 extra copies to the slots of particles with none, taking
 * both in index order, so src and dst are sorted and disjoint. */
int64_t rt_resample_plan(int scheme, const double *w, int64_t n, double sum, rt_rng *rng,
                         int64_t *src, int64_t *dst);

/* Systematic resampling with the single uniform u in [0, 1) given: the deterministic core,
 * exposed for tests (weights [.1, .2, .3, .4] with u = .5 give [1, 2, 3, 3]). */
void rt_resample_systematic(const double *w, int64_t n, double u, int64_t *anc);

#endif
