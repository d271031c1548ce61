/* test_runtime.c - cmocka tests for libpplrt's base: real formatting, printing, array
 * reductions, runtime errors, flag parsing and --data binding (errors run in a child). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rt.h"
#include "rt_program.h"
#include "test_util.h"

#define LOC "m.ppl:3:6"

/* ---- helpers: temp JSON files, arrays ---- */

/* Writes text to a new temp file and returns its path; remove_temps() deletes them all. */
static char temp_paths[64][32];
static int temp_count;

static const char *write_json(const char *text)
{
    assert_true(temp_count < 64);
    char *path = strcpy(temp_paths[temp_count++], TEMP_TEMPLATE);
    write_temp(path, 0, text);
    return path;
}

static void remove_temps(void)
{
    while (temp_count > 0)
        unlink(temp_paths[--temp_count]);
}

static void load_path(const char *path)
{
    rt_options opt = { path, 0, false };
    rt_init(&opt);
}

static const char *load(const char *json)
{
    const char *path = write_json(json);
    load_path(path);
    return path;
}

static rt_array *reals(int n, const double *xs)
{
    rt_array *a = rt_array_new(n, 0);
    for (int k = 0; k < n; k++)
        a->at.d[k] = xs[k];
    return a;
}

static rt_array *ints(int n, const int64_t *xs)
{
    rt_array *a = rt_array_new(n, 0);
    for (int k = 0; k < n; k++)
        a->at.i[k] = xs[k];
    return a;
}

#define REALS(...) reals(sizeof((double[]){ __VA_ARGS__ }) / sizeof(double), (double[]){ __VA_ARGS__ })
#define INTS(...) ints(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t), (int64_t[]){ __VA_ARGS__ })

/* ---- rt_format_real ---- */

static void check_format(double x, const char *want)
{
    char buf[64];
    rt_format_real(buf, sizeof buf, x);
    assert_string_equal(buf, want);
}

static void test_format_real(void **state)
{
    check_format(1.0, "1.0");
    check_format(0.1, "0.1");
    check_format(0.1 + 0.2, "0.30000000000000004");
    check_format(1e20, "1e+20");
    check_format(1.5e-7, "1.5e-07");
    check_format(-0.0, "-0.0");
    check_format(0.0, "0.0");
    check_format(INFINITY, "inf");
    check_format(-INFINITY, "-inf");
    check_format(NAN, "nan");
    check_format(-NAN, "nan");
    check_format(100.0, "100.0");
    check_format(-2.5, "-2.5");
    check_format(123.456, "123.456");
    check_format(1.0 / 3, "0.3333333333333333");
    check_format(1e15, "1000000000000000.0");
    check_format(1e16, "1e+16");
    check_format(12345678901234568.0, "1.2345678901234568e+16");
    check_format(0.0001, "0.0001");
    check_format(0.00001, "1e-05");
    check_format(DBL_MAX, "1.7976931348623157e+308");
    check_format(DBL_TRUE_MIN, "5e-324");
}

/* Every double's text reads back as the same double. */
static void test_format_real_round_trips(void **state)
{
    uint64_t s = 88172645463325252u;
    char buf[64];
    for (int k = 0; k < 100000; k++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        double x;
        memcpy(&x, &s, sizeof x);
        if (!isfinite(x))
            continue;
        rt_format_real(buf, sizeof buf, x);
        assert_true(strtod(buf, NULL) == x);
        assert_true(strpbrk(buf, ".e") != NULL);
    }
}

static void test_format_real_truncates(void **state)
{
    char buf[4];
    rt_format_real(buf, sizeof buf, 0.1 + 0.2);
    assert_string_equal(buf, "0.3");
}

/* ---- printing ---- */

static void print_everything(const void *arg)
{
    rt_print_real(2.0), rt_print_space(), rt_print_int(-7), rt_print_space();
    rt_print_bool(1), rt_print_space(), rt_print_bool(0), rt_print_space();
    rt_print_string("raw \"s\"\n"), rt_print_newline();
    rt_print_array(INTS(1, 2, 3), RT_INT, 1), rt_print_newline();
    rt_print_array(REALS(1.0, 2.5), RT_REAL, 1), rt_print_newline();
    rt_print_array(INTS(1, 0), RT_BOOL, 1), rt_print_newline();
    rt_array *nested = rt_array_new(2, 1);
    nested->at.p[0] = INTS(1, 2);
    nested->at.p[1] = rt_array_new(0, 0);
    rt_print_array(nested, RT_INT, 2), rt_print_newline();
    rt_array *strs = rt_array_new(3, 1);
    strs->at.p[0] = "a", strs->at.p[1] = "q\"b\\", strs->at.p[2] = "t\tn\n";
    rt_print_array(strs, RT_STRING, 1), rt_print_newline();
    rt_print_array(rt_array_new(0, 0), RT_REAL, 1), rt_print_newline();
}

static void test_print(void **state)
{
    child_out r;
    run_child_io(print_everything, NULL, &r);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out,
        "2.0 -7 true false raw \"s\"\n\n"
        "[1, 2, 3]\n[1.0, 2.5]\n[true, false]\n[[1, 2], []]\n"
        "[\"a\", \"q\\\"b\\\\\", \"t\\tn\\n\"]\n[]\n");
    assert_string_equal(r.err, "");
}

/* ---- arrays ---- */

static void test_array_new_copy(void **state)
{
    rt_array *a = rt_array_new(5, 0);
    assert_int_equal(a->len, 5);
    for (int k = 0; k < 5; k++)
        assert_int_equal(a->at.i[k], 0);
    assert_int_equal(rt_array_new(-3, 0)->len, 0);
    assert_int_equal((uintptr_t)&a->at.d[0] - (uintptr_t)a, RT_ARRAY_HEADER);
    a->at.d[2] = 4.5;
    rt_array *b = rt_array_copy(a, 0);
    assert_int_equal(b->len, 5);
    assert_true(b != a && b->at.d[2] == 4.5);
    rt_array *p = rt_array_new(2, 1);
    p->at.p[0] = a;
    assert_ptr_equal(rt_array_copy(p, 1)->at.p[0], a);
}

static void test_sums_means(void **state)
{
    assert_true(rt_sum_real(REALS(0.1, 0.2, 0.3)) == (0.1 + 0.2) + 0.3);
    assert_true(rt_sum_real(rt_array_new(0, 0)) == 0.0);
    assert_int_equal(rt_sum_int(INTS(1, -5, 10)), 6);
    assert_int_equal(rt_sum_int(rt_array_new(0, 0)), 0);
    assert_int_equal(rt_sum_int(INTS(INT64_MAX, 1)), INT64_MIN);   /* wraps */
    assert_true(rt_mean_real(REALS(1, 2, 4), LOC) == 7.0 / 3);
    assert_true(rt_mean_int(INTS(1, 2), LOC) == 1.5);
    assert_true(rt_mean_int(INTS(INT64_MAX, INT64_MAX), LOC) == (double)INT64_MAX);
}

static void test_min_max(void **state)
{
    rt_array *a = REALS(3, -1.5, 7, 2);
    assert_true(rt_min_real(a, LOC) == -1.5);
    assert_true(rt_max_real(a, LOC) == 7);
    assert_true(rt_min_real(REALS(-INFINITY, 0), LOC) == -INFINITY);
    assert_true(isnan(rt_min_real(REALS(1, NAN, 0), LOC)));
    assert_true(isnan(rt_max_real(REALS(NAN, 5), LOC)));
    rt_array *b = INTS(4, INT64_MIN, INT64_MAX, 0);
    assert_int_equal(rt_min_int(b, LOC), INT64_MIN);
    assert_int_equal(rt_max_int(b, LOC), INT64_MAX);
    assert_int_equal(rt_max_int(INTS(-3), LOC), -3);
}

static void test_logsumexp(void **state)
{
    assert_true(rt_logsumexp(rt_array_new(0, 0)) == -INFINITY);
    assert_true(rt_logsumexp(REALS(-INFINITY, -INFINITY)) == -INFINITY);
    assert_true(rt_logsumexp(REALS(1, INFINITY, -INFINITY)) == INFINITY);
    assert_true(isnan(rt_logsumexp(REALS(1, NAN))));
    assert_true(isnan(rt_logsumexp(REALS(INFINITY, NAN))));
    assert_true(rt_logsumexp(REALS(2.5)) == 2.5);
    assert_true(rt_logsumexp(REALS(-INFINITY, 2.5)) == 2.5);
    assert_float_equal(rt_logsumexp(REALS(0, 0)), log(2), 1e-15);
    assert_float_equal(rt_logsumexp(REALS(1000, 1000)), 1000 + log(2), 1e-12);
    assert_float_equal(rt_logsumexp(REALS(-1000, -1000, -1000)), -1000 + log(3), 1e-12);
    assert_float_equal(rt_logsumexp(REALS(log(1), log(2), log(3))), log(6), 1e-15);
    assert_true(rt_logsumexp(REALS(0, -800)) == 0.0);
}

/* ---- runtime errors ---- */

static void expect_failure(void (*fn)(const void *), const void *arg, const char *err)
{
    child_out r;
    run_child_io(fn, arg, &r);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.err, err);
}

static void empty_mean(const void *a) { rt_mean_real(rt_array_new(0, 0), LOC); }
static void empty_mean_int(const void *a) { rt_mean_int(rt_array_new(0, 0), LOC); }
static void empty_min(const void *a) { rt_min_real(rt_array_new(0, 0), LOC); }
static void empty_max_int(const void *a) { rt_max_int(rt_array_new(0, 0), LOC); }
static void bad_index(const void *a) { rt_print_int(42), rt_fail_index(LOC, 5, 3); }
static void no_loc(const void *a) { rt_fail(NULL, "integer division by zero"); }
static void formatted(const void *a) { rt_failf(LOC, "x = %d", 4); }

static void test_errors(void **state)
{
    expect_failure(empty_mean, NULL, LOC ": error: mean of an empty array\n");
    expect_failure(empty_mean_int, NULL, LOC ": error: mean of an empty array\n");
    expect_failure(empty_min, NULL, LOC ": error: min of an empty array\n");
    expect_failure(empty_max_int, NULL, LOC ": error: max of an empty array\n");
    expect_failure(bad_index, NULL,
                   LOC ": error: index 5 out of bounds for array of length 3\n");
    expect_failure(no_loc, NULL, "ppl: error: integer division by zero\n");
    expect_failure(formatted, NULL, LOC ": error: x = 4\n");
}

/* Output printed before an error still comes out. */
static void test_error_flushes_stdout(void **state)
{
    child_out r;
    run_child_io(bad_index, NULL, &r);
    assert_string_equal(r.out, "42");
}

/* ---- flags ---- */

static bool parse(int argc, char **argv, rt_options *opt)
{
    return rt_parse_options(argc, argv, 1, opt);
}

static void test_parse_options(void **state)
{
    rt_options o;
    assert_true(parse(1, (char *[]){ "prog" }, &o));
    assert_null(o.data_path);
    assert_false(o.seed_given);
    assert_true(parse(5, (char *[]){ "prog", "--data", "d.json", "--seed", "42" }, &o));
    assert_string_equal(o.data_path, "d.json");
    assert_true(o.seed_given && o.seed == 42);
    assert_true(parse(3, (char *[]){ "prog", "--data=e.json", "--seed=18446744073709551615" }, &o));
    assert_string_equal(o.data_path, "e.json");
    assert_true(o.seed == UINT64_MAX);
}

typedef struct bad_args { int argc; char **argv; const char *err; } bad_args;

static void parse_in_child(const void *arg)
{
    const bad_args *b = arg;
    rt_options o;
    _exit(rt_parse_options(b->argc, b->argv, 1, &o) ? 0 : 2);
}

static void test_parse_options_errors(void **state)
{
    const char *usage = "usage: prog [--data FILE.json] [--seed N]\n";
    bad_args cases[] = {
        { 2, (char *[]){ "prog", "--seed=18446744073709551616" },
          "ppl: error: --seed needs a non-negative integer below 2^64, not '18446744073709551616'\n" },
        { 3, (char *[]){ "prog", "--seed", "-1" },
          "ppl: error: --seed needs a non-negative integer below 2^64, not '-1'\n" },
        { 2, (char *[]){ "prog", "--seed=" },
          "ppl: error: --seed needs a non-negative integer below 2^64, not ''\n" },
        { 2, (char *[]){ "prog", "--seed" }, "ppl: error: missing number after '--seed'\n" },
        { 2, (char *[]){ "prog", "--data" }, "ppl: error: missing file name after '--data'\n" },
        { 2, (char *[]){ "prog", "--dat" }, "ppl: error: unknown option '--dat'\n" },
        { 2, (char *[]){ "prog", "x.json" }, "ppl: error: unexpected argument 'x.json'\n" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        child_out r;
        char want[256];
        run_child_io(parse_in_child, &cases[k], &r);
        assert_int_equal(r.status, 2);
        snprintf(want, sizeof want, "%s%s", cases[k].err, usage);
        assert_string_equal(r.err, want);
    }
}

static int entry_runs;
static void entry(void) { entry_runs++, rt_print_string("ran"); }
static const rt_program script = { entry, 1, 0, NULL };

static void main_in_child(const void *arg)
{
    const bad_args *b = arg;
    child_exit(rt_program_main(b->argc, b->argv, &script));
}

/* A script program's main(): --help, a usage error, and a run with --seed. */
static void test_program_main(void **state)
{
    child_out r;
    bad_args help = { 2, (char *[]){ "./model", "--help" }, NULL };
    run_child_io(main_in_child, &help, &r);
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "usage: ./model [--data FILE.json] [--seed N]\n", 45) == 0);
    bad_args bad = { 2, (char *[]){ "./model", "--bogus" }, NULL };
    run_child_io(main_in_child, &bad, &r);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.out, "");
    assert_int_equal(rt_program_main(3, (char *[]){ "./model", "--seed", "9" }, &script), 0);
    assert_int_equal(entry_runs, 1);
    assert_true(rt_seed == 9);
    load_path(NULL);
    assert_true(rt_seed == 0);
}

/* ---- data binding ---- */

static void test_data_scalars(void **state)
{
    load("{\"x\": 2.5, \"n\": 7, \"m\": 7.0, \"neg\": -9007199254740992, \"b\": true,"
         " \"c\": false, \"i\": 3, \"nan\": \"NaN\", \"inf\": \"Inf\", \"minf\": \"-Infinity\","
         " \"extra\": {\"ignored\": [null]}}");
    assert_true(rt_data_has("x"));
    assert_false(rt_data_has("absent"));
    assert_false(rt_data_has("X"));
    assert_true(rt_data_real("x", LOC) == 2.5);
    assert_true(rt_data_real("i", LOC) == 3.0);
    assert_int_equal(rt_data_int("n", LOC), 7);
    assert_int_equal(rt_data_int("m", LOC), 7);
    assert_int_equal(rt_data_int("neg", LOC), -9007199254740992);
    assert_int_equal(rt_data_bool("b", LOC), 1);
    assert_int_equal(rt_data_bool("c", LOC), 0);
    assert_true(isnan(rt_data_real("nan", LOC)));
    assert_true(rt_data_real("inf", LOC) == INFINITY);
    assert_true(rt_data_real("minf", LOC) == -INFINITY);
    load_path(NULL);
    assert_false(rt_data_has("x"));
}

/* Integers are read exactly, over int64's whole range, as scalars and in arrays; integers
 * beyond it are reals (a real variable reads them, an int variable reports them). */
static void test_data_exact_ints(void **state)
{
    load("{\"big\": 9007199254740993, \"max\": 9223372036854775807, \"min\": -9223372036854775808,"
         " \"ys\": [9007199254740993, -9007199254740995], \"huge\": 100000000000000000000,"
         " \"neghuge\": [-100000000000000000001, 1], \"s\": \"100000000000000000000\"}");
    assert_true(rt_data_int("big", LOC) == 9007199254740993LL);
    assert_true(rt_data_int("max", LOC) == INT64_MAX);
    assert_true(rt_data_int("min", LOC) == INT64_MIN);
    rt_array *ys = rt_data_array("ys", RT_INT, 1, LOC);
    assert_true(ys->at.i[0] == 9007199254740993LL && ys->at.i[1] == -9007199254740995LL);
    assert_true(rt_data_real("huge", LOC) == 1e20);
    rt_array *nh = rt_data_array("neghuge", RT_REAL, 1, LOC);
    assert_true(nh->at.d[0] == -1e20 && nh->at.d[1] == 1.0);
    load_path(NULL);
}

static void test_data_arrays(void **state)
{
    load("{\"y\": [1, 2.5, \"-Inf\"], \"k\": [3, 4.0], \"e\": [],"
         " \"bs\": [true, false], \"rag\": [[1, 2], [], [3]], \"s\": [\"a\", \"b\\\"c\"],"
         " \"cube\": [[[1]], []]}");
    rt_array *y = rt_data_array("y", RT_REAL, 1, LOC);
    assert_int_equal(y->len, 3);
    assert_true(y->at.d[0] == 1 && y->at.d[1] == 2.5 && y->at.d[2] == -INFINITY);
    rt_array *k = rt_data_array("k", RT_INT, 1, LOC);
    assert_true(k->len == 2 && k->at.i[0] == 3 && k->at.i[1] == 4);
    assert_int_equal(rt_data_array("e", RT_REAL, 1, LOC)->len, 0);
    assert_int_equal(rt_data_array("e", RT_REAL, 3, LOC)->len, 0);
    rt_array *bs = rt_data_array("bs", RT_BOOL, 1, LOC);
    assert_true(bs->at.i[0] == 1 && bs->at.i[1] == 0);
    rt_array *rag = rt_data_array("rag", RT_INT, 2, LOC);
    assert_int_equal(rag->len, 3);
    rt_array *r0 = rag->at.p[0], *r1 = rag->at.p[1], *r2 = rag->at.p[2];
    assert_true(r0->len == 2 && r0->at.i[1] == 2 && r1->len == 0 && r2->at.i[0] == 3);
    rt_array *s = rt_data_array("s", RT_STRING, 1, LOC);
    assert_string_equal(s->at.p[0], "a");
    assert_string_equal(s->at.p[1], "b\"c");
    rt_array *cube = rt_data_array("cube", RT_REAL, 3, LOC);
    rt_array *c0 = cube->at.p[0], *c00 = c0->at.p[0];
    assert_true(c00->at.d[0] == 1.0);
}

typedef struct data_case {
    const char *json;     /* NULL: no data file */
    const char *name;
    int64_t kind, depth;  /* depth 0: a scalar */
    const char *err;      /* %s stands for the data file's path */
} data_case;

typedef struct bind_job { const data_case *c; const char *path; } bind_job;

static void bind_in_child(const void *arg)
{
    const bind_job *job = arg;
    const data_case *c = job->c;
    load_path(job->path);
    if (c->depth > 0)
        rt_data_array(c->name, c->kind, c->depth, LOC);
    else if (c->kind == RT_REAL)
        rt_data_real(c->name, LOC);
    else if (c->kind == RT_INT)
        rt_data_int(c->name, LOC);
    else
        rt_data_bool(c->name, LOC);
}

static void check_data_error(const data_case *c)
{
    bind_job job = { c, c->json ? write_json(c->json) : NULL };
    child_out r;
    char want[1024];
    run_child_io(bind_in_child, &job, &r);
    assert_int_equal(r.status, 1);
    snprintf(want, sizeof want, c->err, job.path ? job.path : "");
    assert_string_equal(r.err, want);
    remove_temps();
}

#define DV LOC ": error: data variable "

static void test_data_type_errors(void **state)
{
    static const data_case cases[] = {
        { "{\"n\": \"seven\"}", "n", RT_INT, 0, DV "'n': expected int, found string \"seven\"\n" },
        { "{\"n\": 2.5}", "n", RT_INT, 0, DV "'n': expected int, found real 2.5\n" },
        { "{\"n\": 1e20}", "n", RT_INT, 0, DV "'n': expected int, found number 1e+20\n" },
        { "{\"n\": 9223372036854775808}", "n", RT_INT, 0,
          DV "'n': expected int, found number 9.223372036854776e+18\n" },
        { "{\"x\": true}", "x", RT_REAL, 0, DV "'x': expected real, found bool true\n" },
        { "{\"x\": null}", "x", RT_REAL, 0, DV "'x': expected real, found null\n" },
        { "{\"x\": {\"a\": 1}}", "x", RT_REAL, 0, DV "'x': expected real, found an object\n" },
        { "{\"x\": [1]}", "x", RT_REAL, 0, DV "'x': expected real, found an array\n" },
        { "{\"x\": \"nan\"}", "x", RT_REAL, 0, DV "'x': expected real, found string \"nan\"\n" },
        { "{\"b\": 1}", "b", RT_BOOL, 0, DV "'b': expected bool, found number 1\n" },
        { "{\"b\": 0.5}", "b", RT_BOOL, 0, DV "'b': expected bool, found real 0.5\n" },
        { "{\"b\": \"true\"}", "b", RT_BOOL, 0, DV "'b': expected bool, found string \"true\"\n" },
        { "{\"y\": [1, 2, \"a\"]}", "y", RT_REAL, 1,
          DV "'y': element [2]: expected real, found string \"a\"\n" },
        { "{\"y\": [[1], [2, true]]}", "y", RT_INT, 2,
          DV "'y': element [1][1]: expected int, found bool true\n" },
        { "{\"y\": [[1], [[2]]]}", "y", RT_REAL, 2,
          DV "'y': element [1][0]: expected real, found an array\n" },
        { "{\"y\": 1.5}", "y", RT_REAL, 1, DV "'y': expected real[], found real 1.5\n" },
        { "{\"y\": [1, 2]}", "y", RT_REAL, 2, DV "'y': element [0]: expected real[], found number 1\n" },
        { "{\"y\": {}}", "y", RT_INT, 2, DV "'y': expected int[][], found an object\n" },
        { "{\"y\": [true, 1]}", "y", RT_BOOL, 1, DV "'y': element [1]: expected bool, found number 1\n" },
        { "{\"y\": [\"a\", 1]}", "y", RT_STRING, 1,
          DV "'y': element [1]: expected string, found number 1\n" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        check_data_error(&cases[k]);
}

static void test_data_missing(void **state)
{
    static const data_case cases[] = {
        { "{\"other\": 1}", "n", RT_INT, 0, DV "'n' is missing from %s\n" },
        { "{}", "y", RT_REAL, 1, DV "'y' is missing from %s\n" },
        { NULL, "n", RT_REAL, 0, DV "'n' has no default and no --data file was given\n" },
        { NULL, "y", RT_INT, 2, DV "'y' has no default and no --data file was given\n" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        check_data_error(&cases[k]);
}

/* {"a": 1, "deep": [[[...]]]} with `levels` brackets, in a static buffer. */
static const char *deep_json(int levels)
{
    static char buf[16384];
    int n = snprintf(buf, sizeof buf, "{\"a\": 1, \"deep\": ");
    for (int k = 0; k < levels; k++) buf[n++] = '[';
    for (int k = 0; k < levels; k++) buf[n++] = ']';
    snprintf(buf + n, sizeof buf - (size_t)n, "}");
    return buf;
}

/* Valid JSON nested 1500 deep loads (cJSON stopped at 1000 and called it malformed); past
 * Jansson's limit the error says what is wrong. */
static void test_data_deep(void **state)
{
    load(deep_json(1500));
    assert_int_equal(rt_data_int("a", LOC), 1);
    load_path(NULL);
    data_case c = { deep_json(3000), "a", RT_INT, 0, "%s:1:2065: error: JSON nested deeper than 2048 levels\n" };
    check_data_error(&c);
}

static void test_data_file_errors(void **state)
{
    static const data_case cases[] = {
        { "{\n  \"a\": 1,\n  \"b\": }", "a", RT_INT, 0, "%s:3:8: error: malformed JSON\n" },
        { "{} x", "a", RT_INT, 0, "%s:1:4: error: malformed JSON\n" },
        { "", "a", RT_INT, 0, "%s:1:1: error: malformed JSON\n" },
        { "{\"a\": [1, 2}", "a", RT_INT, 0, "%s:1:12: error: malformed JSON\n" },
        { "[1, 2]", "a", RT_INT, 0, "%s: error: data file must hold a JSON object\n" },
        { "3", "a", RT_INT, 0, "%s: error: data file must hold a JSON object\n" },
        /* strict JSON: no leading zeros, finite numbers, each key once (the choice that no
         * value is silently dropped), nesting reported as such */
        { "{\"a\": 01}", "a", RT_INT, 0, "%s:1:7: error: malformed JSON\n" },
        { "{\"a\": -01.5}", "a", RT_REAL, 0, "%s:1:8: error: malformed JSON\n" },
        { "{\"a\": 1e999}", "a", RT_REAL, 0, "%s:1:7: error: number 1e999 is out of range (a real must be finite)\n" },
        { "{\"a\": [1, -2e400]}", "a", RT_REAL, 1,
          "%s:1:11: error: number -2e400 is out of range (a real must be finite)\n" },
        { "{\"a\": 1,\n \"b\": 2,\n \"a\": 3}", "a", RT_INT, 0,
          "%s:3:2: error: duplicate key in a JSON object (each key may appear once)\n" },
        { "{\"a\": {\"k\": 1, \"k\": 1}}", "a", RT_INT, 0,
          "%s:1:16: error: duplicate key in a JSON object (each key may appear once)\n" },
        { "{\"b\": 100000000000000000000, \"c\": [1,, 2]}", "a", RT_INT, 0, "%s:1:38: error: malformed JSON\n" },
        { "{\"a\": 100000000000000000000}", "a", RT_INT, 0, DV "'a': expected int, found number 1e+20\n" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        check_data_error(&cases[k]);
}

static void load_missing(const void *arg) { load_path("/nonexistent/dir/d.json"); }
static void load_directory(const void *arg) { load_path("/tmp"); }

static void test_data_unreadable(void **state)
{
    expect_failure(load_missing, NULL, "ppl: error: cannot read data file "
                   "'/nonexistent/dir/d.json': No such file or directory\n");
    expect_failure(load_directory, NULL,
                   "ppl: error: cannot read data file '/tmp': Is a directory\n");
}

/* A file larger than the first read buffer (64 KiB). */
static void test_data_large_file(void **state)
{
    size_t n = 30000, cap = n * 8 + 16, len = 0;
    char *json = malloc(cap);
    len += (size_t)snprintf(json, cap, "{\"big\": [");
    for (size_t k = 0; k < n; k++)
        len += (size_t)snprintf(json + len, cap - len, "%s%zu", k ? "," : "", k);
    snprintf(json + len, cap - len, "]}");
    load(json);
    free(json);
    rt_array *big = rt_data_array("big", RT_INT, 1, LOC);
    assert_int_equal(big->len, n);
    assert_int_equal(rt_sum_int(big), (int64_t)(n * (n - 1) / 2));
}

/* Arrays built from data survive collections (inner arrays are traced). */
static void test_data_survives_gc(void **state)
{
    load("{\"rag\": [[1, 2], [3]]}");
    rt_array *rag = rt_data_array("rag", RT_REAL, 2, LOC);
    for (int k = 0; k < 1000; k++)
        rt_array_new(1000, k % 2);
    extern void GC_gcollect(void);
    GC_gcollect();
    rt_array *r1 = rag->at.p[1];
    assert_true(r1->len == 1 && r1->at.d[0] == 3.0);
}

int main(void)
{
    load_path(NULL);   /* before any output, so stdout's buffer is set up cleanly */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_real),
        cmocka_unit_test(test_format_real_round_trips),
        cmocka_unit_test(test_format_real_truncates),
        cmocka_unit_test(test_print),
        cmocka_unit_test(test_array_new_copy),
        cmocka_unit_test(test_sums_means),
        cmocka_unit_test(test_min_max),
        cmocka_unit_test(test_logsumexp),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_flushes_stdout),
        cmocka_unit_test(test_parse_options),
        cmocka_unit_test(test_parse_options_errors),
        cmocka_unit_test(test_program_main),
        cmocka_unit_test(test_data_scalars),
        cmocka_unit_test(test_data_exact_ints),
        cmocka_unit_test(test_data_deep),
        cmocka_unit_test(test_data_arrays),
        cmocka_unit_test(test_data_type_errors),
        cmocka_unit_test(test_data_missing),
        cmocka_unit_test(test_data_file_errors),
        cmocka_unit_test(test_data_unreadable),
        cmocka_unit_test(test_data_large_file),
        cmocka_unit_test(test_data_survives_gc),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    remove_temps();
    return failed;
}
