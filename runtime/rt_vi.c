/* rt_vi.c - fitting a guide by stochastic gradient ascent on the ELBO (reparameterized draws,
 * reverse-mode AD), then importance sampling with the fitted guide as the proposal. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gc.h>
#include "rt_ad.h"
#include "rt_dist.h"
#include "rt_vi.h"

enum { MAX_INDICES = 8, IS_DRAWS = 1000, MAX_ENUM_SITES = 64, MAX_ENUM_PASSES = 4096 };

/* h: a handle for a real site, the drawn int for a discrete one (is_int). */
typedef struct SiteValue { int64_t site, nidx, idx[MAX_INDICES], h; bool is_int; } SiteValue;

/* One draws(K) call of an objective evaluation: per draw its log weight and log q (handles)
 * and the log q of its score-function sites (a handle, or -1 when it has none). */
typedef struct DrawCall { int64_t n, *score; rt_array *logw, *logq; int64_t logz; } DrawCall;

/* The state of the fit (one thread runs VI). */
static struct {
    /* one evaluation of guide and model */
    const int64_t *params;
    int64_t logp, logq, ret;
    int64_t logq_fixed;       /* log q with the drawn values held fixed (no path through x) */
    int64_t score;            /* log q of the sites without a reparameterization, or -1 */
    double ret_value;
    SiteValue *sites;         /* the step's draws' sites, the current draw's from site_base */
    int64_t nsites, cap, site_base;
    rt_rng rng;
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
} vi;

void rt_vi_add_logp(int64_t h) { vi.logp = rt_ad_add(vi.logp, h); }

/* ---- the params: one flat vector (rt_vi_theta), in declaration order ---- */

static struct { const int64_t *offset, *len; } layout;   /* of the fit running */

int64_t rt_vi_param(int64_t k) { return vi.params[layout.offset[k]]; }

rt_array *rt_vi_param_array(int64_t k)
{
    rt_array *a = rt_array_new(layout.len[k], 0);
    memcpy(a->at.i, vi.params + layout.offset[k], sizeof(int64_t) * (size_t)layout.len[k]);
    return a;
}

static void theta_push(rt_vi_theta *t, int64_t k, const double *x, int64_t n, int64_t len)
{
    if (t->n + n > t->cap) {
        int64_t cap = 2 * (t->n + n) + 8;
        double *v = rt_alloc(sizeof(double) * (size_t)cap, false);
        if (t->n) memcpy(v, t->v, sizeof(double) * (size_t)t->n);
        t->v = v, t->cap = cap;
    }
    t->offset[k] = t->n, t->len[k] = len;
    if (n) memcpy(t->v + t->n, x, sizeof(double) * (size_t)n);
    t->n += n;
}

void rt_vi_init_real(rt_vi_theta *t, int64_t k, double x) { theta_push(t, k, &x, 1, -1); }
void rt_vi_init_array(rt_vi_theta *t, int64_t k, const rt_array *a) { theta_push(t, k, a->at.d, a->len, a->len); }

/* The flat vector's names: `mu` for a real param, `mu[0]`, `mu[1]`, ... for an array's. */
static const char **flat_names(const rt_vi_problem *prob, const rt_vi_theta *t)
{
    const char **names = rt_alloc(sizeof(char *) * (size_t)(t->n + 1), true);
    for (int64_t k = 0; k < prob->nparams; k++) {
        if (t->len[k] < 0) names[t->offset[k]] = prob->param_names[k];
        for (int64_t i = 0; i < t->len[k]; i++) {
            size_t size = strlen(prob->param_names[k]) + 24;
            char *s = rt_alloc(size, false);
            snprintf(s, size, "%s[%lld]", prob->param_names[k], (long long)i);
            names[t->offset[k] + i] = s;
        }
    }
    return names;
}
void rt_vi_return(int64_t h) { vi.ret = h; vi.ret_value = rt_ad_value(h); }
void rt_vi_return_value(double v) { vi.ret = -1; vi.ret_value = v; }

static void record(int64_t site, int64_t nidx, const int64_t *idx, int64_t h, bool is_int, const char *loc) {
    if (nidx > MAX_INDICES) rt_failf(loc, "vi: a site address may have at most %d indices", MAX_INDICES);
    if (vi.nsites == vi.cap) {
        int64_t cap = vi.cap ? 2 * vi.cap : 16;
        SiteValue *s = rt_alloc(sizeof *s * (size_t)cap, false);
        if (vi.nsites) memcpy(s, vi.sites, sizeof *s * (size_t)vi.nsites);
        vi.sites = s;
        vi.cap = cap;
    }
    SiteValue *v = &vi.sites[vi.nsites++];
    v->site = site;
    v->nidx = nidx;
    if (nidx) memcpy(v->idx, idx, sizeof(int64_t) * (size_t)nidx);
    v->h = h;
    v->is_int = is_int;
}

static void add_logq(int64_t lq, int64_t lq_fixed) {
    vi.logq = rt_ad_add(vi.logq, lq);
    vi.logq_fixed = rt_ad_add(vi.logq_fixed, lq_fixed);
}

static int64_t guide_draw(int64_t site, int64_t nidx, const int64_t *idx, int64_t mu, int64_t sigma,
                          bool log_normal, const char *loc) {
    double eps = rt_sample_normal(&vi.rng, 0, 1, loc);
    int64_t z = rt_ad_add(mu, rt_ad_mul(sigma, rt_ad_const(eps)));
    int64_t x = log_normal ? rt_ad_exp(z) : z, x_fixed = rt_ad_stop_grad(x);
    int64_t lq = log_normal ? rt_ad_lpdf_lognormal(x, mu, sigma, loc) : rt_ad_lpdf_normal(x, mu, sigma, loc);
    int64_t lq_fixed = log_normal ? rt_ad_lpdf_lognormal(x_fixed, mu, sigma, loc)
                                  : rt_ad_lpdf_normal(x_fixed, mu, sigma, loc);
    add_logq(lq, lq_fixed);
    record(site, nidx, idx, x, false, loc);
    return x;
}

int64_t rt_vi_guide_normal(int64_t site, int64_t nidx, const int64_t *idx, int64_t mu, int64_t sigma, const char *loc) {
    return guide_draw(site, nidx, idx, mu, sigma, false, loc);
}

int64_t rt_vi_guide_lognormal(int64_t site, int64_t nidx, const int64_t *idx, int64_t mu, int64_t sigma, const char *loc) {
    return guide_draw(site, nidx, idx, mu, sigma, true, loc);
}

static int64_t score_site(int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, bool is_int,
                          const char *loc) {
    add_logq(lq, lq);
    vi.score = vi.score < 0 ? lq : rt_ad_add(vi.score, lq);
    record(site, nidx, idx, x, is_int, loc);
    return x;
}

int64_t rt_vi_guide_score(int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc) {
    return score_site(site, nidx, idx, x, lq, false, loc);
}

int64_t rt_vi_guide_score_int(int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc) {
    return score_site(site, nidx, idx, x, lq, true, loc);
}

/* An enumerated site: while fitting, the value of this pass of the odometer (a new site
 * starts at 0); otherwise (importance sampling with the fitted guide) the drawn value. */
int64_t rt_vi_enum_value(int64_t support, int64_t drawn, const char *loc) {
    if (!vi.enumerating) return drawn;
    if (support < 1) rt_failf(loc, "vi: an enumerated site needs at least one value, found %lld", (long long)support);
    if (vi.enum_next == vi.nenum) {
        if (vi.nenum == MAX_ENUM_SITES)
            rt_failf(loc, "vi: more than %d enumerated sites in one evaluation of the objective; use by \"score\" "
                     "for some", MAX_ENUM_SITES);
        vi.enum_size[vi.nenum] = support;
        vi.enum_value[vi.nenum++] = 0;
    }
    return vi.enum_value[vi.enum_next++];
}

/* Its log q (at the enumerated value) joins log q and the pass's enumeration weight. */
int64_t rt_vi_guide_enum(int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc) {
    add_logq(lq, lq);
    if (vi.enumerating) vi.enum_logq = rt_ad_add(vi.enum_logq, lq);
    record(site, nidx, idx, x, true, loc);
    return x;
}

/* The next pass of the odometer: false after the last one. */
static bool enum_advance(void) {
    while (vi.nenum > 0) {
        int64_t i = vi.nenum - 1;
        if (++vi.enum_value[i] < vi.enum_size[i]) return true;
        vi.nenum--;
    }
    return false;
}

rt_array *rt_vi_values(const rt_array *h) {
    rt_array *a = rt_array_new(h->len, 0);
    for (int64_t i = 0; i < h->len; i++) a->at.d[i] = rt_ad_value(h->at.i[i]);
    return a;
}

rt_rng *rt_vi_rng(void) { return &vi.rng; }

int64_t rt_vi_model_site(int64_t site, int64_t nidx, const int64_t *idx, const char *loc) {
    for (int64_t i = vi.site_base; i < vi.nsites; i++) {
        SiteValue *v = &vi.sites[i];
        if (v->site == site && v->nidx == nidx && (nidx == 0 || !memcmp(v->idx, idx, sizeof(int64_t) * (size_t)nidx)))
            return v->h;
    }
    rt_failf(loc, "vi: the guide drew no value for this site (at these loop indices)");
}

rt_array *rt_vi_lift_array(const rt_array *a, int64_t depth) {
    rt_array *out = rt_array_new(a->len, depth > 1);
    for (int64_t i = 0; i < a->len; i++) {
        if (depth > 1) out->at.p[i] = rt_vi_lift_array(a->at.p[i], depth - 1);
        else out->at.i[i] = rt_ad_const(a->at.d[i]);
    }
    return out;
}

int64_t rt_vi_sum(const rt_array *h) {
    int64_t s = rt_ad_const(0);
    for (int64_t i = 0; i < h->len; i++) s = rt_ad_add(s, h->at.i[i]);
    return s;
}

int64_t rt_vi_mean(const rt_array *h, const char *loc) {
    if (h->len == 0) rt_fail(loc, "mean of an empty array");
    return rt_ad_div(rt_vi_sum(h), rt_ad_const((double)h->len));
}

int64_t rt_vi_logsumexp(const rt_array *h) { return rt_ad_logsumexp(h->at.i, h->len); }

int64_t rt_vi_lpmf_categorical(int64_t y, const rt_array *probs, const char *loc) {
    return rt_ad_lpmf_categorical(y, probs->at.i, probs->len, loc);
}

rt_array *rt_vi_stop_grad_array(const rt_array *h) {
    rt_array *out = rt_array_new(h->len, 0);
    for (int64_t i = 0; i < h->len; i++) out->at.i[i] = rt_ad_stop_grad(h->at.i[i]);
    return out;
}

/* ---- draws ---- */

/* Runs guide then model on a fresh record of sites; returns log p - log q, with the log q
 * of the score-function sites in *score (-1: none) and log q at fixed values in *logq. */
static int64_t evaluate(const rt_vi_problem *prob, const void *args, uint64_t stream, int64_t *score, int64_t *logq) {
    vi.site_base = vi.nsites;
    vi.logp = vi.logq = vi.logq_fixed = rt_ad_const(0);
    vi.score = -1;
    vi.ret = -1;
    vi.ret_value = 0;
    rt_rng_init(&vi.rng, rt_seed, stream);
    prob->guide_ad(args);
    prob->model_ad(args);
    if (score) *score = vi.score;
    if (logq) *logq = vi.logq_fixed;
    return rt_ad_sub(vi.logp, vi.logq);
}

static rt_draws *draws_value(rt_array *logw, rt_array *logq, int64_t logz) {
    rt_draws *d = rt_alloc(sizeof *d, true);
    d->logw = logw;
    d->logq = logq;
    d->logz = logz;
    return d;
}

static DrawCall *new_call(int64_t n) {
    if (vi.ncalls == vi.calls_cap) {
        int64_t cap = vi.calls_cap ? 2 * vi.calls_cap : 4;
        DrawCall *c = rt_alloc(sizeof *c * (size_t)cap, true);
        if (vi.ncalls) memcpy(c, vi.calls, sizeof *c * (size_t)vi.ncalls);
        vi.calls = c;
        vi.calls_cap = cap;
    }
    DrawCall *c = &vi.calls[vi.ncalls++];
    *c = (DrawCall){n, rt_alloc(sizeof(int64_t) * (size_t)n, false), rt_array_new(n, 0), rt_array_new(n, 0)};
    return c;
}

/* The mean of the values of h without element k, as a constant. */
static int64_t mean_of_others(const rt_array *h, int64_t k) {
    double sum = 0;
    for (int64_t j = 0; j < h->len; j++)
        if (j != k) sum += rt_ad_value(h->at.i[j]);
    return rt_ad_const(sum / (double)(h->len - 1));
}

static rt_array *constants(const rt_array *h, int64_t k) {
    rt_array *out = rt_array_new(h->len, 0);
    for (int64_t j = 0; j < h->len; j++) out->at.i[j] = j == k ? mean_of_others(h, k) : rt_ad_const(rt_ad_value(h->at.i[j]));
    return out;
}

/* A baseline pass: the recorded draws, the one being left out replaced by the others' mean. */
static rt_draws *replayed_draws(int64_t n, const char *loc) {
    if (vi.replay_next >= vi.ncalls || vi.calls[vi.replay_next].n != n)
        rt_fail(loc, "vi: an objective must call draws the same way each time it runs");
    DrawCall *c = &vi.calls[vi.replay_next];
    int64_t k = vi.replay_next++ == vi.replay_call ? vi.replay_draw : -1;
    return draws_value(constants(c->logw, k), constants(c->logq, k), c->logz);
}

rt_draws *rt_vi_draws(int64_t n, const char *loc) {
    if (n < 0) n = vi.particles;
    if (n < 1) rt_failf(loc, "draws: the number of draws must be at least 1, found %lld", (long long)n);
    if (!vi.prob) rt_fail(loc, "draws: no fit is running");
    if (vi.replaying) return replayed_draws(n, loc);
    DrawCall *c = new_call(n);
    for (int64_t k = 0; k < n; k++) {
        uint64_t stream = rt_rng_stream_id((uint64_t)vi.stream_a, (uint64_t)vi.stream_b, (uint64_t)vi.next_draw++);
        c->logw->at.i[k] = evaluate(vi.prob, vi.args, stream, &c->score[k], &c->logq->at.i[k]);
        vi.has_score |= c->score[k] >= 0;
    }
    c->logz = rt_ad_const(rt_ad_value(rt_ad_logsumexp(c->logw->at.i, n)) - log((double)n));
    return draws_value(c->logw, c->logq, c->logz);
}

/* ---- the fit ---- */

typedef struct Fit {
    const rt_vi_problem *prob;
    const void *args;
    const rt_vi_objective *objective;
    const void *objective_args;
    double *theta, *grad, *m, *v;
    int64_t *handles;
    uint64_t call;
    int64_t n;                /* the flat param vector's length */
    const char **names;       /* its elements' names */
} Fit;

static void start_tape(Fit *f) {
    rt_ad_begin();
    vi.nsites = vi.site_base = 0;
    for (int64_t k = 0; k < f->n; k++) f->handles[k] = rt_ad_input(f->theta[k]);
    vi.params = f->handles;
}

/* The objective's value with draw k of draws call c left out (replaced by the mean of the
 * others), computed on the tape and rewound: the baseline for that draw's score term. */
static double baseline(Fit *f, int64_t c, int64_t k) {
    rt_ad_mark mark = rt_ad_mark_here();
    vi.replaying = true;
    vi.replay_call = c, vi.replay_draw = k, vi.replay_next = 0;
    double b = rt_ad_value(f->objective->fn(f->objective_args));
    vi.replaying = false;
    rt_ad_rewind(mark);
    return b;
}

/* The objective's derivatives in the pass's log weights and log q's: h holds, call after
 * call, each call's logw handles then its logq handles, and adj their adjoints. */
typedef struct Sensitivity { int64_t n, *h; double *adj; bool weighted, affine; } Sensitivity;

static Sensitivity sensitivity(int64_t objective) {
    Sensitivity s = {0};
    for (int64_t c = 0; c < vi.ncalls; c++) s.n += 2 * vi.calls[c].n;
    s.h = rt_alloc(sizeof(int64_t) * (size_t)s.n, false);
    s.adj = rt_alloc(sizeof(double) * (size_t)s.n, false);
    for (int64_t c = 0, at = 0; c < vi.ncalls; at += 2 * vi.calls[c++].n) {
        size_t bytes = sizeof(int64_t) * (size_t)vi.calls[c].n;
        memcpy(s.h + at, vi.calls[c].logw->at.i, bytes);
        memcpy(s.h + at + vi.calls[c].n, vi.calls[c].logq->at.i, bytes);
    }
    rt_ad_adjoints(objective, s.h, s.n, s.adj);
    for (int64_t c = 0, at = 0; c < vi.ncalls; at += 2 * vi.calls[c++].n)
        for (int64_t k = 0; k < vi.calls[c].n; k++) s.weighted |= s.adj[at + k] != 0;
    s.affine = rt_ad_affine(objective, s.h, s.n);
    return s;
}

static double value_sum(const rt_array *h) {
    double sum = 0;
    for (int64_t j = 0; j < h->len; j++) sum += rt_ad_value(h->at.i[j]);
    return sum;
}

/* For an objective affine in the log weights and log q's (the ELBO), the value with draw k
 * replaced by the others' means, exactly and without running the objective again; sw and sq
 * are the sums of the call's log weights and log q's. */
static double linear_baseline(double l, const Sensitivity *s, int64_t at, const DrawCall *call, int64_t k,
                              double sw, double sq) {
    double w = rt_ad_value(call->logw->at.i[k]), q = rt_ad_value(call->logq->at.i[k]);
    double others = (double)(call->n - 1);
    return l + s->adj[at + k] * ((sw - w) / others - w) + s->adj[at + call->n + k] * ((sq - q) / others - q);
}

/* For the score-function sites, the DiCE-style surrogate sum over draws of
 * (L - b) (s - stop_grad(s)): value 0, gradient the score-function term of L's gradient,
 * with s the draw's log q of those sites and b its leave-one-out baseline (0 for a lone
 * draw). For L = mean(logw) the baseline is the leave-one-out mean of the other draws. An
 * objective whose value has no gradient in the log weights (a gradient surrogate such as
 * rws, which uses them only through stop_grad and states its gradient through d.logq)
 * gets no term. */
static int64_t score_surrogate(Fit *f, int64_t objective) {
    int64_t sum = rt_ad_const(0);
    if (!vi.has_score) return sum;
    Sensitivity sens = sensitivity(objective);
    if (!sens.weighted) return sum;
    double l = rt_ad_value(objective);
    int64_t ncalls = vi.ncalls;
    for (int64_t c = 0, at = 0; c < ncalls; at += 2 * vi.calls[c++].n) {
        DrawCall *call = &vi.calls[c];
        double sw = value_sum(call->logw), sq = value_sum(call->logq);
        for (int64_t k = 0; k < call->n; k++) {
            int64_t s = call->score[k];
            if (s < 0) continue;
            double b = call->n == 1 ? 0 : sens.affine ? linear_baseline(l, &sens, at, call, k, sw, sq) : baseline(f, c, k);
            sum = rt_ad_add(sum, rt_ad_mul(rt_ad_const(l - b), rt_ad_sub(s, rt_ad_stop_grad(s))));
        }
    }
    return sum;
}

/* One run of the objective program with its surrogate, weighted by the probability of the
 * enumerated sites' values in this pass. */
static int64_t objective_pass(Fit *f) {
    vi.ncalls = 0;
    vi.next_draw = 0;
    vi.has_score = false;
    vi.enum_next = 0;
    vi.enum_logq = rt_ad_const(0);
    int64_t l = f->objective->fn(f->objective_args);
    int64_t term = rt_ad_add(l, score_surrogate(f, l));
    return vi.nenum ? rt_ad_mul(rt_ad_exp(vi.enum_logq), term) : term;
}

/* The objective of one step, on the tape: the sum over the passes of the enumerated sites'
 * odometer (one pass when there are none), each draw on a stream of (fit, step, draw). */
static int64_t objective(Fit *f, int64_t step, const char *loc) {
    start_tape(f);
    vi.stream_a = (int64_t)f->call, vi.stream_b = step;
    vi.enumerating = true;
    vi.nenum = 0;
    int64_t total = rt_ad_const(0);
    for (int64_t pass = 0;; pass++) {
        if (pass == MAX_ENUM_PASSES)
            rt_failf(loc, "vi: enumerating the guide's sites takes more than %d runs of the objective; use by "
                     "\"score\" for some", MAX_ENUM_PASSES);
        total = rt_ad_add(total, objective_pass(f));
        if (!enum_advance()) break;
    }
    vi.enumerating = false;
    return total;
}

/* Ascent: Adam (beta 0.9, 0.999, eps 1e-8, bias-corrected) or plain gradient steps. */
static void update(Fit *f, int64_t step, int64_t optimizer, double lr) {
    double b1 = 0.9, b2 = 0.999, c1 = 1 - pow(b1, (double)(step + 1)), c2 = 1 - pow(b2, (double)(step + 1));
    for (int64_t k = 0; k < f->n; k++) {
        double g = f->grad[k];
        if (optimizer == RT_OPT_SGD) {
            f->theta[k] += lr * g;
            continue;
        }
        f->m[k] = b1 * f->m[k] + (1 - b1) * g;
        f->v[k] = b2 * f->v[k] + (1 - b2) * g * g;
        f->theta[k] += lr * (f->m[k] / c1) / (sqrt(f->v[k] / c2) + 1e-8);
    }
}

/* A site's address as the model names it: x, or x[2, 0] inside loops. */
static void site_address(const rt_model *m, const SiteValue *v, char *buf, size_t size) {
    int n = snprintf(buf, size, "%s", m->site_names[v->site]);
    for (int64_t i = 0; i < v->nidx && n > 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - (size_t)n, "%s%lld", i ? ", " : "[", (long long)v->idx[i]);
    if (v->nidx && n > 0 && (size_t)n < size) snprintf(buf + n, size - (size_t)n, "]");
}

/* The first real site of the step's draws whose value, or the objective's derivative in it,
 * is not finite: where a non-finite gradient comes from (or "" when no site shows it). */
static void suspect_site(Fit *f, int64_t objective, char *buf, size_t size) {
    buf[0] = 0;
    int64_t n = 0, *h = rt_alloc(sizeof(int64_t) * (size_t)(vi.nsites + 1), false);
    SiteValue **of = rt_alloc(sizeof(SiteValue *) * (size_t)(vi.nsites + 1), false);
    for (int64_t s = 0; s < vi.nsites; s++)
        if (!vi.sites[s].is_int) of[n] = &vi.sites[s], h[n++] = vi.sites[s].h;
    double *adj = rt_alloc(sizeof(double) * (size_t)(n + 1), false);
    rt_ad_adjoints(objective, h, n, adj);
    for (int64_t s = 0; s < n; s++) {
        double x = rt_ad_value(h[s]), bad = isfinite(x) ? adj[s] : x;
        if (isfinite(bad)) continue;
        char addr[256];
        site_address(f->prob->model, of[s], addr, sizeof addr);
        snprintf(buf, size, " (%s site '%s' is %s)", isfinite(x) ? "the objective's derivative in" : "the value of",
                 addr, isnan(bad) ? "nan" : bad > 0 ? "inf" : "-inf");
        return;
    }
}

/* An objective of -inf (a guide draw the model gives zero probability), +inf or NaN leaves
 * nothing to ascend: it stops the fit. */
static void check_value(Fit *f, int64_t objective, int64_t step, const char *loc) {
    double v = rt_ad_value(objective);
    if (isfinite(v)) return;
    char site[400];
    suspect_site(f, objective, site, sizeof site);
    if (v == -INFINITY)
        rt_failf(loc, "vi: the objective is -inf at step %lld: a draw of guide '%s' has zero probability under "
                 "model '%s' (a guide must sample inside the model's support)%s", (long long)step,
                 f->prob->guide_name, f->prob->model->name, site);
    rt_failf(loc, "vi: the objective is %s at step %lld%s", isnan(v) ? "nan" : "inf", (long long)step, site);
}

static void check_gradient(Fit *f, int64_t objective, int64_t step, const char *loc) {
    for (int64_t k = 0; k < f->n; k++) {
        if (isfinite(f->grad[k])) continue;
        char site[400];
        suspect_site(f, objective, site, sizeof site);
        rt_failf(loc, "vi: the gradient of param '%s' of guide '%s' is not finite at step %lld%s",
                 f->names[k], f->prob->guide_name, (long long)step, site);
    }
}

static double *doubles(int64_t n) { return rt_alloc(sizeof(double) * (size_t)n, false); }

static void check_vi_options(int64_t particles, int64_t steps, double lr, const char *loc) {
    if (particles < 1) rt_failf(loc, "vi: particles must be at least 1, found %lld", (long long)particles);
    if (steps < 0) rt_failf(loc, "vi: steps must not be negative, found %lld", (long long)steps);
    if (!(lr > 0) || !isfinite(lr)) rt_failf(loc, "vi: the learning rate must be positive, found %g", lr);
}

/* ---- the posterior: importance sampling with the fitted guide ---- */

static void record_draw(rt_posterior *post) {
    for (int64_t s = vi.site_base; s < vi.nsites; s++) {
        SiteValue *v = &vi.sites[s];
        int64_t words[3 + MAX_INDICES];
        double x = v->is_int ? (double)v->h : rt_ad_value(v->h);
        words[0] = v->site;
        words[1] = v->nidx;
        memcpy(words + 2, v->idx, sizeof(int64_t) * (size_t)v->nidx);
        memcpy(words + 2 + v->nidx, &x, sizeof x);
        rt_trace_append(&post->trace, words, 3 + v->nidx);
    }
}

static rt_posterior *fitted_posterior(Fit *f, int64_t steps, const char *loc) {
    rt_posterior *post = rt_post_new(f->prob->model, "vi", IS_DRAWS);
    for (int64_t i = 0; i < IS_DRAWS; i++) {
        start_tape(f);
        int64_t w = evaluate(f->prob, f->args, rt_rng_stream_id(f->call, (uint64_t)steps + 1, (uint64_t)i), NULL, NULL);
        post->logw[i] = rt_ad_value(w);
        post->value[i] = vi.ret_value;
        post->trace_start[i] = post->trace.len;
        record_draw(post);
    }
    post->trace_start[IS_DRAWS] = post->trace.len;
    rt_post_summarize(post, loc);
    return post;
}

rt_posterior *rt_infer_vi(const rt_vi_problem *prob, const void *args, const rt_vi_objective *objective_desc,
                          const void *objective_args, int64_t particles, int64_t steps, int64_t optimizer, double lr,
                          const char *loc) {
    check_vi_options(particles, steps, lr, loc);
    int64_t *offset = rt_alloc(16 * (size_t)(prob->nparams + 1), false);
    rt_vi_theta theta = {.offset = offset, .len = offset + prob->nparams + 1};
    prob->guide_init(args, &theta);
    layout.offset = theta.offset, layout.len = theta.len;
    int64_t n = theta.n;
    Fit f = {prob, args, objective_desc, objective_args, theta.v, doubles(n), doubles(n), doubles(n),
             rt_alloc(8 * (size_t)(n + 1), false), rt_infer_count++, n, flat_names(prob, &theta)};
    vi.prob = prob, vi.args = args, vi.particles = particles;
    rt_error_context(loc, "in the fit of this vi");
    rt_array *history = rt_array_new(steps, 0);
    for (int64_t step = 0; step < steps; step++) {
        if (rt_interrupted) rt_interrupt(loc);
        int64_t obj = objective(&f, step, loc);
        history->at.d[step] = rt_ad_value(obj);
        rt_ad_grad(obj, f.grad, n);
        check_value(&f, obj, step, loc);
        check_gradient(&f, obj, step, loc);
        update(&f, step, optimizer, lr);
    }
    vi.prob = NULL;
    rt_posterior *post = fitted_posterior(&f, steps, loc);
    rt_error_context(NULL, NULL);
    post->guide_name = prob->guide_name;
    post->objective_name = objective_desc->name;
    post->nparams = n;
    post->param_names = f.names;
    post->params = f.theta;
    post->history = history;
    return post;
}

rt_array *rt_vi_params(const rt_posterior *p) {
    rt_array *a = rt_array_new(p->nparams, 0);
    for (int64_t k = 0; k < p->nparams; k++) a->at.d[k] = p->params[k];
    return a;
}

rt_array *rt_vi_history(const rt_posterior *p) { return p->history ? p->history : rt_array_new(0, 0); }
