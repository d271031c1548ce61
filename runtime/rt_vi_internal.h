/* rt_vi_internal.h - what the two halves of variational inference share: rt_vi_eval.c runs
 * one draw of guide and model on the tape (the calls generated code makes), rt_vi.c the
 * objectives' draws, the fit and the posterior around it. */
#ifndef PPL_RT_VI_INTERNAL_H
#define PPL_RT_VI_INTERNAL_H
#include <stdbool.h>
#include "rt_vi.h"
#include "rt_score.h"

enum { MAX_INDICES = 8, MAX_ENUM_SITES = 64 };

/* h: a handle for a real site, the drawn int for a discrete one (is_int). */
typedef struct SiteValue { int64_t site, nidx, idx[MAX_INDICES], h; bool is_int; } SiteValue;

/* One draws(K) call of an objective evaluation: per draw its log weight and log q (handles)
 * and the log q of its score-function sites (a handle, or -1 when it has none). */
typedef struct DrawCall { int64_t n, *score; rt_array *logw, *logq; int64_t logz; } DrawCall;

/* The state of a fit or a score, reached from the evaluation context (rt_ctx's vi) that
 * generated gradient code receives; a fit runs on one thread. */
typedef struct rt_vi_state {
    /* one evaluation of guide and model */
    double part[RT_PART_COUNT];   /* the terms of log p by kind, as values */
    const int64_t *params;    /* the flat param vector's handles, and each param's place */
    const int64_t *param_offset, *param_len;
    const struct rt_tensor *const *param_tensor;   /* a tensor param's input node, else NULL */
    int64_t logp, logq;
    int64_t logq_fixed;       /* log q with the drawn values held fixed (no path through x) */
    int64_t score;            /* log q of the sites without a reparameterization, or -1 */
    double ret_value;         /* the model's return value in this draw */
    /* score mode: the model's continuous sites take, in the order they are met, the
     * unconstrained coordinates u (tape inputs) through their supports' transforms */
    bool scoring, probing;    /* probing: count the coordinates, each taking u = 0 */
    struct rt_enum *enumerate;   /* enumerate: the odometer giving the sites' values (rt_enumerate.c) */
    const struct rt_given *given;   /* a score at given values: every site takes one */
    const rt_model *model;    /* the model being scored (for messages) */
    const int64_t *u;
    int64_t nu, next_u;
    SiteValue *sites;         /* the step's draws' sites, the current draw's from site_base */
    int64_t nsites, cap, site_base;
    /* the first term of log p this step that was -inf (zero_kind an RT_PART_*, -1: none yet),
     * with the model site last met (zero_site, an index of sites, -1: none) and the draw's
     * guide sites (sites[zero_base .. zero_end)), for the message that names it */
    int zero_kind;
    int64_t zero_site, zero_base, zero_end, last_site;
    /* one evaluation of the objective: its draws(K) calls */
    const rt_vi_problem *prob;
    const void *args;
    int64_t particles, stream_a, stream_b, next_draw;
    DrawCall *calls;
    int64_t ncalls, calls_cap;
    bool has_score;
    /* re-running the objective for a baseline: draws(K) replays call `replay_call` with
     * draw `replay_draw` replaced by the mean of the others */
    bool replaying;
    int64_t replay_call, replay_draw, replay_next;
    /* enumeration: the values of the enumerated sites in this pass (an odometer over
     * their supports, in the order the sites were met) and their log q */
    bool enumerating;
    int64_t enum_size[MAX_ENUM_SITES], enum_value[MAX_ENUM_SITES], nenum, enum_next, enum_logq;
} rt_vi_state;

/* rt_vi_eval.c */
/* Runs guide then model on a fresh record of sites; returns log p - log q, with the log q
 * of the score-function sites in *score (-1: none) and log q at fixed values in *logq. */
int64_t rt_vi_evaluate(rt_ctx *ctx, const rt_vi_problem *prob, const void *args, uint64_t stream, int64_t *score, int64_t *logq);
bool rt_vi_enum_advance(rt_vi_state *V);             /* the next pass of the enumeration odometer */
const char **rt_vi_flat_names(const rt_vi_problem *prob, const rt_vi_theta *t);
void rt_vi_record_sites(rt_vi_state *V, rt_posterior *post, int64_t i);   /* the current draw's sites, as post's particle i */
/* " (the value of site 'z[1]' is inf)" for the first real site of the step's draws whose
 * value, or objective's derivative in it, is not finite; "" when none is. */
void rt_vi_suspect_site(rt_vi_state *V, const rt_model *m, int64_t objective, char *buf, size_t size);
/* " (the model's density of site 'x' is zero at the guide's value -0.5)" or " (a reward is
 * -inf at a = 0, b = 0)": what made the step's first zero-probability draw, "" when none. */
void rt_vi_zero_site(const rt_vi_state *V, const rt_model *m, char *buf, size_t size);

/* rt_score.c: a score-mode site's value from the next unconstrained coordinate */
int64_t rt_score_site(rt_vi_state *V, int64_t site, int64_t nidx, const int64_t *idx, int64_t support, int64_t lo,
                      int64_t hi, const char *loc);

/* rt_enumerate.c: a site's value from the enumeration's odometer; count is its number of
 * values (a site without finitely many is an error at loc naming it) */
int64_t rt_enum_site(rt_vi_state *V, int64_t site, int64_t nidx, const int64_t *idx, int64_t support, int64_t count,
                     const char *loc);

/* rt_replay.c: a score-mode site's given value (a handle, or the int itself) */
int64_t rt_score_given_site(rt_vi_state *V, int64_t site, int64_t nidx, const int64_t *idx, const char *loc);

#endif
