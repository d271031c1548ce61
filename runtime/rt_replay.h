/* rt_replay.h - given site values: a model run that takes them at the sites they name and
 * draws the rest (replay mode, on the model's frames), and the joint log density at them
 * (score mode with given values, on the model's gradient specialization). Both read a
 * posterior's draw or values a program names (DESIGN.md section 8). */
#ifndef PPL_RT_REPLAY_H
#define PPL_RT_REPLAY_H
#include "rt_infer.h"
#include "rt_score.h"

enum { RT_GIVEN_MAX_INDICES = 8 };

typedef struct rt_given_site {
    int64_t site, nidx, idx[RT_GIVEN_MAX_INDICES];
    double value;            /* an int site's value as a double, as traces keep it */
} rt_given_site;

/* Values for some sites of one model, by address. */
typedef struct rt_given {
    const rt_model *model;
    int64_t n;
    rt_given_site *sites;
} rt_given;

/* The site values of draw i of a posterior (an error at loc when i is out of range). */
rt_given *rt_given_from_draw(const rt_posterior *post, int64_t i, const char *loc);
/* Values by address text, as summaries print them ("x", "x[3]", "z[1, 2]"): an unknown
 * site, a wrong number of indices or unequal lengths are errors at loc. */
rt_given *rt_given_from_names(const rt_model *m, const rt_array *names, const rt_array *values, const char *loc);
/* An address as summaries print it into s's site and indices (its value untouched); an
 * unknown site or a wrong number of indices is an error at loc. */
void rt_given_parse_address(const rt_model *m, const char *text, rt_given_site *s, const char *loc);
/* The given value of a site, or false when it has none. */
bool rt_given_lookup(const rt_given *g, int64_t site, int64_t nidx, const int64_t *idx, double *value);

/* Score mode at given values: log prior + log likelihood + rewards of m on args with every
 * site taking its value from g (a site without one is an error at loc naming it); the terms
 * in *parts (NULL: not wanted). */
double rt_score_given(const rt_model *m, const void *args, const rt_given *g, rt_score_parts *parts,
                      const char *loc);

/* Replay mode: one run of m on args from a zeroed frame whose sites take g's values where
 * it has them and draw the rest on stream (seed, stream); returns the run's log weight
 * (observes, rewards, less its last potential), its return value in *ret and the log prior
 * of the sites that took given values in *logprior (either NULL: not wanted). */
double rt_replay(const rt_model *m, const void *args, const rt_given *g, uint64_t stream, double *ret,
                 double *logprior, const char *loc);

/* ---- called by generated code (rows in rt_abi.h) ---- */
/* logp(m(args), post, i) and logp(m(args), names, values) */
double rt_logp_draw(const rt_model *m, const void *args, const rt_posterior *post, int64_t i, const char *loc);
double rt_logp_values(const rt_model *m, const void *args, const rt_array *names, const rt_array *values,
                      const char *loc);
/* A sample site in replay mode (p->given set): the given value as the site's (an int site's
 * as an int64 in the bits returned, a real's as a double's bits), or 0 with *found = 0. */
int64_t rt_replay_site(rt_particle *p, int64_t site, int64_t nidx, const int64_t *idx, int64_t *found);
/* predict(m(args), post): a posterior of m replayed at each of post's draws (their weights
 * kept), the sites the draws lack drawn afresh: the posterior predictive. */
rt_posterior *rt_predict(rt_ctx *ctx, const rt_model *m, const void *args, const rt_posterior *post,
                         const char *loc);

#endif
