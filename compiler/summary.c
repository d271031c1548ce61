/* summary.c - `ppl summary FILE.csv...`: the command line, the checks across files, and the
 * table it prints, a row per column whose name does not end in "__". */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "usage.h"
#include "summary.h"

static const char summary_help[] =
    "usage: ppl summary FILE.csv [FILE2.csv ...]\n"
    "\n"
    "Summarizes draws stored in CSV files in Stan's layout: '#' comment lines, a header row\n"
    "of column names, then a row of numbers per draw (nan, inf, NaN and Inf allowed).\n"
    "Several files are independent runs or chains and must have the same columns. Columns\n"
    "whose names end in \"__\" (log_weight__, lp__, ...) get no row.\n"
    "\n"
    "With a log_weight__ column the draws are weighted (importance sampling, SMC): mean,\n"
    "sd and the 5%, 50%, 95% quantiles are weighted, pooling the files with the same total\n"
    "weight each; a nan cell leaves that draw out of its column. ess is Kish's\n"
    "(sum w)^2 / sum w^2, summed over files, and mcse = sd / sqrt(ess).\n"
    "\n"
    "Without it the files are chains of unweighted draws (MCMC), all of the same length:\n"
    "mean, sd and quantiles (R's type 7) are pooled; ess (bulk-ESS), ess_tail and rhat are\n"
    "the rank-normalized split-chain diagnostics of Vehtari, Gelman, Simpson, Carpenter and\n"
    "Buerkner (2021), as R's posterior package computes them; mcse = sd / sqrt(ESS of the\n"
    "split chains without rank normalization), posterior's mcse_mean (not sd / sqrt(ess)).\n"
    "\n"
    "Files with a '# log_evidence = X' comment: the mean of their estimates is printed, and\n"
    "with k >= 2 of them its standard error sd / sqrt(k). A file whose '# ancestors = A'\n"
    "comment (smc) is below 1% of its rows, or whose '# pareto_k = K' (is, vi) is above 0.7,\n"
    "gets a warning line: its ESS and mcse overstate what its draws hold.\n"
    "\n"
    "Exit status: 0 ok; 1 a file that cannot be read or is malformed; 2 a usage error.\n";

#define usage_error(...) usage_error_hint("ppl summary --help", "for how to use it", __VA_ARGS__)

/* The files named in argv, into files (n of them); 0, -1 after --help, or a usage error. */
static int parse_args(int argc, char **argv, const char **files, int *n) {
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return -1;
        if (argv[i][0] == '-' && argv[i][1])
            return usage_error("'%s' is not a flag of 'ppl summary'", argv[i]);
        files[(*n)++] = argv[i];
    }
    return *n ? 0 : usage_error("'ppl summary' needs a FILE.csv");
}

/* ---- checks across files ---- */

static int find_column(const SummaryTable *t, const char *name) {
    for (int j = 0; j < t->ncols; j++)
        if (!strcmp(t->names[j], name)) return j;
    return -1;
}

static bool internal(const char *name) {
    size_t n = strlen(name);
    return n >= 2 && !strcmp(name + n - 2, "__");
}

/* t has u's columns, in the same order; an error names the first difference. */
static bool same_columns(const SummaryTable *t, const SummaryTable *u) {
    const char *f = t->file, *g = u->file;
    if (t->ncols != u->ncols) {
        fprintf(stderr, "%s:%d: error: columns differ from %s's (%d columns, %d there)\n", f,
                t->header_line, g, t->ncols, u->ncols);
        return false;
    }
    for (int j = 0; j < t->ncols; j++)
        if (strcmp(t->names[j], u->names[j])) {
            fprintf(stderr, "%s:%d: error: columns differ from %s's (column %d is '%s', '%s'"
                    " there)\n", f, t->header_line, g, j + 1, t->names[j], u->names[j]);
            return false;
        }
    return true;
}

static bool same_length(const SummaryTable *t, const SummaryTable *u) {
    if (t->nrows == u->nrows) return true;
    fprintf(stderr, "%s: error: %d draws, but %s has %d (chains of unweighted draws must be"
            " equally long)\n", t->file, t->nrows, u->file, u->nrows);
    return false;
}

/* Reads every file and checks they agree; false after printing an error. */
static bool read_all(Arena *a, const char **files, int k, SummaryTable *t) {
    for (int f = 0; f < k; f++)
        if (!summary_read_csv(a, files[f], &t[f])) {
            fprintf(stderr, "%s\n", t[f].error);
            return false;
        }
    bool weighted = find_column(&t[0], "log_weight__") >= 0;
    for (int f = 1; f < k; f++)
        if (!same_columns(&t[f], &t[0]) || (!weighted && !same_length(&t[f], &t[0])))
            return false;
    return true;
}

/* ---- the table ---- */

/* A number right-aligned in 10 characters; NaN as "nan" whatever its sign bit. */
static void print_cell(const char *fmt, double v) {
    if (isnan(v)) printf(" %10s", "nan");
    else printf(fmt, v);
}

static int name_width(const SummaryTable *t) {
    int w = 4;
    for (int j = 0; j < t->ncols; j++)
        if (!internal(t->names[j]) && (int)strlen(t->names[j]) > w) w = (int)strlen(t->names[j]);
    return w;
}

static void print_header(const SummaryTable *t, int k, int width, bool weighted) {
    int n = 0;
    for (int f = 0; f < k; f++) n += t[f].nrows;
    if (weighted) printf("%d weighted draws from %d file%s\n", n, k, k == 1 ? "" : "s");
    else printf("%d chain%s of %d draws\n", k, k == 1 ? "" : "s", t[0].nrows);
    printf("%-*s %10s %10s %10s %10s %10s %10s %10s", width, "name", "mean", "mcse", "sd",
           "5%", "50%", "95%", "ess");
    if (!weighted) printf(" %10s %10s", "ess_tail", "rhat");
    putchar('\n');
}

static void print_row(const char *name, int width, const SummaryStats *s, bool weighted) {
    printf("%-*s", width, name);
    const double v[] = {s->mean, s->mcse, s->sd, s->q05, s->q50, s->q95};
    for (int i = 0; i < 6; i++) print_cell(" %10.4g", v[i]);
    print_cell(" %10.1f", s->ess);
    if (!weighted) print_cell(" %10.1f", s->ess_tail), print_cell(" %10.3f", s->rhat);
    putchar('\n');
}

/* Column j's statistics over all files: weighted when lw (log_weight__'s column) >= 0. */
static SummaryStats column_stats(Arena *a, const SummaryTable *t, int k, int j, int lw) {
    double **x = arena_alloc(a, (size_t)k * sizeof *x);
    double **w = arena_alloc(a, (size_t)k * sizeof *w);
    int *n = arena_alloc(a, (size_t)k * sizeof *n);
    for (int f = 0; f < k; f++) {
        x[f] = summary_column(a, &t[f], j);
        w[f] = lw >= 0 ? summary_column(a, &t[f], lw) : NULL;
        n[f] = t[f].nrows;
    }
    if (lw >= 0) return summary_weighted(x, w, n, k);
    return summary_unweighted(x, k, t[0].nrows);
}

/* The mean of the files' log evidence estimates, with its standard error over 2 or more. */
static void print_evidence(const SummaryTable *t, int k) {
    double sum = 0, ss = 0;
    int m = 0;
    for (int f = 0; f < k; f++)
        if (t[f].has_evidence) sum += t[f].log_evidence, m++;
    if (m == 0) return;
    double mean = sum / m;
    for (int f = 0; f < k; f++)
        if (t[f].has_evidence) ss += (t[f].log_evidence - mean) * (t[f].log_evidence - mean);
    printf("log evidence %.4f", mean);
    if (m > 1) printf(", se %.4g", sqrt(ss / (m - 1)) / sqrt(m));
    if (m < k) printf(" (from %d of %d files)", m, k);
    else printf(" (from %d file%s)", m, m == 1 ? "" : "s");
    putchar('\n');
}

/* What the rows' ESS and mcse cannot see: SMC's rows that descend from a few first-step
 * particles repeat the same values, and IS weights with k-hat > 0.7 have too heavy a tail. */
static void print_warnings(const SummaryTable *t, int k) {
    for (int f = 0; f < k; f++) {
        if (t[f].ancestors >= 0 && t[f].nrows >= 100 && t[f].ancestors < 0.01 * t[f].nrows)
            printf("warning: %s: its %d draws descend from %.0f distinct first-step particles (smc): the ESS and "
                   "mcse above count rows that repeat the same values\n", t[f].file, t[f].nrows, t[f].ancestors);
        if (t[f].pareto_k > 0.7)
            printf("warning: %s: the Pareto k-hat of its weights is %.2f > 0.7: the estimates are not to be "
                   "trusted\n", t[f].file, t[f].pareto_k);
    }
}

static void print_summary(Arena *a, const SummaryTable *t, int k) {
    int lw = find_column(&t[0], "log_weight__"), width = name_width(&t[0]);
    print_header(t, k, width, lw >= 0);
    for (int j = 0; j < t[0].ncols; j++) {
        if (internal(t[0].names[j])) continue;
        SummaryStats s = column_stats(a, t, k, j, lw);
        print_row(t[0].names[j], width, &s, lw >= 0);
    }
    print_evidence(t, k);
    print_warnings(t, k);
}

int summary_main(int argc, char **argv) {
    Arena a = {0};
    const char **files = arena_alloc(&a, (size_t)(argc + 1) * sizeof *files);
    int k = 0, status = parse_args(argc, argv, files, &k);
    if (status < 0) fputs(summary_help, stdout), status = 0;
    else if (status == 0) {
        SummaryTable *t = arena_alloc(&a, (size_t)k * sizeof *t);
        bool ok = read_all(&a, files, k, t);
        if (ok) print_summary(&a, t, k);
        status = ok ? 0 : 1;
    }
    arena_free(&a);
    return status;
}
