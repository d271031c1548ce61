/* rt_csv.c - writes a posterior as Stan-style CSV (layout in rt_csv.h): the configuration
 * and diagnostics as `#` comments, then the weighted draws, a row per particle. */
#define GC_THREADS
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gc.h>
#include "rt_csv.h"

#ifndef PPL_VERSION
#define PPL_VERSION "unknown"   /* the Makefile defines it for every runtime object */
#endif

const char rt_version[] = PPL_VERSION;

/* ---- cells ---- */

/* `# TEXT`, with control characters replaced so a comment stays on one line. */
static void write_comment(FILE *f, const char *text)
{
    fputs("# ", f);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
    fputc('\n', f);
}

/* Rows go through a buffer of their own, written out in large pieces. */
typedef struct Out { FILE *f; size_t len; char buf[1 << 16]; } Out;

static void out_flush(Out *o)
{
    fwrite(o->buf, 1, o->len, o->f);
    o->len = 0;
}

/* Room for one number and a separator. */
static char *out_room(Out *o)
{
    if (o->len + 40 > sizeof o->buf)
        out_flush(o);
    return o->buf + o->len;
}

static void out_char(Out *o, char c) { *out_room(o) = c, o->len++; }

static void out_real(Out *o, double x) { o->len += (size_t)rt_format_real_to(out_room(o), x); }

/* Ints and bools are recorded as doubles; integral ones are written without ".0". */
static void out_number(Out *o, double x, int64_t kind)
{
    if (kind == RT_REAL || x != floor(x) || !(fabs(x) < 9.2e18)) {
        out_real(o, x);
        return;
    }
    char digits[24], *at = out_room(o);
    long long v = (long long)x;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    int n = 0;
    do digits[n++] = (char)('0' + u % 10); while ((u /= 10) > 0);
    if (v < 0)
        *at++ = '-', o->len++;
    for (int k = 0; k < n; k++)
        at[k] = digits[n - 1 - k];
    o->len += (size_t)n;
}

/* A header field, quoted as RFC 4180 says when it holds a comma, quote or line break
 * (a site named with `as "..."` may). */
static void write_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ---- columns: one per distinct site address ---- */

static const char *site_name(const rt_model *m, int64_t site)
{
    if (m->site_names && site >= 0 && site < m->nsites)
        return m->site_names[site];
    return "?";
}

static int64_t site_kind(const rt_model *m, int64_t site)
{
    if (m->site_kind && site >= 0 && site < m->nsites)
        return m->site_kind[site];
    return RT_REAL;
}

/* Address a (site, k, i_1 .. i_k) as a column name: `x.i_1+1. ... .i_k+1` (1-based). */
static void write_address(FILE *f, const rt_model *m, const int64_t *a)
{
    const char *name = site_name(m, a[0]);
    size_t size = strlen(name) + 22 * (size_t)a[1] + 1, len;
    char *buf = malloc(size);
    if (!buf)
        rt_fail(NULL, "out of memory writing CSV");
    len = (size_t)snprintf(buf, size, "%s", name);
    for (int64_t k = 0; k < a[1]; k++)
        len += (size_t)snprintf(buf + len, size - len, ".%lld", (long long)a[2 + k] + 1);
    write_field(f, buf);
    free(buf);
}

/* The return value's column: `value`, or `return` when a site outside loops has that name. */
static const char *value_column(const rt_model *m)
{
    for (int64_t s = 0; s < m->nsites; s++)
        if (m->site_nidx[s] == 0 && strcmp(m->site_names[s], "value") == 0)
            return "return";
    return "value";
}

static void write_header(FILE *f, const rt_posterior *p, const rt_site_map *t)
{
    fputs("log_weight__", f);
    if (p->model->ret_kind != -1)
        fprintf(f, ",%s", value_column(p->model));
    for (int64_t c = 0; c < t->count; c++) {
        fputc(',', f);
        write_address(f, p->model, t->addr[c]);
    }
    fputc('\n', f);
}

/* ---- rows ---- */

/* The normalizing constant of the weights as max and s: logsumexp(logw) = max + log(s),
 * where s sums exp(logw - max) in particle order. */
typedef struct norm { double max, log_s; } norm;

static norm weight_norm(const rt_posterior *p)
{
    double max = -INFINITY, s = 0.0;
    for (int64_t i = 0; i < p->n; i++)
        if (p->logw[i] > max)
            max = p->logw[i];
    for (int64_t i = 0; i < p->n; i++)
        s += p->logw[i] == max ? 1.0 : exp(p->logw[i] - max);
    return (norm){ max, log(s) };
}

/* logw - logsumexp(all logw): -inf for a dead particle; written relative to the heaviest
 * particle so that a +inf weight gives a finite share instead of NaN. */
static double normalized(double logw, norm z)
{
    if (logw == -INFINITY)
        return -INFINITY;
    return (logw == z.max ? 0.0 : logw - z.max) - z.log_s;
}

/* Particle i's site values into cells[0 .. t->count), nan where it has no record. */
static void fill_cells(int64_t i, const rt_site_map *t, double *cells)
{
    for (int64_t c = 0; c < t->count; c++)
        if (!rt_site_value(t, c, i, &cells[c]))
            cells[c] = NAN;
}

static void write_row(Out *o, const rt_posterior *p, int64_t i, norm z, const rt_site_map *t,
                      double *cells)
{
    const rt_model *m = p->model;
    out_real(o, normalized(p->logw[i], z));
    if (m->ret_kind != -1) {
        out_char(o, ',');
        out_number(o, p->value[i], m->ret_kind);
    }
    fill_cells(i, t, cells);
    for (int64_t c = 0; c < t->count; c++) {
        out_char(o, ',');
        out_number(o, cells[c], site_kind(m, t->addr[c][0]));
    }
    out_char(o, '\n');
}

/* ---- the file ---- */

static void write_preamble(FILE *f, const rt_posterior *p, const char *const *lines, int n)
{
    char buf[64];
    fprintf(f, "# ppl %s\n", rt_version);
    for (int k = 0; k < n; k++)
        write_comment(f, lines[k]);
    fputs("# weighted draws: log_weight__ is each draw's normalized log weight"
          " (they sum to 1 after exp)\n", f);
    rt_format_real(buf, sizeof buf, p->log_evidence);
    fprintf(f, "# log_evidence = %s\n", buf);
    rt_format_real(buf, sizeof buf, p->ess);
    fprintf(f, "# ess = %s\n", buf);
    if (p->method && strcmp(p->method, "smc") == 0)
        fprintf(f, "# resamples = %lld\n", (long long)p->resamples);
    if (p->ancestors >= 0) {
        rt_format_real(buf, sizeof buf, p->min_ess);
        fprintf(f, "# ancestors = %lld\n# min_ess = %s\n", (long long)p->ancestors, buf);
    }
    if (!isnan(p->khat)) {
        rt_format_real(buf, sizeof buf, p->khat);
        fprintf(f, "# pareto_k = %s\n", buf);
    }
}

void rt_write_csv(FILE *f, const rt_posterior *post, const char *const *config_lines, int nconfig)
{
    rt_site_map t = { 0 };
    if (post->sites)
        t = rt_site_map_build(post->sites, NULL);   /* every particle's sites, dead or alive */
    write_preamble(f, post, config_lines, nconfig);
    write_header(f, post, &t);
    double *cells = GC_MALLOC_ATOMIC(sizeof(double) * (size_t)(t.count > 0 ? t.count : 1));
    if (!cells)
        rt_fail(NULL, "out of memory writing CSV");
    norm z = weight_norm(post);
    Out *o = malloc(sizeof *o);
    if (!o)
        rt_fail(NULL, "out of memory writing CSV");
    o->f = f, o->len = 0;
    fflush(f);
    for (int64_t i = 0; i < post->n; i++)
        write_row(o, post, i, z, &t, cells);
    out_flush(o);
    free(o);
    GC_FREE(cells);
}
