/* rt_infer.c - running models: frames, normal observes' scales, and importance sampling, which
 * runs a copy of the model's frame per particle to its end on the particle's own RNG stream. */
#define GC_THREADS
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gc.h>
#include "rt_infer.h"
#include "rt_progress.h"
#include "rt_weighted.h"

uint64_t rt_infer_count;   /* infer calls started at the top level in this run */

/* The top level's context: collector memory, so what its fields point to stays alive. */
static rt_ctx *root;

rt_ctx *rt_root_ctx(void)
{
    if (!root) {
        root = GC_MALLOC_UNCOLLECTABLE(sizeof *root);
        if (!root) rt_fail(NULL, "out of memory allocating the top-level context");
        root->root = true;
    }
    return root;
}

uint64_t rt_infer_call(rt_ctx *ctx)
{
    if (!ctx || ctx->root) return __atomic_fetch_add(&rt_infer_count, 1, __ATOMIC_RELAXED);
    return rt_rng_u64(&ctx->rng);
}

void *rt_frame_new(int64_t size)
{
    if (size < 0 || (uint64_t)size > SIZE_MAX / 2)
        rt_failf(NULL, "model frame of %lld bytes is too large", (long long)size);
    void *f = GC_MALLOC(size > 0 ? (size_t)size : 1);   /* GC_malloc zeroes */
    if (!f)
        rt_failf(NULL, "out of memory allocating a model frame of %lld bytes", (long long)size);
    return f;
}

_Noreturn void rt_weight_overflow(const char *loc, const char *what, double logw, double delta)
{
    double sum = logw + delta;
    rt_failf(loc, "the log weight overflows to %s at this %s (log weight %.17g before it; from finite terms "
             "the weight must be finite: rescale the rewards or potentials)", sum > 0 ? "+inf" : "-inf", what, logw);
}

double rt_log_scale(rt_particle *p, double scale)
{
    p->scale = scale;
    return p->log_scale = log(scale);
}

/* Read at the start of every infer call, not cached, so a test can switch it on and off. */
int rt_gc_stress(void)
{
    const char *s = getenv("PPL_GC_STRESS");
    return s && strcmp(s, "1") == 0;
}

/* Resumes the frame checkpoint by checkpoint until the model ends or the particle dies
 * (a dead particle is never resumed). Under GC stress, collects after every resume. */
static void run_to_end(const rt_model *m, void *frame, rt_particle *p, int stress)
{
    for (;;) {
        int32_t more = m->resume(frame, p);
        if (stress)
            GC_gcollect();
        if (!more || p->logw == -INFINITY)
            return;
    }
}

double rt_frame_return(const rt_model *m, const void *frame)
{
    const char *at = (const char *)frame + RT_FRAME_RETURN;
    if (m->ret_kind == RT_REAL) {
        double d;
        memcpy(&d, at, sizeof d);
        return d;
    }
    if (m->ret_kind == RT_INT || m->ret_kind == RT_BOOL) {
        int64_t v;
        memcpy(&v, at, sizeof v);
        return (double)v;
    }
    return 0.0;
}

/* Random streams, as SMC's first step draws them (rt_smc.c): particle i's first two words are
 * words 2i and 2i + 1 of the call's shared stream (call, 0, 1), computed in a batch per block
 * of IS_BLOCK particles, and the rest come from its own stream (call, 0, 0) + i. */
enum { IS_BLOCK = 4096 };

/* Runs particle i of infer call `call` on args in the zeroed `frame`, drawing first the two
 * words of prefix, recording its sites in rec unless that is NULL; its log weight and value
 * go to *logw and *value. A dead particle gets log weight -inf, value 0 and no records; a
 * live one loses its last potential (potentials steer, they never change the target). */
static void is_particle(const rt_model *m, int64_t i, uint64_t base, const uint32_t prefix[2], void *frame,
                        rt_particle *pp, int stress, double *logw, double *value, const char *loc)
{
    rt_particle p = *pp;   /* the run's fields; a copy is cheaper than zeroing every one */
    p.logw = p.potential = 0.0;
    rt_rng_init_prefix(&p.rng, rt_seed, base + (uint64_t)i, prefix);
    rt_trace *rec = p.trace;
    if (rec)
        rt_trace_particle(rec, i);
    memset(frame, 0, (size_t)m->frame_size);
    run_to_end(m, frame, &p, stress);
    if (p.logw == -INFINITY) {
        if (rec)
            rt_trace_drop(rec);
        *logw = -INFINITY;
        *value = 0.0;
        return;
    }
    p.logw -= p.potential;
    if (isnan(p.logw))
        rt_failf(loc, "model '%s' produced a NaN log weight", m->name);
    *logw = p.logw;
    *value = rt_frame_return(m, frame);
}

/* draws = false: the posterior's statistics from running sums, no draw kept. */
static void summarize_stream(rt_posterior *post, const rt_wstats *s, const char *loc)
{
    post->streamed = true;
    post->khat = NAN;   /* k-hat needs the largest weights, which are not kept */
    if (s->max == -INFINITY) {   /* every particle dead: as rt_post_summarize */
        post->log_evidence = -INFINITY;
        post->ess = 0;
        post->dead = true;
        return;
    }
    post->log_evidence = s->max + log(s->w) - log((double)post->n);
    post->ess = s->w * s->w / s->w2;
    post->mean = s->mean, post->has_mean = true;
    post->sd = sqrt(s->m2 / s->w);
}

rt_posterior *rt_infer_is(rt_ctx *ctx, const rt_model *m, const void *args, const rt_infer_opts *o,
                          const char *loc)
{
    rt_infer_check(RT_METHOD_IS, o, loc);
    int64_t particles = o->particles, record = o->trace;
    bool keep = o->draws || record;
    uint64_t call = rt_infer_call(ctx);
    int stress = rt_gc_stress();
    rt_posterior *post = rt_post_new(m, "is", keep ? particles : 0);
    double *logw = NULL, *value = NULL;   /* draws = false: one block's, folded into stats */
    if (!keep) {
        post->n = particles;
        post->logw = post->value = NULL;
        logw = rt_alloc(sizeof(double) * IS_BLOCK, false);
        value = rt_alloc(sizeof(double) * IS_BLOCK, false);
    }
    rt_wstats stats = RT_WSTATS_EMPTY;
    void *frame = rt_frame_new(m->frame_size);   /* one buffer, reused by every particle */
    rt_trace *rec = record ? rt_post_trace(post) : NULL;
    rt_particle proto = {.trace = rec, .args = args};
    rt_progress bar;
    rt_progress_start(&bar, "is");
    uint64_t base = rt_rng_stream_id(call, 0, 0), shared = rt_rng_stream_id(call, 0, 1);
    uint32_t (*words)[4] = rt_alloc(sizeof *words * (IS_BLOCK / 2), false);
    for (int64_t lo = 0; lo < particles; lo += IS_BLOCK) {
        int64_t hi = lo + IS_BLOCK < particles ? lo + IS_BLOCK : particles;
        rt_rng_blocks(rt_seed, shared, (uint64_t)lo / 2, (hi - lo + 1) / 2, words);
        for (int64_t i = lo; i < hi; i++) {
            if (rt_interrupted)
                rt_interrupt(loc);
            double *w = keep ? &post->logw[i] : &logw[i - lo], *v = keep ? &post->value[i] : &value[i - lo];
            is_particle(m, i, base, &words[(i - lo) / 2][(i - lo) % 2 * 2], frame, &proto, stress, w, v, loc);
        }
        if (!keep) rt_wstats_add_block(&stats, logw, value, hi - lo);
        rt_progress_update(&bar, (double)hi, (double)particles);
    }
    rt_progress_end(&bar);
    if (keep) {
        rt_post_summarize(post, loc);
        post->khat = rt_pareto_khat(post->logw, post->n);
    } else {
        summarize_stream(post, &stats, loc);
    }
    return post;
}
