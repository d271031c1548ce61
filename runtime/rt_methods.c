/* rt_methods.c - the tables of rt_methods.h as data, lookups in them, defaults, and the
 * engines' run-time checks of an options block. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "rt.h"
#include "rt_methods.h"

const char *const rt_method_names[RT_NMETHODS] = {
#define X(id, name, engine) name,
    RT_METHODS(X)
#undef X
};

#define NAME(id, name) name,
#define X(field, ctype, letter, type, values, ...) \
    static const char *const values_##field[] = { values(NAME) NULL };
RT_INFER_OPTIONS(X)
#undef X
#undef NAME

const rt_option_info rt_option_table[RT_NOPTIONS] = {
#define X(field, ctype, letter, type, values, check, lo, hi, inside, meta, help) \
    { #field, type, values_##field[0] ? values_##field : NULL, \
      (int)(sizeof values_##field / sizeof values_##field[0]) - 1, check, lo, hi, inside, meta, help, \
      offsetof(rt_infer_opts, field) },
    RT_INFER_OPTIONS(X)
#undef X
};

const rt_method_option rt_method_options[] = {
#define X(method, option, def, mdef) { RT_METHOD_##method, RT_OPTION_##option, def, mdef },
    RT_METHOD_OPTIONS(X)
#undef X
};
const int rt_nmethod_options = sizeof rt_method_options / sizeof rt_method_options[0];

static int find_name(const char *const *names, int n, const char *name) {
    for (int k = 0; k < n && names[k]; k++)
        if (strcmp(names[k], name) == 0) return k;
    return -1;
}

int rt_method_lookup(const char *name) { return find_name(rt_method_names, RT_NMETHODS, name); }

int rt_option_lookup(const char *name) {
    for (int k = 0; k < RT_NOPTIONS; k++)
        if (strcmp(rt_option_table[k].name, name) == 0) return k;
    return -1;
}

int rt_option_value(int option, const char *name) {
    const rt_option_info *o = &rt_option_table[option];
    return o->values ? find_name(o->values, o->nvalues, name) : -1;
}

const rt_method_option *rt_method_option_row(int method, int option) {
    for (int k = 0; k < rt_nmethod_options; k++)
        if (rt_method_options[k].method == method && rt_method_options[k].option == option)
            return &rt_method_options[k];
    return NULL;
}

bool rt_option_in_range(int option, double v, char *why, size_t size) {
    const rt_option_info *o = &rt_option_table[option];
    switch (o->check) {
    case RT_CHECK_AT_LEAST:
        if (v >= o->lo) return true;
        if (o->lo == 0) snprintf(why, size, "must not be negative");
        else snprintf(why, size, "must be at least %g", o->lo);
        return false;
    case RT_CHECK_BETWEEN:
        if (v >= o->lo && v <= o->hi) return true;
        snprintf(why, size, "must be between %g and %g", o->lo, o->hi);
        return false;
    case RT_CHECK_POSITIVE:
        if (v > 0 && isfinite(v)) return true;
        snprintf(why, size, "must be positive");
        return false;
    default: return true;
    }
}

const char *rt_option_range_text(int option, char *buf, size_t size) {
    const rt_option_info *o = &rt_option_table[option];
    switch (o->check) {
    case RT_CHECK_AT_LEAST: snprintf(buf, size, "at least %g", o->lo); break;
    case RT_CHECK_BETWEEN: snprintf(buf, size, "%g to %g", o->lo, o->hi); break;
    case RT_CHECK_POSITIVE: snprintf(buf, size, "positive"); break;
    default: snprintf(buf, size, "%s", "");
    }
    return buf;
}

static bool holds_real(int option) { return rt_option_table[option].type == RT_OTYPE_REAL; }

static bool holds_number(int option) {
    int t = rt_option_table[option].type;
    return t != RT_OTYPE_GUIDE && t != RT_OTYPE_OBJECTIVE && t != RT_OTYPE_ARGS;
}

double rt_infer_opts_get(const rt_infer_opts *o, int option) {
    const char *p = (const char *)o + rt_option_table[option].offset;
    if (!holds_number(option)) return 0;
    if (holds_real(option)) return *(const double *)p;
    return (double)*(const int64_t *)p;
}

void rt_infer_opts_set(rt_infer_opts *o, int option, double v) {
    char *p = (char *)o + rt_option_table[option].offset;
    if (!holds_number(option)) return;
    if (holds_real(option)) *(double *)p = v;
    else *(int64_t *)p = (int64_t)v;
}

void rt_infer_opts_init(rt_infer_opts *o, int method, bool model_mode) {
    memset(o, 0, sizeof *o);
    for (int k = 0; k < rt_nmethod_options; k++) {
        const rt_method_option *r = &rt_method_options[k];
        if (r->method == method) rt_infer_opts_set(o, r->option, model_mode ? r->model_mode_def : r->def);
    }
}

/* One option's check: a value out of range, or a choice that is no value's index. */
static void check_option(int method, int option, const rt_infer_opts *o, const char *loc) {
    const rt_option_info *info = &rt_option_table[option];
    double v = rt_infer_opts_get(o, option);
    char why[80];
    bool required = info->type == RT_OTYPE_GUIDE || info->type == RT_OTYPE_OBJECTIVE;
    if (required && !*(const void *const *)((const char *)o + info->offset))
        rt_failf(loc, "%s: no %s was given", rt_method_names[method], info->name);
    if (info->values && (v < 0 || v >= info->nvalues))
        rt_failf(loc, "%s: %s must be the number of one of its %d values, found %g",
                 rt_method_names[method], info->name, info->nvalues, v);
    if (rt_option_in_range(option, v, why, sizeof why)) return;
    if (holds_real(option))
        rt_failf(loc, "%s: %s %s, found %g", rt_method_names[method], info->name, why, v);
    rt_failf(loc, "%s: %s %s, found %lld", rt_method_names[method], info->name, why,
             (long long)*(const int64_t *)((const char *)o + info->offset));
}

void rt_infer_check(int method, const rt_infer_opts *o, const char *loc) {
    for (int k = 0; k < rt_nmethod_options; k++)
        if (rt_method_options[k].method == method) check_option(method, rt_method_options[k].option, o, loc);
}
