/* rt_vi_eval.c - one draw of a guide and its model on the AD tape: the flat param vector,
 * the guide's sites by estimator (reparameterized, score function, enumerated), the model's
 * sites taking the guide's values, and the tape helpers gradient code calls. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "rt_ad.h"
#include "rt_dist.h"
#include "rt_tensor.h"
#include "rt_vi_internal.h"

/* Every term of log p joins the running sum in program order; a score also keeps the
 * terms' values by kind (prior, likelihood, reward, Jacobian). */
static void add_logp(rt_vi_state *V, int kind, int64_t h) {
    V->logp = rt_ad_add(V->logp, h);
    V->part[kind] += rt_ad_value(h);
    if (rt_ad_value(h) == -INFINITY && V->zero_kind < 0) {
        V->zero_kind = kind;
        V->zero_site = kind == RT_PART_PRIOR ? V->last_site : -1;
        V->zero_base = V->site_base;
        V->zero_end = V->nsites;
    }
}

void rt_vi_add_prior(rt_ctx *ctx, int64_t h) { add_logp(ctx->vi, RT_PART_PRIOR, h); }
void rt_vi_add_lik(rt_ctx *ctx, int64_t h) { add_logp(ctx->vi, RT_PART_LIK, h); }
void rt_vi_add_reward(rt_ctx *ctx, int64_t h) { add_logp(ctx->vi, RT_PART_REWARD, h); }

/* ---- the params: one flat vector (rt_vi_theta), in declaration order ---- */

int64_t rt_vi_param(rt_ctx *ctx, int64_t k) { return ctx->vi->params[ctx->vi->param_offset[k]]; }

rt_array *rt_vi_param_array(rt_ctx *ctx, int64_t k)
{
    rt_vi_state *V = ctx->vi;
    rt_array *a = rt_array_new(V->param_len[k], 0);
    memcpy(a->at.i, V->params + V->param_offset[k], sizeof(int64_t) * (size_t)V->param_len[k]);
    return a;
}

static void theta_push(rt_vi_theta *t, int64_t k, const double *x, int64_t n, int64_t len)
{
    t->v = rt_grow(t->v, t->n, &t->cap, t->n + n, sizeof(double), false);
    t->offset[k] = t->n, t->len[k] = len;
    if (n) memcpy(t->v + t->n, x, sizeof(double) * (size_t)n);
    t->n += n;
}

void rt_vi_init_real(rt_vi_theta *t, int64_t k, double x) { theta_push(t, k, &x, 1, -1); }
void rt_vi_init_array(rt_vi_theta *t, int64_t k, const rt_array *a) { theta_push(t, k, a->at.d, a->len, a->len); }

void rt_vi_init_tensor(rt_vi_theta *t, int64_t k, const rt_tensor *x)
{
    double *d = rt_alloc(sizeof(double) * (size_t)x->numel, false);
    for (int64_t i = 0; i < x->numel; i++)
        d[i] = x->d[i];
    theta_push(t, k, d, x->numel, x->numel);
    t->tensor[k] = x;
}

rt_tensor *rt_vi_param_tensor(rt_ctx *ctx, int64_t k) { return (rt_tensor *)ctx->vi->param_tensor[k]; }

/* The flat vector's names: `mu` for a real param, `mu[0]`, `mu[1]`, ... for an array's. */
const char **rt_vi_flat_names(const rt_vi_problem *prob, const rt_vi_theta *t)
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
void rt_vi_return(rt_ctx *ctx, int64_t h) { ctx->vi->ret_value = rt_ad_value(h); }
void rt_vi_return_value(rt_ctx *ctx, double v) { ctx->vi->ret_value = v; }

static void record(rt_vi_state *V, int64_t site, int64_t nidx, const int64_t *idx, int64_t h, bool is_int, const char *loc) {
    if (nidx > MAX_INDICES) rt_failf(loc, "vi: a site address may have at most %d indices", MAX_INDICES);
    V->sites = rt_grow(V->sites, V->nsites, &V->cap, V->nsites + 1, sizeof *V->sites, false);
    SiteValue *v = &V->sites[V->nsites++];
    v->site = site;
    v->nidx = nidx;
    if (nidx) memcpy(v->idx, idx, sizeof(int64_t) * (size_t)nidx);
    v->h = h;
    v->is_int = is_int;
}

static void add_logq(rt_vi_state *V, int64_t lq, int64_t lq_fixed) {
    V->logq = rt_ad_add(V->logq, lq);
    V->logq_fixed = rt_ad_add(V->logq_fixed, lq_fixed);
}

static int64_t guide_draw(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t mu, int64_t sigma,
                          bool log_normal, const char *loc) {
    rt_vi_state *V = ctx->vi;
    double eps = rt_sample_normal(&ctx->rng, 0, 1, loc);
    int64_t z = rt_ad_add(mu, rt_ad_mul(sigma, rt_ad_const(eps)));
    int64_t x = log_normal ? rt_ad_exp(z) : z, x_fixed = rt_ad_stop_grad(x);
    int64_t lq = log_normal ? rt_ad_lpdf_lognormal(x, mu, sigma, loc) : rt_ad_lpdf_normal(x, mu, sigma, loc);
    int64_t lq_fixed = log_normal ? rt_ad_lpdf_lognormal(x_fixed, mu, sigma, loc)
                                  : rt_ad_lpdf_normal(x_fixed, mu, sigma, loc);
    add_logq(V, lq, lq_fixed);
    record(V, site, nidx, idx, x, false, loc);
    return x;
}

int64_t rt_vi_guide_normal(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t mu, int64_t sigma, const char *loc) {
    return guide_draw(ctx, site, nidx, idx, mu, sigma, false, loc);
}

int64_t rt_vi_guide_lognormal(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t mu, int64_t sigma, const char *loc) {
    return guide_draw(ctx, site, nidx, idx, mu, sigma, true, loc);
}

static int64_t score_site(rt_vi_state *V, int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, bool is_int,
                          const char *loc) {
    add_logq(V, lq, lq);
    V->score = V->score < 0 ? lq : rt_ad_add(V->score, lq);
    record(V, site, nidx, idx, x, is_int, loc);
    return x;
}

int64_t rt_vi_guide_score(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc) {
    return score_site(ctx->vi, site, nidx, idx, x, lq, false, loc);
}

int64_t rt_vi_guide_score_int(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc) {
    return score_site(ctx->vi, site, nidx, idx, x, lq, true, loc);
}

/* An enumerated site: while fitting, the value of this pass of the odometer (a new site
 * starts at 0); otherwise (importance sampling with the fitted guide) the drawn value. */
int64_t rt_vi_enum_value(rt_ctx *ctx, int64_t support, int64_t drawn, const char *loc) {
    rt_vi_state *V = ctx->vi;
    if (!V->enumerating) return drawn;
    if (support < 1) rt_failf(loc, "vi: an enumerated site needs at least one value, found %lld", (long long)support);
    if (V->enum_next == V->nenum) {
        if (V->nenum == MAX_ENUM_SITES)
            rt_failf(loc, "vi: more than %d enumerated sites in one evaluation of the objective; use by \"score\" "
                     "for some", MAX_ENUM_SITES);
        V->enum_size[V->nenum] = support;
        V->enum_value[V->nenum++] = 0;
    }
    return V->enum_value[V->enum_next++];
}

/* Its log q (at the enumerated value) joins log q and the pass's enumeration weight. */
int64_t rt_vi_guide_enum(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t x, int64_t lq, const char *loc) {
    rt_vi_state *V = ctx->vi;
    add_logq(V, lq, lq);
    if (V->enumerating) V->enum_logq = rt_ad_add(V->enum_logq, lq);
    record(V, site, nidx, idx, x, true, loc);
    return x;
}

/* The next pass of the odometer: false after the last one. */
bool rt_vi_enum_advance(rt_vi_state *V) {
    while (V->nenum > 0) {
        int64_t i = V->nenum - 1;
        if (++V->enum_value[i] < V->enum_size[i]) return true;
        V->nenum--;
    }
    return false;
}

rt_array *rt_vi_values(const rt_array *h) {
    rt_array *a = rt_array_new(h->len, 0);
    for (int64_t i = 0; i < h->len; i++) a->at.d[i] = rt_ad_value(h->at.i[i]);
    return a;
}

static int64_t guide_value(rt_vi_state *V, int64_t site, int64_t nidx, const int64_t *idx, const char *loc) {
    for (int64_t i = V->site_base; i < V->nsites; i++) {
        SiteValue *v = &V->sites[i];
        if (v->site == site && v->nidx == nidx && (nidx == 0 || !memcmp(v->idx, idx, sizeof(int64_t) * (size_t)nidx))) {
            V->last_site = i;
            return v->h;
        }
    }
    rt_failf(loc, "vi: the guide drew no value for this site (at these loop indices)");
}

int64_t rt_vi_model_site(rt_ctx *ctx, int64_t site, int64_t nidx, const int64_t *idx, int64_t support, int64_t lo,
                         int64_t hi, const char *loc) {
    rt_vi_state *V = ctx->vi;
    if (V->enumerate) return rt_enum_site(V, site, nidx, idx, support, hi, loc);
    if (V->scoring) return rt_score_site(V, site, nidx, idx, support, lo, hi, loc);
    return guide_value(V, site, nidx, idx, loc);
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

int64_t rt_vi_evaluate(rt_ctx *ctx, const rt_vi_problem *prob, const void *args, uint64_t stream, int64_t *score, int64_t *logq) {
    rt_vi_state *V = ctx->vi;
    V->site_base = V->nsites;
    V->logp = V->logq = V->logq_fixed = rt_ad_const(0);
    V->score = -1;
    V->ret_value = 0;
    memset(V->part, 0, sizeof V->part);
    rt_rng_init(&ctx->rng, rt_seed, stream);
    prob->guide_ad(ctx, args);
    prob->model->model_ad(ctx, args);
    if (score) *score = V->score;
    if (logq) *logq = V->logq_fixed;
    return rt_ad_sub(V->logp, V->logq);
}

void rt_vi_record_sites(rt_vi_state *V, rt_posterior *post, int64_t i) {
    rt_trace *t = rt_post_trace(post);
    rt_trace_particle(t, i);
    for (int64_t s = V->site_base; s < V->nsites; s++) {
        SiteValue *v = &V->sites[s];
        rt_trace_put(t, v->site, v->nidx, v->idx, v->is_int ? (double)v->h : rt_ad_value(v->h));
    }
}

/* A site's address as the model names it: x, or x[2, 0] inside loops. */
static void site_address(const rt_model *m, const SiteValue *v, char *buf, size_t size) {
    int n = snprintf(buf, size, "%s", m->site_names[v->site]);
    for (int64_t i = 0; i < v->nidx && n > 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - (size_t)n, "%s%lld", i ? ", " : "[", (long long)v->idx[i]);
    if (v->nidx && n > 0 && (size_t)n < size) snprintf(buf + n, size - (size_t)n, "]");
}

/* "a = 0, b = 1" for the first sites of the draw that had zero probability (a reward's or
 * an observe's zero probability is the draw's, not one site's). */
static void draw_sites(const rt_vi_state *V, const rt_model *m, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = 0;
    for (int64_t s = V->zero_base, k = 0; s < V->zero_end && n + 1 < size; s++, k++) {
        if (k == 6) { snprintf(buf + n, size - n, ", ..."); break; }
        char addr[256];
        site_address(m, &V->sites[s], addr, sizeof addr);
        const SiteValue *v = &V->sites[s];
        int w = v->is_int ? snprintf(buf + n, size - n, "%s%s = %lld", k ? ", " : "", addr, (long long)v->h)
                          : snprintf(buf + n, size - n, "%s%s = %.6g", k ? ", " : "", addr, rt_ad_value(v->h));
        if (w < 0) break;
        n += (size_t)w;
    }
}

void rt_vi_zero_site(const rt_vi_state *V, const rt_model *m, char *buf, size_t size) {
    buf[0] = 0;
    if (V->zero_kind < 0) return;
    char addr[256], draw[300];
    if (V->zero_kind == RT_PART_PRIOR && V->zero_site >= 0) {
        const SiteValue *v = &V->sites[V->zero_site];
        site_address(m, v, addr, sizeof addr);
        if (v->is_int) snprintf(buf, size, " (the model's probability of site '%s' is zero at the guide's value %lld)", addr, (long long)v->h);
        else snprintf(buf, size, " (the model's density of site '%s' is zero at the guide's value %.6g)", addr, rt_ad_value(v->h));
        return;
    }
    draw_sites(V, m, draw, sizeof draw);
    snprintf(buf, size, " (%s is -inf%s%s)", V->zero_kind == RT_PART_LIK ? "an observe" : V->zero_kind == RT_PART_REWARD ? "a reward" : "a term of log p",
             draw[0] ? " at " : "", draw);
}

void rt_vi_suspect_site(rt_vi_state *V, const rt_model *m, int64_t objective, char *buf, size_t size) {
    buf[0] = 0;
    int64_t n = 0, *h = rt_alloc(sizeof(int64_t) * (size_t)(V->nsites + 1), false);
    SiteValue **of = rt_alloc(sizeof(SiteValue *) * (size_t)(V->nsites + 1), false);
    for (int64_t s = 0; s < V->nsites; s++)
        if (!V->sites[s].is_int) of[n] = &V->sites[s], h[n++] = V->sites[s].h;
    double *adj = rt_alloc(sizeof(double) * (size_t)(n + 1), false);
    rt_ad_adjoints(objective, h, n, adj);
    for (int64_t s = 0; s < n; s++) {
        double x = rt_ad_value(h[s]), bad = isfinite(x) ? adj[s] : x;
        if (isfinite(bad)) continue;
        char addr[256];
        site_address(m, of[s], addr, sizeof addr);
        snprintf(buf, size, " (%s site '%s' is %s)", isfinite(x) ? "the objective's derivative in" : "the value of",
                 addr, isnan(bad) ? "nan" : bad > 0 ? "inf" : "-inf");
        return;
    }
}
