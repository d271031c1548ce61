/* rt_smc.c - sequential Monte Carlo over resumable model frames: every particle runs to its
 * next checkpoint, the swarm is reweighted, resampled when its ESS falls, and resumed.
 *
 * Per-particle work (advancing, weights, copies) runs on `threads` threads over whole blocks
 * of BLOCK particles. Reductions are computed per block and combined in block order, and
 * every particle draws from its own stream, so results are bit-identical for any number of
 * threads.
 *
 * A particle's state between steps is its frame, its log weight and (for models with
 * `potential`) its last potential, each in an array of its own so the passes over them are
 * streams; an rt_particle exists only while a particle runs, on the advancing thread's stack.
 * Particle i's draws during step t start afresh at every step, so no random state is kept
 * or copied, and resampled copies diverge at their next draw: the first two words are words
 * 2i and 2i + 1 of the step's shared stream (call, t, 1), enough for a normal or a uniform,
 * the rest come from the particle's own stream (call, t, 0) + i. Two particles share one
 * Philox block of the shared stream, computed in a batch per BLOCK particles. */
#include <gc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rt_infer.h"
#include "rt_pool.h"
#include "rt_progress.h"
#include "rt_repl.h"
#include "rt_resample.h"

/* A particle's state is its frame's first word: the model's resume point (>= 0) while it
 * runs, or one of these once it has stopped, so copying a frame copies the state too. */
enum { FINISHED = -1, DEAD = -2, BROKEN = -3 };   /* BROKEN: a NaN log weight */
enum { BLOCK = RT_TRACE_BLOCK };   /* a block's sites go to one chunk of columns (rt_trace.h) */
enum { ANY_RUNNING = 1, ANY_ALIVE = 2, ANY_BROKEN = 4 };

typedef struct Swarm Swarm;
typedef void (*Phase)(Swarm *s, int64_t lo, int64_t hi);
/* A phase on the threads: fn over [0, n) in slices aligned to `align`. It lives in the
 * swarm, not on a stack, since workers may still read it after an error has left it. */
typedef struct PhaseCall { Phase fn; int64_t n, align; } PhaseCall;

struct Swarm {
    const rt_model *m;
    const void *args;        /* the model's arguments, shared by every particle */
    int64_t n, fsize, nblocks;
    char *frames;            /* n frames of fsize bytes, traced by the collector */
    double *logw;            /* n log weights: observations, rewards, potential differences */
    double *potential;       /* n last potentials when the model has any, else NULL */
    int64_t *origin;         /* n: the first-step particle each one descends from */
    rt_columns *cols;        /* the sites' values by column when recording, else NULL */
    double *w;               /* relative weights exp(logw - max) */
    double *block_max, *block_sum, *block_sum2;
    int *block_flags;
    int64_t *count;          /* resampling: offspring counts */
    double *block_start;     /* resampling: the sum of the weights before each block */
    int64_t *block_extra, *block_freed;   /* per block: extra copies and freed slots, then
                                           * where the block's first of each goes in src, dst
                                           * (and at nblocks, the totals) */
    rt_systematic sys;       /* systematic resampling's points this step */
    int64_t *src, *dst, ncopies;   /* the copies a resampling step makes: src[k] over dst[k] */
    double max;              /* the largest log weight this step */
    uint64_t call;           /* this infer call's number: part of every stream id */
    int64_t step;            /* advancing steps so far: part of every stream id */
    int64_t generation;      /* resampling steps so far */
    bool reset;              /* weights restart at 1 (after resampling) */
    int scheme;
    bool record;             /* keep sample-site values */
    double logz;             /* log evidence banked at each resampling */
    const char *loc;         /* the infer call, for errors */
    rt_pool *pool;           /* the worker threads, for the whole run */
    PhaseCall phase;         /* the phase they run */
};

static char *frame_of(Swarm *s, int64_t i) { return s->frames + i * s->fsize; }
static int64_t *state_of(Swarm *s, int64_t i) { return (int64_t *)frame_of(s, i); }

/* ---- running phases on the pool's threads ---- */

/* Part `part` of the swarm's phase over [0, n) in nparts contiguous slices whose bounds are
 * multiples of align. */
static void phase_part(void *ctx, int64_t part, int64_t nparts) {
    Swarm *s = ctx;
    int64_t n = s->phase.n, align = s->phase.align, units = (n + align - 1) / align;
    int64_t lo = units * part / nparts * align, hi = units * (part + 1) / nparts * align;
    if (hi > n) hi = n;
    if (lo < hi) s->phase.fn(s, lo, hi);
}

/* fn over [0, n) on the pool's threads, in slices whose bounds are multiples of `align`
 * (BLOCK for phases that reduce per block); on this thread alone when there is one slice. */
static void parallel(Swarm *s, int64_t n, int64_t align, Phase fn) {
    if (n <= align) {
        if (n > 0) fn(s, 0, n);
        return;
    }
    s->phase = (PhaseCall){fn, n, align};
    rt_pool_run(s->pool, phase_part, s);
}

/* ---- set-up ---- */

static void init_swarm(Swarm *s) {
    int64_t n = s->n, nb = s->nblocks;
    const char *loc = s->loc;
    s->frames = rt_alloc_n(n, (size_t)s->fsize, true, "particles", loc);
    s->logw = rt_alloc_n(n, sizeof(double), false, "particles", loc);
    if (s->m->has_potential) s->potential = rt_alloc_n(n, sizeof(double), false, "particles", loc);
    s->w = rt_alloc_n(n, sizeof(double), false, "particles", loc);
    s->origin = rt_alloc_n(n, sizeof(int64_t), false, "particles", loc);
    for (int64_t i = 0; i < n; i++) s->origin[i] = i;
    s->count = rt_alloc_n(n, sizeof(int64_t), false, "particles", loc);
    s->src = rt_alloc_n(n, sizeof(int64_t), false, "particles", loc);
    s->dst = rt_alloc_n(n, sizeof(int64_t), false, "particles", loc);
    s->block_start = rt_alloc_n(nb, sizeof(double), false, "particles", loc);
    s->block_extra = rt_alloc_n(nb + 1, sizeof(int64_t), false, "particles", loc);
    s->block_freed = rt_alloc_n(nb + 1, sizeof(int64_t), false, "particles", loc);
    s->block_max = rt_alloc_n(nb, sizeof(double), false, "particles", loc);
    s->block_sum = rt_alloc_n(nb, sizeof(double), false, "particles", loc);
    s->block_sum2 = rt_alloc_n(nb, sizeof(double), false, "particles", loc);
    s->block_flags = rt_alloc_n(nb, sizeof(int), false, "particles", loc);
    if (s->record) s->cols = rt_columns_new(s->n);
}

/* ---- advancing particles to their next checkpoint ---- */

/* Stream ids: particle i's own stream this step is stream_base + i. Distinct stream ids
 * give independent Philox streams, so consecutive ones are fine. */
static uint64_t stream_base(Swarm *s) { return rt_rng_stream_id(s->call, (uint64_t)s->step, 0); }
static uint64_t shared_stream(Swarm *s) { return rt_rng_stream_id(s->call, (uint64_t)s->step, 1); }

/* Runs particle i in p on `stream` after the two words of prefix. A dead particle is never
 * resumed; a finished one waits with its potential removed. */
static int64_t advance_one(Swarm *s, int64_t i, rt_particle *p, uint64_t stream, const uint32_t prefix[2]) {
    rt_rng_init_prefix(&p->rng, rt_seed, stream, prefix);
    p->logw = s->logw[i];
    p->potential = s->potential ? s->potential[i] : 0;
    if (p->trace) rt_trace_particle(p->trace, i);
    int64_t *state = state_of(s, i);
    int32_t more = s->m->resume(state, p);
    if (s->potential) s->potential[i] = p->potential;
    if (isnan(p->logw)) *state = BROKEN;
    else if (p->logw == -INFINITY) *state = DEAD;
    else if (!more) {
        *state = FINISHED;
        p->logw -= p->potential;
    }
    s->logw[i] = p->logw;
    return *state;
}

/* Advances the running particles of one block and notes its largest log weight and which
 * states occur in it. `words` receives the block's share of the shared stream. */
static void advance_block(Swarm *s, int64_t b, rt_particle *p, uint32_t (*words)[4]) {
    int64_t lo = b * BLOCK, hi = lo + BLOCK < s->n ? lo + BLOCK : s->n;
    uint64_t base = stream_base(s);
    rt_rng_blocks(rt_seed, shared_stream(s), (uint64_t)lo / 2, (hi - lo + 1) / 2, words);
    double max = -INFINITY;
    int flags = 0;
    for (int64_t i = lo; i < hi; i++) {
        if (rt_interrupted) rt_interrupt(s->loc);
        if (s->reset) s->logw[i] = 0;
        int64_t st = *state_of(s, i);
        if (st >= 0) st = advance_one(s, i, p, base + (uint64_t)i, &words[(i - lo) / 2][(i - lo) % 2 * 2]);
        flags |= st >= 0 ? ANY_RUNNING | ANY_ALIVE : st == FINISHED ? ANY_ALIVE
               : st == BROKEN ? ANY_BROKEN : 0;
        if (s->logw[i] > max) max = s->logw[i];
    }
    s->block_max[b] = max;
    s->block_flags[b] = flags;
}

static void advance_phase(Swarm *s, int64_t lo, int64_t hi) {
    rt_trace rec = s->cols ? rt_trace_recorder(s->cols) : (rt_trace){0};
    rt_particle p = {.args = s->args, .trace = s->cols ? &rec : NULL};
    uint32_t words[BLOCK / 2][4];   /* 32 KB: two words per particle */
    for (int64_t b = lo / BLOCK; b * BLOCK < hi; b++) advance_block(s, b, &p, words);
}

/* Advances every running particle; returns the union of the blocks' flags. */
static int advance_all(Swarm *s, const char *loc) {
    if (s->cols) rt_columns_step(s->cols);
    parallel(s, s->n, BLOCK, advance_phase);
    s->reset = false;
    s->step++;
    int flags = 0;
    s->max = -INFINITY;
    for (int64_t b = 0; b < s->nblocks; b++) {
        flags |= s->block_flags[b];
        if (s->block_max[b] > s->max) s->max = s->block_max[b];
    }
    if (flags & ANY_BROKEN) rt_failf(loc, "model '%s' produced a NaN log weight", s->m->name);
    return flags;   /* without ANY_ALIVE every particle is dead: the run stops, its evidence -inf */
}

/* ---- weights ---- */

static void weight_phase(Swarm *s, int64_t lo, int64_t hi) {
    for (int64_t b = lo / BLOCK; b * BLOCK < hi; b++) {
        int64_t end = (b + 1) * BLOCK < s->n ? (b + 1) * BLOCK : s->n;
        double sum = 0, sum2 = 0;
        for (int64_t i = b * BLOCK; i < end; i++) {
            double lw = s->logw[i];
            double w = lw == -INFINITY ? 0 : exp(lw - s->max);
            s->w[i] = w;
            sum += w;
            sum2 += w * w;
        }
        s->block_sum[b] = sum;
        s->block_sum2[b] = sum2;
    }
}

/* Relative weights into s->w; returns their sum and sets *ess. */
static double weigh(Swarm *s, double *ess) {
    parallel(s, s->n, BLOCK, weight_phase);
    double sum = 0, sum2 = 0;
    for (int64_t b = 0; b < s->nblocks; b++) {
        sum += s->block_sum[b];
        sum2 += s->block_sum2[b];
    }
    *ess = sum * sum / sum2;
    return sum;
}

/* ---- resampling ----
 * In place, by blocks on the threads: offspring counts (systematic ones computed per block),
 * then a plan that sends each extra copy of a particle with several offspring over a particle
 * with none (the k-th extra copy, in index order, to the k-th freed slot), then the copies.
 * Sources are never destinations, so the copies may run in any order. */

static int64_t block_end(Swarm *s, int64_t b) { return (b + 1) * BLOCK < s->n ? (b + 1) * BLOCK : s->n; }

static void count_phase(Swarm *s, int64_t lo, int64_t hi) {
    for (int64_t b = lo / BLOCK; b * BLOCK < hi; b++) {
        int64_t end = block_end(s, b), extra = 0, freed = 0;
        if (s->scheme == RT_RESAMPLE_SYSTEMATIC)
            rt_systematic_block(&s->sys, s->w, b * BLOCK, end, s->block_start[b], s->count);
        for (int64_t j = b * BLOCK; j < end; j++) {
            freed += s->count[j] == 0;
            extra += s->count[j] > 1 ? s->count[j] - 1 : 0;
        }
        s->block_extra[b] = extra;
        s->block_freed[b] = freed;
    }
}

/* A block's plan slots: dst[nd .. dlim) for its freed particles, src[ns .. slim) for its
 * extra copies. */
typedef struct Plan { int64_t nd, dlim, ns, slim; } Plan;

/* Particle j's freed slot or extra copies, without branches for the usual counts 0, 1 and 2
 * (they would be mispredicted half the time): the next slot is always written and moved past
 * only when meant; once the block's slots are used up, a scratch word takes the write, since
 * the slot after them is the next block's (perhaps on another thread). */
static inline void plan_one(Swarm *s, int64_t j, Plan *pl, int64_t *scratch) {
    int64_t c = s->count[j];
    *(pl->nd < pl->dlim ? s->dst + pl->nd : scratch) = j;
    pl->nd += c == 0;
    *(pl->ns < pl->slim ? s->src + pl->ns : scratch) = j;
    pl->ns += c > 1;
    for (; c > 2; c--) s->src[pl->ns++] = j;
}

/* block_extra and block_freed hold each block's first slots, then the totals at nblocks. */
static void plan_phase(Swarm *s, int64_t lo, int64_t hi) {
    int64_t scratch;
    for (int64_t b = lo / BLOCK; b * BLOCK < hi; b++) {
        Plan pl = {s->block_freed[b], s->block_freed[b + 1], s->block_extra[b], s->block_extra[b + 1]};
        for (int64_t j = b * BLOCK, end = block_end(s, b); j < end; j++) plan_one(s, j, &pl, &scratch);
    }
}

/* Offspring counts, then each block's extra copies and freed slots turned into offsets. */
static void plan_copies(Swarm *s, double sum, rt_rng *r) {
    if (s->scheme == RT_RESAMPLE_SYSTEMATIC) {
        rt_systematic_init(&s->sys, s->w, s->n, sum, rt_rng_uniform(r));
        double start = 0;
        for (int64_t b = 0; b < s->nblocks; b++) {
            s->block_start[b] = start;
            start += s->block_sum[b];
        }
    } else {
        rt_resample_counts(s->scheme, s->w, s->n, r, s->count);
    }
    parallel(s, s->n, BLOCK, count_phase);
    int64_t extra = 0, freed = 0;
    for (int64_t b = 0; b < s->nblocks; b++) {
        int64_t e = s->block_extra[b], f = s->block_freed[b];
        s->block_extra[b] = extra, s->block_freed[b] = freed;
        extra += e, freed += f;
    }
    s->block_extra[s->nblocks] = extra, s->block_freed[s->nblocks] = freed;
    s->ncopies = extra;
    parallel(s, s->n, BLOCK, plan_phase);
}

/* A copy is the frame and the last potential if the model has any. Its weight restarts with
 * everyone's at the next advance. */
static void copy_phase(Swarm *s, int64_t lo, int64_t hi) {
    int64_t words = s->fsize / 8;   /* frames are 8-byte words */
    for (int64_t c = lo; c < hi; c++) {
        int64_t from = s->src[c], to = s->dst[c];
        int64_t *d = (int64_t *)frame_of(s, to), *f = (int64_t *)frame_of(s, from);
        for (int64_t k = 0; k < words; k++) d[k] = f[k];
        if (s->potential) s->potential[to] = s->potential[from];
        s->origin[to] = s->origin[from];
    }
}

/* Every particle restarts at weight 1: the mean weight before resampling is banked in logz. */
static void resample(Swarm *s, double sum) {
    rt_rng r;
    rt_rng_init(&r, rt_seed, rt_rng_stream_id(s->call, (uint64_t)s->generation, 1));
    plan_copies(s, sum, &r);
    s->generation++;
    parallel(s, s->ncopies, 1, copy_phase);
    if (s->cols) rt_columns_resample(s->cols, s->src, s->dst, s->ncopies);
    s->logz += s->max + log(sum) - log((double)s->n);
    s->reset = true;
}

/* ---- results ---- */

/* What the final ESS hides: right after a resampling it is N however few distinct particles
 * are left. The number of distinct first-step particles the live ones descend from, and the
 * smallest ESS over the steps. */
static void diagnose(Swarm *s, rt_posterior *post) {
    bool *seen = rt_alloc(sizeof(bool) * (size_t)s->n, false);
    memset(seen, 0, sizeof(bool) * (size_t)s->n);
    int64_t distinct = 0;
    for (int64_t i = 0; i < s->n; i++) {
        if (s->logw[i] == -INFINITY || seen[s->origin[i]]) continue;
        seen[s->origin[i]] = true;
        distinct++;
    }
    post->ancestors = distinct;
    double min = INFINITY;
    for (int64_t t = 0; t < post->ess_history->len; t++)
        if (post->ess_history->at.d[t] < min) min = post->ess_history->at.d[t];
    post->min_ess = min;
}

static rt_posterior *collect(Swarm *s, rt_array *history, int64_t steps, const char *loc) {
    rt_posterior *post = rt_post_new(s->m, "smc", s->n);
    for (int64_t i = 0; i < s->n; i++) {
        post->logw[i] = s->logw[i];
        post->value[i] = *state_of(s, i) == FINISHED ? rt_frame_return(s->m, frame_of(s, i)) : 0;
    }
    if (s->cols) {
        rt_trace_finish(s->cols);
        post->sites = s->cols;
    }
    rt_post_summarize(post, loc);
    post->log_evidence += s->logz;
    post->resamples = s->generation;
    history->len = steps;
    post->ess_history = history;
    diagnose(s, post);
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

/* Steps until every particle has finished; returns the posterior. */
static rt_posterior *run_swarm(Swarm *s, double ess_frac) {
    rt_array *history = rt_array_new(16, 0);
    int64_t steps = 0;
    int stress = rt_gc_stress();
    rt_progress bar;
    rt_progress_start(&bar, "smc step");
    for (int running = ANY_RUNNING; running;) {
        if (rt_interrupted) rt_interrupt(s->loc);
        rt_progress_update(&bar, (double)steps, 0);
        int flags = advance_all(s, s->loc);
        running = flags & ANY_RUNNING;
        if (!(flags & ANY_ALIVE)) {
            history = push_history(history, steps++, 0);
            break;
        }
        double ess, sum = weigh(s, &ess);
        history = push_history(history, steps++, ess);
        if (running && (ess_frac >= 1 || ess < ess_frac * (double)s->n)) resample(s, sum);
        if (stress) GC_gcollect();
    }
    rt_progress_end(&bar);
    return collect(s, history, steps, s->loc);
}

/* Under REPL recovery an error on any thread, this one included, is held (rt_catch_begin,
 * rt_repl.h) and reported once the workers have stopped: no thread may outlive the swarm. */
static rt_posterior *run_caught(Swarm *s, double ess_frac) {
    jmp_buf jb;
    rt_posterior *volatile post = NULL;
    if (setjmp(jb) == 0) {
        rt_catch_begin(&jb);
        post = run_swarm(s, ess_frac);
    }
    rt_catch_end();
    rt_pool_stop(s->pool);
    rt_rethrow();
    return post;
}

rt_posterior *rt_infer_smc(rt_ctx *ctx, const rt_model *m, const void *args, const rt_infer_opts *o,
                           const char *loc) {
    rt_infer_check(RT_METHOD_SMC, o, loc);
    double ess_frac = o->ess;
    Swarm s = {.m = m, .args = args, .n = o->particles, .fsize = m->frame_size,
               .nblocks = (o->particles + BLOCK - 1) / BLOCK, .call = rt_infer_call(ctx),
               .scheme = (int)o->resample, .record = o->trace != 0, .loc = loc};
    init_swarm(&s);
    s.pool = rt_pool_start(o->threads, loc);
    if (rt_recovery_active()) return run_caught(&s, ess_frac);
    rt_posterior *post = run_swarm(&s, ess_frac);
    rt_pool_stop(s.pool);
    return post;
}
