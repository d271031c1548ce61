/* rt_infer.h - models as resumable frames, particles, and the posterior values inference returns.
 * The compiler turns each model body into a resume function over a frame (DESIGN.md section 3). */
#ifndef PPL_RT_INFER_H
#define PPL_RT_INFER_H
#include <stdint.h>
#include "rt.h"
#include "rt_methods.h"
#include "rt_rng.h"
#include "rt_trace.h"

/* The evaluation context: what one run of generated code needs, passed to it as its first
 * parameter (models' resume functions, every function, gradient code) instead of living in
 * process globals. A particle is a context; so are the program's top level (rt_root_ctx),
 * one evaluation of a fit's objective, and a replay or score of a model. */
struct rt_vi_state;
struct rt_given;
typedef struct rt_particle {
    rt_rng rng;          /* must stay first: generated code passes the particle as its rt_rng * */
    double logw;         /* log weight: observations, rewards and potential differences so far */
    double potential;    /* the last `potential` value (0 before any) */
    rt_trace *trace;     /* where rt_record puts site values (rt_trace.h); NULL: not kept */
    const void *args;    /* the model's arguments, 8 bytes each: shared by every particle */
    double scale, log_scale;   /* a normal observe's last scale and its log (0: none yet) */
    struct rt_vi_state *vi;    /* gradient code: the fit or score this evaluation belongs to */
    const struct rt_given *given;   /* replay: values for some sites (NULL: draw every site) */
    double logprior;     /* replay: the log densities of the sites that took given values */
    bool root;           /* the program's top level: infer calls are numbered in order */
} rt_particle;
typedef rt_particle rt_ctx;

/* The top level's context: script statements, REPL cells and model mode run in it. */
rt_ctx *rt_root_ctx(void);
/* The number an infer call gives its streams: at the top level the k-th call is k (so
 * results depend only on the order of the calls); inside a model, a function or a fit, a
 * word drawn from the calling context's stream, so a nested infer's draws are a function of
 * the particle that runs it and results do not depend on the number of threads. */
uint64_t rt_infer_call(rt_ctx *ctx);

/* Runs the model from where `frame` stopped to its next checkpoint (observe, reward,
 * potential) or its end. Returns 1 when stopped at a checkpoint, 0 when finished. */
typedef int32_t (*rt_resume_fn)(void *frame, rt_particle *p);
/* A model's gradient specialization (score and fit modes): the body on the AD tape, with
 * every sample site's value from the context's site provider (rt_vi_model_site). */
typedef void (*rt_model_ad_fn)(rt_ctx *ctx, const void *args);

/* Frame layout: offset 0 the int64 resume state (0 = start), 8 the return value (double,
 * int64, or bool widened to int64), then the body's variables from RT_FRAME_VARS. A new
 * frame is all zeros. The arguments are not in the frame (they never change): the i-th is
 * at offset 8*i of the particle's args block. */
enum { RT_FRAME_STATE = 0, RT_FRAME_RETURN = 8, RT_FRAME_VARS = 16 };

/* X(field, C type, ABI letter): what the compiler emits for each model, a constant
 * descriptor (rt_layout.h; cg_model.c's define_descriptor fills it by these rows). */
#define RT_MODEL_FIELDS(X) \
    X(name, const char *, p) \
    X(resume, rt_resume_fn, p) \
    X(frame_size, int64_t, i)                 /* bytes */ \
    X(ret_kind, int64_t, i)                   /* RT_REAL, RT_INT, RT_BOOL, or -1 for no value */ \
    X(nsites, int64_t, i) \
    X(site_names, const char *const *, p)     /* per site id: the name its address starts with */ \
    X(site_nidx, const int64_t *, p)          /* per site id: number of loop indices in its address */ \
    X(site_kind, const int64_t *, p)          /* per site id: RT_REAL or RT_INT */ \
    X(nparams, int64_t, i)                    /* parameters (8-byte words of the args block) */ \
    X(has_potential, int64_t, i)              /* the body has `potential` statements */ \
    X(model_ad, rt_model_ad_fn, p)            /* the gradient specialization (every model has one) */ \
    X(site_support, const int64_t *, p)       /* per site id: its support (RT_SUPPORT_*, rt_dist_table.h) */ \
    X(replay, rt_resume_fn, p)                /* replay mode: resume, sites taking p->given's values */

typedef struct rt_model {
    RT_MODEL_FIELDS(RT_FIELD_DECL)
} rt_model;
enum {
#define X(field, ...) RT_MODEL_F_##field,
    RT_MODEL_FIELDS(X)
#undef X
    RT_MODEL_NFIELDS
};
#define X(field, ctype, ...) RT_LAYOUT_CHECK(rt_model, field, ctype, RT_MODEL_F_##field)
RT_MODEL_FIELDS(X)
#undef X

/* Weighted draws from one inference run. */
typedef struct rt_posterior {
    const rt_model *model;
    const char *method;                 /* "is", ... */
    int64_t n;                          /* number of particles */
    double *logw;                       /* n final log weights (-inf for dead particles) */
    double *value;                      /* n return values as doubles */
    rt_columns *sites;                  /* the sample sites' values by column, or NULL */
    rt_trace *recorder;                 /* rt_post_trace's */
    double log_evidence;                /* log of the mean weight (-inf: every particle has weight 0) */
    bool dead;                          /* every particle has weight 0: there are no values */
    double ess;                         /* (sum w)^2 / sum w^2 */
    double mean;                        /* rt_post_mean, computed by rt_post_summarize */
    bool has_mean;
    double sd;                          /* with draws = false: from the running sums */
    bool streamed;                      /* draws = false: logw and value are NULL */
    int64_t resamples;                  /* SMC: resampling steps taken */
    rt_array *ess_history;              /* the ESS after each step (IS: one step) */
    /* diagnostics (rt_diagnose.c): IS and VI's draws the Pareto k-hat of the weights (NaN: not
     * computed); SMC the number of distinct first-step particles the final live particles
     * descend from and the smallest ESS over the steps (-1 and NaN for other methods) */
    double khat;
    int64_t ancestors;
    double min_ess;
    /* VI: the fitted guide's parameters and the objective at each step */
    const char *guide_name, *objective_name;
    int64_t nparams;
    const char *const *param_names;
    double *params;
    rt_array *history;
} rt_posterior;

/* ---- called by generated code (rows in rt_abi.h) ---- */
void *rt_frame_new(int64_t size);       /* zeroed and traced by the collector */
void rt_record(rt_particle *p, int64_t site, int64_t nidx, const int64_t *idx, double value);
/* log(scale), remembered in p->scale and p->log_scale: generated code computes a scalar
 * normal observe's density inline and calls this only when the scale differs from the last. */
double rt_log_scale(rt_particle *p, double scale);
/* The error of a weight that finite terms made infinite: an observe, reward or potential at
 * loc ("reward") added delta to logw and the sum overflowed. */
_Noreturn void rt_weight_overflow(const char *loc, const char *what, double logw, double delta);
/* The engines (RT_METHODS in rt_methods.h) take the model, its arguments, the method's
 * options (rt_infer_opts; rt_infer_check checks them first) and the infer's location. */
/* Importance sampling: `particles` runs of the model on `args` (see rt_particle), each from
 * a zeroed frame with its own RNG stream, each run to its end. All particles dead is a runtime
 * error at loc naming the model. With trace = 0 the sample sites' values are not kept (only
 * the return value and weights); with draws = 0 too, neither are those: the posterior has
 * running sums for its mean, sd, log evidence and ESS (streamed), in constant memory. ctx is
 * the calling context (rt_infer_call numbers the run's streams from it). */
rt_posterior *rt_infer_is(rt_ctx *ctx, const rt_model *m, const void *args, const rt_infer_opts *o,
                          const char *loc);
/* The statistics of the return value; a posterior whose particles all have weight 0 has
 * none, and reading them is a runtime error at loc (rt_post_require). */
double rt_post_mean(const rt_posterior *p, const char *loc);
double rt_post_sd(const rt_posterior *p, const char *loc);
double rt_post_quantile(const rt_posterior *p, double q, const char *loc);
/* A sample site's statistic over the particles of positive weight that have the address
 * (text as summaries print it: "x", "x[3]", "z[1, 2]"): stat 0 the mean, 1 the sd, 2 the
 * q-quantile, as the summary's rows compute them. */
double rt_post_site_stat(const rt_posterior *p, const char *addr, int64_t stat, double q, const char *loc);
double rt_post_log_evidence(const rt_posterior *p);
double rt_post_ess(const rt_posterior *p);
double rt_post_pareto_k(const rt_posterior *p);    /* NaN when not computed (not IS or VI) */
int64_t rt_post_ancestors(const rt_posterior *p);  /* SMC's distinct first-step ancestors, else -1 */
double rt_post_min_ess(const rt_posterior *p);     /* SMC's smallest ESS over its steps, else the ESS */
/* post.weights: the normalized weights, summing to 1 (all 0 when every particle is dead);
 * post.values: the return values as reals (0 for a dead particle), particle by particle. */
rt_array *rt_post_weights(const rt_posterior *p);
rt_array *rt_post_values(const rt_posterior *p);
int64_t rt_post_resamples(const rt_posterior *p);
rt_array *rt_post_ess_history(const rt_posterior *p);
/* Sequential Monte Carlo: all particles advance checkpoint by checkpoint on `threads`
 * threads; when ESS / particles < ess (always when ess >= 1) they are resampled by the
 * scheme `resample` (rt_resample.h). Results are bit-identical for any number of threads. */
rt_posterior *rt_infer_smc(rt_ctx *ctx, const rt_model *m, const void *args, const rt_infer_opts *o,
                           const char *loc);
/* A run-time error at loc naming `what` when p keeps no draws (is with draws = false). */
void rt_post_need_draws(const rt_posterior *p, const char *loc, const char *what);
/* Exact enumeration: the model's score mode once per combination of its sites' values (all
 * finite discrete: a continuous or unbounded site is an error at loc naming it), each run a
 * particle whose log weight is the combination's exact log joint; the log evidence is their
 * log-sum-exp (rt_enumerate.c). */
rt_posterior *rt_infer_enumerate(rt_ctx *ctx, const rt_model *m, const void *args, const rt_infer_opts *o,
                                 const char *loc);
/* The return value a finished frame holds, as a double. */
double rt_frame_return(const rt_model *m, const void *frame);
void rt_print_posterior(const rt_posterior *p);
/* Draws the return value's weighted distribution on stdout (rt_plot.c): a histogram for
 * reals, a bar per value for ints and bools, then a line with the mean and 90% interval. */
void rt_plot_posterior(const rt_posterior *p, const char *loc);

/* ---- for the inference engines and the tests (not called by generated code) ---- */
/* Infer calls started at the top level in this run: call c's streams are derived from c
 * (rt_infer.c, rt_smc.c), so several infer calls in one program use different streams.
 * Reset it to replay a call (rt_infer_call). */
extern uint64_t rt_infer_count;
/* 1 when PPL_GC_STRESS=1: the engines then collect after every resume, a test mode that
 * finds frames or traces hidden from the collector. Reads the environment at each call. */
int rt_gc_stress(void);
/* A posterior of n particles: weights and values allocated, not yet set; no sites. */
rt_posterior *rt_post_new(const rt_model *m, const char *method, int64_t n);
/* Sets log_evidence (logsumexp(logw) - log n) and ess from the final weights, summed in
 * particle order. All particles dead gives a posterior with log evidence -inf, ESS 0 and
 * `dead` set: an infer in a batch of runs goes on, and what reads its values fails. */
void rt_post_summarize(rt_posterior *p, const char *loc);
/* A runtime error at loc (`what: all 50 particles of model 'm' have zero weight ...`) when
 * p has no values, that is when every particle has weight 0. */
void rt_post_require(const rt_posterior *p, const char *what, const char *loc);

/* The Pareto-smoothed importance sampling shape k-hat of n log weights (Vehtari et al.): the
 * shape of a generalized Pareto fitted to the largest min(n / 5, 3 sqrt n) weights; above
 * 0.7 the weights' tail is too heavy for self-normalized estimates. NaN for too few. */
double rt_pareto_khat(const double *logw, int64_t n);
/* The warnings a posterior's diagnostics call for (an ESS below 1% of 100 or more particles,
 * k-hat above 0.7, SMC's distinct ancestors or smallest ESS below 1%), one line each,
 * `warning: ...`; returns how many (at most max). */
enum { RT_WARNING_MAX = 240 };
int rt_post_warnings(const rt_posterior *p, char lines[][RT_WARNING_MAX], int max);

/* Sites recorded by hand, particle by particle in increasing order, into a posterior of one
 * step (VI's draws, tests): the recorder for rt_particle.trace, created on the first call. */
rt_trace *rt_post_trace(rt_posterior *p);

#endif
