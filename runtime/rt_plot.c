/* rt_plot.c - plot(posterior): the return value's weighted distribution drawn on stdout in
 * Unicode blocks, a histogram for reals and a bar per value for ints and bools. */
#define GC_THREADS
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <gc.h>
#include "rt_weighted.h"

/* Reals: at most REAL_BINS distinct values get a row each, more are binned into about
 * REAL_BINS bins; ints likewise with INT_VALUES. A bar is at least MIN_BAR cells wide. */
enum { REAL_BINS = 20, INT_VALUES = 40, MAX_ROWS = 48, MIN_BAR = 10, MAX_BAR = 1000 };
enum { LABEL_MIN = 9, LABEL_MAX = 32 };
#define MEAN_MARK " \u25c6 mean"   /* after the bar of the bin holding the mean */
#define MEAN_COLS 7
#define CI_MARK "\u2502"           /* before the bars of the 90% interval's rows */

/* The particles with positive weight, sorted by value, and the statistics shown. */
typedef struct draws {
    rt_wpairs ps;
    double mean, q05, q95;
} draws;

/* Rows of the plot. Binned (step > 0): row k holds the values x with
 * floor(x / step) == first + k, and starts at (first + k) * step. Otherwise (step 0) row k
 * holds exactly the value start[k]. */
typedef struct rows {
    int n;
    double step, first;
    double start[MAX_ROWS], mass[MAX_ROWS];
} rows;

/* ---- the weighted draws (rt_weighted.c) ---- */

/* The mean is summed before sorting, in particle order, so it equals rt_post_mean's; the
 * quantiles are rt_post_quantile's. */
static draws gather(const rt_posterior *p)
{
    draws d = { rt_wpairs_of_values(p), 0, 0, 0 };
    d.mean = rt_wpairs_mean(&d.ps);
    rt_wpairs_sort(&d.ps);
    d.q05 = rt_wpairs_quantile(&d.ps, 0.05);
    d.q95 = rt_wpairs_quantile(&d.ps, 0.95);
    return d;
}

/* Distinct finite values, counting no further than limit + 1. */
static int64_t distinct_finite(const rt_wpairs *ps, int64_t limit)
{
    int64_t count = 0;
    for (int64_t k = 0; k < ps->len && count <= limit; k++)
        if (isfinite(ps->at[k].v) && (count == 0 || ps->at[k].v != ps->at[k - 1].v))
            count++;
    return count;
}

/* The smallest (dir 1) or largest (dir -1) finite value; NaN when there is none. */
static double finite_end(const rt_wpairs *ps, int dir)
{
    for (int64_t k = 0; k < ps->len; k++) {
        double v = ps->at[dir > 0 ? k : ps->len - 1 - k].v;
        if (isfinite(v))
            return v;
    }
    return NAN;
}

/* ---- rows ---- */

/* A row per distinct finite value in [lo, hi]. */
static void value_rows(rows *r, const rt_wpairs *ps, double lo, double hi)
{
    r->n = 0;
    r->step = 0.0;
    for (int64_t k = 0; k < ps->len; k++) {
        double v = ps->at[k].v;
        if (!isfinite(v) || v < lo || v > hi)
            continue;
        if (r->n == 0 || r->start[r->n - 1] != v) {
            if (r->n == MAX_ROWS)
                break;   /* the callers ask for fewer distinct values than that */
            r->start[r->n] = v;
            r->mass[r->n++] = 0.0;
        }
        r->mass[r->n - 1] += ps->at[k].w;
    }
}

/* A row per integer from lo to hi (at most MAX_ROWS), so that gaps show as empty rows. */
static void integer_rows(rows *r, const rt_wpairs *ps, double lo, double hi)
{
    r->n = (int)(hi - lo) + 1;
    r->step = 0.0;
    for (int k = 0; k < r->n; k++) {
        r->start[k] = lo + k;
        r->mass[k] = 0.0;
    }
    for (int64_t k = 0; k < ps->len; k++)
        if (ps->at[k].v >= lo && ps->at[k].v <= hi)
            r->mass[(int)(ps->at[k].v - lo)] += ps->at[k].w;
}

/* The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is at least raw
 * (for ints, an integer at least 1): bin starts are round numbers. */
static double nice_step(double raw, bool integral)
{
    static const double mult[] = { 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 };
    if (integral && raw <= 1)
        return 1;
    double mag = pow(10, floor(log10(raw)));
    if (10 * mag < raw)
        mag *= 10;
    for (size_t k = 0; k < sizeof mult / sizeof mult[0]; k++) {
        double s = mult[k] * mag;
        if (s >= raw && (!integral || s == floor(s)))
            return s;
    }
    return 10 * mag;
}

/* The row (as a double, possibly outside [0, n) or infinite) of a value in binned rows. */
static double bin_of(const rows *r, double x) { return floor(x / r->step) - r->first; }

/* About REAL_BINS bins of a round width covering [lo, hi] (lo < hi, both finite). */
static void bin_rows(rows *r, const rt_wpairs *ps, double lo, double hi, bool integral)
{
    r->step = nice_step((hi - lo) / REAL_BINS, integral);
    r->first = floor(lo / r->step);
    double n = bin_of(r, hi) + 1;
    r->n = n < 1 ? 1 : n > MAX_ROWS ? MAX_ROWS : (int)n;
    for (int k = 0; k < r->n; k++) {
        r->start[k] = (r->first + k) * r->step;
        r->mass[k] = 0.0;
    }
    for (int64_t k = 0; k < ps->len; k++) {
        double b = bin_of(r, ps->at[k].v);
        if (b >= 0 && b < r->n)
            r->mass[(int)b] += ps->at[k].w;
    }
}

/* Reals: few distinct values get a row each, else bins over the 0.5%..99.5% quantiles
 * (infinite ends replaced by the finite extremes). */
static void real_rows(rows *r, const rt_wpairs *ps)
{
    if (distinct_finite(ps, REAL_BINS) <= REAL_BINS) {
        value_rows(r, ps, -INFINITY, INFINITY);
        return;
    }
    double lo = rt_wpairs_quantile(ps, 0.005), hi = rt_wpairs_quantile(ps, 0.995);
    lo = isfinite(lo) ? lo : finite_end(ps, 1);
    hi = isfinite(hi) ? hi : finite_end(ps, -1);
    if (hi > lo)
        bin_rows(r, ps, lo, hi, false);
    else
        value_rows(r, ps, lo, lo);
}

/* Ints and bools (bools always show false and true): a row per integer when the values
 * span at most INT_VALUES, else a row per value when there are at most that many, else
 * integer-width bins over the 0.5%..99.5% quantiles. */
static void int_rows(rows *r, const rt_wpairs *ps, bool is_bool)
{
    double lo = is_bool ? 0 : ps->at[0].v, hi = is_bool ? 1 : ps->at[ps->len - 1].v;
    if (hi - lo < INT_VALUES) {
        integer_rows(r, ps, lo, hi);
        return;
    }
    if (distinct_finite(ps, INT_VALUES) <= INT_VALUES) {
        value_rows(r, ps, lo, hi);
        return;
    }
    lo = rt_wpairs_quantile(ps, 0.005);
    hi = rt_wpairs_quantile(ps, 0.995);
    if (hi > lo)
        bin_rows(r, ps, lo, hi, true);
    else
        value_rows(r, ps, lo, lo);
}

/* ---- drawing ---- */

/* The terminal's width when the print output (rt_out) is one, else $COLUMNS, else 80. */
static int columns(void)
{
    struct winsize ws;
    if (isatty(fileno(rt_out())) && ioctl(fileno(rt_out()), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *env = getenv("COLUMNS");
    long n = env ? strtol(env, NULL, 10) : 0;
    return n > 0 && n <= 100000 ? (int)n : 80;
}

/* -0 prints as 0. */
static void format_label(char *buf, int kind, double x)
{
    if (kind == RT_BOOL)
        snprintf(buf, LABEL_MAX, "%s", x != 0 ? "true" : "false");
    else if (kind == RT_INT)
        snprintf(buf, LABEL_MAX, "%lld", (long long)x);
    else
        snprintf(buf, LABEL_MAX, "%.4g", x + 0.0);
}

/* Full blocks and one partial block: `eighths` eighths of a cell. */
static void print_bar(long eighths)
{
    static const char *const part[8] = { "", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b",
                                         "\u258a", "\u2589" };
    for (long k = 0; k < eighths / 8; k++)
        fputs("\u2588", rt_out());
    fputs(part[eighths % 8], rt_out());
}

/* Row k's interval mark: binned rows overlapping [q05, q95], value rows inside it. */
static bool in_interval(const rows *r, int k, const draws *d)
{
    if (r->step > 0)
        return bin_of(r, d->q05) <= k && k <= bin_of(r, d->q95);
    return r->start[k] >= d->q05 && r->start[k] <= d->q95;
}

/* `label │bar ◆ mean`, with no trailing spaces. The largest row fills `width` cells; a
 * row with any weight shows at least an eighth. */
static void print_row(const rows *r, int k, const draws *d, const char *label, int lw,
                      int width, double max)
{
    long eighths = lround(r->mass[k] / max * width * 8);
    eighths = r->mass[k] > 0 && eighths == 0 ? 1 : eighths;
    bool mean = r->step > 0 && bin_of(r, d->mean) == k, ci = in_interval(r, k, d);
    fprintf(rt_out(), "%*s", lw, label);
    if (ci || eighths > 0 || mean)
        fputs(ci ? " " CI_MARK : "  ", rt_out());
    print_bar(eighths);
    puts(mean ? MEAN_MARK : "");
}

static void print_rows(const rows *r, const draws *d, int kind)
{
    char labels[MAX_ROWS][LABEL_MAX];
    int lw = LABEL_MIN;
    double max = 0.0;
    for (int k = 0; k < r->n; k++) {
        format_label(labels[k], kind, r->start[k]);
        lw = (int)strlen(labels[k]) > lw ? (int)strlen(labels[k]) : lw;
        max = r->mass[k] > max ? r->mass[k] : max;
    }
    int width = columns() - lw - 2 - MEAN_COLS - 1;
    width = width < MIN_BAR ? MIN_BAR : width > MAX_BAR ? MAX_BAR : width;
    for (int k = 0; k < r->n && max > 0; k++)
        print_row(r, k, d, labels[k], lw, width, max);
}

/* `mean 0.37, 90% interval [0, 1]`; ints' interval ends print as integers. */
static void print_footer(const draws *d, int kind)
{
    fprintf(rt_out(), "mean %.5g, 90%% interval ", d->mean + 0.0);
    if (kind == RT_REAL)
        fprintf(rt_out(), "[%.5g, %.5g]\n", d->q05 + 0.0, d->q95 + 0.0);
    else
        fprintf(rt_out(), "[%lld, %lld]\n", (long long)d->q05, (long long)d->q95);
}

/* Rows from top (smallest) to bottom, then the footer; every line ends in a newline. */
void rt_plot_posterior(const rt_posterior *p, const char *loc)
{
    rt_post_require(p, "plot", loc);
    rt_post_need_draws(p, loc, "plot");
    int kind = (int)p->model->ret_kind;
    if (kind != RT_REAL && kind != RT_INT && kind != RT_BOOL) {
        puts("(the model returns no value)");
        return;
    }
    draws d = gather(p);
    if (d.ps.len == 0) {
        puts("(no particle has positive weight)");
        rt_wpairs_free(&d.ps);
        return;
    }
    rows r;
    if (kind == RT_REAL)
        real_rows(&r, &d.ps);
    else
        int_rows(&r, &d.ps, kind == RT_BOOL);
    print_rows(&r, &d, kind);
    print_footer(&d, kind);
    rt_wpairs_free(&d.ps);
}
