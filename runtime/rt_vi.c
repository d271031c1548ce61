/* rt_vi.c - fitting a guide by stochastic gradient ascent on the ELBO (reparameterized draws,
 * reverse-mode AD), then importance sampling with the fitted guide as the proposal. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gc.h>
#include "rt_ad.h"
#include "rt_dist.h"
#include "rt_vi.h"

enum { MAX_INDICES = 8, IS_DRAWS = 1000 };

/* h: a handle for a real site, the drawn int for a discrete one (is_int). */
typedef struct SiteValue { int64_t site, nidx, idx[MAX_INDICES], h; bool is_int; } SiteValue;

/* One evaluation of guide and model (one thread runs VI). */
static struct {
    const int64_t *params;
    int64_t logp, logq, ret;
    int64_t score;            /* log q of the sites without a reparameterization */
    double ret_value;
    SiteValue *sites;
    int64_t nsites, cap;
    rt_rng rng;
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

static int64_t guide_draw(int64_t site, int64_t nidx, const int64_t *idx, int64_t mu, int64_t sigma,
                          bool log_normal, const char *loc) {
    double eps = rt_sample_normal(&vi.rng, 0, 1, loc);
    int64_t z = rt_ad_add(mu, rt_ad_mul(sigma, rt_ad_const(eps)));
    int64_t x = log_normal ? rt_ad_exp(z) : z;
    int64_t lq = log_normal ? rt_ad_lpdf_lognormal(x, mu, sigma, loc) : rt_ad_lpdf_normal(x, mu, sigma, loc);
    vi.logq = rt_ad_add(vi.logq, lq);
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
    vi.logq = rt_ad_add(vi.logq, lq);
    vi.score = rt_ad_add(vi.score, lq);
    record(site, nidx, idx, x, is_int, loc);
    return x;
}

int64_t rt_vi_guide_score(int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc) {
    return score_site(site, nidx, idx, x, lq, false, loc);
}

int64_t rt_vi_guide_score_int(int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc) {
    return score_site(site, nidx, idx, x, lq, true, loc);
}

rt_array *rt_vi_values(const rt_array *h) {
    rt_array *a = rt_array_new(h->len, 0);
    for (int64_t i = 0; i < h->len; i++) a->at.d[i] = rt_ad_value(h->at.i[i]);
    return a;
}

rt_rng *rt_vi_rng(void) { return &vi.rng; }

int64_t rt_vi_model_site(int64_t site, int64_t nidx, const int64_t *idx, const char *loc) {
    for (int64_t i = 0; i < vi.nsites; i++) {
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

/* ---- the fit ---- */

/* Runs guide then model on a fresh record of sites; returns log p - log q (and in *score the
 * log q of the score-function sites). */
static int64_t evaluate(const rt_vi_problem *prob, const void *args, uint64_t stream, int64_t *score) {
    vi.nsites = 0;
    vi.logp = vi.logq = vi.score = rt_ad_const(0);
    vi.ret = -1;
    vi.ret_value = 0;
    rt_rng_init(&vi.rng, rt_seed, stream);
    prob->guide_ad(args);
    prob->model_ad(args);
    if (score) *score = vi.score;
    return rt_ad_sub(vi.logp, vi.logq);
}

typedef struct Fit {
    const rt_vi_problem *prob;
    const void *args;
    double *theta, *grad, *m, *v;
    int64_t *handles;
    uint64_t call;
    int64_t n;                /* the flat param vector's length */
    const char **names;       /* its elements' names */
} Fit;

static void start_tape(Fit *f) {
    rt_ad_begin();
    for (int64_t k = 0; k < f->n; k++) f->handles[k] = rt_ad_input(f->theta[k]);
    vi.params = f->handles;
}

/* The ELBO estimate of one step (on the tape) from `particles` draws. Its value is the mean
 * of f = log p - log q; for sites without a reparameterization each draw also adds the
 * DiCE-style surrogate (f_p - b_p)(s_p - stop_grad(s_p)), whose value is 0 and whose
 * gradient is the score-function term, with s_p that draw's log q of those sites and b_p
 * the leave-one-out baseline, the mean of the other draws' f (0 for a single draw). */
static int64_t objective(Fit *f, int64_t step, int64_t particles) {
    start_tape(f);
    int64_t *fs = rt_alloc(16 * (size_t)particles, false), *ss = fs + particles;
    double total = 0;
    for (int64_t p = 0; p < particles; p++) {
        fs[p] = evaluate(f->prob, f->args, rt_rng_stream_id(f->call, (uint64_t)step, (uint64_t)p), &ss[p]);
        total += rt_ad_value(fs[p]);
    }
    int64_t sum = rt_ad_const(0);
    for (int64_t p = 0; p < particles; p++) {
        double fp = rt_ad_value(fs[p]), base = particles > 1 ? (total - fp) / (double)(particles - 1) : 0;
        int64_t surrogate = rt_ad_mul(rt_ad_const(fp - base), rt_ad_sub(ss[p], rt_ad_stop_grad(ss[p])));
        sum = rt_ad_add(sum, rt_ad_add(fs[p], surrogate));
    }
    return rt_ad_div(sum, rt_ad_const((double)particles));
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

static void check_gradient(Fit *f, int64_t step, const char *loc) {
    for (int64_t k = 0; k < f->n; k++)
        if (!isfinite(f->grad[k]))
            rt_failf(loc, "vi: the gradient of param '%s' of guide '%s' is not finite at step %lld",
                     f->names[k], f->prob->guide_name, (long long)step);
}

static double *doubles(int64_t n) { return rt_alloc(sizeof(double) * (size_t)n, false); }

static void check_vi_options(int64_t particles, int64_t steps, double lr, const char *loc) {
    if (particles < 1) rt_failf(loc, "vi: particles must be at least 1, found %lld", (long long)particles);
    if (steps < 0) rt_failf(loc, "vi: steps must not be negative, found %lld", (long long)steps);
    if (!(lr > 0) || !isfinite(lr)) rt_failf(loc, "vi: the learning rate must be positive, found %g", lr);
}

/* ---- the posterior: importance sampling with the fitted guide ---- */

static void record_draw(rt_posterior *post) {
    for (int64_t s = 0; s < vi.nsites; s++) {
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
        int64_t w = evaluate(f->prob, f->args, rt_rng_stream_id(f->call, (uint64_t)steps + 1, (uint64_t)i), NULL);
        post->logw[i] = rt_ad_value(w);
        post->value[i] = vi.ret_value;
        post->trace_start[i] = post->trace.len;
        record_draw(post);
    }
    post->trace_start[IS_DRAWS] = post->trace.len;
    rt_post_summarize(post, loc);
    return post;
}

rt_posterior *rt_infer_vi(const rt_vi_problem *prob, const void *args, int64_t particles, int64_t steps,
                          int64_t optimizer, double lr, const char *loc) {
    check_vi_options(particles, steps, lr, loc);
    int64_t *offset = rt_alloc(16 * (size_t)(prob->nparams + 1), false);
    rt_vi_theta theta = {.offset = offset, .len = offset + prob->nparams + 1};
    prob->guide_init(args, &theta);
    layout.offset = theta.offset, layout.len = theta.len;
    int64_t n = theta.n;
    Fit f = {prob, args, theta.v, doubles(n), doubles(n), doubles(n), rt_alloc(8 * (size_t)(n + 1), false),
             rt_infer_count++, n, flat_names(prob, &theta)};
    rt_array *history = rt_array_new(steps, 0);
    for (int64_t step = 0; step < steps; step++) {
        if (rt_interrupted) rt_interrupt(loc);
        int64_t obj = objective(&f, step, particles);
        history->at.d[step] = rt_ad_value(obj);
        rt_ad_grad(obj, f.grad, n);
        check_gradient(&f, step, loc);
        update(&f, step, optimizer, lr);
    }
    rt_posterior *post = fitted_posterior(&f, steps, loc);
    post->guide_name = prob->guide_name;
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
