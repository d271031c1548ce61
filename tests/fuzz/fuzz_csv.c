/* fuzz_csv.c - libFuzzer target: the input is a CSV file for `ppl summary`. Reads it with
 * the summary's reader and, when it reads, computes every column's statistics as the
 * command does (weighted when there is a log_weight__ column, else one chain). */
#include <stdint.h>
#include <stdio.h>
#include "arena.h"
#include "summary.h"

static void stats(Arena *a, const SummaryTable *t) {
    double *w = t->lw >= 0 ? summary_column(a, t, t->lw) : NULL;
    int n = t->nrows;
    for (int j = 0; j < t->ncols; j++) {
        double *x = summary_column(a, t, j);
        if (w) summary_weighted(&x, &w, &n, 1);
        else summary_unweighted(&x, 1, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fmemopen((void *)data, size ? size : 1, "r");
    if (!f) return 0;
    if (!size) getc(f);   /* fmemopen needs a size of at least 1: an empty stream */
    Arena a = {0};
    SummaryTable t = {.file = "fuzz.csv", .lw = -1};
    if (summary_read_stream(&a, f, &t)) stats(&a, &t);
    fclose(f);
    arena_free(&a);
    return 0;
}
