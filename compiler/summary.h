/* summary.h - `ppl summary FILE.csv...`: reads draws in Stan's CSV layout and prints, per
 * column, mean, MCSE, sd, quantiles, ESS and (for unweighted chains) R-hat. */
#ifndef PPL_SUMMARY_H
#define PPL_SUMMARY_H
#include <stdbool.h>
#include <stdio.h>
#include "arena.h"

/* The command: argv holds what follows "summary" on the command line. Returns the exit
 * status (0 ok; 1 unreadable or malformed file; 2 usage error). */
int summary_main(int argc, char **argv);

/* ---- summary_csv.c: one CSV file of draws ---- */

typedef struct SummaryTable {
    const char *file;
    int ncols, nrows, cap;      /* cap: rows the cells buffer holds */
    char **names;               /* the header row */
    double *cells;              /* nrows * ncols, row by row */
    int header_line;            /* for messages about the header */
    bool has_evidence;          /* a `# log_evidence = X` comment was seen */
    double log_evidence;
    double ancestors, pareto_k; /* `# ancestors = A` (smc), `# pareto_k = K` (is, vi); NaN: none */
    const char *error;          /* after a failed read: "FILE:LINE: error: ..." */
    int lw;                     /* the log_weight__ column, or -1 */
    int live;                   /* rows whose log weight is above -inf */
} SummaryTable;

/* Reads FILE into *t, allocating from a. False (with t->error set) when the file cannot be
 * read, has no header or no draws, or a row has the wrong number of cells or a non-number. */
bool summary_read_csv(Arena *a, const char *file, SummaryTable *t);
/* The same from an open stream; *t must be initialized as {.file = NAME, .lw = -1}. */
bool summary_read_stream(Arena *a, FILE *f, SummaryTable *t);

/* Column j of t, copied into a fresh array of t->nrows values. */
double *summary_column(Arena *a, const SummaryTable *t, int j);

/* ---- summary_stats.c: the statistics ---- */

typedef struct SummaryStats {
    double mean, mcse, sd, q05, q50, q95;
    double ess, ess_tail, rhat;     /* ess_tail and rhat: unweighted draws only */
} SummaryStats;

/* Convergence diagnostics of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), as R's
 * `posterior` package computes them: chains[c][i] for nchains chains of ndraws draws.
 * NaN where posterior gives NA (a NaN draw, constant draws, fewer than 3 draws a half). */
double summary_ess_bulk(double *const *chains, int nchains, int ndraws);
double summary_ess_tail(double *const *chains, int nchains, int ndraws);
/* The ESS of the split chains without rank normalization: posterior's ess_mean. */
double summary_ess_basic(double *const *chains, int nchains, int ndraws);
double summary_rhat(double *const *chains, int nchains, int ndraws);

/* Pooled mean, sd, type-7 quantiles over the non-NaN draws; ESS = bulk-ESS, ess_tail, R-hat,
 * and MCSE = sd / sqrt(ess_basic) (posterior's mcse_mean). */
SummaryStats summary_unweighted(double *const *chains, int nchains, int ndraws);

/* Weighted draws: file f has ndraws[f] values x[f] with log weights logw[f]. NaN values are
 * left out with their weights; each file's weights are normalized to the same total.
 * ESS = the sum over files of Kish's (sum w)^2 / sum w^2; MCSE = sd / sqrt(ESS). */
SummaryStats summary_weighted(double *const *x, double *const *logw, const int *ndraws,
                              int nfiles);

/* The type-7 quantile (R's default) of n sorted values. */
double summary_quantile7(const double *sorted, int n, double p);

#endif
