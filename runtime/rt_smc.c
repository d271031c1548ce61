/* rt_smc.c - sequential Monte Carlo over resumable model frames: every particle runs to its
 * next checkpoint, the swarm is reweighted, resampled when its ESS falls, and resumed. */
#define GC_THREADS
#include <gc.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "rt_infer.h"
#include "rt_resample.h"

enum { RUNNING, FINISHED, DEAD, BROKEN };   /* BROKEN: a NaN log weight */

typedef struct Swarm {
    const rt_model *m;
    int64_t n, fsize, threads;
    char *frames;            /* n frames of fsize bytes, traced by the collector */
    rt_particle *parts;
    uint8_t *status;
    double *value;           /* return values of finished particles */
    int64_t *anc, *count;    /* resampling scratch: ancestors and offspring counts */
    uint64_t call;           /* this infer call's number: part of every stream id */
    int64_t generation;      /* resampling steps so far */
    int scheme;
    bool record;             /* keep sample-site values */
    double logz;             /* log evidence banked at each resampling */
} Swarm;

static void *alloc(size_t size, bool traced) {
    void *p = traced ? GC_MALLOC(size ? size : 1) : GC_MALLOC_ATOMIC(size ? size : 1);
    if (!p) rt_fail(NULL, "out of memory in smc");
    if (!traced) memset(p, 0, size);
    return p;
}

static rt_trace *new_trace(rt_trace *parent) {
    rt_trace *t = alloc(sizeof *t, true);
    t->parent = parent && parent->len == 0 ? parent->parent : parent;
    return t;
}

static char *frame_of(Swarm *s, int64_t i) { return s->frames + i * s->fsize; }

/* Stream of particle i in a generation: a per-generation base from (call, generation) plus
 * i. Distinct stream ids give independent Philox streams, so consecutive ones are fine. */
static void seed_particles(Swarm *s) {
    uint64_t base = rt_rng_stream_id(s->call, (uint64_t)s->generation, 0);
    for (int64_t i = 0; i < s->n; i++) rt_rng_init(&s->parts[i].rng, rt_seed, base + (uint64_t)i);
}

static void init_swarm(Swarm *s, const void *proto) {
    size_t n = (size_t)s->n;
    s->frames = alloc(n * (size_t)s->fsize, true);
    s->parts = alloc(n * sizeof *s->parts, true);
    s->status = alloc(n, false);
    s->value = alloc(n * sizeof(double), false);
    s->anc = alloc(n * sizeof(int64_t), false);
    s->count = alloc(n * sizeof(int64_t), false);
    for (int64_t i = 0; i < s->n; i++) {
        if (proto) memcpy(frame_of(s, i), proto, (size_t)s->fsize);
        s->parts[i].trace = s->record ? new_trace(NULL) : NULL;
    }
    seed_particles(s);
}

/* ---- advancing particles to their next checkpoint ---- */

/* A dead particle is never resumed; a finished one waits with its potential removed. */
static void advance_one(Swarm *s, int64_t i) {
    rt_particle *p = &s->parts[i];
    int32_t more = s->m->resume(frame_of(s, i), p);
    if (isnan(p->logw)) s->status[i] = BROKEN;
    else if (p->logw == -INFINITY) s->status[i] = DEAD;
    else if (!more) {
        s->status[i] = FINISHED;
        p->logw -= p->potential;
        s->value[i] = rt_frame_return(s->m, frame_of(s, i));
    }
}

typedef struct Slice { Swarm *s; int64_t lo, hi; } Slice;

static void *advance_slice(void *arg) {
    Slice *sl = arg;
    for (int64_t i = sl->lo; i < sl->hi; i++)
        if (sl->s->status[i] == RUNNING) advance_one(sl->s, i);
    return NULL;
}

/* Each thread takes a contiguous slice; particles only touch their own state, so the
 * result does not depend on the number of threads. */
static void advance_all(Swarm *s) {
    int64_t k = s->threads < s->n ? s->threads : s->n;
    Slice slices[k];
    pthread_t tid[k];
    for (int64_t t = 0; t < k; t++) slices[t] = (Slice){s, s->n * t / k, s->n * (t + 1) / k};
    for (int64_t t = 1; t < k; t++)
        if (pthread_create(&tid[t], NULL, advance_slice, &slices[t]) != 0)
            rt_fail(NULL, "smc: cannot start a worker thread");
    advance_slice(&slices[0]);
    for (int64_t t = 1; t < k; t++) pthread_join(tid[t], NULL);
}

/* ---- weights ---- */

static double max_logw(const Swarm *s) {
    double max = -INFINITY;
    for (int64_t i = 0; i < s->n; i++)
        if (s->parts[i].logw > max) max = s->parts[i].logw;
    return max;
}

/* Relative weights exp(logw - max) into w; returns their sum and the ESS. */
static double rel_weights(const Swarm *s, double max, double *w, double *ess) {
    double sum = 0, sum2 = 0;
    for (int64_t i = 0; i < s->n; i++) {
        w[i] = s->parts[i].logw == -INFINITY ? 0 : exp(s->parts[i].logw - max);
        sum += w[i];
        sum2 += w[i] * w[i];
    }
    *ess = sum * sum / sum2;
    return sum;
}

static bool any_running(const Swarm *s) {
    for (int64_t i = 0; i < s->n; i++)
        if (s->status[i] == RUNNING) return true;
    return false;
}

static void check_swarm(const Swarm *s, const char *loc) {
    bool alive = false;
    for (int64_t i = 0; i < s->n; i++) {
        if (s->status[i] == BROKEN)
            rt_failf(loc, "model '%s' produced a NaN log weight", s->m->name);
        alive = alive || s->status[i] != DEAD;
    }
    if (!alive)
        rt_failf(loc, "all %lld particles of model '%s' have zero weight (every run hit an "
                 "impossible observation or a reward of -inf)", (long long)s->n, s->m->name);
}

/* ---- resampling ---- */

/* The frame and what the particle keeps across resampling (its RNG, weight and trace
 * segment are set afresh by the caller). Parameters are the same in every frame and
 * never change, so only the state, return value and variables are copied. */
static void copy_particle(Swarm *s, int64_t from, int64_t to) {
    char *dst = frame_of(s, to), *src = frame_of(s, from);
    int64_t vars = RT_FRAME_PARAMS + 8 * s->m->nparams;
    memcpy(dst, src, RT_FRAME_PARAMS);
    memcpy(dst + vars, src + vars, (size_t)(s->fsize - vars));
    s->parts[to].potential = s->parts[from].potential;
    s->status[to] = s->status[from];
    s->value[to] = s->value[from];
}

/* In place: a particle with k >= 1 offspring keeps its slot and its extra copies go to
 * the slots of particles with none. Shared records move into a parent segment. */
static void apply_offspring(Swarm *s, const int64_t *count) {
    int64_t free_slot = 0;
    for (int64_t a = 0; a < s->n; a++) {
        if (count[a] < 2) continue;
        if (!s->record) {
            for (int64_t c = 1; c < count[a]; c++, free_slot++) {
                while (count[free_slot] != 0) free_slot++;
                copy_particle(s, a, free_slot);
            }
            continue;
        }
        rt_trace *shared = s->parts[a].trace;
        for (int64_t c = 1; c < count[a]; c++) {
            while (count[free_slot] != 0) free_slot++;
            copy_particle(s, a, free_slot);
            s->parts[free_slot].trace = new_trace(shared);
            free_slot++;
        }
        s->parts[a].trace = new_trace(shared);
    }
}

/* Every particle gets a fresh stream and weight 1: the mean weight before resampling is
 * banked in logz. */
static void restart_weights(Swarm *s, double lse) {
    s->logz += lse - log((double)s->n);
    s->generation++;
    for (int64_t i = 0; i < s->n; i++) s->parts[i].logw = 0;
    seed_particles(s);
}

static void resample(Swarm *s, const double *w, double sum, double max) {
    int64_t *anc = s->anc, *count = s->count;
    memset(count, 0, sizeof(int64_t) * (size_t)s->n);
    rt_rng r;
    rt_rng_init(&r, rt_seed, rt_rng_stream_id(s->call, (uint64_t)s->generation, 1));
    rt_resample(s->scheme, w, s->n, &r, anc);
    for (int64_t i = 0; i < s->n; i++) count[anc[i]]++;
    apply_offspring(s, count);
    restart_weights(s, max + log(sum));
}

/* ---- results ---- */

/* Particle i's records, oldest segment first. */
static void flatten_trace(rt_trace *leaf, rt_trace *out) {
    int64_t depth = 0;
    for (rt_trace *t = leaf; t; t = t->parent) depth++;
    rt_trace **chain = alloc(sizeof *chain * (size_t)depth, true);
    int64_t k = depth;
    for (rt_trace *t = leaf; t; t = t->parent) chain[--k] = t;
    for (int64_t j = 0; j < depth; j++)
        if (chain[j]->len) rt_trace_append(out, chain[j]->words, chain[j]->len);
}

static rt_posterior *collect(Swarm *s, rt_array *history, int64_t steps, const char *loc) {
    rt_posterior *post = rt_post_new(s->m, "smc", s->n);
    for (int64_t i = 0; i < s->n; i++) {
        post->logw[i] = s->parts[i].logw;
        post->value[i] = s->value[i];
        post->trace_start[i] = post->trace.len;
        if (s->record) flatten_trace(s->parts[i].trace, &post->trace);
    }
    post->trace_start[s->n] = post->trace.len;
    rt_post_summarize(post, loc);
    post->log_evidence += s->logz;
    post->resamples = s->generation;
    history->len = steps;
    post->ess_history = history;
    return post;
}

static rt_array *push_history(rt_array *h, int64_t at, double ess) {
    if (at == h->len) {
        rt_array *bigger = rt_array_new(2 * h->len, 0);
        memcpy(bigger->at.d, h->at.d, sizeof(double) * (size_t)h->len);
        h = bigger;
    }
    h->at.d[at] = ess;
    return h;
}

rt_posterior *rt_infer_smc(const rt_model *m, const void *proto, int64_t particles,
                           int64_t scheme, double ess_frac, int64_t threads, int64_t record,
                           const char *loc) {
    if (particles < 1) rt_failf(loc, "smc: particles must be at least 1, found %lld", (long long)particles);
    if (threads < 1 || threads > 256)
        rt_failf(loc, "smc: threads must be between 1 and 256, found %lld", (long long)threads);
    if (!(ess_frac >= 0 && ess_frac <= 1)) rt_failf(loc, "smc: ess must be between 0 and 1, found %g", ess_frac);
    Swarm s = {.m = m, .n = particles, .fsize = m->frame_size, .threads = threads,
               .call = rt_infer_count++, .scheme = (int)scheme, .record = record != 0};
    init_swarm(&s, proto);
    double *w = alloc(sizeof(double) * (size_t)particles, false);
    rt_array *history = rt_array_new(16, 0);
    int64_t steps = 0;
    int stress = rt_gc_stress();
    while (any_running(&s)) {
        advance_all(&s);
        check_swarm(&s, loc);
        double ess, max = max_logw(&s), sum = rel_weights(&s, max, w, &ess);
        history = push_history(history, steps++, ess);
        if (any_running(&s) && (ess_frac >= 1 || ess < ess_frac * (double)particles)) resample(&s, w, sum, max);
        if (stress) GC_gcollect();
    }
    return collect(&s, history, steps, loc);
}
