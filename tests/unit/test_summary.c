/* test_summary.c - `ppl summary`'s statistics against R's posterior package on fixed data
 * sets, the weighted statistics on a hand-computed example, and the CSV reader's errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "summary.h"
#include "test_util.h"

/* ---- the data sets, made by a fixed 64-bit LCG (Knuth's MMIX constants) ---- */

static uint64_t lcg_state;

static double uniform(void) {   /* in (0, 1) */
    lcg_state = lcg_state * 6364136223846793005u + 1442695040888963407u;
    return ((lcg_state >> 11) + 0.5) * 0x1p-53;
}

static double normal(void) {    /* Box-Muller, one of the pair */
    return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
}

enum { MAXC = 4, MAXN = 500 };
typedef struct DataSet { const char *name; int m, n; double draws[MAXC][MAXN]; } DataSet;

/* AR(1) chains x[i] = phi x[i-1] + sqrt(1 - phi^2) e, started at a stationary draw, plus
 * shift[k] on chain k. */
static void ar1(DataSet *d, uint64_t seed, double phi, const double *shift) {
    lcg_state = seed;
    for (int k = 0; k < d->m; k++) {
        double x = normal();
        for (int i = 0; i < d->n; i++) {
            if (i) x = phi * x + sqrt(1 - phi * phi) * normal();
            d->draws[k][i] = x + (shift ? shift[k] : 0);
        }
    }
}

/* Heavy tails (normal / sqrt(uniform)) rounded to one decimal, so there are many ties. */
static void heavy_ties(DataSet *d, uint64_t seed) {
    lcg_state = seed;
    for (int k = 0; k < d->m; k++)
        for (int i = 0; i < d->n; i++)
            d->draws[k][i] = round(10 * normal() / sqrt(uniform())) / 10;
}

static DataSet sets[5] = {
    {.name = "ar1", .m = 4, .n = 500}, {.name = "iid", .m = 4, .n = 500},
    {.name = "shifted", .m = 4, .n = 500}, {.name = "ties", .m = 3, .n = 101},
    {.name = "short", .m = 2, .n = 9},
};

static void make_sets(void) {
    static const double shift[4] = {0, 0, 1, 0};
    ar1(&sets[0], 1, 0.9, NULL);
    ar1(&sets[1], 2, 0.0, NULL);
    ar1(&sets[2], 3, 0.5, shift);
    heavy_ties(&sets[3], 4);
    ar1(&sets[4], 5, 0.3, NULL);
}

static double *chain_ptrs[MAXC];

static double *const *chains(DataSet *d) {
    for (int k = 0; k < d->m; k++) chain_ptrs[k] = d->draws[k];
    return chain_ptrs;
}

/* `test_summary --dump DIR` writes each set as DIR/NAME.csv, a column per chain, so the
 * reference values below can be recomputed in R. */
static int dump_sets(const char *dir) {
    for (int s = 0; s < 5; s++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.csv", dir, sets[s].name);
        FILE *f = fopen(path, "w");
        if (!f) return perror(path), 1;
        for (int i = 0; i < sets[s].n; i++)
            for (int k = 0; k < sets[s].m; k++)
                fprintf(f, "%.17g%c", sets[s].draws[k][i], k + 1 < sets[s].m ? ',' : '\n');
        fclose(f);
    }
    return 0;
}

/* ---- reference values from R 4.2 and posterior 1.4.0 ----
 * build/tests/test_summary --dump /tmp/sets, then for each NAME:
 *   library(posterior)
 *   x <- unname(as.matrix(read.csv("/tmp/sets/NAME.csv", header = FALSE)))  # draws x chains
 *   v <- c(ess_bulk(x), ess_tail(x), ess_mean(x), rhat(x))
 *   cat(sprintf("%.17g", v), sep = ", ")
 * (ess_mean is the ESS of the split chains without rank normalization.) */
typedef struct Reference { double ess_bulk, ess_tail, ess_basic, rhat; } Reference;

static const Reference refs[5] = {
    /* ar1 */ {120.89760226289256, 181.60710493060046, 119.8461099767505, 1.0244063121395952},
    /* iid */ {2073.821853936462, 1909.7063038645801, 2079.5303402844843, 0.99944848977311329},
    /* shifted */ {30.567299215596741, 584.33742521829527, 30.495718480541381,
                   1.0970094004865709},
    /* ties */ {271.40937887054395, 265.84476257089409, 328.2385654184356, 0.99979251580143624},
    /* short: the only draw below the 5% quantile is an odd chain's middle one, which
     * splitting drops, so the indicator draws are constant and ess_tail is NA */
    {8, NAN, 8, 1.1056809027181025},
};

/* The pooled moments of "ties":
 *   x <- ...ties.csv as above
 *   cat(sprintf("%.17g", c(mean(x), sd(x), quantile(x, c(.05, .5, .95)), mcse_mean(x))),
 *       sep = ", ") */
static const double ties_moments[6] = {
    0.20099009900990097, 3.109103117502841, -3.6899999999999999, -0.10000000000000001,
    4.1699999999999937, 0.17160910380576808,
};

static const char *checking = "";      /* named in failure messages */

/* NaN stands for R's NA: then got must be NaN too. */
static void assert_close(double got, double want, double rel) {
    if (isnan(want) ? !isnan(got) : !(fabs(got - want) <= rel * fabs(want)))
        fail_msg("%s: got %.17g, want %.17g (relative tolerance %g)", checking, got, want, rel);
}

static void test_against_posterior(void **state) {
    for (int s = 0; s < 5; s++) {
        DataSet *d = &sets[s];
        checking = d->name;
        assert_close(summary_ess_bulk(chains(d), d->m, d->n), refs[s].ess_bulk, 1e-6);
        assert_close(summary_ess_tail(chains(d), d->m, d->n), refs[s].ess_tail, 1e-6);
        assert_close(summary_ess_basic(chains(d), d->m, d->n), refs[s].ess_basic, 1e-6);
        assert_close(summary_rhat(chains(d), d->m, d->n), refs[s].rhat, 1e-6);
    }
}

/* A shift of one chain by one sd shows in R-hat; iid chains do not. */
static void test_rhat_flags_shift(void **state) {
    assert_true(summary_rhat(chains(&sets[2]), 4, 500) > 1.05);
    assert_true(summary_rhat(chains(&sets[1]), 4, 500) < 1.01);
}

static void test_unweighted_row(void **state) {
    DataSet *d = &sets[3];
    SummaryStats st = summary_unweighted(chains(d), d->m, d->n);
    const double got[6] = {st.mean, st.sd, st.q05, st.q50, st.q95, st.mcse};
    for (int i = 0; i < 6; i++) assert_close(got[i], ties_moments[i], 1e-12);
    assert_close(st.ess, refs[3].ess_bulk, 1e-6);
    assert_close(st.ess_tail, refs[3].ess_tail, 1e-6);
    assert_close(st.rhat, refs[3].rhat, 1e-6);
}

/* A NaN draw makes the diagnostics NaN (posterior's NA); the moments leave it out. */
static void test_unweighted_nan(void **state) {
    double a[4] = {1, 2, NAN, 4}, b[4] = {2, 3, 4, 5};
    double *c[2] = {a, b};
    SummaryStats st = summary_unweighted(c, 2, 4);
    assert_close(st.mean, 3, 1e-15);
    assert_true(isnan(st.ess) && isnan(st.ess_tail) && isnan(st.rhat) && isnan(st.mcse));
}

/* ---- weighted draws, by hand ----
 * File 1: x = 1, 2, 3 with weights 1, 1, 2 (normalized: 1/4, 1/4, 1/2); file 2: x = NaN, 4
 * with weights 1, 3, the NaN draw left out, so 4 has all of file 2's weight. Pooled with a
 * total of 1 per file: weights 1/4, 1/4, 1/2, 1 of a total 2.
 *   mean = (1/4 + 2/4 + 3/2 + 4) / 2 = 3.125
 *   var = (1/4 2.125^2 + 1/4 1.125^2 + 1/2 0.125^2 + 0.875^2) / 2 = 2.21875 / 2 = 1.109375
 *   quantiles: cumulative weights 0.25, 0.5, 1, 2; 5% of 2 = 0.1 -> 1, 50% -> 3, 95% -> 4
 *   ESS = Kish's 4^2 / 6 for file 1 (weights 1, 1, 2) + 1 for file 2 = 11/3 */
static void test_weighted(void **state) {
    double x1[3] = {1, 2, 3}, w1[3] = {0, 0, log(2)};
    double x2[2] = {NAN, 4}, w2[2] = {-5, -5 + log(3)};   /* any offset: weights normalize */
    double *x[2] = {x1, x2}, *w[2] = {w1, w2};
    int n[2] = {3, 2};
    SummaryStats st = summary_weighted(x, w, n, 2);
    assert_close(st.mean, 3.125, 1e-15);
    assert_close(st.sd, sqrt(1.109375), 1e-15);
    assert_close(st.q05, 1, 0);
    assert_close(st.q50, 3, 0);
    assert_close(st.q95, 4, 0);
    assert_close(st.ess, 11.0 / 3, 1e-15);
    assert_close(st.mcse, sqrt(1.109375) / sqrt(11.0 / 3), 1e-15);
}

/* A draw with log weight -inf or NaN counts for nothing; a file with no weight drops out. */
static void test_weighted_zero(void **state) {
    double x1[3] = {1, 7, 2}, w1[3] = {0, -INFINITY, NAN};
    double x2[1] = {5}, w2[1] = {-INFINITY};
    double *x[2] = {x1, x2}, *w[2] = {w1, w2};
    int n[2] = {3, 1};
    SummaryStats st = summary_weighted(x, w, n, 2);
    assert_close(st.mean, 1, 0);
    assert_close(st.sd, 0, 0);
    assert_close(st.ess, 1, 0);
}

/* ---- the CSV reader ---- */

static char tmp_path[4096];

/* Writes text to a fresh temporary file, named in tmp_path. */
static const char *temp_csv(const char *text) {
    const char *dir = getenv("TMPDIR");
    snprintf(tmp_path, sizeof tmp_path, "%s/ppl-summary-XXXXXX.csv", dir && *dir ? dir : "/tmp");
    write_temp(tmp_path, 4, text);
    return tmp_path;
}

static void test_csv_good(void **state) {
    Arena a = {0};
    SummaryTable t;
    const char *f = temp_csv("# method = smc\n#  log_evidence = -7.1563\n"
                             "log_weight__, mu ,\"theta.1\"\r\n"
                             "-1.5,0.25,nan\r\n# Adaptation terminated\n\n"
                             "-0.5, inf ,-inf\n-2,NaN,Inf\n-1e-3,-3,1e2");
    assert_true(summary_read_csv(&a, f, &t));
    unlink(f);
    assert_int_equal(t.ncols, 3);
    assert_int_equal(t.nrows, 4);
    assert_string_equal(t.names[1], "mu");
    assert_string_equal(t.names[2], "theta.1");
    assert_true(t.has_evidence && t.log_evidence == -7.1563);
    double *mu = summary_column(&a, &t, 1), *th = summary_column(&a, &t, 2);
    assert_true(mu[0] == 0.25 && mu[1] == INFINITY && isnan(mu[2]) && mu[3] == -3);
    assert_true(isnan(th[0]) && th[1] == -INFINITY && th[2] == INFINITY && th[3] == 100);
    arena_free(&a);
}

/* Reading text fails with the message "FILE" + suffix. */
static void expect_error(const char *text, const char *suffix) {
    Arena a = {0};
    SummaryTable t;
    const char *f = temp_csv(text);
    assert_false(summary_read_csv(&a, f, &t));
    unlink(f);
    char want[8192];
    snprintf(want, sizeof want, "%s%s", f, suffix);
    assert_string_equal(t.error, want);
    arena_free(&a);
}

static void test_csv_errors(void **state) {
    expect_error("# c\na,b,c\n1,2,3\n1,2\n",
                 ":4: error: wrong number of cells: 2, but the header has 3");
    expect_error("a,b,c\n1,2,3,4\n",
                 ":2: error: wrong number of cells: 4, but the header has 3");
    expect_error("a,b\n1,abc\n", ":2: error: cell 2 (column 'b') is not a number: 'abc'");
    expect_error("a,b\n1,2x\n", ":2: error: cell 2 (column 'b') is not a number: '2x'");
    expect_error("a,b\n,2\n", ":2: error: cell 1 (column 'a') is not a number: ''");
    expect_error("a,b\n1 2,3\n", ":2: error: cell 1 (column 'a') is not a number: '1 2'");
    expect_error("# only comments\n\n", ": error: no header row (a line of column names)");
    expect_error("", ": error: no header row (a line of column names)");
    expect_error("# x\na,b\n", ": error: no draws (no rows after the header)");
}

static void test_csv_unreadable(void **state) {
    Arena a = {0};
    SummaryTable t;
    assert_false(summary_read_csv(&a, "/nonexistent/x.csv", &t));
    assert_string_equal(t.error, "/nonexistent/x.csv: error: cannot read the file: "
                                 "No such file or directory");
    arena_free(&a);
}

int main(int argc, char **argv) {
    make_sets();
    if (argc == 3 && !strcmp(argv[1], "--dump")) return dump_sets(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_posterior), cmocka_unit_test(test_rhat_flags_shift),
        cmocka_unit_test(test_unweighted_row), cmocka_unit_test(test_unweighted_nan),
        cmocka_unit_test(test_weighted), cmocka_unit_test(test_weighted_zero),
        cmocka_unit_test(test_csv_good), cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_unreadable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
