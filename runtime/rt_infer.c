/* rt_infer.c - running models: frames, sample-site traces, and importance sampling, which
 * runs a copy of the model's frame per particle to its end on the particle's own RNG stream. */
#define GC_THREADS
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gc.h>
#include "rt_infer.h"
#include "rt_progress.h"

uint64_t rt_infer_count;   /* infer calls started in this run */

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

/* Makes room for `extra` more words. The old buffer is left to the collector rather than
 * freed, in case someone still holds a copy of the rt_trace. */
static void trace_reserve(rt_trace *t, int64_t extra)
{
    t->words = rt_grow(t->words, t->len, &t->cap, t->len + extra, sizeof *t->words, false);
}

void rt_trace_append(rt_trace *t, const int64_t *words, int64_t n)
{
    trace_reserve(t, n);
    memcpy(t->words + t->len, words, 8 * (size_t)n);
    t->len += n;
}

/* Appends [site, nidx, idx..., value bits]; a particle without a trace records nothing. */
void rt_record(rt_particle *p, int64_t site, int64_t nidx, const int64_t *idx, double value)
{
    rt_trace *t = p->trace;
    if (!t)
        return;
    trace_reserve(t, 3 + nidx);
    int64_t *w = t->words + t->len;
    w[0] = site;
    w[1] = nidx;
    if (nidx > 0)
        memcpy(w + 2, idx, 8 * (size_t)nidx);
    memcpy(w + 2 + nidx, &value, sizeof value);
    t->len += 3 + nidx;
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

/* Runs particle i of infer call `call` on args in the zeroed `frame`. A dead particle gets
 * log weight -inf, value 0 and no records; a live one loses its last potential (potentials
 * steer, they never change the target). */
static void is_particle(rt_posterior *post, int64_t i, uint64_t call, void *frame,
                        const void *args, int stress, int64_t record, const char *loc)
{
    const rt_model *m = post->model;
    rt_particle p = { .logw = 0.0, .potential = 0.0, .trace = record ? &post->trace : NULL };
    rt_rng_init(&p.rng, rt_seed, rt_rng_stream_id(call, (uint64_t)i, 0));
    post->trace_start[i] = post->trace.len;
    p.args = args;
    memset(frame, 0, (size_t)m->frame_size);
    run_to_end(m, frame, &p, stress);
    if (p.logw == -INFINITY) {
        post->trace.len = post->trace_start[i];
        post->logw[i] = -INFINITY;
        post->value[i] = 0.0;
        return;
    }
    p.logw -= p.potential;
    if (isnan(p.logw))
        rt_failf(loc, "model '%s' produced a NaN log weight", m->name);
    post->logw[i] = p.logw;
    post->value[i] = rt_frame_return(m, frame);
}

rt_posterior *rt_infer_is(const rt_model *m, const void *args, int64_t particles,
                          int64_t record, const char *loc)
{
    if (particles < 1)
        rt_failf(loc, "is: particles must be at least 1, found %lld", (long long)particles);
    uint64_t call = __atomic_fetch_add(&rt_infer_count, 1, __ATOMIC_RELAXED);
    int stress = rt_gc_stress();
    rt_posterior *post = rt_post_new(m, "is", particles);
    void *frame = rt_frame_new(m->frame_size);   /* one buffer, reused by every particle */
    rt_progress bar;
    rt_progress_start(&bar, "is");
    for (int64_t i = 0; i < particles; i++) {
        if (rt_interrupted)
            rt_interrupt(loc);
        is_particle(post, i, call, frame, args, stress, record, loc);
        if ((i & 1023) == 0) rt_progress_update(&bar, (double)i, (double)particles);
    }
    rt_progress_end(&bar);
    post->trace_start[particles] = post->trace.len;
    rt_post_summarize(post, loc);
    return post;
}
