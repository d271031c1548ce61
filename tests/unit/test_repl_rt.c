/* test_repl_rt.c - cmocka tests for the runtime's REPL support: errors recovered through a
 * jmp_buf, Ctrl-C's flag stopping IS and SMC runs (also on worker threads), and plots. */
#define GC_THREADS
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gc.h>
#include "rt.h"
#include "rt_infer.h"
#include "rt_repl.h"
#include "test_util.h"

#define LOC "t.ppl:1:1"
#define LOC2 "t.ppl:2:7"

/* ---- helpers: recovery ---- */

/* Runs fn with recovery on and stderr captured in err; returns 1 when fn was left through
 * the recovery jmp_buf, 0 when it returned. Recovery is off again afterwards. */
static int run_recovering(void (*fn)(void), char *err, size_t size)
{
    jmp_buf jb;
    volatile int jumped = 0;
    redirect r = redirect_begin(STDERR_FILENO);
    if (setjmp(jb) == 0) {
        rt_set_recovery(&jb);
        fn();
    } else {
        jumped = 1;
    }
    rt_set_recovery(NULL);
    redirect_end(r, err, size);
    return jumped;
}

static void expect_recovered(void (*fn)(void), const char *want)
{
    char err[1024];
    if (!run_recovering(fn, err, sizeof err))
        fail_msg("not recovered; stderr: %s", err);
    assert_string_equal(err, want);
    assert_int_equal(rt_interrupted, 0);
}

/* ---- recovery ---- */

static void fail_plain(void) { rt_fail(LOC, "boom"); }
static void fail_format(void) { rt_failf(LOC2, "bad %s %d", "thing", 42); }
static void fail_index(void) { rt_fail_index(LOC, 7, 3); }
static void fail_no_loc(void) { rt_fail(NULL, "out of memory"); }

static void test_recovery(void **state)
{
    expect_recovered(fail_plain, LOC ": error: boom\n");
    expect_recovered(fail_format, LOC2 ": error: bad thing 42\n");
    expect_recovered(fail_index, LOC ": error: index 7 out of bounds for array of length 3\n");
    expect_recovered(fail_no_loc, "ppl: error: out of memory\n");
    assert_false(rt_recovery_active());
}

/* What the program printed before the error is flushed first. */
static void print_then_fail(void)
{
    fputs("partial output", stdout);
    rt_fail(LOC, "boom");
}

static void test_recovery_flushes_stdout(void **state)
{
    char out[256], err[256];
    redirect r = redirect_begin(STDOUT_FILENO);
    int jumped = run_recovering(print_then_fail, err, sizeof err);
    redirect_end(r, out, sizeof out);
    assert_true(jumped);
    assert_string_equal(out, "partial output");
    assert_string_equal(err, LOC ": error: boom\n");
}

/* Recovery set and then turned off: errors exit again. */
static void fail_after_recovery_off(void)
{
    jmp_buf jb;
    rt_set_recovery(&jb);
    rt_set_recovery(NULL);
    rt_fail(LOC, "boom");
}

static void *fail_on_thread(void *arg)
{
    rt_fail(LOC, "from a thread");
    return NULL;
}

/* Recovery belongs to the thread that set it: another thread's error still exits. */
static void fail_other_thread(void)
{
    jmp_buf jb;
    if (setjmp(jb) != 0)
        _exit(3);   /* wrongly recovered */
    rt_set_recovery(&jb);
    pthread_t t;
    pthread_create(&t, NULL, fail_on_thread, NULL);
    pthread_join(t, NULL);
    _exit(4);
}

static void test_no_recovery_exits(void **state)
{
    expect_child_stderr(fail_plain, 1, LOC ": error: boom\n");
    expect_child_stderr(fail_after_recovery_off, 1, LOC ": error: boom\n");
    expect_child_stderr(fail_other_thread, 1, LOC ": error: from a thread\n");
}

/* ---- interruption ---- */

static void interrupt_now(void) { rt_interrupt(LOC2); }

static void test_interrupt_message(void **state)
{
    rt_interrupted = 1;
    expect_recovered(interrupt_now, LOC2 ": error: interrupted\n");
    expect_child_stderr(interrupt_now, 1, LOC2 ": error: interrupted\n");
}

/* The handler only raises the flag; restoring puts the previous handler back. */
static void test_interrupt_handler(void **state)
{
    struct sigaction before, after;
    sigaction(SIGINT, NULL, &before);
    rt_install_interrupt_handler();
    rt_install_interrupt_handler();   /* twice: the first saved handler is kept */
    rt_interrupted = 0;
    raise(SIGINT);
    assert_int_equal(rt_interrupted, 1);
    rt_interrupted = 0;
    rt_restore_interrupt_handler();
    sigaction(SIGINT, NULL, &after);
    assert_ptr_equal(after.sa_handler, before.sa_handler);
}

/* The frame of the models below: state, return value, step counter. */
typedef struct frame { int64_t state; double ret; int64_t t; } frame;

static int64_t resumes;   /* atomically counted */
static pthread_t main_thread;

/* IS: each run ends at once; the fifth run raises the flag as Ctrl-C would. */
static int32_t ctrl_c_resume(void *fr, rt_particle *p)
{
    frame *f = fr;
    if (__atomic_add_fetch(&resumes, 1, __ATOMIC_RELAXED) == 5)
        rt_interrupted = 1;
    f->ret = 1.0;
    return 0;
}
static const rt_model ctrl_c = { "ctrl_c", ctrl_c_resume, sizeof(frame), RT_REAL };

static void run_is(void) { rt_infer_is(rt_root_ctx(), &ctrl_c, NULL, &(rt_infer_opts){ .particles = 1000 }, LOC); }

static void test_interrupt_is(void **state)
{
    resumes = 0;
    expect_recovered(run_is, LOC ": error: interrupted\n");
    assert_int_equal(resumes, 5);   /* polled before each particle */
}

/* SMC: five checkpoints; at t == 2, particles on `fail_where` threads act. */
enum { NOWHERE, ON_WORKER, ON_MAIN, ANYWHERE };
enum { DO_INTERRUPT, DO_FAIL };
static int fail_where, fail_what;

static bool acts_here(void)
{
    bool on_main = pthread_equal(pthread_self(), main_thread);
    return fail_where == ANYWHERE || (fail_where == ON_MAIN && on_main)
        || (fail_where == ON_WORKER && !on_main);
}

static int32_t steps_resume(void *fr, rt_particle *p)
{
    frame *f = fr;
    __atomic_add_fetch(&resumes, 1, __ATOMIC_RELAXED);
    if (f->t == 2 && acts_here()) {
        if (fail_what == DO_FAIL)
            rt_fail_index(LOC2, 7, 3);
        rt_interrupted = 1;
    }
    f->ret = (double)f->t;
    return f->t++ < 5;
}
static const rt_model steps = { "steps", steps_resume, sizeof(frame), RT_REAL };

enum { SMC_N = 5 * 4096 };   /* five blocks on four threads */

static void run_smc(void) { rt_infer_smc(rt_root_ctx(), &steps, NULL, &(rt_infer_opts){ .particles = SMC_N, .ess = 0.5, .threads = 4, .trace = 1 }, LOC); }

static void expect_smc(int where, int what, const char *want)
{
    fail_where = where, fail_what = what, resumes = 0;
    expect_recovered(run_smc, want);
    assert_true(resumes >= 2 * SMC_N && resumes < 3 * SMC_N);   /* stopped in step 3 */
}

/* Errors and interruptions on any thread end the run through recovery, with every worker
 * joined first (ASan would see workers outliving the swarm); the run after is normal. */
static void test_smc_recovery(void **state)
{
    main_thread = pthread_self();
    expect_smc(ON_WORKER, DO_FAIL, LOC2 ": error: index 7 out of bounds for array of length 3\n");
    expect_smc(ON_MAIN, DO_FAIL, LOC2 ": error: index 7 out of bounds for array of length 3\n");
    expect_smc(ANYWHERE, DO_FAIL, LOC2 ": error: index 7 out of bounds for array of length 3\n");
    expect_smc(ON_WORKER, DO_INTERRUPT, LOC ": error: interrupted\n");
    expect_smc(ON_MAIN, DO_INTERRUPT, LOC ": error: interrupted\n");
    fail_where = NOWHERE;
    rt_posterior *post = rt_infer_smc(rt_root_ctx(), &steps, NULL, &(rt_infer_opts){ .particles = SMC_N, .ess = 0.5, .threads = 4 }, LOC);
    assert_true(rt_post_mean(post, NULL) == 5.0);
}

/* Without recovery a worker's error still exits at once. */
static void smc_worker_fails(void)
{
    main_thread = pthread_self();
    fail_where = ON_WORKER, fail_what = DO_FAIL;
    run_smc();
}

static void test_smc_no_recovery(void **state)
{
    expect_child_stderr(smc_worker_fails, 1,
                        LOC2 ": error: index 7 out of bounds for array of length 3\n");
}

/* ---- plots of hand-made posteriors ---- */

static rt_posterior *make_posterior(const rt_model *m, int64_t n, double (*value)(int64_t),
                                    double (*logw)(int64_t))
{
    rt_posterior *p = rt_post_new(m, "is", n);
    for (int64_t i = 0; i < n; i++) {
        p->value[i] = value(i);
        p->logw[i] = logw(i);
    }
    rt_post_summarize(p, LOC);
    return p;
}

static const rt_model real_model = { "r", NULL, 16, RT_REAL };
static const rt_model int_model = { "i", NULL, 16, RT_INT };
static const rt_model bool_model = { "b", NULL, 16, RT_BOOL };
static const rt_model void_model = { "v", NULL, 16, -1 };

static void plot(const void *post) { rt_plot_posterior(post, NULL); }

static void expect_plot(const rt_posterior *post, const char *want)
{
    char out[8192];
    setenv("COLUMNS", "60", 1);
    capture_stdout(plot, post, out, sizeof out);
    assert_string_equal(out, want);
}

/* Values -5 .. 4.99 by 0.01, weights of a standard normal. */
static double grid_value(int64_t i) { return (double)(i - 500) / 100; }
static double normal_logw(int64_t i) { return -grid_value(i) * grid_value(i) / 2; }

static void test_plot_real_histogram(void **state)
{
    expect_plot(make_posterior(&real_model, 1000, grid_value, normal_logw),
        "     -2.7  █▋\n"
        "     -2.4  ███▎\n"
        "     -2.1  ██████\n"
        "     -1.8 │██████████▎\n"
        "     -1.5 │████████████████▏\n"
        "     -1.2 │███████████████████████▏\n"
        "     -0.9 │██████████████████████████████▎\n"
        "     -0.6 │████████████████████████████████████▎\n"
        "     -0.3 │███████████████████████████████████████▋ ◆ mean\n"
        "        0 │█████████████████████████████████████████\n"
        "      0.3 │████████████████████████████████████▎\n"
        "      0.6 │██████████████████████████████▎\n"
        "      0.9 │███████████████████████▏\n"
        "      1.2 │████████████████▏\n"
        "      1.5 │██████████▎\n"
        "      1.8  ██████\n"
        "      2.1  ███▎\n"
        "      2.4  █▌\n"
        "mean -7.4336e-08, 90% interval [-1.64, 1.64]\n");
}

/* test_infer.c's hand posterior: weights 1:2:3:4:0 on 3, 1, 4, 2, -10. Few distinct values
 * get a row each; the dead particle's -10 does not show. */
static double hand_value(int64_t i) { return (const double[]){ 3, 1, 4, 2, -10 }[i]; }
static double hand_logw(int64_t i)
{
    return (const double[]){ 0, M_LN2, 1.0986122886681098, 2 * M_LN2, -INFINITY }[i];
}

static void test_plot_real_few_values(void **state)
{
    expect_plot(make_posterior(&real_model, 5, hand_value, hand_logw),
        "        1 │████████████████████▌\n"
        "        2 │█████████████████████████████████████████\n"
        "        3 │██████████▎\n"
        "        4 │██████████████████████████████▊\n"
        "mean 2.5, 90% interval [1, 4]\n");
}

/* 0..3 and 5 (4 never occurs: an empty row), particle 9 dead. */
static double int_value(int64_t i) { return i % 7 == 3 ? 5 : (double)(i % 4); }
static double int_logw(int64_t i) { return i == 9 ? -INFINITY : 0; }

static void test_plot_int(void **state)
{
    expect_plot(make_posterior(&int_model, 30, int_value, int_logw),
        "        0 │█████████████████████████████████████████\n"
        "        1 │███████████████████████████████████▏\n"
        "        2 │███████████████████████████████████▏\n"
        "        3 │███████████████████████████████████▏\n"
        "        4 │\n"
        "        5 │███████████████████████▍\n"
        "mean 1.931, 90% interval [0, 5]\n");
}

static double bool_value(int64_t i) { return i % 3 == 0; }
static double bool_logw(int64_t i) { return i % 3 == 0 ? log(0.37 / 0.63 * 2) : 0; }
static double all_true(int64_t i) { return 1; }

static void test_plot_bool(void **state)
{
    expect_plot(make_posterior(&bool_model, 100, bool_value, bool_logw),
        "    false │█████████████████████████████████████████\n"
        "     true │████████████████████████▊\n"
        "mean 0.37699, 90% interval [0, 1]\n");
    expect_plot(make_posterior(&bool_model, 10, all_true, int_logw),
        "    false\n"
        "     true │█████████████████████████████████████████\n"
        "mean 1, 90% interval [1, 1]\n");
}

/* 200 distinct ints: integer bins of width 10 over the 0.5% .. 99.5% quantiles. */
static double spread_value(int64_t i) { return (double)((i * 37) % 200); }
static double spread_logw(int64_t i) { return -fabs(spread_value(i) - 60) / 30; }

static void test_plot_int_bins(void **state)
{
    expect_plot(make_posterior(&int_model, 200, spread_value, spread_logw),
        "        0  ███████▌\n"
        "       10 │██████████▌\n"
        "       20 │██████████████▋\n"
        "       30 │████████████████████▍\n"
        "       40 │████████████████████████████▍\n"
        "       50 │███████████████████████████████████████▋\n"
        "       60 │█████████████████████████████████████████ ◆ mean\n"
        "       70 │█████████████████████████████▍\n"
        "       80 │█████████████████████\n"
        "       90 │███████████████▏\n"
        "      100 │██████████▊\n"
        "      110 │███████▊\n"
        "      120 │█████▌\n"
        "      130  ████\n"
        "      140  ██▉\n"
        "      150  ██\n"
        "      160  █▌\n"
        "      170  █\n"
        "mean 65.612, 90% interval [15, 128]\n");
}

static void test_plot_no_value(void **state)
{
    expect_plot(make_posterior(&void_model, 5, hand_value, hand_logw),
        "(the model returns no value)\n");
}

/* Without a terminal or $COLUMNS the width is 80: the longest bar has 80 - 19 cells. */
static void test_plot_width(void **state)
{
    char out[8192];
    unsetenv("COLUMNS");
    capture_stdout(plot, make_posterior(&bool_model, 10, all_true, int_logw), out, sizeof out);
    char want[512] = "    false\n     true │";
    for (int k = 0; k < 80 - 19; k++)
        strcat(want, "█");
    strcat(want, "\nmean 1, 90% interval [1, 1]\n");
    assert_string_equal(out, want);
}

int main(void)
{
    GC_INIT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovery),
        cmocka_unit_test(test_recovery_flushes_stdout),
        cmocka_unit_test(test_no_recovery_exits),
        cmocka_unit_test(test_interrupt_message),
        cmocka_unit_test(test_interrupt_handler),
        cmocka_unit_test(test_interrupt_is),
        cmocka_unit_test(test_smc_recovery),
        cmocka_unit_test(test_smc_no_recovery),
        cmocka_unit_test(test_plot_real_histogram),
        cmocka_unit_test(test_plot_real_few_values),
        cmocka_unit_test(test_plot_int),
        cmocka_unit_test(test_plot_bool),
        cmocka_unit_test(test_plot_int_bins),
        cmocka_unit_test(test_plot_no_value),
        cmocka_unit_test(test_plot_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
