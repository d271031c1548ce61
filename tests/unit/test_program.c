/* test_program.c - cmocka tests for rt_program_main, the main() of every compiled program,
 * on hand-made programs run in forked children: flags, usage errors, the CSV, script mode. */
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
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gc.h>
#include "rt.h"
#include "rt_dist.h"
#include "rt_infer.h"
#include "rt_program.h"
#include "test_util.h"

#define LOC "t.ppl:1:1"
#define PROG "./prog"
#define HINT "usage: ./prog [options]; './prog --help' lists them\n"

/* ---- hand-written models ---- */

typedef struct frame { int64_t state; double ret; double x, a; int64_t t; } frame;

/* tilted(mu: real) -> real: x ~ normal(0, 1); reward -(x - mu)^2 / 2; x. */
static int32_t tilted_resume(void *fr, rt_particle *p)
{
    frame *f = fr;
    double mu = ((const double *)p->args)[0];
    if (f->state == 0) {
        f->x = rt_sample_normal((rt_rng *)p, 0, 1, LOC);
        rt_record(p, 0, 0, NULL, f->x);
        p->logw += -(f->x - mu) * (f->x - mu) / 2;
        f->state = 1;
        return 1;
    }
    f->ret = f->x;
    return 0;
}

static const char *const tilted_names[] = { "x" };
static const int64_t tilted_nidx[] = { 0 };
static const int64_t tilted_kinds[] = { RT_REAL };
static const rt_model tilted = { "tilted", tilted_resume, sizeof(frame), RT_REAL, 1,
                                 tilted_names, tilted_nidx, tilted_kinds, 1, 0 };

/* The parameter mu is read from the data file, as the compiler's bind_args would. */
static void tilted_bind(void *args) { ((double *)args)[0] = rt_data_real("mu", LOC); }

/* pair(): a ~ normal(0, 1); k ~ poisson(3); for t in 0 .. 2 { b[t] ~ normal(a, 1);
 * observe 0.5 ~ normal(b[t], 1) }, no value. */
static int32_t pair_resume(void *fr, rt_particle *p)
{
    frame *f = fr;
    if (f->state == 0) {
        f->a = rt_sample_normal((rt_rng *)p, 0, 1, LOC);
        rt_record(p, 0, 0, NULL, f->a);
        rt_record(p, 2, 0, NULL, (double)rt_sample_poisson((rt_rng *)p, 3, LOC));
        f->state = 1;
    }
    if (f->t == 2)
        return 0;
    f->x = rt_sample_normal((rt_rng *)p, f->a, 1, LOC);
    rt_record(p, 1, 1, &f->t, f->x);
    p->logw += rt_lpdf_normal(0.5, f->x, 1, LOC);
    f->t++;
    return 1;
}

static const char *const pair_names[] = { "a", "b", "k" };
static const int64_t pair_nidx[] = { 0, 1, 0 };
static const int64_t pair_kinds[] = { RT_REAL, RT_REAL, RT_INT };
static const rt_model pair = { "pair", pair_resume, sizeof(frame), -1, 3, pair_names, pair_nidx,
                               pair_kinds, 0, 0 };

/* ---- programs ---- */

static void model_main(void) {}

/* A script: prints what it ran with. */
static void script_main(void)
{
    printf("ran seed=%llu data=%s\n", (unsigned long long)rt_seed,
           rt_data_has("mu") ? "yes" : "no");
}

static const rt_model_entry entries[] = { { &tilted, tilted_bind, 1 }, { &pair, NULL, 0 } };
static const rt_program one_model = { model_main, 0, 1, entries };
static const rt_program two_models = { model_main, 0, 2, entries };
static const rt_program script = { script_main, 1, 1, entries };
static const rt_program empty = { script_main, 0, 0, NULL };

/* ---- running a program in a child ---- */

typedef struct result { int status; char *out, *err; } result;

static char data_path[64] = "/tmp/ppl_program_test_XXXXXX.json";
static char out_dir[64] = "/tmp/ppl_program_out_XXXXXX";

typedef struct invocation { const rt_program *prog; int argc; char **argv; } invocation;

static void main_in_child(const void *arg)
{
    const invocation *inv = arg;
    child_exit(rt_program_main(inv->argc, inv->argv, inv->prog));
}

/* Runs rt_program_main(PROG args...) in a child; args end with NULL. */
static result run(const rt_program *prog, ...)
{
    char *argv[32] = { PROG };
    int argc = 1;
    va_list ap;
    va_start(ap, prog);
    while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
        argc++;
    va_end(ap);
    invocation inv = { prog, argc, argv };
    int out = temp_fd(), err = temp_fd();
    int status = run_forked(main_in_child, &inv, out, err);
    return (result){ status, slurp_all(out), slurp_all(err) };
}

static void release(result *r)
{
    free(r->out);
    free(r->err);
}

static char *read_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    return slurp_all(fd);
}

/* The CSV without its `#` lines. */
static const char *csv_body(const char *csv)
{
    while (*csv == '#')
        csv = strchr(csv, '\n') + 1;
    return csv;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int setup(void **state)
{
    write_temp(data_path, 5, "{\"mu\": 2.0}\n");
    assert_non_null(mkdtemp(out_dir));
    return 0;
}

static int teardown(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/draws.csv", out_dir);
    unlink(path);
    rmdir(out_dir);
    unlink(data_path);
    return 0;
}

/* ---- tests ---- */

static void test_help(void **state)
{
    static const char *const want[] = {
        "usage: ./prog [options]\n", "models: tilted\n",
        "--model NAME", "(default: tilted, the only model)", "--method NAME", "the inference method: is, smc, vi, enumerate (default: smc)",
        "--particles N", "(default: 1000)", "--ess X", "(default: 0.5)",
        "--resample SCHEME", "(default: systematic)", "--threads K", "(default: 1)",
        "--data FILE.json", "--seed N", "(default: from the clock, reported)",
        "--output FILE.csv", "(default: standard output)", "--quiet", "--help, -h",
    };
    result r = run(&one_model, "--particles", "-5", "-h", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        if (!strstr(r.out, want[k]))
            fail_msg("--help lacks '%s':\n%s", want[k], r.out);
    release(&r);
    r = run(&two_models, "--help", NULL);
    assert_non_null(strstr(r.out, "models: tilted, pair\n"));
    assert_non_null(strstr(r.out, "(default: none: required, the program has several)"));
    release(&r);
}

/* --help has a line for every option of the table with a flag (a new row included), with its
 * default, and none for an option without one; the driver passes each flag's value on. */
static void test_help_lists_table(void **state)
{
    result r = run(&one_model, "--help", NULL);
    assert_int_equal(r.status, 0);
    for (int k = 0; k < RT_NOPTIONS; k++) {
        const rt_option_info *o = &rt_option_table[k];
        char head[64];
        snprintf(head, sizeof head, "\n  --%s%s%s ", o->name, o->meta ? " " : "", o->meta ? o->meta : "");
        if (!o->meta) {
            assert_true(rt_program_flag_takes_value(head + 3) == false);
            if (strstr(r.out, head)) fail_msg("--help lists '--%s', which has no flag", o->name);
            continue;
        }
        const char *line = strstr(r.out, head);
        if (!line)
            fail_msg("--help lacks '--%s %s':\n%s", o->name, o->meta, r.out);
        const char *end = strchr(line + 1, '\n');
        assert_true(memmem(line, (size_t)(end - line), o->help, strlen(o->help)) != NULL);
        assert_true(memmem(line, (size_t)(end - line), "(default: ", 10) != NULL);
        snprintf(head, sizeof head, "--%s", o->name);
        assert_true(rt_program_flag_takes_value(head));
    }
    assert_non_null(strstr(r.out, "--method NAME        the inference method: is, smc, vi, enumerate "));
    assert_non_null(strstr(r.out, "(default: 1000; vi: 10)"));
    assert_non_null(strstr(r.out, "multinomial, residual (default: systematic)"));
    assert_false(rt_program_flag_takes_value("--quiet"));
    assert_false(rt_program_flag_takes_value("--particles=5"));
    release(&r);
}

typedef struct bad_case { const char *args[4]; const char *err; } bad_case;

static void test_usage_errors(void **state)
{
    static const bad_case cases[] = {
        { { "--particles", "-5" }, "--particles needs an integer of at least 1, not '-5'" },
        { { "--particles=0" }, "--particles needs an integer of at least 1, not '0'" },
        { { "--particles", "1e3" }, "--particles needs an integer of at least 1, not '1e3'" },
        { { "--ess", "1.5" }, "--ess needs a number from 0 to 1, not '1.5'" },
        { { "--ess=nan" }, "--ess needs a number from 0 to 1, not 'nan'" },
        { { "--ess", " 0.5" }, "--ess needs a number from 0 to 1, not ' 0.5'" },
        { { "--method", "mcmc" }, "--method needs 'is', 'smc', 'vi' or 'enumerate', not 'mcmc'" },
        { { "--resample", "bogus" },
          "--resample needs 'systematic', 'stratified', 'multinomial' or 'residual', not 'bogus'" },
        { { "--threads", "0" }, "--threads needs an integer from 1 to 256, not '0'" },
        { { "--threads=257" }, "--threads needs an integer from 1 to 256, not '257'" },
        { { "--steps", "-1" }, "--steps needs an integer of at least 0, not '-1'" },
        { { "--lr", "0" }, "--lr needs a finite positive number, not '0'" },
        { { "--lr=inf" }, "--lr needs a finite positive number, not 'inf'" },
        { { "--optimizer", "momentum" }, "--optimizer needs 'adam' or 'sgd', not 'momentum'" },
        { { "--steps", "5" }, "--steps applies to --method vi only" },
        { { "--method", "is", "--lr", "0.1" }, "--lr applies to --method vi only" },
        { { "--guide", "q" }, "--guide applies to --method vi only" },
        { { "--trace", "false" }, "unknown option '--trace'" },
        { { "--seed", "-1" }, "--seed needs a non-negative integer below 2^64, not '-1'" },
        { { "--seed=18446744073709551616" },
          "--seed needs a non-negative integer below 2^64, not '18446744073709551616'" },
        { { "--method", "is", "--ess", "0.3" }, "--ess applies to --method smc only" },
        { { "--threads=2", "--method=is" }, "--threads applies to --method smc only" },
        { { "--resample", "residual", "--method", "is" }, "--resample applies to --method smc only" },
        { { "--model", "nope" }, "unknown model 'nope' (models: tilted)" },
        { { "--bogus" }, "unknown option '--bogus'" },
        { { "--particles2", "3" }, "unknown option '--particles2'" },
        { { "extra" }, "unexpected argument 'extra'" },
        { { "--quiet=1" }, "--quiet takes no value" },
        { { "--data" }, "missing FILE.json after '--data'" },
        { { "--output=" }, "--output needs a file name" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *const *a = cases[k].args;
        result r = run(&one_model, a[0], a[1], a[2], a[3], NULL);
        char want[256];
        snprintf(want, sizeof want, "ppl: error: %s\n" HINT, cases[k].err);
        assert_int_equal(r.status, 2);
        assert_string_equal(r.err, want);
        assert_string_equal(r.out, "");
        release(&r);
    }
}

static void test_several_models(void **state)
{
    result r = run(&two_models, "--data", data_path, NULL);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "ppl: error: the program has 2 models; choose one with --model "
                               "(models: tilted, pair)\n" HINT);
    release(&r);
    r = run(&two_models, "--model", "ghost", NULL);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "ppl: error: unknown model 'ghost' (models: tilted, pair)\n" HINT);
    release(&r);
    r = run(&two_models, "--model=pair", "--method=is", "--particles=7", "--seed=3", "--quiet", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "# model = pair\n# method = is\n# particles = 7\n"));
    assert_null(strstr(r.out, "# resamples"));
    assert_null(strstr(r.out, "# ess = 0.5"));
    const char *body = csv_body(r.out);
    assert_true(strncmp(body, "log_weight__,a,k,b.1,b.2\n", 25) == 0);
    assert_int_equal(count_lines(body), 8);
    release(&r);
}

/* The echo on stderr, the same lines in the CSV, the header and N rows. */
static void test_csv_stdout(void **state)
{
    result r = run(&one_model, "--data", data_path, "--seed", "7", "--particles", "50", NULL);
    char want[512];
    snprintf(want, sizeof want,
             "model = tilted (default)\nmethod = smc (default)\nparticles = 50\n"
             "ess = 0.5 (default)\nresample = systematic (default)\nthreads = 1 (default)\n"
             "data = %s\nseed = 7\noutput = stdout (default)\n", data_path);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, want);
    assert_true(strncmp(r.out, "# ppl ", 6) == 0);
    assert_non_null(strstr(r.out, "\n# model = tilted (default)\n# method = smc (default)\n"));
    assert_non_null(strstr(r.out, "\n# seed = 7\n# output = stdout (default)\n# weighted draws: "));
    assert_non_null(strstr(r.out, "\n# log_evidence = "));
    assert_non_null(strstr(r.out, "\n# resamples = "));
    const char *body = csv_body(r.out);
    assert_true(strncmp(body, "log_weight__,value,x\n", 21) == 0);
    assert_int_equal(count_lines(body), 51);
    release(&r);
}

/* The weighted draws estimate the target: normal(1, 1/sqrt 2) for mu = 2. */
static void test_csv_estimates(void **state)
{
    result r = run(&one_model, "--data", data_path, "--seed", "11", "--particles", "20000",
                   "--method", "is", "--quiet", NULL);
    assert_int_equal(r.status, 0);
    const char *line = strchr(csv_body(r.out), '\n') + 1;
    double sw = 0.0, swx = 0.0;
    for (; *line; line = strchr(line, '\n') + 1) {
        char *end;
        double w = exp(strtod(line, &end)), v = strtod(end + 1, &end), x = strtod(end + 1, NULL);
        assert_true(v == x);
        sw += w, swx += w * x;
    }
    assert_true(fabs(sw - 1.0) < 1e-9);
    assert_true(fabs(swx - 1.0) < 0.03);
    release(&r);
}

static void test_output_file(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/draws.csv", out_dir);
    result a = run(&one_model, "--data", data_path, "--seed", "5", "--particles", "30",
                   "--output", path, NULL);
    assert_int_equal(a.status, 0);
    assert_string_equal(a.out, "");
    char line[160];
    snprintf(line, sizeof line, "\noutput = %s\n", path);
    assert_non_null(strstr(a.err, line));
    char *file = read_path(path);
    snprintf(line, sizeof line, "\n# output = %s\n", path);
    assert_non_null(strstr(file, line));
    result b = run(&one_model, "--data", data_path, "--seed", "5", "--particles", "30", NULL);
    assert_string_equal(csv_body(file), csv_body(b.out));
    free(file);
    release(&a);
    release(&b);
    result c = run(&one_model, "--data", data_path, "--output", "/nonexistent/dir/x.csv", "--quiet",
                   NULL);
    assert_int_equal(c.status, 1);
    assert_string_equal(c.err, "ppl: error: cannot write output file '/nonexistent/dir/x.csv': "
                               "No such file or directory\n");
    release(&c);
}

static void test_quiet(void **state)
{
    result r = run(&one_model, "--quiet", "--data", data_path, "--particles", "10", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_int_equal(count_lines(csv_body(r.out)), 11);
    assert_non_null(strstr(r.out, " (from the clock)\n"));
    release(&r);
}

/* Without --seed the seed is chosen, reported, and replays the run when given back. */
static void test_seed_reported(void **state)
{
    result a = run(&one_model, "--data", data_path, "--particles", "20", NULL);
    assert_int_equal(a.status, 0);
    const char *at = strstr(a.err, "\nseed = ");
    assert_non_null(at);
    char seed[32];
    assert_int_equal(sscanf(at, "\nseed = %31[0-9] (from the clock)\n", seed), 1);
    char echo[64];
    snprintf(echo, sizeof echo, "\nseed = %s (from the clock)\n", seed);
    assert_non_null(strstr(a.err, echo));
    snprintf(echo, sizeof echo, "\n# seed = %s (from the clock)\n", seed);
    assert_non_null(strstr(a.out, echo));
    result b = run(&one_model, "--data", data_path, "--particles", "20", "--seed", seed, NULL);
    assert_string_equal(csv_body(a.out), csv_body(b.out));
    release(&a);
    release(&b);
}

/* The same seed gives the same bytes, for any number of threads; another seed other draws. */
static void test_same_seed(void **state)
{
    result a = run(&one_model, "--data", data_path, "--seed", "42", "--particles", "5000",
                   "--ess", "1", "--resample", "stratified", NULL);
    result b = run(&one_model, "--data", data_path, "--seed", "42", "--particles", "5000",
                   "--ess", "1", "--resample", "stratified", NULL);
    result c = run(&one_model, "--data", data_path, "--seed", "42", "--particles", "5000",
                   "--ess=1", "--resample=stratified", "--threads", "4", NULL);
    result d = run(&one_model, "--data", data_path, "--seed", "43", "--particles", "5000",
                   "--ess", "1", "--resample", "stratified", NULL);
    assert_int_equal(a.status, 0);
    assert_string_equal(a.out, b.out);
    assert_string_equal(a.err, b.err);
    assert_string_equal(csv_body(a.out), csv_body(c.out));
    assert_string_not_equal(csv_body(a.out), csv_body(d.out));
    result *all[] = { &a, &b, &c, &d };
    for (int k = 0; k < 4; k++)
        release(all[k]);
}

/* bind_args reads the data: without --data the run stops with the data error. */
static void test_missing_data(void **state)
{
    result r = run(&one_model, "--quiet", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, LOC ": error: data variable 'mu'"));
    assert_string_equal(r.out, "");
    release(&r);
}

static void test_script_mode(void **state)
{
    result r = run(&script, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "ran seed=0 data=no\n");
    assert_string_equal(r.err, "");
    release(&r);
    r = run(&script, "--seed=5", "--data", data_path, NULL);
    assert_string_equal(r.out, "ran seed=5 data=yes\n");
    release(&r);
    r = run(&script, "--particles", "10", NULL);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.err, "ppl: error: unknown option '--particles'\n"
                               "usage: ./prog [--data FILE.json] [--seed N]\n");
    release(&r);
    r = run(&script, "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "usage: ./prog [--data FILE.json] [--seed N]\n", 44) == 0);
    assert_non_null(strstr(r.out, "(default: 0)"));
    assert_non_null(strstr(r.out, "--help, -h"));
    release(&r);
    r = run(&empty, "--seed", "2", NULL);
    assert_string_equal(r.out, "ran seed=2 data=no\n");
    release(&r);
}

int main(void)
{
    GC_INIT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help), cmocka_unit_test(test_help_lists_table),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_several_models),
        cmocka_unit_test(test_csv_stdout),
        cmocka_unit_test(test_csv_estimates),
        cmocka_unit_test(test_output_file),
        cmocka_unit_test(test_quiet),
        cmocka_unit_test(test_seed_reported),
        cmocka_unit_test(test_same_seed),
        cmocka_unit_test(test_missing_data),
        cmocka_unit_test(test_script_mode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
