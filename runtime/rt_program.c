/* rt_program.c - main() of every compiled program. Script mode runs the top-level statements;
 * model mode reads flags, runs one model's inference and writes the draws as CSV (rt_csv.h). */
#define GC_THREADS
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gc.h>
#include "rt_csv.h"
#include "rt_program.h"
#include "rt_progress.h"
#include "rt_vi.h"

/* Model mode's flags: its own (X(id, flag, value name, help), in the order --help lists
 * them), with one flag per inference option that has a value name in RT_INFER_OPTIONS
 * (rt_methods.h) between --method and --data. */
#define LEAD_FLAGS(X) \
    X(MODEL, "--model", "NAME", "the model to run") \
    X(METHOD, "--method", "NAME", "the inference method")
#define TAIL_FLAGS(X) \
    X(DATA, "--data", "FILE.json", "data declarations and model parameters by name") \
    X(SEED, "--seed", "N", "the random seed, 0 to 2^64 - 1") \
    X(OUTPUT, "--output", "FILE.csv", "where the CSV goes") \
    X(QUIET, "--quiet", NULL, "no configuration echo or progress bar on stderr")

enum flag_id {
#define X(id, flag, meta, help) F_##id,
    LEAD_FLAGS(X)
#undef X
    F_OPTION,                              /* F_OPTION + k: option k's --NAME */
    F_LAST_OPTION = F_OPTION + RT_NOPTIONS - 1,
#define X(id, flag, meta, help) F_##id,
    TAIL_FLAGS(X)
#undef X
    NFLAGS
};

typedef struct flag_info { const char *flag, *meta, *help; } flag_info;

static const flag_info own_flags[NFLAGS] = {
#define X(id, flag, meta, help) [F_##id] = { flag, meta, help },
    LEAD_FLAGS(X) TAIL_FLAGS(X)
#undef X
};

enum { MAX_CONFIG = 64 };

/* What the command line asks for; given[f] says whether flag f was on it. An option's
 * value waits in `values` (its field there) until the method is known. */
typedef struct run_opts {
    const char *prog_name;
    const char *model, *data_path, *output, *guide, *objective;
    int method;
    rt_infer_opts values, infer;
    uint64_t seed;
    bool quiet;
    bool given[NFLAGS];
} run_opts;

/* ---- flags ---- */

static bool is_option(int f) { return f >= F_OPTION && f < F_OPTION + RT_NOPTIONS; }

/* "--particles" for an option's flag (NULL: the option has none). */
static const char *flag_name(int f)
{
    static char names[RT_NOPTIONS][40];
    if (!is_option(f))
        return own_flags[f].flag;
    const rt_option_info *o = &rt_option_table[f - F_OPTION];
    if (!o->meta)
        return NULL;
    snprintf(names[f - F_OPTION], sizeof names[0], "--%s", o->name);
    return names[f - F_OPTION];
}

/* "NAME" for --model; NULL for a flag without a value. */
static const char *flag_meta(int f)
{
    if (is_option(f))
        return rt_option_table[f - F_OPTION].meta;
    return own_flags[f].meta;
}

/* `a, b, c` (sep ", ") or `'a', 'b' or 'c'` (quoted) from a NULL-terminated list. */
static void join_names(char *buf, size_t size, const char *const *names, int n, bool quoted)
{
    buf[0] = '\0';
    for (int k = 0; k < n && names[k]; k++) {
        bool last = k > 0 && (k + 1 == n || !names[k + 1]);
        snprintf(buf + strlen(buf), size - strlen(buf), quoted ? "%s'%s'" : "%s%s",
                 k == 0 ? "" : quoted && last ? " or " : ", ", names[k]);
    }
}

/* An option's help: the table's text, its range and its values. */
static const char *flag_help(int f, char *buf, size_t size)
{
    if (f == F_METHOD) {   /* the methods of the table: "the inference method: is, smc, vi, ..." */
        snprintf(buf, size, "%s: ", own_flags[f].help);
        for (int m = 0; m < RT_NMETHODS; m++)
            snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", m ? ", " : "", rt_method_names[m]);
        return buf;
    }
    if (!is_option(f))
        return own_flags[f].help;
    const rt_option_info *o = &rt_option_table[f - F_OPTION];
    char range[40], values[200] = "";
    rt_option_range_text(f - F_OPTION, range, sizeof range);
    if (o->values)
        join_names(values, sizeof values, o->values, o->nvalues, false);
    snprintf(buf, size, "%s%s%s%s%s", o->help, *range ? ", " : "", range, *values ? ": " : "", values);
    return buf;
}

/* ---- usage ---- */

static void print_models(FILE *out, const rt_program *prog)
{
    for (int64_t k = 0; k < prog->nmodels; k++)
        fprintf(out, "%s%s", k ? ", " : "", prog->models[k].model->name);
}

/* Option k's value v (a number, or a value's number) as --help and the configuration show it. */
static void format_value(char *buf, size_t size, int k, double v)
{
    const rt_option_info *o = &rt_option_table[k];
    if (o->type == RT_OTYPE_REAL)
        rt_format_real(buf, (int)size, v);
    else if (o->values)
        snprintf(buf, size, "%s", o->values[(int)v]);
    else
        snprintf(buf, size, "%lld", (long long)v);
}

/* Option k's model-mode default: the first method's that takes it, then `; vi: 10` for
 * each method whose default differs. */
static void print_option_default(FILE *out, int k)
{
    const rt_option_info *o = &rt_option_table[k];
    if (o->type == RT_OTYPE_GUIDE || o->type == RT_OTYPE_OBJECTIVE) {
        fputs(o->type == RT_OTYPE_GUIDE ? "the model's only guide" : RT_DEFAULT_OBJECTIVE, out);
        return;
    }
    const rt_method_option *first = NULL;
    for (int r = 0; r < rt_nmethod_options; r++) {
        const rt_method_option *row = &rt_method_options[r];
        char buf[40];
        if (row->option != k || (first && row->model_mode_def == first->model_mode_def))
            continue;
        format_value(buf, sizeof buf, k, row->model_mode_def);
        if (first)
            fprintf(out, "; %s: %s", rt_method_names[row->method], buf);
        else
            fputs(buf, out);
        if (!first)
            first = row;
    }
}

/* The default of flag f as --help shows it. */
static void print_default(FILE *out, int f, const rt_program *prog)
{
    if (is_option(f)) {
        print_option_default(out, f - F_OPTION);
        return;
    }
    switch (f) {
    case F_MODEL:
        if (prog->nmodels == 1)
            fprintf(out, "%s, the only model", prog->models[0].model->name);
        else
            fputs("none: required, the program has several", out);
        return;
    case F_METHOD: fputs(rt_method_names[RT_METHOD_SMC], out); return;
    case F_DATA: fputs("none", out); return;
    case F_SEED: fputs("from the clock, reported", out); return;
    case F_OUTPUT: fputs("standard output", out); return;
    default: fputs("off", out); return;
    }
}

static void print_model_help(const char *name, const rt_program *prog)
{
    printf("usage: %s [options]\n"
           "Runs inference on a model and writes its weighted draws as CSV (Stan's layout).\n"
           "models: ", name);
    print_models(stdout, prog);
    puts("\noptions (--flag VALUE or --flag=VALUE):");
    for (int f = 0; f < NFLAGS; f++) {
        char head[40], help[300];
        const char *meta = flag_meta(f);
        if (!flag_name(f))
            continue;
        snprintf(head, sizeof head, "%s%s%s", flag_name(f), meta ? " " : "", meta ? meta : "");
        printf("  %-20s %s (default: ", head, flag_help(f, help, sizeof help));
        print_default(stdout, f, prog);
        puts(")");
    }
    printf("  %-20s %s\n", "--help, -h", "print this help and exit");
}

static void print_script_help(const char *name)
{
    printf("usage: %s [--data FILE.json] [--seed N]\n"
           "Runs the program's top-level statements.\n"
           "options (--flag VALUE or --flag=VALUE):\n"
           "  %-20s %s\n  %-20s %s\n  %-20s %s\n", name,
           "--data FILE.json", "binds the data declarations from FILE.json (default: none)",
           "--seed N", "the random seed, an integer from 0 to 2^64 - 1 (default: 0)",
           "--help, -h", "print this help and exit");
}

/* `ppl: error: MESSAGE` and a one-line hint on stderr; returns 2, the usage exit status. */
static int usage_error(const run_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const run_opts *o, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("ppl: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s [options]; '%s --help' lists them\n", o->prog_name, o->prog_name);
    return 2;
}

static bool wants_help(int argc, char **argv)
{
    for (int k = 1; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0)
            return true;
    return false;
}

/* ---- flag values ---- */

/* Decimal digits only (strtoull alone would accept "-1" and " 7"), at most max. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    *out = v;
    return errno == 0 && v <= max;
}

/* A whole decimal number (no leading blanks, no trailing text). */
static bool parse_real(const char *s, double *out)
{
    char *end;
    if (!*s || strchr(" \t\n\v\f\r", *s))
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);   /* no flag takes inf or nan */
}

static int set_count(run_opts *o, int f, const char *v, uint64_t lo, uint64_t hi, int64_t *out)
{
    uint64_t n;
    if (!parse_uint(v, hi, &n) || n < lo) {
        if (hi == INT64_MAX)
            return usage_error(o, "%s needs an integer of at least %" PRIu64 ", not '%s'",
                               flag_name(f), lo, v);
        return usage_error(o, "%s needs an integer from %" PRIu64 " to %" PRIu64 ", not '%s'",
                           flag_name(f), lo, hi, v);
    }
    *out = (int64_t)n;
    return 0;
}

static int set_method(run_opts *o, const char *v)
{
    char names[120];
    o->method = rt_method_lookup(v);
    if (o->method >= 0)
        return 0;
    join_names(names, sizeof names, rt_method_names, RT_NMETHODS, true);
    return usage_error(o, "--method needs %s, not '%s'", names, v);
}

/* A real option's value: a whole number in the table's range. */
static int set_real(run_opts *o, int f, const char *v, double *out)
{
    const rt_option_info *info = &rt_option_table[f - F_OPTION];
    char why[80];
    if (parse_real(v, out) && rt_option_in_range(f - F_OPTION, *out, why, sizeof why))
        return 0;
    if (info->check == RT_CHECK_BETWEEN)
        return usage_error(o, "%s needs a number from %g to %g, not '%s'", flag_name(f), info->lo, info->hi, v);
    if (info->check == RT_CHECK_POSITIVE)
        return usage_error(o, "%s needs a finite positive number, not '%s'", flag_name(f), v);
    if (info->check == RT_CHECK_AT_LEAST)
        return usage_error(o, "%s needs a number of at least %g, not '%s'", flag_name(f), info->lo, v);
    return usage_error(o, "%s needs a number, not '%s'", flag_name(f), v);
}

/* An int option's value: decimal digits in the table's range (no check: 0 and up). */
static int set_int(run_opts *o, int f, const char *v, int64_t *out)
{
    const rt_option_info *info = &rt_option_table[f - F_OPTION];
    uint64_t lo = info->check == RT_CHECK_NONE ? 0 : (uint64_t)info->lo;
    uint64_t hi = info->check == RT_CHECK_BETWEEN ? (uint64_t)info->hi : INT64_MAX;
    return set_count(o, f, v, lo, hi, out);
}

/* A choice's value, by name. */
static int set_choice(run_opts *o, int f, const char *v, int64_t *out)
{
    const rt_option_info *info = &rt_option_table[f - F_OPTION];
    char names[200];
    int k = rt_option_value(f - F_OPTION, v);
    if (k >= 0) {
        *out = k;
        return 0;
    }
    join_names(names, sizeof names, info->values, info->nvalues, true);
    return usage_error(o, "%s needs %s, not '%s'", flag_name(f), names, v);
}

/* Option flag f's value, into its field of o->values (a guide or an objective by name). */
static int set_option(run_opts *o, int f, const char *v)
{
    const rt_option_info *info = &rt_option_table[f - F_OPTION];
    void *field = (char *)&o->values + info->offset;
    switch (info->type) {
    case RT_OTYPE_INT: return set_int(o, f, v, field);
    case RT_OTYPE_REAL: return set_real(o, f, v, field);
    case RT_OTYPE_CHOICE: case RT_OTYPE_CALL: return set_choice(o, f, v, field);
    case RT_OTYPE_GUIDE: o->guide = v; return 0;
    case RT_OTYPE_OBJECTIVE: o->objective = v; return 0;
    default:
        if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
            *(int64_t *)field = v[0] == 't';
            return 0;
        }
        return usage_error(o, "%s needs true or false, not '%s'", flag_name(f), v);
    }
}

static int set_seed(run_opts *o, const char *v)
{
    if (parse_uint(v, UINT64_MAX, &o->seed))
        return 0;
    return usage_error(o, "--seed needs a non-negative integer below 2^64, not '%s'", v);
}

static int set_path(run_opts *o, int f, const char *v, const char **out)
{
    if (!*v)
        return usage_error(o, "%s needs a file name", flag_name(f));
    *out = v;
    return 0;
}

/* Stores flag f's value v (NULL for a flag without one); returns 0 or 2 after a message. */
static int set_flag(run_opts *o, int f, const char *v)
{
    o->given[f] = true;
    if (is_option(f))
        return set_option(o, f, v);
    switch (f) {
    case F_MODEL: o->model = v; return 0;
    case F_METHOD: return set_method(o, v);
    case F_DATA: return set_path(o, f, v, &o->data_path);
    case F_SEED: return set_seed(o, v);
    case F_OUTPUT: return set_path(o, f, v, &o->output);
    default: o->quiet = true; rt_progress_enabled = false; return 0;
    }
}

/* ---- the command line ---- */

/* The flag arg names (`--flag` or `--flag=VALUE`), or -1; sets *value to the text after
 * '=', else to NULL. */
static int find_flag(const char *arg, const char **value)
{
    for (int f = 0; f < NFLAGS; f++) {
        const char *name = flag_name(f);
        size_t n = name ? strlen(name) : 0;
        if (name && strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
            *value = arg[n] == '=' ? arg + n + 1 : NULL;
            return f;
        }
    }
    return -1;
}

/* Handles argv[*k] (and its value, advancing *k past it); returns 0 or 2. */
static int parse_arg(run_opts *o, int argc, char **argv, int *k)
{
    const char *arg = argv[*k], *value;
    int f = find_flag(arg, &value);
    if (f < 0)
        return usage_error(o, arg[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'",
                           arg);
    if (!flag_meta(f)) {
        if (value)
            return usage_error(o, "%s takes no value", flag_name(f));
        return set_flag(o, f, NULL);
    }
    if (!value && *k + 1 >= argc)
        return usage_error(o, "missing %s after '%s'", flag_meta(f), flag_name(f));
    return set_flag(o, f, value ? value : argv[++*k]);
}

bool rt_program_flag_takes_value(const char *flag)
{
    const char *value;
    int f = find_flag(flag, &value);
    return f >= 0 && !value && flag_meta(f);
}

void rt_program_list_flags(FILE *out, const char *indent, int width)
{
    int col = 0;
    for (int f = 0; f < NFLAGS; f++) {
        const char *name = flag_name(f);
        if (!name || f == F_DATA || f == F_SEED)
            continue;
        bool last = f == F_QUIET;
        int n = (int)strlen(name) + (last ? 0 : 1);
        if (col && col + 1 + n > width)
            fputs("\n", out), col = 0;
        col += col ? fprintf(out, " %s%s", name, last ? "" : ",")
                   : fprintf(out, "%s%s%s", indent, name, last ? "" : ",");
    }
    fputs("\n", out);
}

/* The entry --model names (or the only one); NULL after a usage error. */
static const rt_model_entry *choose_model(const run_opts *o, const rt_program *prog)
{
    for (int64_t k = 0; o->model && k < prog->nmodels; k++)
        if (strcmp(prog->models[k].model->name, o->model) == 0)
            return &prog->models[k];
    if (!o->model && prog->nmodels == 1)
        return &prog->models[0];
    char names[1024];
    FILE *mem = fmemopen(names, sizeof names, "w");
    print_models(mem, prog);
    fclose(mem);
    if (o->model)
        usage_error(o, "unknown model '%s' (models: %s)", o->model, names);
    else
        usage_error(o, "the program has %lld models; choose one with --model (models: %s)",
                    (long long)prog->nmodels, names);
    return NULL;
}

/* Flags of one method given with another are usage errors: `--ess applies to --method smc
 * only` (the methods whose rows have the option). */
static int check_method_flags(const run_opts *o)
{
    for (int k = 0; k < RT_NOPTIONS; k++) {
        if (!o->given[F_OPTION + k] || rt_method_option_row(o->method, k))
            continue;
        const char *names[RT_NMETHODS + 1];
        int n = 0;
        for (int m = 0; m < RT_NMETHODS; m++)
            if (rt_method_option_row(m, k))
                names[n++] = rt_method_names[m];
        names[n] = NULL;
        char list[120];
        join_names(list, sizeof list, names, n, false);
        char *or = strrchr(list, ',');   /* `is, smc` reads `is or smc` */
        if (or)
            memmove(or + 3, or + 1, strlen(or + 1) + 1), memcpy(or, " or", 3);
        return usage_error(o, "%s applies to --method %s only", flag_name(F_OPTION + k), list);
    }
    return 0;
}

/* The guide --guide names among those paired with the model (or the only one). */
static const rt_vi_problem *choose_guide(const run_opts *o, const rt_model_entry *e)
{
    for (int64_t k = 0; k < e->nguides; k++)
        if (!o->guide ? e->nguides == 1 : strcmp(e->guides[k]->guide_name, o->guide) == 0)
            return e->guides[k];
    if (o->guide)
        usage_error(o, "model '%s' has no guide '%s' (a guide whose sites match the model's)", e->model->name, o->guide);
    else if (e->nguides == 0)
        usage_error(o, "--method vi needs a guide for model '%s': a guide whose sites match the model's", e->model->name);
    else
        usage_error(o, "model '%s' has %lld guides; choose one with --guide", e->model->name, (long long)e->nguides);
    return NULL;
}

/* --output must not name an input: the data file, or the program (the source that `ppl run`
 * compiles, or the built binary itself). The same file under any name (links, ./x) counts. */
static int check_output_path(const run_opts *o)
{
    if (!o->output)
        return 0;
    if (o->data_path && rt_same_file(o->output, o->data_path))
        return usage_error(o, "--output '%s' is the data file; refusing to overwrite it", o->output);
    const char *program = rt_program_file ? rt_program_file : "/proc/self/exe";
    if (rt_same_file(o->output, program))
        return usage_error(o, "--output '%s' is the program; refusing to overwrite it", o->output);
    return 0;
}

/* The flags, then the method's options: its model-mode defaults and the values given. */
static int parse_model_args(int argc, char **argv, run_opts *o)
{
    *o = (run_opts){ .prog_name = argv[0], .method = RT_METHOD_SMC };
    for (int k = 1; k < argc; k++) {
        int status = parse_arg(o, argc, argv, &k);
        if (status)
            return status;
    }
    rt_infer_opts_init(&o->infer, o->method, true);
    for (int k = 0; k < RT_NOPTIONS; k++)
        if (o->given[F_OPTION + k])
            memcpy((char *)&o->infer + rt_option_table[k].offset,
                   (const char *)&o->values + rt_option_table[k].offset, 8);
    int status = check_method_flags(o);
    return status ? status : check_output_path(o);
}

/* ---- the configuration, echoed and written into the CSV ---- */

typedef struct config { char *line[MAX_CONFIG]; int n; } config;

static void config_add(config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void config_add(config *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->n < MAX_CONFIG && vasprintf(&c->line[c->n], fmt, ap) >= 0)
        c->n++;
    va_end(ap);
}

static const char *mark(const run_opts *o, int f) { return o->given[f] ? "" : " (default)"; }

/* The objective --objective names (elbo by default) among the program's. */
static const rt_vi_objective *choose_objective(const run_opts *o, const rt_program *prog)
{
    const char *name = o->objective ? o->objective : RT_DEFAULT_OBJECTIVE;
    for (int64_t k = 0; k < prog->nobjectives; k++)
        if (strcmp(prog->objectives[k]->name, name) == 0)
            return prog->objectives[k];
    char list[512] = "";
    for (int64_t k = 0; k < prog->nobjectives; k++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "", prog->objectives[k]->name);
    usage_error(o, "no objective '%s' without arguments (available: %s)", name, list);
    return NULL;
}

/* `particles = 1000 (default)`: option k of the method, as it runs. */
static void config_option(config *c, const run_opts *o, int k, const rt_vi_problem *q)
{
    const rt_option_info *info = &rt_option_table[k];
    char buf[40];
    const char *v = buf;
    if (info->type == RT_OTYPE_GUIDE)
        v = q->guide_name;
    else if (info->type == RT_OTYPE_OBJECTIVE)
        v = o->objective ? o->objective : RT_DEFAULT_OBJECTIVE;
    else
        format_value(buf, sizeof buf, k, rt_infer_opts_get(&o->infer, k));
    config_add(c, "%s = %s%s", info->name, v, mark(o, F_OPTION + k));
}

static config make_config(const run_opts *o, const rt_model *m, const rt_vi_problem *q)
{
    config c = { .n = 0 };
    config_add(&c, "model = %s%s", m->name, mark(o, F_MODEL));
    config_add(&c, "method = %s%s", rt_method_names[o->method], mark(o, F_METHOD));
    for (int k = 0; k < RT_NOPTIONS; k++)
        if (flag_name(F_OPTION + k) && rt_method_option_row(o->method, k))
            config_option(&c, o, k, q);
    config_add(&c, "data = %s%s", o->data_path ? o->data_path : "none", mark(o, F_DATA));
    config_add(&c, "seed = %" PRIu64 "%s", o->seed, o->given[F_SEED] ? "" : " (from the clock)");
    config_add(&c, "output = %s%s", o->output ? o->output : "stdout", mark(o, F_OUTPUT));
    return c;
}

static void config_free(config *c)
{
    for (int k = 0; k < c->n; k++)
        free(c->line[k]);
    c->n = 0;
}

/* A seed nobody chose: the clock and the process id, mixed (splitmix64's finalizer). */
static uint64_t clock_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    x ^= (uint64_t)getpid() << 32;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* ---- running ---- */

/* Whether a new file could be made at path: its directory is writable. */
static bool can_create(const char *path)
{
    char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
    const char *d = !slash ? "." : slash == dir ? "/" : (*slash = '\0', dir);
    bool ok = dir && access(d, W_OK) == 0;
    int err = errno;
    free(dir);
    errno = err;
    return ok;
}

/* Fails (exit 1) before a long run when the output file cannot be written. */
static void check_output(const char *path)
{
    bool ok = access(path, F_OK) == 0 ? access(path, W_OK) == 0 : can_create(path);
    if (!ok)
        rt_failf(NULL, "cannot write output file '%s': %s", path, strerror(errno));
}

/* The method's engine on the model, with the options of the command line (and the trace). */
static const rt_posterior *infer(const run_opts *o, const rt_program *prog, const rt_model_entry *e,
                                  const rt_vi_problem *q)
{
    typedef rt_posterior *engine_fn(rt_ctx *, const rt_model *, const void *, const rt_infer_opts *, const char *);
    static engine_fn *const engines[RT_NMETHODS] = {
#define X(id, name, engine) engine,
        RT_METHODS(X)
#undef X
    };
    void *args = rt_frame_new(8 * e->nparams);
    if (e->bind_args)
        e->bind_args(args);
    rt_infer_opts opts = o->infer;
    opts.guide = q;
    if (rt_method_option_row(o->method, RT_OPTION_objective))
        opts.objective = choose_objective(o, prog);
    rt_infer_count = 0;
    return engines[o->method](rt_root_ctx(), e->model, args, &opts, NULL);
}

/* A fitted param's name as the CSV's columns name elements: `mu` stays, the element
 * `mu[0]` of an array param becomes `mu.1`. */
static void csv_param_name(char *out, size_t size, const char *name)
{
    const char *bracket = strchr(name, '[');
    if (!bracket)
        snprintf(out, size, "%s", name);
    else
        snprintf(out, size, "%.*s.%lld", (int)(bracket - name), name, atoll(bracket + 1) + 1);
}

/* vi: the fitted params, into the CSV's comments (not echoed: they are results). */
static void add_fit(config *c, const rt_posterior *post)
{
    for (int64_t k = 0; k < post->nparams; k++) {
        char v[40], name[256];
        rt_format_real(v, sizeof v, post->params[k]);
        csv_param_name(name, sizeof name, post->param_names[k]);
        config_add(c, "fitted %s = %s", name, v);
    }
}

static void write_output(const run_opts *o, const rt_posterior *post, const config *c)
{
    FILE *f = o->output ? fopen(o->output, "w") : stdout;
    if (!f)
        rt_failf(NULL, "cannot write output file '%s': %s", o->output, strerror(errno));
    rt_write_csv(f, post, (const char *const *)c->line, c->n);
    bool bad = fflush(f) != 0 || ferror(f);
    if (o->output && fclose(f) != 0)
        bad = true;
    if (bad && o->output)
        rt_failf(NULL, "cannot write output file '%s': %s", o->output, strerror(errno));
    if (bad)
        rt_failf(NULL, "cannot write the CSV to standard output: %s", strerror(errno));
}

static int run_model(const run_opts *o, const rt_program *prog, const rt_model_entry *e,
                     const rt_vi_problem *q)
{
    config c = make_config(o, e->model, q);
    for (int k = 0; !o->quiet && k < c.n; k++)
        fprintf(stderr, "%s\n", c.line[k]);
    if (o->output)
        check_output(o->output);
    rt_init(&(rt_options){ o->data_path, o->seed, true });
    if (!o->output)
        rt_print_to_stderr();   /* the CSV has stdout to itself */
    prog->main();
    const rt_posterior *post = infer(o, prog, e, q);
    rt_post_require(post, "the CSV", NULL);
    char warnings[4][RT_WARNING_MAX];
    for (int k = 0, n = rt_post_warnings(post, warnings, 4); k < n; k++)
        fprintf(stderr, "ppl: %s\n", warnings[k]);
    add_fit(&c, post);
    write_output(o, post, &c);
    config_free(&c);
    rt_finish();
    return 0;
}

static int model_main(int argc, char **argv, const rt_program *prog)
{
    if (wants_help(argc, argv)) {
        print_model_help(argv[0], prog);
        return 0;
    }
    run_opts o;
    int status = parse_model_args(argc, argv, &o);
    if (status)
        return status;
    const rt_model_entry *e = choose_model(&o, prog);
    if (!e)
        return 2;
    bool fits = rt_method_option_row(o.method, RT_OPTION_guide) != NULL;
    const rt_vi_problem *q = fits ? choose_guide(&o, e) : NULL;
    if (fits && (!q || !choose_objective(&o, prog)))
        return 2;
    if (!o.given[F_SEED])
        o.seed = clock_seed();
    return run_model(&o, prog, e, q);
}

/* Script mode: --data and --seed (default 0), then the statements. */
static int script_main(int argc, char **argv, const rt_program *prog)
{
    if (wants_help(argc, argv)) {
        print_script_help(argv[0]);
        return 0;
    }
    rt_options opt;
    if (!rt_parse_options(argc, argv, 1, &opt))
        return 2;
    rt_init(&opt);
    prog->main();
    rt_finish();
    return 0;
}

/* A program with neither statements nor models has nothing to infer: it runs as a script
 * (binding its data, printing nothing). */
int rt_program_main(int argc, char **argv, const rt_program *prog)
{
    rt_install_stop_handler();
    if (prog->is_script || prog->nmodels == 0)
        return rt_check_stdout(script_main(argc, argv, prog));
    return rt_check_stdout(model_main(argc, argv, prog));
}
