/* rt_vi.c - fitting a guide by stochastic gradient ascent on an objective program: its
 * draws(K) calls, the score-function terms with their baselines, the passes of enumerated
 * sites, the optimizers, then importance sampling with the fitted guide as the proposal. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "rt_ad.h"
#include "rt_tensor.h"
#include "rt_vi_internal.h"

enum { IS_DRAWS = 1000, MAX_ENUM_PASSES = 4096 };

/* ---- draws ---- */

static rt_draws *draws_value(rt_array *logw, rt_array *logq, int64_t logz) {
    rt_draws *d = rt_alloc(sizeof *d, true);
    d->logw = logw;
    d->logq = logq;
    d->logz = logz;
    return d;
}

static DrawCall *new_call(rt_vi_state *V, int64_t n) {
    V->calls = rt_grow(V->calls, V->ncalls, &V->calls_cap, V->ncalls + 1, sizeof *V->calls, true);
    DrawCall *c = &V->calls[V->ncalls++];
    *c = (DrawCall){n, rt_alloc_n(n, sizeof(int64_t), false, "draws", NULL), rt_array_new(n, 0), rt_array_new(n, 0)};
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
static rt_draws *replayed_draws(rt_vi_state *V, int64_t n, const char *loc) {
    if (V->replay_next >= V->ncalls || V->calls[V->replay_next].n != n)
        rt_fail(loc, "vi: an objective must call draws the same way each time it runs");
    DrawCall *c = &V->calls[V->replay_next];
    int64_t k = V->replay_next++ == V->replay_call ? V->replay_draw : -1;
    return draws_value(constants(c->logw, k), constants(c->logq, k), c->logz);
}

rt_draws *rt_vi_draws(rt_ctx *ctx, int64_t n, const char *loc) {
    rt_vi_state *V = ctx->vi;
    if (!V || !V->prob) rt_fail(loc, "draws: no fit is running");
    if (n < 0) n = V->particles;
    if (n < 1) rt_failf(loc, "draws: the number of draws must be at least 1, found %lld", (long long)n);
    if (V->replaying) return replayed_draws(V, n, loc);
    DrawCall *c = new_call(V, n);
    for (int64_t k = 0; k < n; k++) {
        uint64_t stream = rt_rng_stream_id((uint64_t)V->stream_a, (uint64_t)V->stream_b, (uint64_t)V->next_draw++);
        c->logw->at.i[k] = rt_vi_evaluate(ctx, V->prob, V->args, stream, &c->score[k], &c->logq->at.i[k]);
        V->has_score |= c->score[k] >= 0;
    }
    c->logz = rt_ad_const(rt_ad_value(rt_ad_logsumexp(c->logw->at.i, n)) - log((double)n));
    return draws_value(c->logw, c->logq, c->logz);
}

/* ---- the fit ---- */

typedef struct Fit {
    rt_vi_state vi;           /* what the fit's gradient code reads through its context */
    rt_ctx cx;                /* the context the objective, guide and model run in */
    const rt_vi_problem *prob;
    const void *args;
    const rt_vi_objective *objective;
    const void *objective_args;
    double *theta, *grad, *m, *v;
    int64_t *handles;
    const rt_tensor **tensor; /* a tensor param's initial value (its shape), else NULL */
    rt_tensor **inputs;       /* a tensor param's input node in this step */
    int64_t *input_of;        /* the scalar tape input of element k (-1 in a tensor param) */
    double *sgrad;            /* the scalar inputs' gradient */
    uint64_t call;
    int64_t n;                /* the flat param vector's length */
    const char **names;       /* its elements' names */
} Fit;

/* A tensor param: one tensor input node, its elements taken from the flat vector. */
static rt_tensor *tensor_input(Fit *f, int64_t k) {
    const rt_tensor *shape = f->tensor[k];
    rt_tensor *t = rt_tensor_new(shape->rank, shape->dim, NULL);
    for (int64_t e = 0; e < t->numel; e++) t->d[e] = (float)f->theta[f->vi.param_offset[k] + e];
    return rt_tad_input(t);
}

/* The params on a fresh tape: a scalar input per element of real and array params, one
 * tensor input node per tensor param. */
static void start_tape(Fit *f) {
    rt_vi_state *V = &f->vi;
    rt_ad_begin();
    V->nsites = V->site_base = 0;
    V->zero_kind = -1;
    V->zero_site = V->last_site = -1;
    int64_t ninputs = 0;
    for (int64_t k = 0; k < f->prob->nparams; k++) {
        int64_t off = V->param_offset[k], len = V->param_len[k] < 0 ? 1 : V->param_len[k];
        f->inputs[k] = f->tensor[k] ? tensor_input(f, k) : NULL;
        for (int64_t e = off; e < off + len; e++) {
            f->handles[e] = f->tensor[k] ? -1 : rt_ad_input(f->theta[e]);
            f->input_of[e] = f->tensor[k] ? -1 : ninputs++;
        }
    }
    V->params = f->handles;
    V->param_tensor = (const rt_tensor *const *)f->inputs;
}

/* d objective / d theta: the scalar inputs' gradient and the tensor inputs' adjoints. */
static void gradient(Fit *f, int64_t objective) {
    rt_ad_grad(objective, f->sgrad, f->n);
    for (int64_t e = 0; e < f->n; e++) f->grad[e] = f->input_of[e] >= 0 ? f->sgrad[f->input_of[e]] : 0;
    for (int64_t k = 0; k < f->prob->nparams; k++) {
        const float *a = f->inputs[k] ? rt_tad_adjoint(f->inputs[k]) : NULL;
        for (int64_t e = 0; a && e < f->inputs[k]->numel; e++) f->grad[f->vi.param_offset[k] + e] = a[e];
    }
}

/* The objective's value with draw k of draws call c left out (replaced by the mean of the
 * others), computed on the tape and rewound: the baseline for that draw's score term. */
static double baseline(Fit *f, int64_t c, int64_t k) {
    rt_vi_state *V = &f->vi;
    rt_ad_mark mark = rt_ad_mark_here();
    V->replaying = true;
    V->replay_call = c, V->replay_draw = k, V->replay_next = 0;
    double b = rt_ad_value(f->objective->fn(&f->cx, f->objective_args));
    V->replaying = false;
    rt_ad_rewind(mark);
    return b;
}

/* The objective's derivatives in the pass's log weights and log q's: h holds, call after
 * call, each call's logw handles then its logq handles, and adj their adjoints. */
typedef struct Sensitivity { int64_t n, *h; double *adj; bool weighted, affine; } Sensitivity;

static Sensitivity sensitivity(rt_vi_state *V, int64_t objective) {
    Sensitivity s = {0};
    for (int64_t c = 0; c < V->ncalls; c++) s.n += 2 * V->calls[c].n;
    s.h = rt_alloc(sizeof(int64_t) * (size_t)s.n, false);
    s.adj = rt_alloc(sizeof(double) * (size_t)s.n, false);
    for (int64_t c = 0, at = 0; c < V->ncalls; at += 2 * V->calls[c++].n) {
        size_t bytes = sizeof(int64_t) * (size_t)V->calls[c].n;
        memcpy(s.h + at, V->calls[c].logw->at.i, bytes);
        memcpy(s.h + at + V->calls[c].n, V->calls[c].logq->at.i, bytes);
    }
    rt_ad_adjoints(objective, s.h, s.n, s.adj);
    for (int64_t c = 0, at = 0; c < V->ncalls; at += 2 * V->calls[c++].n)
        for (int64_t k = 0; k < V->calls[c].n; k++) s.weighted |= s.adj[at + k] != 0;
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
    rt_vi_state *V = &f->vi;
    int64_t sum = rt_ad_const(0);
    if (!V->has_score) return sum;
    Sensitivity sens = sensitivity(V, objective);
    if (!sens.weighted) return sum;
    double l = rt_ad_value(objective);
    int64_t ncalls = V->ncalls;
    for (int64_t c = 0, at = 0; c < ncalls; at += 2 * V->calls[c++].n) {
        DrawCall *call = &V->calls[c];
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
    rt_vi_state *V = &f->vi;
    V->ncalls = 0;
    V->next_draw = 0;
    V->has_score = false;
    V->enum_next = 0;
    V->enum_logq = rt_ad_const(0);
    int64_t l = f->objective->fn(&f->cx, f->objective_args);
    /* an objective that is not finite has no score term (its value would make it NaN) */
    int64_t term = isfinite(rt_ad_value(l)) ? rt_ad_add(l, score_surrogate(f, l)) : l;
    return V->nenum ? rt_ad_mul(rt_ad_exp(V->enum_logq), term) : term;
}

/* The objective of one step, on the tape: the sum over the passes of the enumerated sites'
 * odometer (one pass when there are none), each draw on a stream of (fit, step, draw). */
static int64_t objective(Fit *f, int64_t step, const char *loc) {
    rt_vi_state *V = &f->vi;
    start_tape(f);
    V->stream_a = (int64_t)f->call, V->stream_b = step;
    V->enumerating = true;
    V->nenum = 0;
    int64_t total = rt_ad_const(0);
    for (int64_t pass = 0;; pass++) {
        if (pass == MAX_ENUM_PASSES)
            rt_failf(loc, "vi: enumerating the guide's sites takes more than %d runs of the objective (their "
                     "values multiply over the draws: use fewer particles, or by \"score\" for some sites)",
                     MAX_ENUM_PASSES);
        total = rt_ad_add(total, objective_pass(f));
        if (!rt_vi_enum_advance(V)) break;
    }
    V->enumerating = false;
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

/* An objective of -inf (a guide draw the model gives zero probability), +inf or NaN leaves
 * nothing to ascend: it stops the fit. */
static void check_value(Fit *f, int64_t objective, int64_t step, const char *loc) {
    double v = rt_ad_value(objective);
    if (isfinite(v)) return;
    char site[400];
    if (v == -INFINITY) {
        rt_vi_zero_site(&f->vi, f->prob->model, site, sizeof site);
        rt_failf(loc, "vi: the objective is -inf at step %lld: a draw of guide '%s' has zero probability under "
                 "model '%s' (a guide must sample inside the model's support)%s", (long long)step,
                 f->prob->guide_name, f->prob->model->name, site);
    }
    rt_vi_suspect_site(&f->vi, f->prob->model, objective, site, sizeof site);
    rt_failf(loc, "vi: the objective is %s at step %lld%s", isnan(v) ? "nan" : "inf", (long long)step, site);
}

static void check_gradient(Fit *f, int64_t objective, int64_t step, const char *loc) {
    for (int64_t k = 0; k < f->n; k++) {
        if (isfinite(f->grad[k])) continue;
        char site[400];
        rt_vi_suspect_site(&f->vi, f->prob->model, objective, site, sizeof site);
        rt_failf(loc, "vi: the gradient of param '%s' of guide '%s' is not finite at step %lld%s",
                 f->names[k], f->prob->guide_name, (long long)step, site);
    }
}

static double *doubles(int64_t n) { return rt_alloc(sizeof(double) * (size_t)n, false); }

/* ---- the posterior: importance sampling with the fitted guide ---- */
static rt_posterior *fitted_posterior(Fit *f, int64_t steps, const char *loc) {
    rt_vi_state *V = &f->vi;
    rt_posterior *post = rt_post_new(f->prob->model, "vi", IS_DRAWS);
    for (int64_t i = 0; i < IS_DRAWS; i++) {
        start_tape(f);
        int64_t w = rt_vi_evaluate(&f->cx, f->prob, f->args, rt_rng_stream_id(f->call, (uint64_t)steps + 1, (uint64_t)i), NULL, NULL);
        post->logw[i] = rt_ad_value(w);
        post->value[i] = V->ret_value;
        rt_vi_record_sites(V, post, i);
    }
    rt_post_summarize(post, loc);
    post->khat = rt_pareto_khat(post->logw, post->n);   /* the fitted guide as a proposal */
    return post;
}

rt_posterior *rt_infer_vi(rt_ctx *ctx, const rt_model *m, const void *args, const rt_infer_opts *o,
                          const char *loc) {
    rt_infer_check(RT_METHOD_VI, o, loc);
    const rt_vi_problem *prob = o->guide;
    const rt_vi_objective *objective_desc = o->objective;
    const void *objective_args = o->objective_args;
    int64_t particles = o->particles, steps = o->steps, optimizer = o->optimizer;
    double lr = o->lr;
    int64_t *offset = rt_alloc(16 * (size_t)(prob->nparams + 1), false);
    rt_vi_theta theta = {.offset = offset, .len = offset + prob->nparams + 1,
                         .tensor = rt_alloc(8 * (size_t)(prob->nparams + 1), true)};
    prob->guide_init(args, &theta);
    void *outer_tape = rt_ad_push();   /* a fit inside another's model keeps that one's tape */
    int64_t n = theta.n;
    Fit f = {.prob = prob, .args = args, .objective = objective_desc, .objective_args = objective_args,
              .theta = theta.v, .grad = doubles(n), .m = doubles(n), .v = doubles(n),
              .handles = rt_alloc(8 * (size_t)(n + 1), false), .call = rt_infer_call(ctx), .n = n,
             .names = rt_vi_flat_names(prob, &theta)};
    f.vi.param_offset = theta.offset, f.vi.param_len = theta.len;
    f.tensor = theta.tensor, f.inputs = rt_alloc(8 * (size_t)(prob->nparams + 1), true);
    f.input_of = rt_alloc(8 * (size_t)(n + 1), false), f.sgrad = doubles(n + 1);
    f.vi.prob = prob, f.vi.args = args, f.vi.particles = particles;
    f.cx.vi = &f.vi;
    f.cx.args = args;
    rt_error_context(loc, "in the fit of this vi");
    rt_array *history = rt_array_new(steps, 0);
    for (int64_t step = 0; step < steps; step++) {
        if (rt_interrupted) rt_interrupt(loc);
        int64_t obj = objective(&f, step, loc);
        history->at.d[step] = rt_ad_value(obj);
        gradient(&f, obj);
        check_value(&f, obj, step, loc);
        check_gradient(&f, obj, step, loc);
        update(&f, step, optimizer, lr);
    }
    f.vi.prob = NULL;
    rt_posterior *post = fitted_posterior(&f, steps, loc);
    rt_ad_pop(outer_tape);
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
