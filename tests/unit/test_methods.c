/* test_methods.c - the table of inference methods and options (rt_methods.h): names unique,
 * every default passes its own check, lookups, and the run-time checks' messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gc.h>
#include "rt.h"
#include "rt_methods.h"
#include "test_util.h"

#define LOC "t.ppl:1:1"

static void test_names_unique(void **state) {
    for (int a = 0; a < RT_NMETHODS; a++)
        for (int b = a + 1; b < RT_NMETHODS; b++)
            assert_string_not_equal(rt_method_names[a], rt_method_names[b]);
    for (int a = 0; a < RT_NOPTIONS; a++)
        for (int b = a + 1; b < RT_NOPTIONS; b++)
            assert_string_not_equal(rt_option_table[a].name, rt_option_table[b].name);
    for (int a = 0; a < rt_nmethod_options; a++)
        for (int b = a + 1; b < rt_nmethod_options; b++)
            assert_false(rt_method_options[a].method == rt_method_options[b].method
                         && rt_method_options[a].option == rt_method_options[b].option);
}

/* Every row's default, and its model-mode default, passes the option's own check; a choice's
 * default is one of its values; an inner option's outer one is an option of the method. */
static void test_defaults_pass_checks(void **state) {
    char why[80];
    for (int k = 0; k < rt_nmethod_options; k++) {
        const rt_method_option *r = &rt_method_options[k];
        const rt_option_info *o = &rt_option_table[r->option];
        if (!rt_option_in_range(r->option, r->def, why, sizeof why)
            || !rt_option_in_range(r->option, r->model_mode_def, why, sizeof why))
            fail_msg("%s: the default of %s %s", rt_method_names[r->method], o->name, why);
        if (o->values) {
            assert_true(o->nvalues > 0 && o->values[o->nvalues] == NULL);
            assert_true(r->def >= 0 && r->def < o->nvalues && r->model_mode_def >= 0 && r->model_mode_def < o->nvalues);
        }
        if (o->inside) assert_non_null(rt_method_option_row(r->method, rt_option_lookup(o->inside)));
        if (o->type == RT_OTYPE_ARGS) assert_non_null(rt_method_option_row(r->method, r->option - 1));
    }
    for (int m = 0; m < RT_NMETHODS; m++) {
        rt_infer_opts o;
        rt_infer_opts_init(&o, m, false);
        for (int k = 0; k < RT_NOPTIONS; k++)
            if (!rt_method_option_row(m, k)) assert_true(rt_infer_opts_get(&o, k) == 0);
    }
}

/* Every method takes at least one option and every option belongs to a method. */
static void test_rows_cover(void **state) {
    for (int m = 0; m < RT_NMETHODS; m++) {
        bool any = false;
        for (int k = 0; k < RT_NOPTIONS; k++) any |= rt_method_option_row(m, k) != NULL;
        assert_true(any);
    }
    for (int k = 0; k < RT_NOPTIONS; k++) {
        bool any = false;
        for (int m = 0; m < RT_NMETHODS; m++) any |= rt_method_option_row(m, k) != NULL;
        assert_true(any);
    }
}

static void test_lookups(void **state) {
    assert_int_equal(rt_method_lookup("smc"), RT_METHOD_SMC);
    assert_int_equal(rt_method_lookup("mcmc"), -1);
    assert_int_equal(rt_option_lookup("threads"), RT_OPTION_threads);
    assert_int_equal(rt_option_lookup("samples"), -1);
    assert_int_equal(rt_option_value(RT_OPTION_resample, "residual"), RT_RESAMPLE_RESIDUAL);
    assert_int_equal(rt_option_value(RT_OPTION_optimizer, "sgd"), RT_OPT_SGD);
    assert_int_equal(rt_option_value(RT_OPTION_optimizer, "momentum"), -1);
    assert_int_equal(rt_option_value(RT_OPTION_particles, "x"), -1);
    assert_null(rt_method_option_row(RT_METHOD_IS, RT_OPTION_ess));
    rt_infer_opts o;
    rt_infer_opts_init(&o, RT_METHOD_VI, false);
    assert_int_equal(o.particles, 1);
    rt_infer_opts_init(&o, RT_METHOD_VI, true);
    assert_int_equal(o.particles, 10);
    assert_true(o.lr == 0.01);
    rt_infer_opts_init(&o, RT_METHOD_SMC, false);
    assert_true(o.ess == 0.5 && o.threads == 1 && o.trace == 1 && o.resample == RT_RESAMPLE_SYSTEMATIC);
}

static void test_range_texts(void **state) {
    char buf[40], why[80];
    assert_string_equal(rt_option_range_text(RT_OPTION_particles, buf, sizeof buf), "at least 1");
    assert_string_equal(rt_option_range_text(RT_OPTION_threads, buf, sizeof buf), "1 to 256");
    assert_string_equal(rt_option_range_text(RT_OPTION_lr, buf, sizeof buf), "positive");
    assert_string_equal(rt_option_range_text(RT_OPTION_trace, buf, sizeof buf), "");
    assert_false(rt_option_in_range(RT_OPTION_ess, NAN, why, sizeof why));
    assert_string_equal(why, "must be between 0 and 1");
    assert_false(rt_option_in_range(RT_OPTION_lr, INFINITY, why, sizeof why));
    assert_false(rt_option_in_range(RT_OPTION_steps, -1, why, sizeof why));
    assert_string_equal(why, "must not be negative");
    assert_true(rt_option_in_range(RT_OPTION_steps, 0, why, sizeof why));
}

/* ---- the reference (lang/SPEC.md, section 9.6) ---- */

/* Option k's default as a program writes it: 1000, 0.5, true, "systematic", adam(lr = 0.01). */
static void write_default(char *buf, size_t size, int method, int k) {
    const rt_option_info *o = &rt_option_table[k];
    double d = rt_method_option_row(method, k)->def;
    switch (o->type) {
    case RT_OTYPE_INT: snprintf(buf, size, "%lld", (long long)d); break;
    case RT_OTYPE_REAL: snprintf(buf, size, "%g", d); break;
    case RT_OTYPE_BOOL: snprintf(buf, size, "%s", d ? "true" : "false"); break;
    case RT_OTYPE_CHOICE: snprintf(buf, size, "\"%s\"", o->values[(int)d]); break;
    case RT_OTYPE_GUIDE: snprintf(buf, size, "q"); break;
    case RT_OTYPE_OBJECTIVE: snprintf(buf, size, RT_DEFAULT_OBJECTIVE); break;
    default: {   /* a call: its value with the options written inside it */
        int n = snprintf(buf, size, "%s(", o->values[(int)d]);
        for (int j = 0; j < RT_NOPTIONS; j++)
            if (rt_option_table[j].inside && !strcmp(rt_option_table[j].inside, o->name)) {
                char inner[40];
                write_default(inner, sizeof inner, method, j);
                n += snprintf(buf + n, size - (size_t)n, "%s = %s", rt_option_table[j].name, inner);
            }
        snprintf(buf + n, size - (size_t)n, ")");
    }
    }
}

/* The reference shows each method with every option at its default, in the table's order:
 * `infer M(args) by is(particles = 1000, trace = true, draws = true)`; so a new method or option must be
 * documented there. */
static void test_spec_lists_table(void **state) {
    FILE *f = fopen("lang/SPEC.md", "r");
    assert_non_null(f);
    static char spec[1 << 20];
    size_t len = fread(spec, 1, sizeof spec - 1, f);
    spec[len] = '\0';
    fclose(f);
    for (int m = 0; m < RT_NMETHODS; m++) {
        char line[512];
        int n = snprintf(line, sizeof line, "\ninfer M(args) by %s(", rt_method_names[m]);
        bool first = true;
        for (int k = 0; k < rt_nmethod_options; k++) {
            const rt_method_option *r = &rt_method_options[k];
            const rt_option_info *o = &rt_option_table[r->option];
            if (r->method != m || o->inside || o->type == RT_OTYPE_ARGS) continue;
            char def[80];
            write_default(def, sizeof def, m, r->option);
            n += snprintf(line + n, sizeof line - (size_t)n, "%s%s = %s", first ? "" : ", ", o->name, def);
            first = false;
        }
        snprintf(line + n, sizeof line - (size_t)n, ")\n");
        if (!strstr(spec, line)) fail_msg("lang/SPEC.md lacks the line%s", line);
    }
}

/* ---- run-time checks: each one a child that must fail with the message ---- */

static rt_infer_opts bad;
static int bad_method;
static void run_check(void) { rt_infer_check(bad_method, &bad, LOC); }

static void expect_bad_option(int method, int option, double v, const char *msg) {
    rt_infer_opts_init(&bad, method, false);
    bad.guide = (const void *)&bad, bad.objective = (const void *)&bad;   /* present, never read */
    rt_infer_opts_set(&bad, option, v);
    bad_method = method;
    char want[200];
    snprintf(want, sizeof want, LOC ": error: %s", msg);
    expect_child_failure(run_check, 1, want);
}

static void test_run_time_checks(void **state) {
    expect_bad_option(RT_METHOD_IS, RT_OPTION_particles, 0, "is: particles must be at least 1, found 0");
    expect_bad_option(RT_METHOD_SMC, RT_OPTION_threads, 257, "smc: threads must be between 1 and 256, found 257");
    expect_bad_option(RT_METHOD_SMC, RT_OPTION_ess, 1.5, "smc: ess must be between 0 and 1, found 1.5");
    expect_bad_option(RT_METHOD_SMC, RT_OPTION_resample, 4, "smc: resample must be the number of one of its 4 values, found 4");
    expect_bad_option(RT_METHOD_VI, RT_OPTION_steps, -5, "vi: steps must not be negative, found -5");
    expect_bad_option(RT_METHOD_VI, RT_OPTION_lr, -0.5, "vi: lr must be positive, found -0.5");
    rt_infer_opts_init(&bad, RT_METHOD_VI, false);
    bad_method = RT_METHOD_VI;
    expect_child_failure(run_check, 1, LOC ": error: vi: no guide was given");
    for (int m = 0; m < RT_NMETHODS; m++) {   /* the defaults pass (with a guide and an objective) */
        rt_infer_opts_init(&bad, m, false);
        bad.guide = (const void *)&bad, bad.objective = (const void *)&bad;
        rt_infer_check(m, &bad, LOC);
    }
}

int main(void) {
    GC_INIT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_unique), cmocka_unit_test(test_defaults_pass_checks),
        cmocka_unit_test(test_rows_cover), cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_range_texts), cmocka_unit_test(test_run_time_checks),
        cmocka_unit_test(test_spec_lists_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
