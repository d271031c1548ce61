/* test_csv.c - cmocka tests for rt_write_csv: exact Stan-style CSV text for hand-made
 * posteriors (variable-length traces, int sites, dead particles, models without a value). */
#define GC_THREADS
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gc.h>
#include "rt.h"
#include "rt_csv.h"
#include "rt_infer.h"
#include "test_util.h"

/* ---- helpers ---- */

/* The CSV of post with the given configuration lines, as a malloc'd string (written to a
 * temporary file: open_memstream's buffer confuses GCC's dangling-pointer warning). */
static char *csv_of(const rt_posterior *post, const char *const *lines, int n)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    rt_write_csv(f, post, lines, n);
    fflush(f);
    char *text = slurp_all(dup(fileno(f)));   /* slurp_all closes the copy */
    fclose(f);
    return text;
}

/* Compares the CSV with want, which leaves out the first line (`# ppl VERSION`). */
static void expect_csv(const rt_posterior *post, const char *const *lines, int n, const char *want)
{
    char *got = csv_of(post, lines, n), head[64];
    snprintf(head, sizeof head, "# ppl %s\n", rt_version);
    assert_true(strncmp(got, head, strlen(head)) == 0);
    assert_string_equal(got + strlen(head), want);
    free(got);
}

/* Starts particle i's records (call for i = 0 .. n; the last one does nothing). */
static void start(rt_posterior *post, int64_t i, double logw, double value)
{
    if (i < post->n) {
        rt_trace_particle(rt_post_trace(post), i);
        post->logw[i] = logw, post->value[i] = value;
    }
}

static int32_t no_resume(void *frame, rt_particle *p) { return 0; }

/* ---- models: only their descriptors matter here ---- */

static const char *const names4[] = { "x", "y", "k", "z" };
static const int64_t nidx4[] = { 0, 1, 0, 2 };
static const int64_t kind4[] = { RT_REAL, RT_REAL, RT_INT, RT_REAL };
static const rt_model four = { "four", no_resume, 16, RT_REAL, 4, names4, nidx4, kind4 };

/* Particles: two live with different site sets, a dead one, and one with a 2-index site. */
static rt_posterior *four_post(void)
{
    rt_posterior *post = rt_post_new(&four, "is", 4);
    rt_particle p = { .trace = rt_post_trace(post) };
    start(post, 0, 0.0, 1.5);
    rt_record(&p, 0, 0, NULL, 0.5);
    rt_record(&p, 1, 1, (const int64_t[]){ 0 }, 1.0);
    rt_record(&p, 2, 0, NULL, 3);
    start(post, 1, 0.0, -2.0);
    rt_record(&p, 0, 0, NULL, 0.25);
    rt_record(&p, 1, 1, (const int64_t[]){ 0 }, 2.0);
    rt_record(&p, 1, 1, (const int64_t[]){ 1 }, 3.0);
    rt_record(&p, 2, 0, NULL, 0);
    start(post, 2, -INFINITY, 0.0);
    start(post, 3, 0.0, 0.1);
    rt_record(&p, 2, 0, NULL, -4);
    rt_record(&p, 0, 0, NULL, 1e-05);
    rt_record(&p, 3, 2, (const int64_t[]){ 1, 2 }, 7.0);
    start(post, 4, 0.0, 0.0);
    rt_post_summarize(post, "t");
    post->log_evidence = -1.25;
    post->ess = 3.0;
    return post;
}

/* ---- tests ---- */

/* The whole layout: comments, header in first-appearance order with 1-based element names,
 * nan for addresses a particle lacks, ints without ".0", -inf for the dead particle. */
static void test_layout(void **state)
{
    const char *lines[] = { "model = four", "method = is", "particles = 4 (default)" };
    expect_csv(four_post(), lines, 3,
               "# model = four\n"
               "# method = is\n"
               "# particles = 4 (default)\n"
               "# weighted draws: log_weight__ is each draw's normalized log weight"
               " (they sum to 1 after exp)\n"
               "# log_evidence = -1.25\n"
               "# ess = 3.0\n"
               "log_weight__,value,x,y.1,k,y.2,z.2.3\n"
               "-1.0986122886681098,1.5,0.5,1.0,3,nan,nan\n"
               "-1.0986122886681098,-2.0,0.25,2.0,0,3.0,nan\n"
               "-inf,0.0,nan,nan,nan,nan,nan\n"
               "-1.0986122886681098,0.1,1e-05,nan,-4,nan,7.0\n");
}

/* The same posterior gives the same bytes. */
static void test_deterministic(void **state)
{
    rt_posterior *post = four_post();
    char *a = csv_of(post, NULL, 0), *b = csv_of(post, NULL, 0);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static const char *const names_nv[] = { "b", "a,\"q\"" };
static const int64_t nidx_nv[] = { 1, 0 };
static const int64_t kind_nv[] = { RT_REAL, RT_REAL };
static const rt_model novalue = { "nv", no_resume, 16, -1, 2, names_nv, nidx_nv, kind_nv };

/* No `value` column for a model without a return value; smc adds `# resamples`; a name
 * with a comma or quote is quoted; negative and large indices. */
static void test_no_value_smc(void **state)
{
    rt_posterior *post = rt_post_new(&novalue, "smc", 2);
    rt_particle p = { .trace = rt_post_trace(post) };
    start(post, 0, -5.0, 0.0);
    rt_record(&p, 0, 1, (const int64_t[]){ 9 }, -0.5);
    rt_record(&p, 1, 0, NULL, 2.0);
    start(post, 1, -5.0, 0.0);
    rt_record(&p, 0, 1, (const int64_t[]){ -3 }, 1e20);
    start(post, 2, 0.0, 0.0);
    post->log_evidence = -5.0;
    post->ess = 2.0;
    post->resamples = 3;
    expect_csv(post, NULL, 0,
               "# weighted draws: log_weight__ is each draw's normalized log weight"
               " (they sum to 1 after exp)\n"
               "# log_evidence = -5.0\n"
               "# ess = 2.0\n"
               "# resamples = 3\n"
               "log_weight__,b.10,\"a,\"\"q\"\"\",b.-2\n"
               "-0.6931471805599453,-0.5,2.0,nan\n"
               "-0.6931471805599453,nan,nan,1e+20\n");
}

static const char *const names_i[] = { "n" };
static const int64_t nidx_i[] = { 0 };
static const int64_t kind_i[] = { RT_INT };
static const rt_model boolean = { "flag", no_resume, 16, RT_BOOL, 1, names_i, nidx_i, kind_i };

/* Bool values as 0 and 1, int sites as integers; no trace: no site columns; a comment
 * line with a line break stays one line. */
static void test_bool_value(void **state)
{
    rt_posterior *post = rt_post_new(&boolean, "is", 3);
    rt_particle p = { .trace = rt_post_trace(post) };
    start(post, 0, 0.0, 1.0);
    rt_record(&p, 0, 0, NULL, 12345678901.0);
    start(post, 1, 0.0, 0.0);
    rt_record(&p, 0, 0, NULL, -1.0);
    start(post, 2, 0.0, 1.0);
    start(post, 3, 0.0, 0.0);
    rt_post_summarize(post, "t");
    const char *lines[] = { "data = a\nb.json" };
    char *got = csv_of(post, lines, 1);
    assert_non_null(strstr(got, "\n# data = a?b.json\n"));
    assert_non_null(strstr(got, "# ess = 3.0\nlog_weight__,value,n\n"
                                "-1.0986122886681098,1,12345678901\n"
                                "-1.0986122886681098,0,-1\n"
                                "-1.0986122886681098,1,nan\n"));
    free(got);
}

/* A posterior kept without sites (trace = false): only weights and values. */
static void test_no_sites(void **state)
{
    rt_posterior *post = rt_post_new(&four, "is", 1);
    start(post, 0, 2.0, 0.75);
    start(post, 1, 0.0, 0.0);
    rt_post_summarize(post, "t");
    char *got = csv_of(post, NULL, 0);
    assert_non_null(strstr(got, "log_weight__,value\n0.0,0.75\n"));
    free(got);
}

/* Normalized log weights sum to 1 after exp, even far from 0, with the largest at -log(s). */
static void test_weights_normalized(void **state)
{
    static const double logw[] = { -1000.0, -1001.0, -1002.5, -INFINITY, -999.75 };
    rt_posterior *post = rt_post_new(&four, "is", 5);
    for (int64_t i = 0; i <= 5; i++)
        start(post, i, i < 5 ? logw[i] : 0.0, 0.0);
    rt_post_summarize(post, "t");
    char *got = csv_of(post, NULL, 0), *line = strstr(got, "log_weight__,value\n");
    assert_non_null(line);
    line = strchr(line, '\n') + 1;
    double sum = 0.0;
    for (int k = 0; k < 5; k++, line = strchr(line, '\n') + 1)
        sum += exp(strtod(line, NULL));
    assert_true(fabs(sum - 1.0) < 1e-14);
    free(got);
}

/* Many addresses (more than the address table's first size) keep their order. */
static void test_many_columns(void **state)
{
    rt_posterior *post = rt_post_new(&four, "is", 1);
    rt_particle p = { .trace = rt_post_trace(post) };
    start(post, 0, 0.0, 0.0);
    for (int64_t t = 199; t >= 0; t--)
        rt_record(&p, 1, 1, &t, (double)t);
    start(post, 1, 0.0, 0.0);
    rt_post_summarize(post, "t");
    char *got = csv_of(post, NULL, 0);
    char *header = strstr(got, "log_weight__,value,y.200,y.199,");
    assert_non_null(header);
    assert_non_null(strstr(header, ",y.2,y.1\n0.0,0.0,199.0,198.0,"));
    assert_non_null(strstr(header, ",1.0,0.0\n"));
    free(got);
}

int main(void)
{
    GC_INIT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_no_value_smc),
        cmocka_unit_test(test_bool_value),
        cmocka_unit_test(test_no_sites),
        cmocka_unit_test(test_weights_normalized),
        cmocka_unit_test(test_many_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
