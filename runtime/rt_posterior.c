/* rt_posterior.c - what inference returns: self-normalized means, sds and quantiles of the
 * return value, log evidence, ESS, and the printed summary with a row per sample site. */
#define GC_THREADS
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <gc.h>
#include "rt_replay.h"
#include "rt_weighted.h"

enum { MAX_ROWS = 20, LABEL_MAX = 64 };   /* site rows printed; longest label kept */

/* ---- a new posterior; its evidence and ESS ---- */

rt_posterior *rt_post_new(const rt_model *m, const char *method, int64_t n)
{
    rt_posterior *p = GC_MALLOC(sizeof *p);   /* zeroed: an empty trace */
    if (!p)
        rt_failf(NULL, "out of memory allocating a posterior");
    p->model = m;
    p->method = method;
    p->n = n;
    p->khat = p->min_ess = NAN;
    p->ancestors = -1;
    p->logw = rt_alloc_atomic(n, sizeof(double), "particle weights");
    p->value = rt_alloc_atomic(n, sizeof(double), "particle values");
    return p;
}

void rt_post_summarize(rt_posterior *p, const char *loc)
{
    double max = rt_max_logw(p);
    if (max == -INFINITY) {
        p->log_evidence = -INFINITY;
        p->ess = 0;
        p->dead = true;
        return;
    }
    double s = 0.0, s2 = 0.0, swv = 0.0;   /* adding the zero weights changes no sum */
    for (int64_t i = 0; i < p->n; i++) {
        double w = rt_rel_weight(p->logw[i], max);
        s += w;
        s2 += w * w;
        if (w > 0)
            swv += w * p->value[i];
    }
    p->log_evidence = max + log(s) - log((double)p->n);
    p->ess = s * s / s2;
    p->mean = swv / s;   /* rt_post_mean's sums, in the same order */
    p->has_mean = true;
}

void rt_post_require(const rt_posterior *p, const char *what, const char *loc)
{
    if (p->dead)
        rt_failf(loc, "%s: all %lld particles of model '%s' have zero weight (every run hit an impossible "
                 "observation or a reward of -inf), so the posterior has no values", what, (long long)p->n,
                 p->model->name);
}

/* ---- a summary row's statistics (the weighted draws are in rt_weighted.c) ---- */

typedef struct stats { double mean, sd, q05, q50, q95; } stats;

/* Mean, sd and the 5%, 50% and 95% quantiles; sorts the pairs. */
static stats pairs_stats(rt_wpairs *ps)
{
    stats s;
    s.mean = rt_wpairs_mean(ps);
    s.sd = rt_wpairs_sd(ps, s.mean);
    rt_wpairs_sort(ps);
    s.q05 = rt_wpairs_quantile(ps, 0.05);
    s.q50 = rt_wpairs_quantile(ps, 0.5);
    s.q95 = rt_wpairs_quantile(ps, 0.95);
    return s;
}

/* ---- the accessors generated code calls ---- */

/* mean and sd straight from the weights and values, without gathering pairs: the same sums
 * in the same order (particles of positive weight, in order) as rt_wpairs_mean and _sd.
 * The mean is usually known already, from rt_post_summarize. */
double rt_post_mean(const rt_posterior *p, const char *loc)
{
    rt_post_require(p, "mean", loc);
    if (p->has_mean)
        return p->mean;
    double max = rt_max_logw(p), sw = 0.0, swv = 0.0;
    for (int64_t i = 0; i < p->n; i++) {
        double w = rt_rel_weight(p->logw[i], max);
        if (w > 0) {
            sw += w;
            swv += w * p->value[i];
        }
    }
    return swv / sw;
}

/* A posterior of is with draws = false has its statistics and nothing else. */
void rt_post_need_draws(const rt_posterior *p, const char *loc, const char *what)
{
    if (p->streamed)
        rt_failf(loc, "%s: this posterior of model '%s' keeps no draws (it was inferred with draws = false); "
                 "infer it with draws = true", what, p->model->name);
}

double rt_post_sd(const rt_posterior *p, const char *loc)
{
    rt_post_require(p, "sd", loc);
    if (p->streamed)
        return p->sd;
    double max = rt_max_logw(p), mean = rt_post_mean(p, loc), sw = 0.0, swd = 0.0;
    for (int64_t i = 0; i < p->n; i++) {
        double w = rt_rel_weight(p->logw[i], max);
        if (w > 0) {
            double d = p->value[i] - mean;
            sw += w;
            swd += w * d * d;
        }
    }
    return sqrt(swd / sw);
}

double rt_post_quantile(const rt_posterior *p, double q, const char *loc)
{
    if (!(q >= 0.0 && q <= 1.0))
        rt_failf(loc, "quantile: q must be between 0 and 1, found %g", q);
    rt_post_require(p, "quantile", loc);
    rt_post_need_draws(p, loc, "quantile");
    rt_wpairs ps = rt_wpairs_of_values(p);
    rt_wpairs_sort(&ps);
    double v = rt_wpairs_quantile(&ps, q);
    rt_wpairs_free(&ps);
    return v;
}

double rt_post_log_evidence(const rt_posterior *p) { return p->log_evidence; }
double rt_post_ess(const rt_posterior *p) { return p->ess; }
double rt_post_pareto_k(const rt_posterior *p) { return p->khat; }
int64_t rt_post_ancestors(const rt_posterior *p) { return p->ancestors; }
rt_array *rt_post_weights(const rt_posterior *p)
{
    rt_array *a = rt_array_new(p->n, 0);
    double max = rt_max_logw(p), sum = 0;
    for (int64_t i = 0; i < p->n; i++)
        sum += a->at.d[i] = p->dead ? 0 : rt_rel_weight(p->logw[i], max);
    for (int64_t i = 0; i < p->n && sum > 0; i++)
        a->at.d[i] /= sum;
    return a;
}

rt_array *rt_post_values(const rt_posterior *p)
{
    rt_array *a = rt_array_new(p->n, 0);
    memcpy(a->at.d, p->value, sizeof(double) * (size_t)p->n);
    return a;
}

double rt_post_min_ess(const rt_posterior *p) { return isnan(p->min_ess) ? p->ess : p->min_ess; }
int64_t rt_post_resamples(const rt_posterior *p) { return p->resamples; }

/* IS has one step; its history is its final ESS. */
rt_array *rt_post_ess_history(const rt_posterior *p)
{
    if (p->ess_history)
        return p->ess_history;
    rt_array *a = rt_array_new(1, 0);
    a->at.d[0] = p->ess;
    return a;
}

/* ---- site rows ---- */

/* Which particles count for the summary: those with positive weight. */
static bool *positive(const rt_posterior *p)
{
    bool *keep = rt_alloc_atomic(p->n, sizeof(bool), "particle flags");
    double max = rt_max_logw(p);
    for (int64_t i = 0; i < p->n; i++)
        keep[i] = rt_rel_weight(p->logw[i], max) > 0;
    return keep;
}

/* (value, weight) of address a for every particle with positive weight that has it. */
static rt_wpairs site_pairs(const rt_posterior *p, const rt_site_map *m, int64_t a)
{
    rt_wpairs ps = { NULL, 0, 0 };
    double max = rt_max_logw(p), v;
    for (int64_t i = 0; i < p->n; i++) {
        double w = rt_rel_weight(p->logw[i], max);
        if (w > 0 && rt_site_value(m, a, i, &v))
            rt_wpairs_push(&ps, v, w);
    }
    return ps;
}

/* ---- a site's statistics: mean(post, "x[3]"), sd(post, "x[3]"), quantile(post, q, "x[3]") ---- */

static const char *const stat_names[] = {"mean", "sd", "quantile"};

/* The number of the address text among the map's, or -1. */
static int64_t find_address(const rt_site_map *m, const rt_given_site *s) {
    for (int64_t a = 0; a < m->count; a++) {
        const int64_t *w = m->addr[a];
        if (w[0] == s->site && w[1] == s->nidx && (s->nidx == 0 || !memcmp(w + 2, s->idx, sizeof(int64_t) * (size_t)s->nidx)))
            return a;
    }
    return -1;
}

double rt_post_site_stat(const rt_posterior *p, const char *addr, int64_t stat, double q, const char *loc)
{
    const char *what = stat_names[stat >= 0 && stat < 3 ? stat : 0];
    if (stat == 2 && !(q >= 0.0 && q <= 1.0))
        rt_failf(loc, "quantile: q must be between 0 and 1, found %g", q);
    rt_post_require(p, what, loc);
    rt_given_site s;
    rt_given_parse_address(p->model, addr ? addr : "", &s, loc);
    if (!p->sites)
        rt_failf(loc, "%s: the posterior of model '%s' keeps no site values (it was inferred with trace = false)",
                 what, p->model->name);
    rt_trace_finish(p->sites);
    bool *keep = positive(p);
    rt_site_map m = rt_site_map_build(p->sites, keep);
    GC_FREE(keep);
    int64_t a = find_address(&m, &s);
    if (a < 0)
        rt_failf(loc, "%s: no particle of positive weight has site '%s' of model '%s'", what, addr, p->model->name);
    rt_wpairs ps = site_pairs(p, &m, a);
    double v;
    if (stat == 0) v = rt_wpairs_mean(&ps);
    else if (stat == 1) v = rt_wpairs_sd(&ps, rt_wpairs_mean(&ps));
    else {
        rt_wpairs_sort(&ps);
        v = rt_wpairs_quantile(&ps, q);
    }
    rt_wpairs_free(&ps);
    return v;
}

/* ---- the printed summary ---- */

static const char *site_name(const rt_model *m, int64_t site)
{
    if (m && m->site_names && site >= 0 && site < m->nsites)
        return m->site_names[site];
    return "?";
}

/* `name` or `name[i, j]`, truncated to LABEL_MAX - 1 characters. */
static int addr_label(const rt_model *m, const int64_t *a, char *buf)
{
    size_t len = (size_t)snprintf(buf, LABEL_MAX, "%s", site_name(m, a[0]));
    for (int64_t k = 0; k < a[1] && len < LABEL_MAX; k++)
        len += (size_t)snprintf(buf + len, LABEL_MAX - len, "%s%lld", k ? ", " : "[",
                                (long long)a[2 + k]);
    if (a[1] > 0 && len < LABEL_MAX)
        len += (size_t)snprintf(buf + len, LABEL_MAX - len, "]");
    return (int)strlen(buf);
}

/* Fills the labels of the first nrows addresses; returns the label column's width. */
static int row_labels(const rt_posterior *p, const rt_site_map *m, int64_t nrows,
                      char labels[][LABEL_MAX])
{
    int width = p->model->ret_kind != -1 ? (int)strlen("value") : 0;
    for (int64_t r = 0; r < nrows; r++) {
        int len = addr_label(p->model, m->addr[r], labels[r]);
        width = len > width ? len : width;
    }
    return width;
}

static void print_head(const rt_posterior *p, int width)
{
    if (!strcmp(p->method, "enumerate")) {   /* exact: weights are probabilities, no ESS */
        fprintf(rt_out(), "posterior of %s by enumerate: %lld combination%s of site values (exact), log evidence %.6g",
                p->model->name, (long long)p->n, p->n == 1 ? "" : "s", p->log_evidence);
        if (!p->dead)
            fprintf(rt_out(), "\n  %-*s %10s %10s %10s %10s %10s", width, "", "mean", "sd", "5%", "50%", "95%");
        return;
    }
    fprintf(rt_out(), "posterior of %s by %s: %lld particle%s, ESS %.1f, log evidence %.3f",
           p->model->name, p->method, (long long)p->n, p->n == 1 ? "" : "s", p->ess,
           p->log_evidence);
    if (p->ess_history)
        fprintf(rt_out(), ", %lld resampling step%s", (long long)p->resamples, p->resamples == 1 ? "" : "s");
    if (p->ancestors >= 0 && !p->dead)
        fprintf(rt_out(), ", %lld distinct ancestor%s, smallest ESS %.1f", (long long)p->ancestors,
                p->ancestors == 1 ? "" : "s", p->min_ess);
    if (!p->dead)
        fprintf(rt_out(), "\n  %-*s %10s %10s %10s %10s %10s", width, "", "mean", "sd", "5%", "50%", "95%");
}

/* Prints one row and frees its pairs. */
static void print_row(const char *label, int width, rt_wpairs *ps)
{
    stats s = pairs_stats(ps);
    fprintf(rt_out(), "\n  %-*s %10.4g %10.4g %10.4g %10.4g %10.4g", width, label, s.mean, s.sd, s.q05,
           s.q50, s.q95);
    rt_wpairs_free(ps);
}

/* A header line, a row for the return value (unless the model returns none), then a row per
 * site address in order of first appearance among particles with positive weight, at most
 * MAX_ROWS of them. Each site row uses the particles whose trace holds that address. */
/* VI: the fitted params and the objective averaged over the last tenth of the steps. */
static void print_fit(const rt_posterior *p)
{
    if (!p->guide_name)
        return;
    fprintf(rt_out(), "\n  guide %s fitted:", p->guide_name);
    for (int64_t k = 0; k < p->nparams; k++)
        fprintf(rt_out(), "%s %s = %.6g", k ? "," : "", p->param_names[k], p->params[k]);
    int64_t n = p->history ? p->history->len : 0, from = n - (n + 9) / 10;
    double sum = 0;
    for (int64_t i = from; i < n; i++)
        sum += p->history->at.d[i];
    if (n)
        fprintf(rt_out(), "\n  objective (%s) over the last %lld of %lld steps: %.6g", p->objective_name,
               (long long)(n - from), (long long)n, sum / (double)(n - from));
}

/* The diagnostics' warnings, a line each after the summary. */
static void print_warnings(const rt_posterior *p)
{
    char lines[4][RT_WARNING_MAX];
    int n = rt_post_warnings(p, lines, 4);
    for (int k = 0; k < n; k++)
        fprintf(rt_out(), "\n  %s", lines[k]);
}

/* The rows' pairs are gathered one row at a time, so that only one row's are alive. */
void rt_print_posterior(const rt_posterior *p)
{
    rt_post_need_draws(p, NULL, "print");
    rt_site_map m = { 0 };
    if (p->sites) {
        bool *keep = positive(p);
        m = rt_site_map_build(p->sites, keep);
        GC_FREE(keep);
    }
    char labels[MAX_ROWS][LABEL_MAX];
    int64_t nrows = m.count < MAX_ROWS ? m.count : MAX_ROWS;
    int width = row_labels(p, &m, nrows, labels);
    print_head(p, width);
    if (p->dead) {
        fprintf(rt_out(), "\n  (every particle has zero weight: no values)");
        print_fit(p);
        return;
    }
    if (p->model->ret_kind != -1) {
        rt_wpairs v = rt_wpairs_of_values(p);
        print_row("value", width, &v);
    }
    for (int64_t r = 0; r < nrows; r++) {
        rt_wpairs ps = site_pairs(p, &m, r);
        print_row(labels[r], width, &ps);
    }
    if (m.count > MAX_ROWS)
        fprintf(rt_out(), "\n  ... and %lld more site%s", (long long)(m.count - MAX_ROWS),
               m.count - MAX_ROWS == 1 ? "" : "s");
    print_fit(p);
    print_warnings(p);
}
