/* rt_infer.h - models as resumable frames, particles, and the posterior values inference returns.
 * The compiler turns each model body into a resume function over a frame (DESIGN.md section 3). */
#ifndef PPL_RT_INFER_H
#define PPL_RT_INFER_H
#include <stdint.h>
#include "rt.h"
#include "rt_rng.h"

/* Sample-site values of one run, appended as int64 words per record:
 * [site id, number of indices k, index_1 .. index_k, value as the bits of a double]. */
typedef struct rt_trace {
    int64_t *words;
    int64_t len, cap;
    struct rt_trace *parent;   /* SMC: the records before these, shared with other particles */
} rt_trace;

typedef struct rt_particle {
    rt_rng rng;          /* must stay first: generated code passes the particle as its rt_rng * */
    double logw;         /* log weight: observations, rewards and potential differences so far */
    double potential;    /* the last `potential` value (0 before any) */
    rt_trace *trace;     /* where rt_record appends */
    const void *args;    /* the model's arguments, 8 bytes each: shared by every particle */
    double scale, log_scale;   /* a normal observe's last scale and its log (0: none yet) */
} rt_particle;

/* Runs the model from where `frame` stopped to its next checkpoint (observe, reward,
 * potential) or its end. Returns 1 when stopped at a checkpoint, 0 when finished. */
typedef int32_t (*rt_resume_fn)(void *frame, rt_particle *p);

/* Frame layout: offset 0 the int64 resume state (0 = start), 8 the return value (double,
 * int64, or bool widened to int64), then the body's variables from RT_FRAME_VARS. A new
 * frame is all zeros. The arguments are not in the frame (they never change): the i-th is
 * at offset 8*i of the particle's args block. */
enum { RT_FRAME_STATE = 0, RT_FRAME_RETURN = 8, RT_FRAME_VARS = 16 };

/* What the compiler emits for each model: a constant descriptor. */
typedef struct rt_model {
    const char *name;
    rt_resume_fn resume;
    int64_t frame_size;                 /* bytes */
    int64_t ret_kind;                   /* RT_REAL, RT_INT, RT_BOOL, or -1 for no value */
    int64_t nsites;
    const char *const *site_names;      /* per site id: the name its address starts with */
    const int64_t *site_nidx;           /* per site id: number of loop indices in its address */
    const int64_t *site_kind;           /* per site id: RT_REAL or RT_INT */
    int64_t nparams;                    /* parameters (8-byte words of the args block) */
    int64_t has_potential;              /* the body has `potential` statements */
} rt_model;

/* Weighted draws from one inference run. */
typedef struct rt_posterior {
    const rt_model *model;
    const char *method;                 /* "is", ... */
    int64_t n;                          /* number of particles */
    double *logw;                       /* n final log weights (-inf for dead particles) */
    double *value;                      /* n return values as doubles */
    int64_t *trace_start;               /* n + 1 offsets into trace.words: particle i's records */
    rt_trace trace;
    double log_evidence;                /* log of the mean weight */
    double ess;                         /* (sum w)^2 / sum w^2 */
    int64_t resamples;                  /* SMC: resampling steps taken */
    rt_array *ess_history;              /* the ESS after each step (IS: one step) */
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
/* Importance sampling: `particles` runs of the model on `args` (see rt_particle), each from
 * a zeroed frame with its own RNG stream, each run to its end. All particles dead is a runtime error at loc naming the model. With
 * record = 0 the sample sites' values are not kept (only the return value and weights). */
rt_posterior *rt_infer_is(const rt_model *m, const void *args, int64_t particles,
                          int64_t record, const char *loc);
double rt_post_mean(const rt_posterior *p);
double rt_post_sd(const rt_posterior *p);
double rt_post_quantile(const rt_posterior *p, double q, const char *loc);
double rt_post_log_evidence(const rt_posterior *p);
double rt_post_ess(const rt_posterior *p);
int64_t rt_post_resamples(const rt_posterior *p);
rt_array *rt_post_ess_history(const rt_posterior *p);
/* Sequential Monte Carlo: all particles advance checkpoint by checkpoint on `threads`
 * threads; when ESS / particles < ess (always when ess >= 1) they are resampled by `scheme`
 * (rt_resample.h). Results are bit-identical for any number of threads. */
rt_posterior *rt_infer_smc(const rt_model *m, const void *args, int64_t particles,
                           int64_t scheme, double ess, int64_t threads, int64_t record,
                           const char *loc);
/* The return value a finished frame holds, as a double. */
double rt_frame_return(const rt_model *m, const void *frame);
/* Appends n words to a trace. */
void rt_trace_append(rt_trace *t, const int64_t *words, int64_t n);
void rt_print_posterior(const rt_posterior *p);
/* Draws the return value's weighted distribution on stdout (rt_plot.c): a histogram for
 * reals, a bar per value for ints and bools, then a line with the mean and 90% interval. */
void rt_plot_posterior(const rt_posterior *p);

/* ---- for the inference engines and the tests (not called by generated code) ---- */
/* Infer calls started in this run: call c's particle i draws from stream (c, i, 0), so
 * several infer calls in one program use different streams. Reset it to replay a call. */
extern uint64_t rt_infer_count;
/* 1 when PPL_GC_STRESS=1: the engines then collect after every resume, a test mode that
 * finds frames or traces hidden from the collector. Reads the environment at each call. */
int rt_gc_stress(void);
/* A posterior of n particles: weights, values and trace offsets allocated, not yet set. */
rt_posterior *rt_post_new(const rt_model *m, const char *method, int64_t n);
/* Sets log_evidence (logsumexp(logw) - log n) and ess from the final weights, summed in
 * particle order; all particles dead is a runtime error at loc naming the model. */
void rt_post_summarize(rt_posterior *p, const char *loc);

/* The distinct sample-site addresses of a trace, numbered 0, 1, ... in the order they are
 * first looked up. An address is the words of a record before its value (site id, index
 * count, indices). Start from { .words = trace words } (all else zero). */
typedef struct rt_addr_table {
    const int64_t *words;   /* the trace */
    int64_t *slots;         /* cap entries: 1 + address number, 0 when empty */
    int64_t *first;         /* per address number: word offset of its first record */
    int64_t cap, count;
} rt_addr_table;
/* The number of the address of the record at word offset `off`, adding it if new. */
int64_t rt_addr_id(rt_addr_table *t, int64_t off);
void rt_addr_free(rt_addr_table *t);

#endif
