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
#include "rt_resample.h"
#include "rt_vi.h"

/* X(id, flag, value name, help): model mode's flags, in the order --help lists them. */
#define MODEL_FLAGS(X) \
    X(MODEL, "--model", "NAME", "the model to run") \
    X(METHOD, "--method", "is|smc|vi", "the inference method") \
    X(PARTICLES, "--particles", "N", "is, smc: particles; vi: draws per gradient step; at least 1") \
    X(ESS, "--ess", "X", "smc: resample when ESS / particles < X, 0 to 1") \
    X(RESAMPLE, "--resample", "SCHEME", "smc: systematic, stratified, multinomial, residual") \
    X(THREADS, "--threads", "K", "smc: worker threads, 1 to 256, same results for any") \
    X(GUIDE, "--guide", "NAME", "vi: the guide to fit (one whose sites match the model's)") \
    X(STEPS, "--steps", "N", "vi: optimization steps") \
    X(OBJECTIVE, "--objective", "NAME", "vi: an objective without arguments (elbo, rws, or the file's own)") \
    X(OPTIMIZER, "--optimizer", "adam|sgd", "vi: the optimizer") \
    X(LR, "--lr", "X", "vi: the learning rate, positive") \
    X(DATA, "--data", "FILE.json", "data declarations and model parameters by name") \
    X(SEED, "--seed", "N", "the random seed, 0 to 2^64 - 1") \
    X(OUTPUT, "--output", "FILE.csv", "where the CSV goes") \
    X(QUIET, "--quiet", NULL, "no configuration echo or progress bar on stderr")

enum flag_id {
#define X(id, flag, meta, help) F_##id,
    MODEL_FLAGS(X)
#undef X
    NFLAGS
};

typedef struct flag_info { const char *flag, *meta, *help; } flag_info;

static const flag_info flags[NFLAGS] = {
#define X(id, flag, meta, help) { flag, meta, help },
    MODEL_FLAGS(X)
#undef X
};

enum { METHOD_IS, METHOD_SMC, METHOD_VI };
enum { DEFAULT_PARTICLES = 1000, DEFAULT_VI_PARTICLES = 10, DEFAULT_STEPS = 1000, DEFAULT_THREADS = 1,
       MAX_THREADS = 256, MAX_CONFIG = 64 };
#define DEFAULT_ESS 0.5
#define DEFAULT_LR 0.01
static const char *const method_names[] = {"is", "smc", "vi"};

/* What the command line asks for; given[f] says whether flag f was on it. */
typedef struct run_opts {
    const char *prog_name;
    const char *model, *data_path, *output, *guide, *objective;
    int method, scheme, optimizer;
    int64_t particles, threads, steps;
    double ess, lr;
    uint64_t seed;
    bool quiet;
    bool given[NFLAGS];
} run_opts;

/* ---- usage ---- */

static void print_models(FILE *out, const rt_program *prog)
{
    for (int64_t k = 0; k < prog->nmodels; k++)
        fprintf(out, "%s%s", k ? ", " : "", prog->models[k].model->name);
}

/* The default of flag f as --help shows it. */
static void print_default(FILE *out, int f, const rt_program *prog)
{
    char buf[40];
    switch (f) {
    case F_MODEL:
        if (prog->nmodels == 1)
            fprintf(out, "%s, the only model", prog->models[0].model->name);
        else
            fputs("none: required, the program has several", out);
        return;
    case F_METHOD: fputs("smc", out); return;
    case F_PARTICLES: fprintf(out, "%d; vi: %d", DEFAULT_PARTICLES, DEFAULT_VI_PARTICLES); return;
    case F_GUIDE: fputs("the model's only guide", out); return;
    case F_STEPS: fprintf(out, "%d", DEFAULT_STEPS); return;
    case F_OBJECTIVE: fputs("elbo", out); return;
    case F_OPTIMIZER: fputs("adam", out); return;
    case F_LR: rt_format_real(buf, sizeof buf, DEFAULT_LR), fputs(buf, out); return;
    case F_ESS: rt_format_real(buf, sizeof buf, DEFAULT_ESS), fputs(buf, out); return;
    case F_RESAMPLE: fputs(rt_resample_name(RT_RESAMPLE_SYSTEMATIC), out); return;
    case F_THREADS: fprintf(out, "%d", DEFAULT_THREADS); return;
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
        char head[40];
        snprintf(head, sizeof head, "%s%s%s", flags[f].flag, flags[f].meta ? " " : "",
                 flags[f].meta ? flags[f].meta : "");
        printf("  %-20s %s (default: ", head, flags[f].help);
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
                               flags[f].flag, lo, v);
        return usage_error(o, "%s needs an integer from %" PRIu64 " to %" PRIu64 ", not '%s'",
                           flags[f].flag, lo, hi, v);
    }
    *out = (int64_t)n;
    return 0;
}

static int set_method(run_opts *o, const char *v)
{
    for (int m = 0; m < 3; m++)
        if (strcmp(v, method_names[m]) == 0) {
            o->method = m;
            return 0;
        }
    return usage_error(o, "--method needs 'is', 'smc' or 'vi', not '%s'", v);
}

static int set_optimizer(run_opts *o, const char *v)
{
    if (strcmp(v, "adam") == 0 || strcmp(v, "sgd") == 0) {
        o->optimizer = v[0] == 'a' ? RT_OPT_ADAM : RT_OPT_SGD;
        return 0;
    }
    return usage_error(o, "--optimizer needs 'adam' or 'sgd', not '%s'", v);
}

static int set_lr(run_opts *o, const char *v)
{
    if (parse_real(v, &o->lr) && o->lr > 0)
        return 0;
    return usage_error(o, "--lr needs a finite positive number, not '%s'", v);
}

static int set_scheme(run_opts *o, const char *v)
{
    o->scheme = rt_resample_lookup(v);
    if (o->scheme >= 0)
        return 0;
    return usage_error(o, "--resample needs systematic, stratified, multinomial or residual, "
                       "not '%s'", v);
}

static int set_ess(run_opts *o, const char *v)
{
    if (parse_real(v, &o->ess) && o->ess >= 0 && o->ess <= 1)
        return 0;
    return usage_error(o, "--ess needs a number from 0 to 1, not '%s'", v);
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
        return usage_error(o, "%s needs a file name", flags[f].flag);
    *out = v;
    return 0;
}

/* Stores flag f's value v (NULL for a flag without one); returns 0 or 2 after a message. */
static int set_flag(run_opts *o, int f, const char *v)
{
    o->given[f] = true;
    switch (f) {
    case F_MODEL: o->model = v; return 0;
    case F_METHOD: return set_method(o, v);
    case F_PARTICLES: return set_count(o, f, v, 1, INT64_MAX, &o->particles);
    case F_ESS: return set_ess(o, v);
    case F_RESAMPLE: return set_scheme(o, v);
    case F_THREADS: return set_count(o, f, v, 1, MAX_THREADS, &o->threads);
    case F_DATA: return set_path(o, f, v, &o->data_path);
    case F_SEED: return set_seed(o, v);
    case F_OUTPUT: return set_path(o, f, v, &o->output);
    case F_GUIDE: o->guide = v; return 0;
    case F_OBJECTIVE: o->objective = v; return 0;
    case F_STEPS: return set_count(o, f, v, 0, INT64_MAX, &o->steps);
    case F_OPTIMIZER: return set_optimizer(o, v);
    case F_LR: return set_lr(o, v);
    default: o->quiet = true; rt_progress_enabled = false; return 0;
    }
}

/* ---- the command line ---- */

/* The flag arg names (`--flag` or `--flag=VALUE`), or -1; sets *value to the text after
 * '=', else to NULL. */
static int find_flag(const char *arg, const char **value)
{
    for (int f = 0; f < NFLAGS; f++) {
        size_t n = strlen(flags[f].flag);
        if (strncmp(arg, flags[f].flag, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
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
    if (!flags[f].meta) {
        if (value)
            return usage_error(o, "%s takes no value", flags[f].flag);
        return set_flag(o, f, NULL);
    }
    if (!value && *k + 1 >= argc)
        return usage_error(o, "missing %s after '%s'", flags[f].meta, flags[f].flag);
    return set_flag(o, f, value ? value : argv[++*k]);
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

/* Flags of one method given with another are usage errors. */
static int check_method_flags(const run_opts *o)
{
    static const int smc_only[] = { F_ESS, F_RESAMPLE, F_THREADS };
    static const int vi_only[] = { F_GUIDE, F_STEPS, F_OBJECTIVE, F_OPTIMIZER, F_LR };
    for (size_t k = 0; o->method != METHOD_SMC && k < sizeof smc_only / sizeof smc_only[0]; k++)
        if (o->given[smc_only[k]])
            return usage_error(o, "%s applies to --method smc only", flags[smc_only[k]].flag);
    for (size_t k = 0; o->method != METHOD_VI && k < sizeof vi_only / sizeof vi_only[0]; k++)
        if (o->given[vi_only[k]])
            return usage_error(o, "%s applies to --method vi only", flags[vi_only[k]].flag);
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

static int parse_model_args(int argc, char **argv, run_opts *o)
{
    *o = (run_opts){ .prog_name = argv[0], .method = METHOD_SMC, .scheme = RT_RESAMPLE_SYSTEMATIC,
                     .particles = DEFAULT_PARTICLES, .threads = DEFAULT_THREADS,
                     .ess = DEFAULT_ESS, .steps = DEFAULT_STEPS, .lr = DEFAULT_LR };
    for (int k = 1; k < argc; k++) {
        int status = parse_arg(o, argc, argv, &k);
        if (status)
            return status;
    }
    if (o->method == METHOD_VI && !o->given[F_PARTICLES])
        o->particles = DEFAULT_VI_PARTICLES;
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
    const char *name = o->objective ? o->objective : "elbo";
    for (int64_t k = 0; k < prog->nobjectives; k++)
        if (strcmp(prog->objectives[k]->name, name) == 0)
            return prog->objectives[k];
    char list[512] = "";
    for (int64_t k = 0; k < prog->nobjectives; k++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "", prog->objectives[k]->name);
    usage_error(o, "no objective '%s' without arguments (available: %s)", name, list);
    return NULL;
}

static config make_config(const run_opts *o, const rt_model *m, const rt_vi_problem *q)
{
    config c = { .n = 0 };
    char ess[40], lr[40];
    rt_format_real(ess, sizeof ess, o->ess);
    rt_format_real(lr, sizeof lr, o->lr);
    config_add(&c, "model = %s%s", m->name, mark(o, F_MODEL));
    config_add(&c, "method = %s%s", method_names[o->method], mark(o, F_METHOD));
    config_add(&c, "particles = %lld%s", (long long)o->particles, mark(o, F_PARTICLES));
    if (o->method == METHOD_VI) {
        config_add(&c, "guide = %s%s", q->guide_name, mark(o, F_GUIDE));
        config_add(&c, "steps = %lld%s", (long long)o->steps, mark(o, F_STEPS));
        config_add(&c, "objective = %s%s", o->objective ? o->objective : "elbo", mark(o, F_OBJECTIVE));
        config_add(&c, "optimizer = %s%s", o->optimizer == RT_OPT_SGD ? "sgd" : "adam", mark(o, F_OPTIMIZER));
        config_add(&c, "lr = %s%s", lr, mark(o, F_LR));
    }
    if (o->method == METHOD_SMC) {
        config_add(&c, "ess = %s%s", ess, mark(o, F_ESS));
        config_add(&c, "resample = %s%s", rt_resample_name(o->scheme), mark(o, F_RESAMPLE));
        config_add(&c, "threads = %lld%s", (long long)o->threads, mark(o, F_THREADS));
    }
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

static const rt_posterior *infer(const run_opts *o, const rt_program *prog, const rt_model_entry *e,
                                  const rt_vi_problem *q)
{
    void *args = rt_frame_new(8 * e->nparams);
    if (e->bind_args)
        e->bind_args(args);
    rt_infer_count = 0;
    if (o->method == METHOD_IS)
        return rt_infer_is(e->model, args, o->particles, 1, NULL);
    if (o->method == METHOD_VI)
        return rt_infer_vi(q, args, choose_objective(o, prog), NULL, o->particles, o->steps, o->optimizer, o->lr, NULL);
    return rt_infer_smc(e->model, args, o->particles, o->scheme, o->ess, o->threads, 1, NULL);
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
    const rt_vi_problem *q = o.method == METHOD_VI ? choose_guide(&o, e) : NULL;
    if (o.method == METHOD_VI && (!q || !choose_objective(&o, prog)))
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
