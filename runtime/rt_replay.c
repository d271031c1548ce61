/* rt_replay.c - given site values (rt_replay.h): from a posterior's draw or from addresses a
 * program names; replay mode on the frames; score mode at given values; predict. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rt_ad.h"
#include "rt_replay.h"
#include "rt_trace.h"
#include "rt_vi_internal.h"

/* The same model: one descriptor, or in the REPL (each cell compiles the models again) one
 * of the same name and sites. */
static bool same_model(const rt_model *a, const rt_model *b) {
    if (a == b) return true;
    if (strcmp(a->name, b->name) || a->nsites != b->nsites) return false;
    for (int64_t k = 0; k < a->nsites; k++)
        if (strcmp(a->site_names[k], b->site_names[k]) || a->site_nidx[k] != b->site_nidx[k]) return false;
    return true;
}

static rt_given *given_new(const rt_model *m, int64_t n) {
    rt_given *g = rt_alloc(sizeof *g, true);
    g->model = m;
    g->sites = rt_alloc(sizeof *g->sites * (size_t)(n + 1), false);
    return g;
}

/* Draw i's path in the record layout [site, nidx, idx..., value bits] (rt_trace_path). */
rt_given *rt_given_from_draw(const rt_posterior *post, int64_t i, const char *loc) {
    if (i < 0 || i >= post->n)
        rt_failf(loc, "draw %lld of a posterior of %lld draws", (long long)i, (long long)post->n);
    if (!post->sites)
        rt_failf(loc, "the posterior of model '%s' keeps no site values (it was inferred with trace = false)",
                 post->model->name);
    rt_trace_finish(post->sites);
    int64_t need = rt_trace_path(post->sites, i, NULL, 0);
    int64_t *w = rt_alloc(sizeof(int64_t) * (size_t)(need + 1), false);
    rt_trace_path(post->sites, i, w, need);
    int64_t count = 0;
    for (int64_t o = 0; o < need; o += 3 + w[o + 1]) count++;
    rt_given *g = given_new(post->model, count);
    for (int64_t o = 0; o < need; o += 3 + w[o + 1]) {
        rt_given_site *s = &g->sites[g->n++];
        s->site = w[o];
        s->nidx = w[o + 1] < RT_GIVEN_MAX_INDICES ? w[o + 1] : RT_GIVEN_MAX_INDICES;
        memcpy(s->idx, w + o + 2, sizeof(int64_t) * (size_t)s->nidx);
        memcpy(&s->value, w + o + 2 + w[o + 1], sizeof s->value);
    }
    return g;
}

/* "x", "x[3]" or "z[1, 2]" into a site of m and its indices. */
void rt_given_parse_address(const rt_model *m, const char *text, rt_given_site *s, const char *loc) {
    size_t len = strcspn(text, "[");
    s->site = -1;
    for (int64_t k = 0; k < m->nsites; k++)
        if (strlen(m->site_names[k]) == len && !strncmp(m->site_names[k], text, len)) s->site = k;
    if (s->site < 0) rt_failf(loc, "model '%s' has no site '%.*s'", m->name, (int)len, text);
    s->nidx = 0;
    const char *at = text + len;
    if (*at == '[') {
        do {
            char *end;
            if (s->nidx == RT_GIVEN_MAX_INDICES) rt_failf(loc, "the address '%s' has too many indices", text);
            s->idx[s->nidx++] = strtoll(at + 1, &end, 10);
            if (end == at + 1) rt_failf(loc, "the address '%s' is not a site name with integer indices", text);
            at = end + strspn(end, " ");
        } while (*at == ',');
        if (*at++ != ']') rt_failf(loc, "the address '%s' is not a site name with integer indices", text);
    }
    if (*at) rt_failf(loc, "the address '%s' is not a site name with integer indices", text);
    if (s->nidx != m->site_nidx[s->site])
        rt_failf(loc, "site '%s' of model '%s' has %lld indices, the address '%s' gives %lld", m->site_names[s->site],
                 m->name, (long long)m->site_nidx[s->site], text, (long long)s->nidx);
}

rt_given *rt_given_from_names(const rt_model *m, const rt_array *names, const rt_array *values, const char *loc) {
    if (names->len != values->len)
        rt_failf(loc, "%lld addresses and %lld values", (long long)names->len, (long long)values->len);
    rt_given *g = given_new(m, names->len);
    for (int64_t k = 0; k < names->len; k++) {
        rt_given_site *s = &g->sites[g->n++];
        rt_given_parse_address(m, names->at.p[k], s, loc);
        s->value = values->at.d[k];
        if (m->site_kind[s->site] == RT_INT && s->value != floor(s->value))
            rt_failf(loc, "site '%s' of model '%s' takes ints, the value given is %g", (const char *)names->at.p[k],
                     m->name, s->value);
    }
    return g;
}

bool rt_given_lookup(const rt_given *g, int64_t site, int64_t nidx, const int64_t *idx, double *value) {
    for (int64_t k = 0; k < g->n; k++) {
        const rt_given_site *s = &g->sites[k];
        if (s->site == site && s->nidx == nidx && (nidx == 0 || !memcmp(s->idx, idx, sizeof(int64_t) * (size_t)nidx))) {
            *value = s->value;
            return true;
        }
    }
    return false;
}

/* ---- score mode at given values ---- */

static void site_text(const rt_model *m, int64_t site, int64_t nidx, const int64_t *idx, char *buf, size_t size) {
    int n = snprintf(buf, size, "%s", m->site_names[site]);
    for (int64_t i = 0; i < nidx && n > 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - (size_t)n, "%s%lld", i ? ", " : "[", (long long)idx[i]);
    if (nidx && n > 0 && (size_t)n < size) snprintf(buf + n, size - (size_t)n, "]");
}

int64_t rt_score_given_site(rt_vi_state *V, int64_t site, int64_t nidx, const int64_t *idx, const char *loc) {
    double v;
    if (!rt_given_lookup(V->given, site, nidx, idx, &v)) {
        char addr[256];
        site_text(V->given->model, site, nidx, idx, addr, sizeof addr);
        rt_failf(loc, "logp: no value is given for site '%s' of model '%s'", addr, V->given->model->name);
    }
    return V->given->model->site_kind[site] == RT_INT ? (int64_t)v : rt_ad_const(v);
}

double rt_score_given(const rt_model *m, const void *args, const rt_given *g, rt_score_parts *parts,
                      const char *loc) {
    void *outer = rt_ad_push();
    rt_vi_state V = {.scoring = true, .given = g};
    rt_ctx cx = {.vi = &V, .args = args};
    V.logp = rt_ad_const(0);
    m->model_ad(&cx, args);
    if (parts) memcpy(parts->part, V.part, sizeof V.part);
    double lp = rt_ad_value(V.logp);
    rt_ad_pop(outer);
    return lp;
}

double rt_logp_draw(const rt_model *m, const void *args, const rt_posterior *post, int64_t i, const char *loc) {
    if (!same_model(post->model, m))
        rt_failf(loc, "logp: the posterior is of model '%s', not '%s'", post->model->name, m->name);
    return rt_score_given(m, args, rt_given_from_draw(post, i, loc), NULL, loc);
}

double rt_logp_values(const rt_model *m, const void *args, const rt_array *names, const rt_array *values,
                      const char *loc) {
    return rt_score_given(m, args, rt_given_from_names(m, names, values, loc), NULL, loc);
}

/* ---- replay mode ---- */

int64_t rt_replay_site(rt_particle *p, int64_t site, int64_t nidx, const int64_t *idx, int64_t *found) {
    double v;
    *found = rt_given_lookup(p->given, site, nidx, idx, &v);
    if (!*found) return 0;
    if (p->given->model->site_kind[site] == RT_INT) return (int64_t)v;
    int64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

static double run_replay(const rt_model *m, rt_particle *p, void *frame) {
    for (;;) {
        int32_t more = (m->replay ? m->replay : m->resume)(frame, p);
        if (!more || p->logw == -INFINITY) break;
    }
    return p->logw == -INFINITY ? -INFINITY : p->logw - p->potential;
}

double rt_replay(const rt_model *m, const void *args, const rt_given *g, uint64_t stream, double *ret,
                 double *logprior, const char *loc) {
    rt_particle p = {.args = args, .given = g};
    rt_rng_init(&p.rng, rt_seed, stream);
    void *frame = rt_frame_new(m->frame_size);
    double w = run_replay(m, &p, frame);
    if (ret) *ret = rt_frame_return(m, frame);
    if (logprior) *logprior = p.logprior;
    return w;
}

rt_posterior *rt_predict(rt_ctx *ctx, const rt_model *m, const void *args, const rt_posterior *post,
                         const char *loc) {
    if (!same_model(post->model, m))
        rt_failf(loc, "predict: the posterior is of model '%s', not '%s'", post->model->name, m->name);
    rt_post_require(post, "predict", loc);
    uint64_t call = rt_infer_call(ctx);
    rt_posterior *out = rt_post_new(m, "predict", post->n);
    void *frame = rt_frame_new(m->frame_size);
    rt_trace *rec = rt_post_trace(out);
    for (int64_t i = 0; i < post->n; i++) {
        if (rt_interrupted) rt_interrupt(loc);
        rt_particle p = {.args = args, .given = rt_given_from_draw(post, i, loc), .trace = rec};
        rt_rng_init(&p.rng, rt_seed, rt_rng_stream_id(call, (uint64_t)i, 0));
        rt_trace_particle(rec, i);
        memset(frame, 0, (size_t)m->frame_size);
        run_replay(m, &p, frame);
        out->logw[i] = post->logw[i];
        out->value[i] = post->logw[i] == -INFINITY ? 0.0 : rt_frame_return(m, frame);
    }
    rt_post_summarize(out, loc);
    return out;
}
