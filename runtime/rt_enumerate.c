/* rt_enumerate.c - exact inference by enumeration: the model's gradient specialization (score
 * mode) run once for every combination of its finite discrete sites' values, each run's exact
 * log weight its joint log probability, the log evidence their log-sum-exp.
 *
 * The combinations come from a depth-first odometer over the sites in the order a run meets
 * them: the next run keeps the values of every site but the last one that can still advance,
 * which takes its next value, and sites met after it start again at their first value. So
 * the sites a run meets may depend on the values of earlier ones (a site's number of values
 * too), and every run is one assignment of the sites it meets. */
#include <math.h>
#include <string.h>
#include "rt_ad.h"
#include "rt_progress.h"
#include "rt_dist_table.h"
#include "rt_vi_internal.h"

/* The odometer: per site met in the current run, in order, its number of values and the
 * value this run gives it. */
struct rt_enum {
    int64_t n, next, size_cap, value_cap;
    int64_t *size, *value;
};

/* Runs' results, gathered before the posterior (whose size is the number of runs) exists;
 * with trace, each run's sites as words [site, nidx, idx..., value], from first[i]. */
typedef struct Runs {
    int64_t n, logw_cap, value_cap, first_cap;
    double *logw, *value;
    bool record;
    int64_t *first;          /* per run, its first word of sites (and the total at n) */
    int64_t *words;
    int64_t nwords, words_cap;
} Runs;

static const char *support_text(int64_t support) {
    switch (support) {
    case RT_SUPPORT_REAL: return "it is continuous, over all reals";
    case RT_SUPPORT_POSITIVE: return "it is continuous, over the positive reals";
    case RT_SUPPORT_UNIT: return "it is continuous, over (0, 1)";
    case RT_SUPPORT_INTERVAL: return "it is continuous, over an interval";
    case RT_SUPPORT_NATURAL: return "its values 0, 1, 2, ... have no bound";
    default: return "it has no finite set of values";
    }
}

static void address(const rt_model *m, int64_t site, int64_t nidx, const int64_t *idx, char *buf, size_t size) {
    int n = snprintf(buf, size, "%s", m->site_names[site]);
    for (int64_t i = 0; i < nidx && n > 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - (size_t)n, "%s%lld", i ? ", " : "[", (long long)idx[i]);
    if (nidx && n > 0 && (size_t)n < size) snprintf(buf + n, size - (size_t)n, "]");
}

int64_t rt_enum_site(rt_vi_state *V, int64_t site, int64_t nidx, const int64_t *idx, int64_t support, int64_t count,
                     const char *loc) {
    struct rt_enum *E = V->enumerate;
    char addr[256];
    if (!RT_SUPPORT_FINITE(support)) {
        address(V->model, site, nidx, idx, addr, sizeof addr);
        rt_failf(loc, "enumerate: site '%s' of model '%s' cannot be enumerated: %s (enumerate needs every site "
                 "to have finitely many values: bernoulli, bernoulli_logit, binomial, categorical)", addr,
                 V->model->name, support_text(support));
    }
    if (count < 1) {
        address(V->model, site, nidx, idx, addr, sizeof addr);
        rt_failf(loc, "enumerate: site '%s' of model '%s' has no values", addr, V->model->name);
    }
    if (nidx > MAX_INDICES) rt_failf(loc, "enumerate: a site address may have at most %d indices", MAX_INDICES);
    if (E->next == E->n) {
        E->size = rt_grow(E->size, E->n, &E->size_cap, E->n + 1, sizeof(int64_t), false);
        E->value = rt_grow(E->value, E->n, &E->value_cap, E->n + 1, sizeof(int64_t), false);
        E->size[E->n] = count;
        E->value[E->n++] = 0;
    }
    int64_t x = E->value[E->next++];
    V->sites = rt_grow(V->sites, V->nsites, &V->cap, V->nsites + 1, sizeof *V->sites, false);
    SiteValue *s = &V->sites[V->nsites++];
    *s = (SiteValue){.site = site, .nidx = nidx, .h = x, .is_int = true};
    if (nidx) memcpy(s->idx, idx, sizeof(int64_t) * (size_t)nidx);
    return x;
}

/* The next combination: false after the last. The sites after the one that advances are
 * dropped; the next run meets them afresh. */
static bool advance(struct rt_enum *E) {
    E->n = E->next;   /* a run meets exactly the sites it has values for, and no more */
    while (E->n > 0) {
        int64_t i = E->n - 1;
        if (++E->value[i] < E->size[i]) return true;
        E->n--;
    }
    return false;
}

static void keep_run(Runs *r, const rt_vi_state *V) {
    r->logw = rt_grow(r->logw, r->n, &r->logw_cap, r->n + 1, sizeof(double), false);
    r->value = rt_grow(r->value, r->n, &r->value_cap, r->n + 1, sizeof(double), false);
    r->first = rt_grow(r->first, r->first ? r->n + 1 : 0, &r->first_cap, r->n + 2, sizeof(int64_t), false);
    r->logw[r->n] = rt_ad_value(V->logp);
    r->value[r->n] = V->ret_value;
    r->first[r->n] = r->nwords;
    for (int64_t k = 0; r->record && k < V->nsites; k++) {
        const SiteValue *s = &V->sites[k];
        r->words = rt_grow(r->words, r->nwords, &r->words_cap, r->nwords + 3 + s->nidx, sizeof(int64_t), false);
        r->words[r->nwords++] = s->site;
        r->words[r->nwords++] = s->nidx;
        for (int64_t j = 0; j < s->nidx; j++) r->words[r->nwords++] = s->idx[j];
        r->words[r->nwords++] = s->h;
    }
    r->n++;
    r->first[r->n] = r->nwords;
}

/* One run on a fresh tape at the odometer's values, kept in r. */
static void run_once(const rt_model *m, const void *args, rt_vi_state *V, uint64_t stream, Runs *r) {
    void *outer = rt_ad_push();
    rt_ctx cx = {.vi = V, .args = args};
    rt_rng_init(&cx.rng, rt_seed, stream);   /* for what the model draws besides its sites (nested infers) */
    V->logp = rt_ad_const(0);
    V->nsites = 0;
    V->ret_value = 0;
    V->enumerate->next = 0;
    memset(V->part, 0, sizeof V->part);
    m->model_ad(&cx, args);
    keep_run(r, V);
    rt_ad_pop(outer);
}

static rt_posterior *posterior(const rt_model *m, const Runs *r, const char *loc) {
    rt_posterior *post = rt_post_new(m, "enumerate", r->n);
    memcpy(post->logw, r->logw, sizeof(double) * (size_t)r->n);
    memcpy(post->value, r->value, sizeof(double) * (size_t)r->n);
    rt_trace *t = r->record ? rt_post_trace(post) : NULL;
    for (int64_t i = 0; t && i < r->n; i++) {
        rt_trace_particle(t, i);
        for (int64_t k = r->first[i]; k < r->first[i + 1]; k += 3 + r->words[k + 1])
            rt_trace_put(t, r->words[k], r->words[k + 1], r->words + k + 2, (double)r->words[k + 2 + r->words[k + 1]]);
    }
    rt_post_summarize(post, loc);
    if (!post->dead) post->log_evidence += log((double)r->n);   /* a sum of probabilities, not a mean */
    return post;
}

/* Every site of the model, met or not, must have finitely many values: the first in the
 * model's order that has not is named before anything runs (the checker does the same for
 * a program's infer; this is model mode's). */
static void check_sites(const rt_model *m, const char *loc) {
    for (int64_t k = 0; k < m->nsites; k++)
        if (!RT_SUPPORT_FINITE(m->site_support[k]))
            rt_failf(loc, "enumerate: site '%s' of model '%s' cannot be enumerated: %s (enumerate needs every site "
                     "to have finitely many values: bernoulli, bernoulli_logit, binomial, categorical)",
                     m->site_names[k], m->name, support_text(m->site_support[k]));
}

rt_posterior *rt_infer_enumerate(rt_ctx *ctx, const rt_model *m, const void *args, const rt_infer_opts *o,
                                 const char *loc) {
    rt_infer_check(RT_METHOD_ENUMERATE, o, loc);
    check_sites(m, loc);
    uint64_t call = rt_infer_call(ctx);
    struct rt_enum E = {0};
    rt_vi_state V = {.scoring = true, .enumerate = &E, .model = m};
    Runs r = {.record = o->trace != 0};
    rt_progress bar;
    rt_progress_start(&bar, "enumerate run");   /* the count only: the total is not known ahead */
    do {
        if (rt_interrupted) rt_interrupt(loc);
        run_once(m, args, &V, rt_rng_stream_id(call, (uint64_t)r.n, 0), &r);
        if (r.n % 4096 == 0) rt_progress_update(&bar, (double)r.n, 0);
    } while (advance(&E));
    rt_progress_end(&bar);
    return posterior(m, &r, loc);
}
