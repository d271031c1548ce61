/* rt_vi.h - variational inference: a guide's parameters fitted by stochastic gradient ascent
 * on the ELBO, with gradients from the AD tape (rt_ad.h) through reparameterized draws. */
#ifndef PPL_RT_VI_H
#define PPL_RT_VI_H
#include <stdint.h>
#include "rt_infer.h"

/* The params' values as one flat vector, in declaration order: param k (a real, or a real[]
 * whose length its initial value fixes, or a tensor whose elements it holds in order) is
 * v[offset[k] .. offset[k] + len[k]), len[k] = -1 marking a real (one slot); tensor[k] is a
 * tensor param's initial value (for its shape), else NULL. Filled by guide_init through
 * rt_vi_init_real/_array/_tensor. */
typedef struct rt_vi_theta {
    double *v;
    int64_t n, cap;
    int64_t *offset, *len;
    const struct rt_tensor **tensor;
} rt_vi_theta;

/* What the compiler emits for each `infer M(args) by vi(guide = Q, ...)` pairing. The
 * gradient specializations of the model and the guide take the args block (rt_particle's
 * layout, 8 bytes per argument) and report to the functions below; the guide's sites carry
 * the model's site ids. guide_init evaluates the params' initial values in order. */
typedef void rt_vi_run_fn(rt_ctx *ctx, const void *args);
typedef void rt_vi_init_fn(const void *args, rt_vi_theta *theta);
/* X(field, C type, ABI letter): the rows of rt_vi_problem (rt_layout.h; cg_ad.c fills them) */
#define RT_VI_PROBLEM_FIELDS(X) \
    X(model, const rt_model *, p)           /* its model_ad is the model's side of a draw */ \
    X(guide_ad, rt_vi_run_fn *, p) \
    X(guide_init, rt_vi_init_fn *, p) \
    X(nparams, int64_t, i)                  /* param declarations (not the flat vector's length) */ \
    X(param_names, const char *const *, p) \
    X(guide_name, const char *, p)

typedef struct rt_vi_problem {
    RT_VI_PROBLEM_FIELDS(RT_FIELD_DECL)
} rt_vi_problem;
enum {
#define X(field, ...) RT_VI_PROBLEM_F_##field,
    RT_VI_PROBLEM_FIELDS(X)
#undef X
    RT_VI_PROBLEM_NFIELDS
};
#define X(field, ctype, ...) RT_LAYOUT_CHECK(rt_vi_problem, field, ctype, RT_VI_PROBLEM_F_##field)
RT_VI_PROBLEM_FIELDS(X)
#undef X

/* An objective (§9.11): a program over guide draws whose value the fit maximizes. fn takes
 * the objective's args block (8 bytes per argument; reals as doubles) and returns a handle
 * on the tape; inside it, draws(K) (rt_vi_draws) runs guide and model K times. */
typedef int64_t rt_vi_objective_fn(rt_ctx *ctx, const void *args);
#define RT_VI_OBJECTIVE_FIELDS(X) \
    X(fn, rt_vi_objective_fn *, p) \
    X(name, const char *, p)

typedef struct rt_vi_objective {
    RT_VI_OBJECTIVE_FIELDS(RT_FIELD_DECL)
} rt_vi_objective;
enum {
#define X(field, ...) RT_VI_OBJECTIVE_F_##field,
    RT_VI_OBJECTIVE_FIELDS(X)
#undef X
    RT_VI_OBJECTIVE_NFIELDS
};
#define X(field, ctype, ...) RT_LAYOUT_CHECK(rt_vi_objective, field, ctype, RT_VI_OBJECTIVE_F_##field)
RT_VI_OBJECTIVE_FIELDS(X)
#undef X

/* draws(K): the log weights log p - log q and log q (with the drawn values held fixed, so
 * its gradient has no path through the draws) of K guide draws, as arrays of handles, and
 * logz, log of the mean weight, a constant handle that the baseline runs keep unchanged. */
typedef struct rt_draws { rt_array *logw, *logq; int64_t logz; } rt_draws;

/* ---- called by generated code (rows in rt_abi.h) ----
 * Those that take a context read the fit or score it belongs to (ctx->vi). */
/* The terms of log p: a model's sample site's log density, an observe's, a reward. */
void rt_vi_add_prior(rt_ctx *ctx, int64_t h);
void rt_vi_add_lik(rt_ctx *ctx, int64_t h);
void rt_vi_add_reward(rt_ctx *ctx, int64_t h);
int64_t rt_vi_param(rt_ctx *ctx, int64_t k);           /* the k-th param's handle in this evaluation */
rt_array *rt_vi_param_array(rt_ctx *ctx, int64_t k);   /* an array param's handles in this evaluation */
void rt_vi_init_real(rt_vi_theta *theta, int64_t k, double x);        /* guide_init: param k */
void rt_vi_init_array(rt_vi_theta *theta, int64_t k, const rt_array *a);
/* A tensor param: its elements have their place in the flat vector (updated in double by the
 * optimizer), and on each step's tape the param is one tensor input node (fp32), whose
 * adjoint is the param's gradient. */
struct rt_tensor *rt_vi_param_tensor(rt_ctx *ctx, int64_t k);
void rt_vi_init_tensor(rt_vi_theta *theta, int64_t k, const struct rt_tensor *t);
/* A guide site: a reparameterized draw x (normal: mu + sigma * eps; lognormal: exp of it),
 * recorded for the model's site of the same address; its log density joins log q. */
int64_t rt_vi_guide_normal(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t mu, int64_t sigma, const char *loc);
int64_t rt_vi_guide_lognormal(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t mu, int64_t sigma, const char *loc);
/* A guide site without a reparameterization: x was drawn (a constant on the tape) from the
 * distribution at the params' values, lq is its log density; lq joins log q and the
 * score-function term of the objective. Guides draw from the context's stream (the
 * context is an rt_rng * to the samplers). */
int64_t rt_vi_guide_score(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc);
/* The same for a discrete site: x is the drawn int itself (what the model's site returns). */
int64_t rt_vi_guide_score_int(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc);
rt_array *rt_vi_values(const rt_array *handles);   /* the values of an array of handles */
/* An enumerated site (by "enum"): rt_vi_enum_value gives the value of this pass while
 * fitting (support: the number of values) and `drawn` otherwise; rt_vi_guide_enum records
 * it with its log q, which weights the pass. */
int64_t rt_vi_enum_value(rt_ctx *ctx, int64_t support, int64_t drawn, const char *loc);
int64_t rt_vi_guide_enum(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc);
/* draws(n) in an objective; n = -1 takes the vi's `particles` */
rt_draws *rt_vi_draws(rt_ctx *ctx, int64_t n, const char *loc);
rt_array *rt_vi_stop_grad_array(const rt_array *handles);
/* The model's sample site in gradient code, from the context's site provider: in a fit the
 * value the guide drew for the same address (a handle for a real site, the int itself for
 * a discrete one); in a score the next unconstrained coordinate through the transform of
 * the site's support (RT_SUPPORT_*; lo and hi: an interval's bounds as handles, else -1),
 * whose log-Jacobian joins log p. */
int64_t rt_vi_model_site(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t support, int64_t lo,
                         int64_t hi, const char *loc);
void rt_vi_return(rt_ctx *ctx, int64_t h);        /* a real return value */
void rt_vi_return_value(rt_ctx *ctx, double v);   /* an int or bool return value */
rt_array *rt_vi_lift_array(const rt_array *a, int64_t depth);   /* real[]... as constant handles */
int64_t rt_vi_sum(const rt_array *handles);
int64_t rt_vi_mean(const rt_array *handles, const char *loc);
int64_t rt_vi_logsumexp(const rt_array *handles);
int64_t rt_vi_lpmf_categorical(int64_t y, const rt_array *probs, const char *loc);   /* handles */

/* fit.params (the fitted params, flattened in the guide's order: an array param gives its
 * elements in place) and fit.history (the objective at each step); empty for posteriors of
 * other methods. Flattened names are `mu` for a real, `mu[0]`, `mu[1]`, ... for an array. */
rt_array *rt_vi_params(const rt_posterior *p);
rt_array *rt_vi_history(const rt_posterior *p);

/* Fits the guide o->guide (an rt_vi_problem of the model m) by `steps` steps of the
 * optimizer on the objective with its arguments (draws() takes `particles` draws), then returns the posterior of importance sampling with the fitted
 * guide as the proposal (1000 draws): its log evidence, the return value's mean and sd, the
 * sites, plus the fitted params and the objective's history. Each step runs the objective
 * once per joint value of the enumerated sites, and once more per draw with score-function
 * sites, for its baseline. A non-finite gradient is a runtime error naming the step and
 * the param. */
rt_posterior *rt_infer_vi(rt_ctx *ctx, const rt_model *m, const void *args, const rt_infer_opts *o,
                          const char *loc);

#endif
